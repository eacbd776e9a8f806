//! What each kind of item is made of, and an edit of it: the values a
//! command or a request carries to the services, already valid.

use super::{CardNumber, Cvv, Expiry, Holder, ItemName, Note, Secret, Url, Username};

/// What a card is made of when it is created.
#[derive(Debug, Clone)]
pub struct CardFields {
    pub name: ItemName,
    pub number: CardNumber,
    pub holder: Option<Holder>,
    pub expiry: Expiry,
    pub cvv: Option<Cvv>,
    pub note: Option<Note>,
}

/// An edit: `None` keeps a field; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CardChanges {
    pub name: Option<ItemName>,
    pub number: Option<CardNumber>,
    pub holder: Option<Option<Holder>>,
    pub expiry: Option<Expiry>,
    pub cvv: Option<Option<Cvv>>,
    pub note: Option<Option<Note>>,
}

impl CardChanges {
    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.number.is_none()
            && self.holder.is_none()
            && self.expiry.is_none()
            && self.cvv.is_none()
            && self.note.is_none()
    }

    /// Writes the changed fields into `f`.
    pub fn apply_to(self, f: &mut CardFields) {
        let Self {
            name,
            number,
            holder,
            expiry,
            cvv,
            note,
        } = self;
        if let Some(v) = name {
            f.name = v;
        }
        if let Some(v) = number {
            f.number = v;
        }
        if let Some(v) = holder {
            f.holder = v;
        }
        if let Some(v) = expiry {
            f.expiry = v;
        }
        if let Some(v) = cvv {
            f.cvv = v;
        }
        if let Some(v) = note {
            f.note = v;
        }
    }
}

/// What a password entry is made of when it is created.
#[derive(Debug, Clone)]
pub struct PasswordFields {
    pub name: ItemName,
    pub url: Option<Url>,
    pub username: Option<Username>,
    pub password: Secret,
    pub note: Option<Note>,
}

/// An edit of a password entry, like [`CardChanges`].
#[derive(Debug, Clone, Default)]
pub struct PasswordChanges {
    pub name: Option<ItemName>,
    pub url: Option<Option<Url>>,
    pub username: Option<Option<Username>>,
    pub password: Option<Secret>,
    pub note: Option<Option<Note>>,
}

impl PasswordChanges {
    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.url.is_none()
            && self.username.is_none()
            && self.password.is_none()
            && self.note.is_none()
    }

    /// Writes the changed fields into `f`.
    pub fn apply_to(self, f: &mut PasswordFields) {
        let Self {
            name,
            url,
            username,
            password,
            note,
        } = self;
        if let Some(v) = name {
            f.name = v;
        }
        if let Some(v) = url {
            f.url = v;
        }
        if let Some(v) = username {
            f.username = v;
        }
        if let Some(v) = password {
            f.password = v;
        }
        if let Some(v) = note {
            f.note = v;
        }
    }
}
