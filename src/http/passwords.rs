//! `/passwords`: what a password entry is to the API (the routes are `items.rs`).

use serde::Deserialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::Resource;
use crate::domain::kind::Password;
use crate::domain::{ItemName, Note, PasswordFields, Secret, Url, Username};

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

impl Resource for Password {
    const NOUN: &'static str = "password entry";
    const LISTED_WITHOUT: &'static str = "never the password itself";
    const NEW_DESCRIPTION: &'static str =
        "A new password entry; `url`, `username` and `note` may be left out.";
    type Input = PasswordInput;

    fn parse(input: &PasswordInput) -> Result<Self::Fields, ApiError> {
        input.fields()
    }

    fn version(input: &PasswordInput) -> Option<i64> {
        input.version
    }
}
