//! `/passwords`: list, create, read, replace, delete.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde::Deserialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::{ApiError, Problem};
use super::extract::{ApiJson, AuthUser, ItemPath};
use super::secret_json::SecretJson;
use super::{HttpState, version};
use crate::domain::kind::Password;
use crate::domain::{ItemName, Note, PasswordFields, PasswordId, Secret, Url, Username};
use crate::service::{Access, Edit, ItemRef};
use crate::views::{PasswordDetail, PasswordSummary};

/// A password entry as sent by the client: every field (PUT replaces it whole).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// 1–64 characters once trimmed, no line breaks, unique among your
    /// passwords (ignoring case).
    #[schema(min_length = 1)]
    pub name: String,
    /// Up to 2048 characters once trimmed, no spaces or control characters.
    #[schema(pattern = r"^\s*[^\s\x00-\x1f\x7f-\x9f]+\s*$")]
    pub url: Option<String>,
    /// 1–256 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub username: Option<String>,
    /// 1–1024 characters, no NUL.
    #[schema(value_type = String, min_length = 1, max_length = 1024, pattern = r"^[^\x00]*$")]
    pub password: Zeroizing<String>,
    /// Up to 4096 characters, no NUL.
    #[schema(max_length = 4096, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
    /// On PUT: the version you read (or send `If-Match`). Not allowed on POST.
    #[schema(minimum = 1, maximum = 9_223_372_036_854_775_806_i64)]
    pub version: Option<i64>,
}

impl PasswordInput {
    fn fields(&self) -> Result<PasswordFields, ApiError> {
        Ok(PasswordFields {
            name: ItemName::parse(&self.name)?,
            url: self.url.as_deref().map(Url::parse).transpose()?,
            username: self.username.as_deref().map(Username::parse).transpose()?,
            password: Secret::parse(&self.password)?,
            note: self.note.as_deref().map(Note::parse).transpose()?,
        })
    }
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/passwords", get(list).post(create))
        .route("/passwords/{id}", get(read).put(replace).delete(remove))
}

/// List your passwords (never the password itself)
#[utoipa::path(
    operation_id = "list_passwords",
    get, path = "/api/v1/passwords", tag = "passwords", security(("bearer" = [])),
    responses(
        (status = 200, description = "Your entries, oldest first", body = Vec<PasswordSummary>),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<PasswordSummary>>, ApiError> {
    let entries = state
        .services
        .list::<Password>(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(
        entries.iter().map(PasswordSummary::of).collect(),
    ))
}

/// Add a password entry
#[utoipa::path(
    operation_id = "create_password",
    post, path = "/api/v1/passwords", tag = "passwords", security(("bearer" = [])),
    request_body = PasswordInput,
    responses(
        (status = 201, description = "The entry, revealed", body = PasswordDetail, links(
            ("read" = (operation_id = "read_password", parameters(("id" = "$response.body#/id")))),
            ("replace" = (operation_id = "replace_password", parameters(("id" = "$response.body#/id")))),
            ("delete" = (operation_id = "delete_password", parameters(("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken, or you have as many items as allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<HttpState>,
    user: AuthUser,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<(StatusCode, SecretJson<PasswordDetail>), ApiError> {
    if input.version.is_some() {
        return Err(ApiError::field(
            "version",
            "version: not allowed when creating",
        ));
    }
    let entry = state
        .services
        .add::<Password>(&user.origin, &user.session.vault, input.fields()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        SecretJson(PasswordDetail::of(&entry, true)),
    ))
}

/// Read one password entry, revealed
#[utoipa::path(
    operation_id = "read_password",
    get, path = "/api/v1/passwords/{id}", tag = "passwords", security(("bearer" = [])),
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry, revealed", body = PasswordDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<SecretJson<PasswordDetail>, ApiError> {
    let id = PasswordId::new(id);
    let entry = state
        .services
        .get::<Password>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id.get()),
            Access::Reveal,
        )
        .await?;
    Ok(SecretJson(PasswordDetail::of(&entry, true)))
}

/// Replace a password entry (every field), if it is still at the version you read
#[utoipa::path(
    operation_id = "replace_password",
    put, path = "/api/v1/passwords/{id}", tag = "passwords", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The entry's id"),
        ("If-Match" = Option<String>, Header, pattern = r#"^[ \t]*(W/)*"*[+-]?[0-9]+"*[ \t]*$"#,
            description = r#"The version you read, as `"N"` (or `W/"N"`, or `N`), if not in the body"#),
    ),
    request_body = PasswordInput,
    responses(
        (status = 200, description = "The entry, revealed", body = PasswordDetail),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The entry changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replace(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<SecretJson<PasswordDetail>, ApiError> {
    let id = PasswordId::new(id);
    let expected = version(input.version, &headers)?;
    let fields = input.fields()?;
    let entry = state
        .services
        .edit::<Password>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id.get()),
            Edit::Replace { expected, fields },
        )
        .await?;
    Ok(SecretJson(PasswordDetail::of(&entry, true)))
}

/// Delete a password entry
#[utoipa::path(
    operation_id = "delete_password",
    delete, path = "/api/v1/passwords/{id}", tag = "passwords", security(("bearer" = [])),
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<StatusCode, ApiError> {
    let id = PasswordId::new(id);
    state
        .services
        .remove::<Password>(&user.origin, &user.session.vault, ItemRef::Id(id.get()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
