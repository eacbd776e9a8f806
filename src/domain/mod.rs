//! Domain types for keeper.
//!
//! Every type here follows "parse, don't validate": fields are private and
//! the only way to obtain a value is through a constructor (usually `parse`)
//! that checks every rule and returns a [`DomainError`] otherwise. Code that
//! holds, say, a [`CardNumber`] can therefore rely on it being Luhn-valid
//! without checking again.
//!
//! Secret-carrying types ([`Password`], [`Pin`], [`CardNumber`], [`Cvv`],
//! [`Secret`]) keep their data in zeroizing storage, print a redaction in
//! `Debug`, implement neither `Display` nor `Serialize`, and hand out their
//! value only through an explicit `expose()` call.
//!
//! The other fields sealed at rest ([`ItemName`], [`Note`], [`Url`],
//! [`Username`], [`Holder`], [`Expiry`]) are shown to their owner, so they
//! can be read, but their `Debug` prints a redaction too: a stray `?fields`
//! in a log line must not reveal an item name.
//!
//! Error messages are shown to end users (terminal and HTTP) and never
//! contain the rejected secret value.

/// `Debug` for a type that holds a secret or a value sealed at rest: the
/// type's name and a redaction, never the value.
macro_rules! redacted_debug {
    ($($ty:ident),+ $(,)?) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($ty), "(***)"))
            }
        }
    )+};
}

pub mod account;
pub mod audit;
pub mod card;
pub mod extras;
pub mod history;
pub mod identity;
pub mod ids;
pub mod item;
pub mod kind;
mod text;
pub use text::{percent_decode, percent_encode};
pub mod totp;

pub use account::{InviteCode, Login, Password, Pin, RecoveryKey, password_forms};
pub use audit::{Action, AuditFilter, AuditRecord, Channel, Outcome};
pub use card::{Brand, CardNumber, Cvv, Expiry, Holder};
pub use extras::{CustomField, Extras, ExtrasChanges, FieldKey, Tag};
pub use history::{Change, History};
pub use identity::{Address, DocumentNumber, Email, FullName, Phone};
pub use ids::{CardId, IdentityId, ItemKind, NoteId, PasswordId, TotpId, UserId};
pub use item::{
    GenLength, ItemName, Note, NoteText, Secret, Url, Username, emoji_glue, invisible, search_form,
};
pub use kind::{
    Access, CardChanges, CardFields, IdentityChanges, IdentityFields, Kind, NoteChanges,
    NoteFields, Op, PasswordChanges, PasswordFields, TotpChanges, TotpFields,
};
pub use totp::TotpSeed;

/// Why a domain value could not be built from user input.
///
/// The `Display` form is `"{field}: {reason}"`, e.g.
/// `number: fails the Luhn check`, and is meant to be shown to end users.
/// Reasons never contain the rejected value of a secret field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value broke one of its rules.
    #[error("{field}: {reason}")]
    Invalid {
        /// Name of the offending field, e.g. `"pin"` or `"number"`.
        field: &'static str,
        /// Short, human-readable explanation; never contains a secret.
        reason: String,
    },
}

impl DomainError {
    /// Builds an [`DomainError::Invalid`] for `field` with the given reason.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Name of the field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
        }
    }

    /// The human-readable reason, without the field prefix.
    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { reason, .. } => reason,
        }
    }
}

/// The current time at the precision the database keeps (microseconds), so
/// that what a call returns equals what a later read returns.
pub fn now() -> time::OffsetDateTime {
    let t = time::OffsetDateTime::now_utc();
    t.replace_microsecond(t.microsecond()).unwrap_or(t)
}

/// Assertions the domain's tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::fmt::Debug;

    use super::DomainError;

    /// `r` is an error whose text is `message`.
    #[track_caller]
    pub fn rejected<T>(r: Result<T, DomainError>, message: &str) {
        match r {
            Ok(_) => panic!("accepted; expected `{message}`"),
            Err(e) => assert_eq!(e.to_string(), message),
        }
    }

    /// `parse` accepts each `(input, kept)`, keeping the text `kept`.
    #[track_caller]
    pub fn keeps(parse: impl Fn(&str) -> Result<String, DomainError>, cases: &[(&str, &str)]) {
        for (input, kept) in cases {
            assert_eq!(parse(input).as_deref(), Ok(*kept), "input {input:?}");
        }
    }

    /// `parse` refuses each of `inputs` with the error `message`.
    #[track_caller]
    pub fn refuses(
        parse: impl Fn(&str) -> Result<String, DomainError>,
        message: &str,
        inputs: &[&str],
    ) {
        for input in inputs {
            match parse(input) {
                Ok(kept) => panic!("{input:?} accepted as {kept:?}; expected `{message}`"),
                Err(e) => assert_eq!(e.to_string(), message, "input {input:?}"),
            }
        }
    }

    /// `parse` keeps `longest` characters `c` and refuses one more with
    /// `field`'s error: lengths count characters, not bytes.
    #[track_caller]
    pub fn longest(
        parse: impl Fn(&str) -> Result<String, DomainError>,
        field: &str,
        c: char,
        longest: usize,
    ) {
        let text = c.to_string().repeat(longest);
        keeps(&parse, &[(&text, &text)]);
        let message = format!("{field}: must be at most {longest} characters");
        refuses(&parse, &message, &[&format!("{text}{c}")]);
    }

    /// `value` debugs as `shown`, which does not hold `secret`.
    #[track_caller]
    pub fn redacted(value: impl Debug, shown: &str, secret: &str) {
        let dbg = format!("{value:?}");
        assert_eq!(dbg, shown);
        assert!(!dbg.contains(secret), "{dbg}");
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn invalid_error_displays_field_then_reason() {
        let err = DomainError::invalid("number", "fails the Luhn check");
        assert_eq!(err.to_string(), "number: fails the Luhn check");
    }

    #[test]
    fn field_and_reason_accessors_return_the_parts() {
        let err = DomainError::invalid("pin", "must be 4 to 12 digits");
        assert_eq!(err.field(), "pin");
        assert_eq!(err.reason(), "must be 4 to 12 digits");
    }

    proptest! {
        #[test]
        fn no_parser_panics_on_any_input(s in any::<String>()) {
            let alice = Login::parse("alice").expect("valid login");
            let _ = Login::parse(&s);
            let _ = Password::parse(&s, &alice);
            let _ = Pin::parse(&s);
            let _ = ItemName::parse(&s).map(|n| n.normalized());
            let _ = Note::parse(&s);
            let _ = NoteText::parse(&s);
            let _ = Url::parse(&s);
            let _ = Username::parse(&s);
            let _ = Secret::parse(&s);
            let _ = GenLength::parse(&s);
            let _ = CardNumber::parse(&s);
            let _ = Expiry::parse(&s);
            let _ = Cvv::parse(&s);
            let _ = Holder::parse(&s);
            let _ = Brand::detect(&s);
        }
    }
}
