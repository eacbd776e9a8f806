//! `/notes`: what a secure note is to the API (the routes are `items.rs`).

use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::{Input, Resource};
use crate::domain::kind::SecureNote;
use crate::domain::{ItemName, NoteFields, NoteText};

/// A secure note as sent by the client: every field (PUT replaces it whole).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// 1–64 characters once trimmed, no line breaks, unique among your notes (ignoring case).
    #[schema(min_length = 1)]
    pub name: String,
    /// The note: any text but NUL, kept as sent (line breaks and spacing
    /// too), 1 to 65,536 bytes of UTF-8.
    #[schema(value_type = String, min_length = 1, max_length = 65536, pattern = r"^[^\x00]*$")]
    pub text: Zeroizing<String>,
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

impl Input for NoteInput {
    fn version(&self) -> Option<i64> {
        self.version
    }
}

impl Resource for SecureNote {
    const NOUN: &'static str = "note";
    const LISTED_WITHOUT: &'static str = "names only, never the text";
    const NEW_DESCRIPTION: &'static str = "A new secure note.";
    // A note of 64 KiB, every character of it escaped in JSON, fits.
    const MAX_BODY: usize = 512 * 1024;
    type Input = NoteInput;

    fn parse(input: &NoteInput) -> Result<Self::Fields, ApiError> {
        Ok(NoteFields {
            name: ItemName::parse(&input.name)?,
            text: NoteText::parse(&input.text)?,
            extras: super::items::extras(&input.tags, &input.fields)?,
        })
    }
}
