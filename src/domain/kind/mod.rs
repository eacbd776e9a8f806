//! Kinds of item. A kind is one module here: its fields (valid by
//! construction), an edit of them, the form it is sealed in, the rules
//! across its fields and the audit actions of what is done to it. Storage,
//! the services and the front ends are written once over [`Kind`].

/// A kind's fields and its edit of them: `$fields` holds every field and
/// `$changes` an `Option` of each, `None` keeping the field as it is.
macro_rules! fields_and_changes {
    (
        $(#[$fields_meta:meta])* $fields:ident,
        $(#[$changes_meta:meta])* $changes:ident { $($field:ident: $ty:ty),+ $(,)? }
    ) => {
        $(#[$fields_meta])*
        #[derive(Debug, Clone)]
        pub struct $fields {
            $(pub $field: $ty,)+
        }

        $(#[$changes_meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $changes {
            $(pub $field: Option<$ty>,)+
        }

        impl $crate::domain::kind::Changes for $changes {
            fn is_empty(&self) -> bool {
                true $(&& self.$field.is_none())+
            }
        }

        impl $changes {

            /// Writes the changed fields into `f`.
            pub fn apply_to(self, f: &mut $fields) {
                $(if let Some(v) = self.$field {
                    f.$field = v;
                })+
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
use zeroize::ZeroizeOnDrop;

use super::{Action, DomainError, ItemKind, ItemName};

pub use card::{Card, CardChanges, CardFields};
pub use identity::{Identity, IdentityChanges, IdentityFields};
pub use note::{NoteChanges, NoteFields, SecureNote};
pub use password::{Password, PasswordChanges, PasswordFields};
pub use totp::{Totp, TotpChanges, TotpFields};

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
    type Fields: Clone + std::fmt::Debug + Send + Sync;
    /// An edit of those fields.
    type Changes: Changes;
    /// The fields as sealed: plain strings, wiped when dropped.
    type Stored: Serialize + DeserializeOwned + ZeroizeOnDrop;

    fn id(raw: i64) -> Self::Id;
    fn name(fields: &Self::Fields) -> &ItemName;
    /// Rules that hold across fields.
    fn check(_fields: &Self::Fields) -> Result<(), DomainError> {
        Ok(())
    }
    fn apply(changes: Self::Changes, fields: &mut Self::Fields);
    fn stored(fields: &Self::Fields) -> Self::Stored;
    /// The fields back from what was sealed; an error means the stored
    /// value breaks a rule.
    fn fields(stored: &Self::Stored) -> Result<Self::Fields, DomainError>;
    fn action(op: Op) -> Action;
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
