//! `/identities`: what an identity is to the API (the routes are `items.rs`).

use zeroize::Zeroizing;

use super::error::ApiError;
use super::items::{Resource, item_input};
use crate::domain::kind::Identity;
use crate::domain::{
    Address, DocumentNumber, Email, FullName, IdentityFields, ItemName, Note, Phone,
};

item_input! {
    /// An identity as sent by the client: every field (PUT replaces it whole).
    pub struct IdentityInput {
        name: "1–64 characters once trimmed, no line breaks, unique among your identities (ignoring case).",
        /// 1–256 characters once trimmed, no control characters.
        #[schema(min_length = 1)]
        pub full_name: Option<String>,
        /// `local@domain`, at most 254 characters, no spaces.
        #[schema(min_length = 3, max_length = 254)]
        pub email: Option<String>,
        /// Digits, spaces and `+ - ( ) . /`, at most 64 characters, at least one digit.
        #[schema(min_length = 1, max_length = 64)]
        pub phone: Option<String>,
        /// Up to 1024 characters once trimmed, lines kept, no NUL.
        #[schema(min_length = 1, max_length = 1024, pattern = r"^[^\x00]*$")]
        pub address: Option<String>,
        /// A document's number (passport, ID card): 1–64 characters once trimmed, no control characters.
        #[schema(value_type = Option<String>, min_length = 1)]
        pub document: Option<Zeroizing<String>>,
    }
}

impl Resource for Identity {
    const NOUN: &'static str = "identity";
    const LISTED_WITHOUT: &'static str = "never the document number";
    const NEW_DESCRIPTION: &'static str = "A new identity; every field but `name` may be left out.";
    type Input = IdentityInput;

    fn parse(input: &IdentityInput) -> Result<Self::Fields, ApiError> {
        Ok(IdentityFields {
            name: ItemName::parse(&input.name)?,
            full_name: input
                .full_name
                .as_deref()
                .map(FullName::parse)
                .transpose()?,
            email: input
                .email
                .as_deref()
                .map(Email::parse_address)
                .transpose()?,
            phone: input
                .phone
                .as_deref()
                .map(Phone::parse_number)
                .transpose()?,
            address: input.address.as_deref().map(Address::parse).transpose()?,
            document: input
                .document
                .as_deref()
                .map(|d| DocumentNumber::parse(d))
                .transpose()?,
            note: input.note.as_deref().map(Note::parse).transpose()?,
            extras: super::items::extras(&input.tags, &input.fields)?,
        })
    }
}
