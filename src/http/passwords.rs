//! `/passwords`: what a password entry is to the API (the routes are `items.rs`).

use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::{Resource, item_input};
use crate::domain::kind::Password;
use crate::domain::{ItemName, Note, PasswordFields, Secret, TotpSeed, Url, Username};

item_input! {
    /// A password entry as sent by the client: every field (PUT replaces it whole).
    pub struct PasswordInput {
        name: "1–64 characters once trimmed, no line breaks, unique among your passwords (ignoring case).",
        /// Up to 2048 characters once trimmed, no spaces or control characters.
        #[schema(pattern = r"^\s*[^\s\x00-\x1f\x7f-\x9f]+\s*$")]
        pub url: Option<String>,
        /// 1–256 characters once trimmed, no control characters.
        #[schema(min_length = 1)]
        pub username: Option<String>,
        /// 1–1024 characters, no NUL.
        #[schema(value_type = String, min_length = 1, max_length = 1024, pattern = r"^[^\x00]*$")]
        pub password: Zeroizing<String>,
        /// A one-time password seed kept with it, as an `otpauth://totp/…` URI.
        #[schema(value_type = Option<String>)]
        pub totp: Option<Zeroizing<String>>,
    }
}

impl Resource for Password {
    const NOUN: &'static str = "password entry";
    const LISTED_WITHOUT: &'static str = "never the password itself";
    const NEW_DESCRIPTION: &'static str =
        "A new password entry; `url`, `username` and `note` may be left out.";
    type Input = PasswordInput;

    fn parse(input: &PasswordInput) -> Result<Self::Fields, ApiError> {
        Ok(PasswordFields {
            name: ItemName::parse(&input.name)?,
            url: input.url.as_deref().map(Url::parse).transpose()?,
            username: input.username.as_deref().map(Username::parse).transpose()?,
            password: Secret::parse(&input.password)?,
            note: input.note.as_deref().map(Note::parse).transpose()?,
            totp: input
                .totp
                .as_deref()
                .map(|uri| TotpSeed::parse_uri_as("totp", uri))
                .transpose()?,
            extras: super::items::extras(&input.tags, &input.fields)?,
        })
    }
}
