//! `/totp`: what a one-time password item is to the API (the routes every
//! kind has are `items.rs`), and `GET /totp/{id}/code`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use zeroize::Zeroizing;

use super::HttpState;
use super::error::{ApiError, Problem};
use super::extract::{AuthUser, ItemPath};
use super::items::{Input, Resource};
use super::secret_json::SecretJson;
use crate::domain::kind::Totp;
use crate::domain::totp::Algorithm;
use crate::domain::{ItemName, TotpFields, TotpSeed};
use crate::service::{Access, ItemRef};
use crate::views::TotpCode;

/// A one-time password item as sent by the client: every field (PUT
/// replaces it whole). Give the seed as `secret` and its parameters, or
/// as one `uri` alone.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpInput {
    /// 1–64 characters once trimmed, no line breaks, unique among your one-time passwords (ignoring case).
    #[schema(min_length = 1)]
    pub name: String,
    /// The shared secret in base32 (RFC 4648; either case, spaces and dashes ignored), 8 to 128 bytes.
    #[schema(value_type = Option<String>, min_length = 13, pattern = r"^[A-Za-z2-7 =-]+$")]
    pub secret: Option<Zeroizing<String>>,
    /// An `otpauth://totp/…` URI holding the whole seed, instead of `secret` and the parameters.
    #[schema(value_type = Option<String>)]
    pub uri: Option<Zeroizing<String>>,
    /// Who issued the seed (a service's name); up to 256 characters, no control characters.
    pub issuer: Option<String>,
    /// The account at that service; up to 256 characters, no control characters.
    pub account: Option<String>,
    /// `SHA1` (the default), `SHA256` or `SHA512`.
    pub algorithm: Option<String>,
    /// 6 (the default), 7 or 8.
    #[schema(minimum = 6, maximum = 8)]
    pub digits: Option<u8>,
    /// Seconds a code lasts: 1 to 300, 30 by default.
    #[schema(minimum = 1, maximum = 300)]
    pub period: Option<u32>,
    /// Tags, at most 20 distinct ones (ignoring case): each 1–32 characters once trimmed, no control characters or commas.
    #[serde(default)]
    #[schema(max_items = 20, value_type = Vec<String>)]
    pub tags: Vec<String>,
    /// Custom fields, at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub fields: Vec<crate::http::items::FieldInput>,
    /// On PUT: the version you read (or send `If-Match`). Not allowed on POST.
    #[schema(minimum = 1, maximum = 9_223_372_036_854_775_806_i64)]
    pub version: Option<i64>,
}

impl Input for TotpInput {
    fn version(&self) -> Option<i64> {
        self.version
    }
}

impl TotpInput {
    fn seed(&self) -> Result<TotpSeed, ApiError> {
        if let Some(uri) = &self.uri {
            let given = [
                ("secret", self.secret.is_some()),
                ("issuer", self.issuer.is_some()),
                ("account", self.account.is_some()),
                ("algorithm", self.algorithm.is_some()),
                ("digits", self.digits.is_some()),
                ("period", self.period.is_some()),
            ];
            if let Some((field, _)) = given.iter().find(|(_, given)| *given) {
                return Err(ApiError::field(
                    field,
                    format!("{field}: give either `uri` or the seed's parts, not both"),
                ));
            }
            return Ok(TotpSeed::parse_uri(uri)?);
        }
        let secret = self
            .secret
            .as_ref()
            .ok_or_else(|| ApiError::field("secret", "secret: give `secret` or `uri`"))?;
        let algorithm = match &self.algorithm {
            Some(a) => Algorithm::parse(a)?,
            None => Algorithm::default(),
        };
        Ok(TotpSeed::new(
            secret,
            algorithm,
            self.digits.unwrap_or(6),
            self.period.unwrap_or(30),
            self.issuer.as_deref(),
            self.account.as_deref(),
        )?)
    }
}

impl Resource for Totp {
    const NOUN: &'static str = "one-time password";
    const LISTED_WITHOUT: &'static str = "never the secret";
    const NEW_DESCRIPTION: &'static str = "A new one-time password seed: `secret` (with `issuer`, `account`, `algorithm`, `digits` and `period` optional), or `uri` alone.";
    type Input = TotpInput;

    fn parse(input: &TotpInput) -> Result<Self::Fields, ApiError> {
        Ok(TotpFields {
            name: ItemName::parse(&input.name)?,
            seed: input.seed()?,
            extras: super::items::extras(&input.tags, &input.fields)?,
        })
    }
}

pub(super) fn router() -> Router<HttpState> {
    Router::new().route("/totp/{id}/code", get(code))
}

/// The current code of a one-time password, and how many seconds it stays current (audited as a reveal)
#[utoipa::path(
    operation_id = "read_totp_code",
    get, path = "/api/v1/totp/{id}/code", tag = "totp", security(("bearer" = [])),
    params(("id" = String, Path, description = "The one-time password's id")),
    responses(
        (status = 200, description = "The code", body = TotpCode),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such one-time password of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn code(
    State(state): State<HttpState>,
    user: AuthUser,
    ItemPath(id): ItemPath,
) -> Result<SecretJson<TotpCode>, ApiError> {
    let item = state
        .services
        .get::<Totp>(
            &user.origin,
            &user.session.vault,
            ItemRef::Id(id),
            Access::Reveal,
        )
        .await?;
    Ok(SecretJson(TotpCode::now(
        item.fields.name.as_str(),
        &item.fields.seed,
    )))
}
