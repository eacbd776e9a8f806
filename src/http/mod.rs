//! The HTTP JSON API (`/api/v1`), with `/healthz` and `/metrics` at the root.
//!
//! One module per resource, each owning its routes, request and response
//! types; one error type; authentication as an extractor.

mod account;
mod audit;
mod cards;
mod error;
mod extract;
pub mod openapi;
mod ops;
mod passwords;
mod sessions;
mod users;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::service::Services;

pub use error::{ApiError, Problem};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler may use.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub services: Services,
    pub metrics: Arc<Metrics>,
}

async fn record(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn fallback() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "no such route")
}

/// The whole API.
pub fn router(state: HttpState) -> Router {
    let api = Router::new()
        .merge(users::router())
        .merge(account::router())
        .merge(sessions::router())
        .merge(cards::router())
        .merge(passwords::router())
        .merge(audit::router())
        .merge(openapi::router());
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::router())
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// TLS material for HTTPS.
pub type TlsConfig = axum_server::tls_rustls::RustlsConfig;

/// Serves `router` on `listener` (over TLS when `tls` is given) until
/// `shutdown` fires, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsConfig>,
    shutdown: CancellationToken,
) {
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            let server =
                axum::serve(listener, service).with_graceful_shutdown(shutdown.cancelled_owned());
            if let Err(e) = server.await {
                tracing::error!(error = %e, "http server failed");
            }
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                stopper.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            let std_listener = match listener.into_std() {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(error = %e, "https listener failed");
                    return;
                }
            };
            let server = match axum_server::from_tcp_rustls(std_listener, tls) {
                Ok(server) => server,
                Err(e) => {
                    tracing::error!(error = %e, "https listener failed");
                    return;
                }
            };
            if let Err(e) = server.handle(handle).serve(service).await {
                tracing::error!(error = %e, "https server failed");
            }
        }
    }
}

/// An item id from a path: anything that is not one is simply not found.
fn item_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)
}

/// The expected version of a PUT: the body's `version` or `If-Match`.
fn version(body: Option<i64>, headers: &axum::http::HeaderMap) -> Result<i64, ApiError> {
    let header = headers
        .get(axum::http::header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .ok()
                .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::field(
                        "version",
                        "version: If-Match must hold the item's version number",
                    )
                })
        })
        .transpose()?;
    match (body, header) {
        (Some(b), Some(h)) if b != h => Err(ApiError::field(
            "version",
            "version: the body and If-Match disagree",
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(ApiError::field(
            "version",
            "version: required (body field or If-Match header)",
        )),
    }
}
