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

impl<T: Serialize> IntoResponse for SecretJson<T> {
    fn into_response(self) -> Response {
        let body = match crate::views::json_exact(&self.0, false, 0) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "response not encoded");
                return super::ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                )
                .into_response();
            }
        };
        let mut response = Body::from(crate::crypto::wiped_bytes(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
