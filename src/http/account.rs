//! The account: `POST /users` (register), `POST /sessions` and
//! `DELETE /sessions/current` (log in for a token, log out), and
//! `/users/current` (who the token belongs to, changing the password or PIN,
//! deleting the account).
//!
//! `/users/current` is not in the original route table: the local client
//! needs it for `whoami`, `passwd` and `pin`. A change revokes every token of
//! the user (and locks their SSH sessions), so the response carries a fresh
//! token.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{ApiJson, AuthUser, ClientOrigin};
use super::problems::{BodyRefused, Busy, Guarded, problem};
use crate::domain::{DomainError, InviteCode, Login, Password, Pin, RecoveryKey};
use crate::service::IssuedToken;
use crate::views::{SecretText, rfc3339};

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
    /// A one-time code from the operator (`keeper admin invite`), when the
    /// server's registration is by invite.
    #[schema(value_type = Option<String>)]
    pub invite: Option<Zeroizing<String>>,
}

/// The account created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserCreated {
    pub id: String,
    pub login: String,
    /// Shown this once: with it, `POST /recovery` (or `ssh recover@HOST`)
    /// sets a new password and PIN. Without it a forgotten password or PIN
    /// loses the vault.
    #[schema(value_type = String, example = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345-67ABC-DEFGH")]
    pub recovery_key: SecretText,
}

/// A user: id and login.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentUser {
    pub id: String,
    pub login: String,
}

/// Login, recovery key, and the new password and PIN.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    pub login: String,
    /// As shown at registration: 40 characters, the dashes optional.
    #[schema(value_type = String)]
    pub recovery_key: Zeroizing<String>,
    /// The new password: 8–1024 characters.
    #[schema(value_type = String)]
    pub password: Zeroizing<String>,
    /// The new PIN: 4–12 digits.
    #[schema(value_type = String)]
    pub pin: Zeroizing<String>,
}

/// The new recovery key; the one sent no longer works.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recovered {
    #[schema(value_type = String)]
    pub recovery_key: SecretText,
}

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
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// Send as `Authorization: Bearer <token>`.
    #[schema(value_type = String)]
    pub token: SecretText,
    /// RFC 3339; the token also expires after 30 minutes unused.
    pub expires_at: String,
}

impl From<IssuedToken> for TokenCreated {
    fn from(issued: IssuedToken) -> Self {
        Self {
            token: SecretText::new(&issued.token),
            expires_at: rfc3339(issued.expires_at),
        }
    }
}

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

/// The answers of a change refused for its credentials: 401 for a wrong
/// password or PIN, 409 when another request changed them first.
struct ChangeRefused;

impl IntoResponses for ChangeRefused {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                RefOr::T(problem("Wrong password or PIN, or bad token")),
            ),
            (
                "409".to_owned(),
                RefOr::T(problem(
                    "The password or PIN was changed meanwhile by another request; nothing was changed",
                )),
            ),
        ])
    }
}

/// The token a change answers with: every older one was revoked.
async fn fresh_token(
    state: &HttpState,
    user: &AuthUser,
) -> Result<axum::Json<TokenCreated>, ApiError> {
    let issued = state
        .services
        .issue_token_for(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(issued.into()))
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/users", post(register))
        .route("/recovery", post(recover))
        .route("/users/current", get(current).delete(delete_account))
        .route("/users/current/password", put(change_password))
        .route("/users/current/pin", put(change_pin))
        .route("/users/current/recovery-key", post(reissue_recovery_key))
        .route("/sessions", post(create_session))
        .route("/sessions/current", delete(delete_session))
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
        (status = 403, description = "Registration is closed, or needs an invite code that is missing, unknown, used or expired", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The login is taken", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 429, description = "Too many registrations from this address, or from everywhere", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        Busy,
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
    let invite = req
        .invite
        .as_deref()
        .map(|code| InviteCode::parse(code))
        .transpose()?;
    let registered = state
        .services
        .register(&origin, login, password, pin, invite.as_ref())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UserCreated {
            id: registered.vault.user().to_string(),
            login: registered.vault.login().to_string(),
            recovery_key: SecretText::new(&registered.recovery_key.display()),
        }),
    ))
}

