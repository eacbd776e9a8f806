//! A one-time password seed (RFC 6238): a name and the seed, whose secret
//! is sealed like every other.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Kind, Op};
use crate::domain::extras::StoredExtras;
use crate::domain::totp::Algorithm;
use crate::domain::{Action, DomainError, ItemKind, ItemName, TotpId, TotpSeed};

/// The one-time password kind (`totp` in the shell).
#[derive(Debug)]
pub enum Totp {}

fields_and_changes! {
    /// What a one-time password item is made of.
    TotpFields,
    /// An edit of one, like [`CardChanges`](super::CardChanges).
    TotpChanges {
        name: ItemName,
        seed: TotpSeed,
    }
}

/// A one-time password item as sealed in its row, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredTotp {
    name: String,
    #[serde(flatten)]
    seed: StoredSeed,
    /// Items sealed before tags and custom fields have none.
    #[serde(default, skip_serializing_if = "StoredExtras::is_empty")]
    extras: StoredExtras,
}

/// A seed as sealed (in its own item, or in a password entry): plain
/// strings and numbers, wiped when dropped.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct StoredSeed {
    /// Base32.
    secret: String,
    algorithm: String,
    digits: u8,
    period: u32,
    issuer: Option<String>,
    account: Option<String>,
}

impl StoredSeed {
    pub fn of(seed: &TotpSeed) -> Self {
        Self {
            secret: seed.expose_secret().as_str().to_owned(),
            algorithm: seed.algorithm().as_str().to_owned(),
            digits: seed.digits(),
            period: seed.period(),
            issuer: seed.issuer().map(str::to_owned),
            account: seed.account().map(str::to_owned),
        }
    }

    /// The seed back; an error means the sealed value breaks a rule.
    pub fn seed(&self) -> Result<TotpSeed, DomainError> {
        TotpSeed::new(
            &self.secret,
            Algorithm::parse(&self.algorithm)?,
            self.digits,
            self.period,
            self.issuer.as_deref(),
            self.account.as_deref(),
        )
    }
}

impl Kind for Totp {
    const KIND: ItemKind = ItemKind::Totp;
    type Id = TotpId;
    type Fields = TotpFields;
    type Changes = TotpChanges;
    type Stored = StoredTotp;
    const FIELDS: &'static [&'static str] = &[
        "name",
        "code",
        "issuer",
        "account",
        "algorithm",
        "digits",
        "period",
        "secret",
        "uri",
    ];

    fn id(raw: i64) -> TotpId {
        TotpId::new(raw)
    }

    fn name(f: &TotpFields) -> &ItemName {
        &f.name
    }

    fn apply(changes: TotpChanges, f: &mut TotpFields) -> Result<(), DomainError> {
        changes.apply_to(f)
    }

    fn stored(f: &TotpFields) -> StoredTotp {
        StoredTotp {
            name: f.name.as_str().to_owned(),
            seed: StoredSeed::of(&f.seed),
            extras: StoredExtras::of(&f.extras),
        }
    }

    fn fields(s: &StoredTotp) -> Result<TotpFields, DomainError> {
        Ok(TotpFields {
            name: ItemName::named(&s.name)?,
            seed: s.seed.seed()?,
            extras: s.extras.open()?,
        })
    }

    fn searchable(f: &TotpFields) -> Vec<&str> {
        let mut found = vec![f.name.as_str()];
        found.extend(f.seed.issuer());
        found.extend(f.seed.account());
        found
    }

    fn own_secrets(f: &TotpFields) -> Vec<(&'static str, Zeroizing<String>)> {
        vec![("secret", f.seed.expose_secret())]
    }

    fn action(op: Op) -> Action {
        match op {
            Op::Create => Action::TotpCreate,
            Op::View => Action::TotpView,
            Op::Reveal => Action::TotpReveal,
            Op::Copy => Action::TotpCopy,
            Op::Update => Action::TotpUpdate,
            Op::Delete => Action::TotpDelete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_a_seed_survives_sealing() {
        let seed = TotpSeed::new(
            "JBSWY3DPEHPK3PXP",
            Algorithm::Sha512,
            8,
            60,
            Some("Example: Co"),
            Some("alice@example.com"),
        )
        .expect("seed");
        let fields = TotpFields {
            name: ItemName::parse("example").expect("name"),
            seed: seed.clone(),
            extras: Default::default(),
        };
        let back = Totp::fields(&Totp::stored(&fields)).expect("fields");
        assert_eq!(back.seed, seed);
        assert_eq!(back.seed.code_at(59), seed.code_at(59));
    }

    #[test]
    fn a_seed_without_issuer_or_account_survives_sealing() {
        let seed =
            TotpSeed::new("JBSWY3DPEHPK3PXP", Algorithm::Sha1, 6, 30, None, None).expect("seed");
        let fields = TotpFields {
            name: ItemName::parse("bare").expect("name"),
            seed: seed.clone(),
            extras: Default::default(),
        };
        assert_eq!(
            Totp::fields(&Totp::stored(&fields)).expect("fields").seed,
            seed
        );
    }
}
