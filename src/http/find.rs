//! `GET /find?q=`: the caller's items whose names or shown fields hold a text.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::AuthUser;
use crate::views::{FoundView, HealthEntry};

/// Longest text looked for, in characters.
const MAX_QUERY_CHARS: usize = 256;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// The text to look for (case and accents ignored), 1–256 characters.
    #[param(required = true, min_length = 1, max_length = 256)]
    pub q: String,
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/find", get(find))
        .route("/health", get(health))
}

/// How healthy your passwords are: weak (a zxcvbn score below 3), reused, unchanged for a year, and breached when the server has a Pwned Passwords file (`null` otherwise)
#[utoipa::path(
    operation_id = "password_health",
    get, path = "/api/v1/health", tag = "find", security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per password entry, oldest first", body = Vec<HealthEntry>),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn health(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<HealthEntry>>, ApiError> {
    let report = state
        .services
        .health(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(report.iter().map(HealthEntry::of).collect()))
}

/// Your items whose name, URL, username or any field shown without revealing holds the text
#[utoipa::path(
    operation_id = "find_items",
    get, path = "/api/v1/find", tag = "find", security(("bearer" = [])),
    params(FindQuery),
    responses(
        (status = 200, description = "The items found, kind by kind", body = Vec<FoundView>),
        (status = 400, description = "No text, or too long", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn find(
    State(state): State<HttpState>,
    user: AuthUser,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Vec<FoundView>>, ApiError> {
    let mut text = None;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "q" if text.is_none() => text = Some(value.into_owned()),
            "q" => return Err(ApiError::field("q", "q: give it once")),
            _ => {
                return Err(ApiError::field("q", "q: the only parameter is `q`"));
            }
        }
    }
    let text = text
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::field("q", "q: give the text to look for"))?;
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field(
            "q",
            format!("q: at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let query = FindQuery { q: text };
    let found = state
        .services
        .find_text(&user.origin, &user.session.vault, &query.q)
        .await?;
    Ok(axum::Json(found.into_iter().map(FoundView::of).collect()))
}
