//! `/cards`: list, create, read, replace, delete.

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
use crate::domain::kind::Card;
use crate::domain::{CardFields, CardId, CardNumber, Cvv, Expiry, Holder, ItemName, Note};
use crate::service::{Access, Edit, ItemRef};
use crate::views::{CardDetail, CardSummary};

/// A card as sent by the client: every field (PUT replaces the whole card).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// 1–64 characters once trimmed, no line breaks, unique among your cards
    /// (ignoring case).
    #[schema(min_length = 1)]
    pub name: String,
    /// 12–19 digits, spaces and dashes allowed, Luhn-valid.
    #[schema(value_type = String, pattern = r"^[ -]*([0-9][ -]*){12,19}$")]
    pub number: Zeroizing<String>,
    /// 1–64 characters once trimmed, no control characters.
    #[schema(min_length = 1)]
    pub holder: Option<String>,
    /// `MM/YY` or `MM/YYYY`, a year from 2000 to 2099.
    #[schema(pattern = r"^\s*(0[1-9]|1[0-2])/([0-9]{2}|20[0-9]{2})\s*$")]
    pub expiry: String,
    /// 3 digits, 4 for Amex.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{3,4}$")]
    pub cvv: Option<Zeroizing<String>>,
    /// Up to 4096 characters, no NUL.
    #[schema(max_length = 4096, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
    /// On PUT: the version you read (or send `If-Match`). Not allowed on POST.
    #[schema(minimum = 1, maximum = 9_223_372_036_854_775_806_i64)]
    pub version: Option<i64>,
}

impl CardInput {
    fn fields(&self) -> Result<CardFields, ApiError> {
        Ok(CardFields {
            name: ItemName::parse(&self.name)?,
            number: CardNumber::parse(&self.number)?,
            holder: self.holder.as_deref().map(Holder::parse).transpose()?,
            expiry: Expiry::parse(&self.expiry)?,
            cvv: self.cvv.as_deref().map(|c| Cvv::parse(c)).transpose()?,
            note: self.note.as_deref().map(Note::parse).transpose()?,
        })
    }
}

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/cards", get(list).post(create))
        .route("/cards/{id}", get(read).put(replace).delete(remove))
}

/// List your cards (no number, no CVV)
#[utoipa::path(
    operation_id = "list_cards",
    get, path = "/api/v1/cards", tag = "cards", security(("bearer" = [])),
    responses(
        (status = 200, description = "Your cards, oldest first", body = Vec<CardSummary>),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<HttpState>,
    user: AuthUser,
) -> Result<axum::Json<Vec<CardSummary>>, ApiError> {
    let cards = state
        .services
        .list::<Card>(&user.origin, &user.session.vault)
        .await?;
    Ok(axum::Json(cards.iter().map(CardSummary::of).collect()))
}

/// Add a card
#[utoipa::path(
    operation_id = "create_card",
    post, path = "/api/v1/cards", tag = "cards", security(("bearer" = [])),
    request_body = CardInput,
    responses(
        (status = 201, description = "The card, revealed", body = CardDetail, links(
            ("read" = (operation_id = "read_card", parameters(("id" = "$response.body#/id")))),
            ("replace" = (operation_id = "replace_card", parameters(("id" = "$response.body#/id")))),
            ("delete" = (operation_id = "delete_card", parameters(("id" = "$response.body#/id")))),
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
    ApiJson(input): ApiJson<CardInput>,
) -> Result<(StatusCode, SecretJson<CardDetail>), ApiError> {
    if input.version.is_some() {
        return Err(ApiError::field(
            "version",
            "version: not allowed when creating",
        ));
    }
    let card = state
        .services
        .add::<Card>(&user.origin, &user.session.vault, input.fields()?)
        .await?;
    Ok((StatusCode::CREATED, SecretJson(CardDetail::of(&card, true))))
}

/// Read one card, revealed
#[utoipa::path(
    operation_id = "read_card",
    get, path = "/api/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "The card's id")),
    responses(
        (status = 200, description = "The card, revealed", body = CardDetail),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such card of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<SecretJson<CardDetail>, ApiError> {
    let id = CardId::new(id);
    let card = state
        .services
        .get::<Card>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id.get()),
            Access::Reveal,
        )
        .await?;
    Ok(SecretJson(CardDetail::of(&card, true)))
}

/// Replace a card (every field), if it is still at the version you read
#[utoipa::path(
    operation_id = "replace_card",
    put, path = "/api/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The card's id"),
        ("If-Match" = Option<String>, Header, pattern = r#"^[ \t]*(W/)*"*[+-]?[0-9]+"*[ \t]*$"#,
            description = r#"The version you read, as `"N"` (or `W/"N"`, or `N`), if not in the body"#),
    ),
    request_body = CardInput,
    responses(
        (status = 200, description = "The card, revealed", body = CardDetail),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such card of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The card changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replace(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CardInput>,
) -> Result<SecretJson<CardDetail>, ApiError> {
    let id = CardId::new(id);
    let expected = version(input.version, &headers)?;
    let fields = input.fields()?;
    let card = state
        .services
        .edit::<Card>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id.get()),
            Edit::Replace { expected, fields },
        )
        .await?;
    Ok(SecretJson(CardDetail::of(&card, true)))
}

/// Delete a card
#[utoipa::path(
    operation_id = "delete_card",
    delete, path = "/api/v1/cards/{id}", tag = "cards", security(("bearer" = [])),
    params(("id" = String, Path, description = "The card's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such card of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<StatusCode, ApiError> {
    let id = CardId::new(id);
    state
        .services
        .remove::<Card>(&user.origin, &user.session.vault, ItemRef::Id(id.get()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
