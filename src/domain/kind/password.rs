//! A service password: the secret, with an optional URL, username and note.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::totp::StoredSeed;
use super::{Kind, Op, optional};
use crate::domain::extras::StoredExtras;
use crate::domain::{
    Action, DomainError, ItemKind, ItemName, Note, PasswordId, Secret, TotpSeed, Url, Username,
};

/// The password kind.
#[derive(Debug)]
pub enum Password {}

fields_and_changes! {
    /// What a password entry is made of when it is created.
    PasswordFields,
    /// An edit of a password entry, like [`CardChanges`].
    PasswordChanges {
        name: ItemName,
        url: Option<Url>,
        username: Option<Username>,
        password: Secret,
        note: Option<Note>,
        totp: Option<TotpSeed>,
    }
}

/// A password entry as sealed in its row: plain strings, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredPassword {
    name: String,
    url: Option<String>,
    username: Option<String>,
    password: String,
    note: Option<String>,
    /// Entries sealed before seeds could be kept have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    totp: Option<StoredSeed>,
    /// Items sealed before tags and custom fields have none.
    #[serde(default, skip_serializing_if = "StoredExtras::is_empty")]
    extras: StoredExtras,
}

impl Kind for Password {
    const KIND: ItemKind = ItemKind::Password;
    type Id = PasswordId;
    type Fields = PasswordFields;
    type Changes = PasswordChanges;
    type Stored = StoredPassword;
    const FIELDS: &'static [&'static str] =
        &["name", "url", "username", "password", "note", "totp"];

    fn id(raw: i64) -> PasswordId {
        PasswordId::new(raw)
    }

    fn name(f: &PasswordFields) -> &ItemName {
        &f.name
    }

    fn apply(changes: PasswordChanges, f: &mut PasswordFields) -> Result<(), DomainError> {
        changes.apply_to(f)
    }

    fn stored(f: &PasswordFields) -> StoredPassword {
        StoredPassword {
            name: f.name.as_str().to_owned(),
            url: f.url.as_ref().map(|u| u.as_str().to_owned()),
            username: f.username.as_ref().map(|u| u.as_str().to_owned()),
            password: f.password.expose().to_owned(),
            note: f.note.as_ref().map(|n| n.as_str().to_owned()),
            totp: f.totp.as_ref().map(StoredSeed::of),
            extras: StoredExtras::of(&f.extras),
        }
    }

    fn fields(s: &StoredPassword) -> Result<PasswordFields, DomainError> {
        Ok(PasswordFields {
            name: ItemName::named(&s.name)?,
            url: optional(&s.url, Url::parse)?,
            username: optional(&s.username, Username::parse)?,
            password: Secret::parse(&s.password)?,
            note: optional(&s.note, Note::parse)?,
            totp: s.totp.as_ref().map(StoredSeed::seed).transpose()?,
            extras: s.extras.open()?,
        })
    }

    fn searchable(f: &PasswordFields) -> Vec<&str> {
        let mut found = vec![f.name.as_str()];
        found.extend(f.url.as_ref().map(Url::as_str));
        found.extend(f.username.as_ref().map(Username::as_str));
        found.extend(f.note.as_ref().map(Note::as_str));
        found
    }

    fn own_secrets(f: &PasswordFields) -> Vec<(&'static str, Zeroizing<String>)> {
        let mut secrets = vec![("password", Zeroizing::new(f.password.expose().to_owned()))];
        secrets.extend(f.totp.as_ref().map(|t| ("totp", t.to_uri())));
        secrets
    }

    fn action(op: Op) -> Action {
        match op {
            Op::Create => Action::PasswordCreate,
            Op::View => Action::PasswordView,
            Op::Reveal => Action::PasswordReveal,
            Op::Copy => Action::PasswordCopy,
            Op::Update => Action::PasswordUpdate,
            Op::Delete => Action::PasswordDelete,
        }
    }
}
