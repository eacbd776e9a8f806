//! Kinds of item. A kind is one module here: its fields (valid by
//! construction), an edit of them, the form it is sealed in, the rules
//! across its fields and the audit actions of what is done to it. Storage,
//! the services and the front ends are written once over [`Kind`].

/// A kind's fields and its edit of them: `$fields` holds every field and
/// the item's tags and custom fields (`extras`), `$changes` an `Option` of
/// each field, `None` keeping it as it is, and an edit of the extras.
macro_rules! fields_and_changes {
    (
        $(#[$fields_meta:meta])* $fields:ident,
        $(#[$changes_meta:meta])* $changes:ident { $($field:ident: $ty:ty),+ $(,)? }
    ) => {
        $(#[$fields_meta])*
        #[derive(Debug, Clone)]
        pub struct $fields {
            $(pub $field: $ty,)+
            pub extras: $crate::domain::Extras,
        }

        impl $crate::domain::kind::WithExtras for $fields {
            fn extras(&self) -> &$crate::domain::Extras {
                &self.extras
            }
        }

        $(#[$changes_meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $changes {
            $(pub $field: Option<$ty>,)+
            pub extras: $crate::domain::ExtrasChanges,
        }

        impl $crate::domain::kind::Changes for $changes {
            fn is_empty(&self) -> bool {
                self.extras.is_empty() $(&& self.$field.is_none())+
            }
        }

        impl $changes {

            /// Writes the changed fields into `f`; an edit of the extras
            /// that cannot apply changes nothing.
            pub fn apply_to(self, f: &mut $fields) -> Result<(), $crate::domain::DomainError> {
                self.extras.apply_to(&mut f.extras)?;
                $(if let Some(v) = self.$field {
                    f.$field = v;
                })+
                Ok(())
            }
        }
    };
}

mod card;
mod identity;
mod note;
mod password;
mod totp;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::{Action, DomainError, ItemKind, ItemName};

pub use card::{Card, CardChanges, CardFields};
pub use identity::{Identity, IdentityChanges, IdentityFields};
pub use note::{NoteChanges, NoteFields, SecureNote};
pub use password::{Password, PasswordChanges, PasswordFields};
pub use totp::{Totp, TotpChanges, TotpFields};

/// What every kind's fields carry beside their own.
pub trait WithExtras {
    fn extras(&self) -> &super::Extras;
}

/// An edit of a kind's fields.
pub trait Changes: Send {
    /// Whether the edit changes nothing.
    fn is_empty(&self) -> bool;
}

/// What is done to an item, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    View,
    Reveal,
    Copy,
    Update,
    Delete,
}

/// How an item is being read, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its fields, secrets hidden.
    View,
    /// Its secrets too.
    Reveal,
    /// Its secret, to the clipboard.
    Copy,
}

impl From<Access> for Op {
    fn from(access: Access) -> Self {
        match access {
            Access::View => Op::View,
            Access::Reveal => Op::Reveal,
            Access::Copy => Op::Copy,
        }
    }
}

/// One kind of item.
pub trait Kind: std::fmt::Debug + Sized + Send + Sync + 'static {
    /// The kind's name in the database and the sealed value's binding.
    const KIND: ItemKind;
    /// Its typed row id.
    type Id: Copy + std::fmt::Debug + std::fmt::Display + Send + Sync;
    /// What an item of the kind is made of.
    type Fields: WithExtras + Clone + std::fmt::Debug + Send + Sync;
    /// An edit of those fields.
    type Changes: Changes;
    /// The fields as sealed: plain strings, wiped when dropped.
    type Stored: Serialize + DeserializeOwned + ZeroizeOnDrop;

    /// Its own fields, as `show --field` names them; no custom field may
    /// take one of these keys.
    const FIELDS: &'static [&'static str];

    fn id(raw: i64) -> Self::Id;
    fn name(fields: &Self::Fields) -> &ItemName;
    /// Rules that hold across fields.
    fn check(_fields: &Self::Fields) -> Result<(), DomainError> {
        Ok(())
    }
    /// Every rule an item of the kind holds to: its own across fields and
    /// those of its tags and custom fields.
    fn checked(fields: &Self::Fields) -> Result<(), DomainError> {
        Self::check(fields)?;
        fields.extras().check(Self::FIELDS)
    }
    /// Applies an edit; one that cannot apply leaves `fields` as they were.
    fn apply(changes: Self::Changes, fields: &mut Self::Fields) -> Result<(), DomainError>;
    fn stored(fields: &Self::Fields) -> Self::Stored;
    /// The fields back from what was sealed; an error means the stored
    /// value breaks a rule.
    fn fields(stored: &Self::Stored) -> Result<Self::Fields, DomainError>;
    fn action(op: Op) -> Action;
    /// The kind's own secret fields that hold a value, and their values.
    fn own_secrets(fields: &Self::Fields) -> Vec<(&'static str, Zeroizing<String>)>;
    /// Every secret an item holds: its own and its secret custom fields,
    /// what [`History`](super::History) keeps when they change.
    fn secrets(fields: &Self::Fields) -> Vec<super::history::SecretValue> {
        let own = Self::own_secrets(fields)
            .into_iter()
            .map(|(field, value)| (field.to_owned(), value));
        let custom = fields
            .extras()
            .fields()
            .iter()
            .filter(|f| f.is_secret())
            .map(|f| {
                (
                    f.key().as_str().to_owned(),
                    Zeroizing::new(f.expose().to_owned()),
                )
            });
        own.chain(custom).collect()
    }
    /// The text `find` searches: the name and every field shown without
    /// `--reveal` (never a secret).
    fn searchable(fields: &Self::Fields) -> Vec<&str> {
        vec![Self::name(fields).as_str()]
    }
}

fn optional<T>(
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    value.as_deref().map(parse).transpose()
}
