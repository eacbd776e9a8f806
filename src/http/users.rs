//! `POST /users`: registration.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{ApiJson, ClientOrigin};
use crate::domain::{Login, Password, Pin};

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters of `a-z 0-9 . _ -`.
    pub login: String,
    /// 8–1024 characters, not the login.
    #[schema(value_type = String)]
    pub password: Zeroizing<String>,
    /// 4–12 digits, not all the same, not a straight run.
    #[schema(value_type = String)]
    pub pin: Zeroizing<String>,
}

/// The account created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserCreated {
    pub id: String,
    pub login: String,
}

pub fn router() -> Router<HttpState> {
    Router::new().route("/users", post(register))
}

/// Register an account
#[utoipa::path(
    operation_id = "register_user",
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = UserCreated),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The login is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address, or from everywhere", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, description = "Too many logins at once", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
    )
)]
async fn register(
    State(state): State<HttpState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, axum::Json<UserCreated>), ApiError> {
    let login = Login::parse(&req.login)?;
    let password = Password::parse(&req.password, &login)?;
    let pin = Pin::parse(&req.pin)?;
    let vault = state
        .services
        .register(&origin, login, password, pin)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserCreated {
            id: vault.user().to_string(),
            login: vault.login().to_string(),
        }),
    ))
}
