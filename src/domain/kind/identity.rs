//! An identity: a person's name, contact details and a document number.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Kind, Op, optional};
use crate::domain::extras::StoredExtras;
use crate::domain::{
    Action, Address, DocumentNumber, DomainError, Email, FullName, IdentityId, ItemKind, ItemName,
    Note, Phone,
};

/// The identity kind (`id` in the shell).
#[derive(Debug)]
pub enum Identity {}

fields_and_changes! {
    /// What an identity is made of: a name and, all optional, the rest.
    IdentityFields,
    /// An edit: `None` keeps a field; `Some(None)` clears it.
    IdentityChanges {
        name: ItemName,
        full_name: Option<FullName>,
        email: Option<Email>,
        phone: Option<Phone>,
        address: Option<Address>,
        document: Option<DocumentNumber>,
        note: Option<Note>,
    }
}

/// An identity as sealed in its row: plain strings, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredIdentity {
    name: String,
    full_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    document: Option<String>,
    note: Option<String>,
    /// Items sealed before tags and custom fields have none.
    #[serde(default, skip_serializing_if = "StoredExtras::is_empty")]
    extras: StoredExtras,
}

impl Kind for Identity {
    const KIND: ItemKind = ItemKind::Identity;
    type Id = IdentityId;
    type Fields = IdentityFields;
    type Changes = IdentityChanges;
    type Stored = StoredIdentity;
    const FIELDS: &'static [&'static str] = &[
        "name",
        "full_name",
        "email",
        "phone",
        "address",
        "document",
        "note",
    ];

    fn id(raw: i64) -> IdentityId {
        IdentityId::new(raw)
    }

    fn name(f: &IdentityFields) -> &ItemName {
        &f.name
    }

    fn apply(changes: IdentityChanges, f: &mut IdentityFields) -> Result<(), DomainError> {
        changes.apply_to(f)
    }

    fn stored(f: &IdentityFields) -> StoredIdentity {
        let text = |v: Option<&str>| v.map(str::to_owned);
        StoredIdentity {
            name: f.name.as_str().to_owned(),
            full_name: text(f.full_name.as_ref().map(FullName::as_str)),
            email: text(f.email.as_ref().map(Email::as_str)),
            phone: text(f.phone.as_ref().map(Phone::as_str)),
            address: text(f.address.as_ref().map(Address::as_str)),
            document: text(f.document.as_ref().map(DocumentNumber::expose)),
            note: text(f.note.as_ref().map(Note::as_str)),
            extras: StoredExtras::of(&f.extras),
        }
    }

    fn fields(s: &StoredIdentity) -> Result<IdentityFields, DomainError> {
        Ok(IdentityFields {
            name: ItemName::named(&s.name)?,
            full_name: optional(&s.full_name, FullName::parse)?,
            email: optional(&s.email, Email::parse_address)?,
            phone: optional(&s.phone, Phone::parse_number)?,
            address: optional(&s.address, Address::parse)?,
            document: optional(&s.document, DocumentNumber::parse)?,
            note: optional(&s.note, Note::parse)?,
            extras: s.extras.open()?,
        })
    }

    fn searchable(f: &IdentityFields) -> Vec<&str> {
        let mut found = vec![f.name.as_str()];
        found.extend(f.full_name.as_ref().map(FullName::as_str));
        found.extend(f.email.as_ref().map(Email::as_str));
        found.extend(f.phone.as_ref().map(Phone::as_str));
        found.extend(f.address.as_ref().map(Address::as_str));
        found.extend(f.note.as_ref().map(Note::as_str));
        found
    }

    fn own_secrets(f: &IdentityFields) -> Vec<(&'static str, Zeroizing<String>)> {
        f.document
            .iter()
            .map(|d| ("document", Zeroizing::new(d.expose().to_owned())))
            .collect()
    }

    fn action(op: Op) -> Action {
        match op {
            Op::Create => Action::IdentityCreate,
            Op::View => Action::IdentityView,
            // An identity has nothing to copy: a copy would show what a reveal does.
            Op::Reveal | Op::Copy => Action::IdentityReveal,
            Op::Update => Action::IdentityUpdate,
            Op::Delete => Action::IdentityDelete,
        }
    }
}
