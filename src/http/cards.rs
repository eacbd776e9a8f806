//! `/cards`: what a card is to the API (the routes are `items.rs`).

use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::{Resource, item_input};
use crate::domain::kind::Card;
use crate::domain::{CardFields, CardNumber, Cvv, Expiry, Holder, ItemName, Note};

item_input! {
    /// A card as sent by the client: every field (PUT replaces the whole card).
    pub struct CardInput {
        name: "1–64 characters once trimmed, no line breaks, unique among your cards (ignoring case).",
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
    }
}

impl Resource for Card {
    const NOUN: &'static str = "card";
    const LISTED_WITHOUT: &'static str = "no number, no CVV";
    const NEW_DESCRIPTION: &'static str = "A new card; `holder`, `cvv` and `note` may be left out.";
    type Input = CardInput;

    fn parse(input: &CardInput) -> Result<Self::Fields, ApiError> {
        Ok(CardFields {
            name: ItemName::parse(&input.name)?,
            number: CardNumber::parse(&input.number)?,
            holder: input.holder.as_deref().map(Holder::parse).transpose()?,
            expiry: Expiry::parse(&input.expiry)?,
            cvv: input.cvv.as_deref().map(|c| Cvv::parse(c)).transpose()?,
            note: input.note.as_deref().map(Note::parse).transpose()?,
            extras: super::items::extras(&input.tags, &input.fields)?,
        })
    }
}
