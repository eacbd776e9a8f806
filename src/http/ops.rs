//! `/healthz` and `/metrics`, at the root.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use subtle::ConstantTimeEq;

use super::extract::ClientOrigin;
use super::{ApiError, HttpState};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Prometheus text exposition: to loopback clients, or to whoever sends
/// `--metrics-token` when one is set.
async fn metrics(
    State(state): State<HttpState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    match &state.metrics_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim().as_bytes());
            let matches = given.is_some_and(|g| bool::from(g.ct_eq(token.0.as_bytes())));
            if !matches {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "metrics need the metrics token as a bearer token",
                ));
            }
        }
        None => {
            let loopback = origin
                .remote_addr
                .as_deref()
                .and_then(|a| a.parse::<SocketAddr>().ok())
                .is_some_and(|a| a.ip().to_canonical().is_loopback());
            if !loopback {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "metrics are served to loopback clients only (or with --metrics-token)",
                ));
            }
        }
    }
    let tokens = state.services.active_tokens().await.ok();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state
            .metrics
            .render(tokens, state.services.argon2_evaluations()),
    ))
}
