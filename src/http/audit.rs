//! `GET /audit`: the caller's own audit events.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::AuthUser;
use crate::views::EventView;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many events, newest first (1–1000, default 50).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 1000, default = 50)]
    pub limit: Option<String>,
    /// `true`: each event also names the item it targets (`item`), if it still exists.
    #[param(value_type = bool, required = false, default = false)]
    pub names: Option<String>,
}

impl AuditQuery {
    /// Parses the query string: only `limit`, at most once.
    fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut limit = None;
        let mut names = None;
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "limit" if limit.is_none() => limit = Some(value.to_owned()),
                "limit" => return Err(ApiError::field("limit", "limit: give it once")),
                "names" if names.is_none() => names = Some(value.to_owned()),
                "names" => return Err(ApiError::field("names", "names: give it once")),
                other => {
                    let shown = crate::views::sanitize::sanitize(other)
                        .chars()
                        .take(40)
                        .collect::<String>();
                    return Err(ApiError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        format!("unknown query parameter `{shown}`"),
                    ));
                }
            }
        }
        Ok(Self { limit, names })
    }
}

pub fn router() -> Router<HttpState> {
    Router::new().route("/audit", get(list))
}

/// Your own audit events, newest first
#[utoipa::path(
    operation_id = "list_audit_events",
    get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Events, newest first", body = Vec<EventView>),
        (status = 400, description = "Bad limit or names", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<HttpState>,
    user: AuthUser,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Vec<EventView>>, ApiError> {
    let query = AuditQuery::parse(query.as_deref().unwrap_or(""))?;
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(s) => super::extract::canonical_number(s)
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::field("limit", "limit: must be a whole number from 1 to 1000")
            })?,
    };
    let names = match query.names.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::field("names", "names: must be true or false")),
    };
    let events = state.services.audit_log(&user.session.vault, limit).await?;
    if !names {
        return Ok(axum::Json(events.iter().map(EventView::of).collect()));
    }
    let labels = state
        .services
        .item_labels(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(
        events
            .iter()
            .map(|e| EventView::named(e, &labels))
            .collect(),
    ))
}
