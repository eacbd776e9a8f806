//! A bank card: number, expiry, optional holder, CVV and note.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Kind, Op, optional};
use crate::domain::extras::StoredExtras;
use crate::domain::{
    Action, CardId, CardNumber, Cvv, DomainError, Expiry, Holder, ItemKind, ItemName, Note,
};

/// The card kind.
#[derive(Debug)]
pub enum Card {}

fields_and_changes! {
    /// What a card is made of when it is created.
    CardFields,
    /// An edit: `None` keeps a field; `Some(None)` clears an optional one.
    CardChanges {
        name: ItemName,
        number: CardNumber,
        holder: Option<Holder>,
        expiry: Expiry,
        cvv: Option<Cvv>,
        note: Option<Note>,
    }
}

/// A card as sealed in its row: plain strings, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredCard {
    name: String,
    number: String,
    holder: Option<String>,
    expiry: String,
    cvv: Option<String>,
    note: Option<String>,
    /// Items sealed before tags and custom fields have none.
    #[serde(default, skip_serializing_if = "StoredExtras::is_empty")]
    extras: StoredExtras,
}

impl Kind for Card {
    const KIND: ItemKind = ItemKind::Card;
    type Id = CardId;
    type Fields = CardFields;
    type Changes = CardChanges;
    type Stored = StoredCard;
    const FIELDS: &'static [&'static str] =
        &["name", "brand", "number", "holder", "expiry", "cvv", "note"];

    fn id(raw: i64) -> CardId {
        CardId::new(raw)
    }

    fn name(f: &CardFields) -> &ItemName {
        &f.name
    }

    /// A CVV must have the length its card's brand uses.
    fn check(f: &CardFields) -> Result<(), DomainError> {
        match &f.cvv {
            Some(cvv) => cvv.check_for(f.number.brand()),
            None => Ok(()),
        }
    }

    fn apply(changes: CardChanges, f: &mut CardFields) -> Result<(), DomainError> {
        changes.apply_to(f)
    }

    fn stored(f: &CardFields) -> StoredCard {
        StoredCard {
            name: f.name.as_str().to_owned(),
            number: f.number.expose().to_owned(),
            holder: f.holder.as_ref().map(|h| h.as_str().to_owned()),
            expiry: f.expiry.to_string(),
            cvv: f.cvv.as_ref().map(|c| c.expose().to_owned()),
            note: f.note.as_ref().map(|n| n.as_str().to_owned()),
            extras: StoredExtras::of(&f.extras),
        }
    }

    fn fields(s: &StoredCard) -> Result<CardFields, DomainError> {
        Ok(CardFields {
            name: ItemName::named(&s.name)?,
            number: CardNumber::parse(&s.number)?,
            holder: optional(&s.holder, Holder::parse)?,
            expiry: Expiry::parse(&s.expiry)?,
            cvv: optional(&s.cvv, Cvv::parse)?,
            note: optional(&s.note, Note::parse)?,
            extras: s.extras.open()?,
        })
    }

    fn searchable(f: &CardFields) -> Vec<&str> {
        let mut found = vec![f.name.as_str()];
        found.extend(f.holder.as_ref().map(Holder::as_str));
        found.extend(f.note.as_ref().map(Note::as_str));
        found
    }

    fn own_secrets(f: &CardFields) -> Vec<(&'static str, Zeroizing<String>)> {
        let mut secrets = vec![("number", Zeroizing::new(f.number.expose().to_owned()))];
        secrets.extend(
            f.cvv
                .as_ref()
                .map(|c| ("cvv", Zeroizing::new(c.expose().to_owned()))),
        );
        secrets
    }

    fn action(op: Op) -> Action {
        match op {
            Op::Create => Action::CardCreate,
            Op::View => Action::CardView,
            // A card has nothing to copy: a copy would show what a reveal does.
            Op::Reveal | Op::Copy => Action::CardReveal,
            Op::Update => Action::CardUpdate,
            Op::Delete => Action::CardDelete,
        }
    }
}
