//! `POST /sessions` (log in, get a token) and `DELETE /sessions/current` (log out).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{ApiJson, AuthUser, ClientOrigin};
use crate::domain::Login;
use crate::views::rfc3339;

/// Login, password and PIN.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub login: String,
    #[schema(value_type = String)]
    pub password: Zeroizing<String>,
    #[schema(value_type = String)]
    pub pin: Zeroizing<String>,
}

/// A bearer token, shown once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// Send as `Authorization: Bearer <token>`.
    #[schema(value_type = String)]
    pub token: Zeroizing<String>,
    /// RFC 3339; the token also expires after 30 minutes unused.
    pub expires_at: String,
}

impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/sessions", post(create))
        .route("/sessions/current", delete(remove))
}

/// Log in: exchange login, password and PIN for a token
#[utoipa::path(
    operation_id = "create_session",
    post,
    path = "/api/v1/sessions",
    tag = "sessions",
    request_body = SessionRequest,
    responses(
        (status = 201, description = "Token issued", body = TokenCreated),
        (status = 400, description = "A field is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login, password or PIN", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user has as many active tokens as allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this login or address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, description = "Too many logins at once", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
async fn create(
    State(state): State<HttpState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Result<(StatusCode, axum::Json<TokenCreated>), ApiError> {
    // A malformed login cannot exist; answer as for a wrong password.
    let login = Login::parse(&req.login)
        .map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "wrong login, password or PIN"))?;
    let issued = state
        .services
        .issue_token(&origin, &login, &req.password, &req.pin)
        .await;
    state.metrics.login(issued.is_ok());
    let issued = issued?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenCreated {
            token: issued.token,
            expires_at: rfc3339(issued.expires_at),
        }),
    ))
}

/// Log out: revoke the token used for this request
#[utoipa::path(
    operation_id = "delete_session",
    delete,
    path = "/api/v1/sessions/current",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Token revoked"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(State(state): State<HttpState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_token(&user.origin, &user.session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