/// Set a new password and PIN with the recovery key
///
/// Every API token and SSH session of the account ends; the answer holds a new recovery key, and the one sent stops working. Throttled like a login.
#[utoipa::path(
    operation_id = "recover_account",
    post,
    path = "/api/v1/recovery",
    tag = "users",
    request_body = RecoveryRequest,
    responses(
        (status = 200, description = "Password and PIN changed", body = Recovered),
        (status = 400, description = "A field is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong login or recovery key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The operator disabled the account", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 429, description = "Too many failed attempts for this login or address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        Busy,
    )
)]
async fn recover(
    State(state): State<HttpState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(req): ApiJson<RecoveryRequest>,
) -> Result<axum::Json<Recovered>, ApiError> {
    let login = Login::parse(&req.login)?;
    let key = RecoveryKey::parse(&req.recovery_key)?;
    let password = Password::parse(&req.password, &login)?;
    let pin = Pin::parse(&req.pin)?;
    let proof = state
        .services
        .check_recovery_key(&origin, &login, &key)
        .await?;
    let recovered = state
        .services
        .recover(&origin, proof, password, pin)
        .await?;
    Ok(axum::Json(Recovered {
        recovery_key: SecretText::new(&recovered.recovery_key.display()),
    }))
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
        (status = 403, description = "The operator disabled the account (said only to the right password and PIN)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user has as many active tokens as allowed", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        Guarded,
    )
)]
async fn create_session(
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
    Ok((StatusCode::CREATED, axum::Json(issued.into())))
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
async fn delete_session(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_token(&user.origin, &user.session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who this token belongs to
#[utoipa::path(
    get, path = "/api/v1/users/current", tag = "users", operation_id = "current_user", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's user", body = CurrentUser),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn current(user: AuthUser) -> axum::Json<CurrentUser> {
    let vault = &user.session.vault;
    axum::Json(CurrentUser {
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
        ChangeRefused,
        BodyRefused,
        Guarded,
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
    fresh_token(&state, &user).await
}

/// Change the PIN; every token is revoked and a new one returned
#[utoipa::path(
    put, path = "/api/v1/users/current/pin", tag = "users", operation_id = "change_pin",
    security(("bearer" = [])),
    request_body = PinChange,
    responses(
        (status = 200, description = "Changed; a fresh token", body = TokenCreated),
        (status = 400, description = "The new PIN is invalid", body = Problem, content_type = "application/problem+json"),
        ChangeRefused,
        BodyRefused,
        Guarded,
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
    fresh_token(&state, &user).await
}

/// Password and PIN, checked again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueRequest {
    #[schema(value_type = String)]
    pub password: Zeroizing<String>,
    #[schema(value_type = String)]
    pub pin: Zeroizing<String>,
}

/// Get a new recovery key; the old one stops working
#[utoipa::path(
    operation_id = "reissue_recovery_key",
    post,
    path = "/api/v1/users/current/recovery-key",
    tag = "users",
    security(("bearer" = [])),
    request_body = ReissueRequest,
    responses(
        (status = 200, description = "The new recovery key, shown this once", body = Recovered),
        (status = 401, description = "Missing or invalid token, or a wrong password or PIN", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        Busy,
    )
)]
async fn reissue_recovery_key(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ReissueRequest>,
) -> Result<axum::Json<Recovered>, ApiError> {
    let key = state
        .services
        .reissue_recovery_key(&user.origin, &user.session.vault, &req.password, &req.pin)
        .await?;
    Ok(axum::Json(Recovered {
        recovery_key: SecretText::new(&key.display()),
    }))
}

/// Delete the account and every item in it, for good (password and PIN
/// again); every token and session of the user ends. The audit log keeps
/// the account's records.
#[utoipa::path(
    operation_id = "delete_account",
    delete,
    path = "/api/v1/users/current",
    tag = "users",
    security(("bearer" = [])),
    request_body = ReissueRequest,
    responses(
        (status = 204, description = "The account and its items are deleted"),
        (status = 401, description = "Missing or invalid token, or a wrong password or PIN", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        Busy,
    )
)]
async fn delete_account(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ReissueRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_account(&user.origin, &user.session.vault, &req.password, &req.pin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
