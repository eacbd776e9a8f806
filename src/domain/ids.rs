//! Typed database identifiers and the kind of a vault item.
//!
//! Wrapping raw `i64` row ids in distinct types keeps a card id from being
//! passed where a user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw database id.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }
    };
}

typed_id!(
    /// Identifies a keeper account.
    UserId
);
typed_id!(
    /// Identifies a stored card.
    CardId
);
typed_id!(
    /// Identifies a stored password item.
    PasswordId
);
typed_id!(
    /// Identifies a stored secure note.
    NoteId
);
typed_id!(
    /// Identifies a stored one-time password seed.
    TotpId
);
typed_id!(
    /// Identifies a stored identity.
    IdentityId
);

/// The kind of a vault item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A bank card.
    Card,
    /// A service password.
    Password,
    /// A secure note.
    Note,
    /// A one-time password seed.
    Totp,
    /// An identity: a person's name, contacts and a document number.
    Identity,
}

impl ItemKind {
    /// Every kind, in the order lists and searches show them.
    pub const ALL: &'static [ItemKind] = &[
        Self::Card,
        Self::Password,
        Self::Note,
        Self::Totp,
        Self::Identity,
    ];

    /// `"card"`, `"password"`, `"note"`, `"totp"` or `"identity"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::Password => "password",
            Self::Note => "note",
            Self::Totp => "totp",
            Self::Identity => "identity",
        }
    }

    /// Parses a kind's name (case-insensitive, trimmed).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        Self::ALL
            .iter()
            .find(|k| trimmed.eq_ignore_ascii_case(k.as_str()))
            .copied()
            .ok_or_else(|| {
                DomainError::invalid(
                    "kind",
                    "must be `card`, `password`, `note`, `totp` or `identity`",
                )
            })
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_new_and_get() {
        assert_eq!(UserId::new(42).get(), 42);
        assert_eq!(CardId::new(-1).get(), -1);
        assert_eq!(PasswordId::new(i64::MAX).get(), i64::MAX);
    }

    #[test]
    fn ids_display_as_plain_numbers() {
        assert_eq!(UserId::new(7).to_string(), "7");
        assert_eq!(CardId::new(8).to_string(), "8");
        assert_eq!(PasswordId::new(9).to_string(), "9");
    }

    #[test]
    fn ids_order_by_their_number() {
        assert!(CardId::new(1) < CardId::new(2));
    }

    #[test]
    fn ids_serialize_transparently() {
        assert_eq!(
            serde_json::to_string(&UserId::new(5)).expect("serialize"),
            "5"
        );
        let id: PasswordId = serde_json::from_str("12").expect("deserialize");
        assert_eq!(id, PasswordId::new(12));
    }

    #[test]
    fn item_kind_names_are_card_password_and_note() {
        assert_eq!(ItemKind::Card.as_str(), "card");
        assert_eq!(ItemKind::Password.to_string(), "password");
        assert_eq!(ItemKind::Note.to_string(), "note");
        assert_eq!(
            serde_json::to_string(&ItemKind::Card).expect("serialize"),
            "\"card\""
        );
    }

    #[test]
    fn item_kind_parses_its_own_names() {
        assert_eq!(ItemKind::parse(" Card "), Ok(ItemKind::Card));
        assert_eq!(ItemKind::parse("password"), Ok(ItemKind::Password));
        for kind in ItemKind::ALL {
            assert_eq!(ItemKind::parse(kind.as_str()), Ok(*kind));
        }
        assert_eq!(
            ItemKind::parse("diary").map_err(|e| e.to_string()),
            Err("kind: must be `card`, `password`, `note`, `totp` or `identity`".to_owned())
        );
    }
}
