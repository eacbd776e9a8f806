//! `/healthz` and `/metrics`, at the root.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::HttpState;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Prometheus text exposition.
async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let tokens = state.services.active_tokens().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(tokens),
    )
}
