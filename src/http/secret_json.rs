//! A JSON response for bodies that hold a secret (a revealed card or
//! password): the body is written into memory that is wiped when hyper is
//! done with it, and written once at its final size, so no half-grown copy
//! is left behind in freed memory either.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `axum::Json`, for secrets.
#[derive(Debug)]
pub struct SecretJson<T>(pub T);

/// Counts what a serialiser writes, to size the buffer first.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T: Serialize> IntoResponse for SecretJson<T> {
    fn into_response(self) -> Response {
        let mut size = Counter(0);
        if let Err(e) = serde_json::to_writer(&mut size, &self.0) {
            tracing::error!(error = %e, "response not encoded");
            return super::ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            )
            .into_response();
        }
        let mut body = Vec::with_capacity(size.0);
        // Cannot fail: the same value serialised above.
        let _ = serde_json::to_writer(&mut body, &self.0);
        let mut response = Body::from(crate::crypto::wiped_bytes(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
