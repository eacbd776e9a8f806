//! `/cards`: what a card is to the API (the routes are `items.rs`).

use serde::Deserialize;
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::Resource;
use crate::domain::kind::Card;
use crate::domain::{CardFields, CardNumber, Cvv, Expiry, Holder, ItemName, Note};

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

impl Resource for Card {
    const NOUN: &'static str = "card";
    const LISTED_WITHOUT: &'static str = "no number, no CVV";
    const NEW_DESCRIPTION: &'static str = "A new card; `holder`, `cvv` and `note` may be left out.";
    type Input = CardInput;

    fn parse(input: &CardInput) -> Result<Self::Fields, ApiError> {
        input.fields()
    }

    fn version(input: &CardInput) -> Option<i64> {
        input.version
    }
}
