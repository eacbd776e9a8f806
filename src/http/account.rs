//! `/users/current`: who the token belongs to, and changing the password or PIN.
//!
//! Not in the original route table: the local client needs them for
//! `whoami`, `passwd` and `pin`. A change revokes every token of the user
//! (and locks their SSH sessions), so the response carries a fresh token.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, put};
use serde::Deserialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{ApiJson, AuthUser};
use super::sessions::TokenCreated;
use super::users::UserCreated;
use crate::domain::{DomainError, Password, Pin};
use crate::views::rfc3339;

/// A password change: the current password and PIN, and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String)]
    pub current_password: Zeroizing<String>,
    #[schema(value_type = String)]
    pub pin: Zeroizing<String>,
    #[schema(value_type = String)]
    pub new_password: Zeroizing<String>,
}

/// A PIN change: the password and current PIN, and the new PIN.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinChange {
    #[schema(value_type = String)]
    pub password: Zeroizing<String>,
    #[schema(value_type = String)]
    pub current_pin: Zeroizing<String>,
    #[schema(value_type = String)]
    pub new_pin: Zeroizing<String>,
}

/// A rule the new password or PIN breaks, named after the request field
/// that holds it rather than the domain's `password` or `pin`.
fn new_value(field: &'static str) -> impl FnOnce(DomainError) -> ApiError {
    move |e| DomainError::invalid(field, e.reason()).into()
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/users/current", get(current))
        .route("/users/current/password", put(change_password))
        .route("/users/current/pin", put(change_pin))
}

/// Who this token belongs to
#[utoipa::path(
    get, path = "/api/v1/users/current", tag = "users", operation_id = "current_user", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's user", body = UserCreated),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn current(user: AuthUser) -> axum::Json<UserCreated> {
    let vault = &user.session.vault;
    axum::Json(UserCreated {
        id: vault.user().to_string(),
        login: vault.login().to_string(),
    })
}

/// Change the login password; every token is revoked and a new one returned
#[utoipa::path(
    put, path = "/api/v1/users/current/password", tag = "users", operation_id = "change_password",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; a fresh token", body = TokenCreated),
        (status = 400, description = "The new password is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong password or PIN, or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The password or PIN was changed meanwhile by another request; nothing was changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this login or address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, description = "Too many logins at once", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
async fn change_password(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<axum::Json<TokenCreated>, ApiError> {
    let vault = &user.session.vault;
    let new =
        Password::parse(&req.new_password, vault.login()).map_err(new_value("new_password"))?;
    state
        .services
        .change_password(&user.origin, vault, &req.current_password, &req.pin, new)
        .await?;
    let issued = state.services.issue_token_for(&user.origin, vault).await?;
    Ok(axum::Json(TokenCreated {
        token: issued.token,
        expires_at: rfc3339(issued.expires_at),
    }))
}

/// Change the PIN; every token is revoked and a new one returned
#[utoipa::path(
    put, path = "/api/v1/users/current/pin", tag = "users", operation_id = "change_pin",
    security(("bearer" = [])),
    request_body = PinChange,
    responses(
        (status = 200, description = "Changed; a fresh token", body = TokenCreated),
        (status = 400, description = "The new PIN is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong password or PIN, or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The password or PIN was changed meanwhile by another request; nothing was changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this login or address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, description = "Too many logins at once", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
async fn change_pin(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(req): ApiJson<PinChange>,
) -> Result<axum::Json<TokenCreated>, ApiError> {
    let vault = &user.session.vault;
    let new = Pin::parse(&req.new_pin).map_err(new_value("new_pin"))?;
    state
        .services
        .change_pin(&user.origin, vault, &req.password, &req.current_pin, new)
        .await?;
    let issued = state.services.issue_token_for(&user.origin, vault).await?;
    Ok(axum::Json(TokenCreated {
        token: issued.token,
        expires_at: rfc3339(issued.expires_at),
    }))
}
