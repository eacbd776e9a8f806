//! The outcomes a service call can end in besides success.

use std::sync::Arc;

use crate::crypto::CryptoError;
use crate::domain::DomainError;
use crate::storage::StoreError;

/// Expected failures are typed so each front end can map them precisely;
/// everything else is `Unexpected`, logged with context and shown plainly.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that breaks a domain rule; the message names the field.
    #[error("{0}")]
    Invalid(#[from] DomainError),
    /// Wrong login or password; never says which.
    #[error("wrong login or password")]
    BadCredentials,
    /// A missing, unknown, expired or revoked API token.
    #[error("missing, invalid or expired token")]
    Unauthorized,
    /// The login and recovery key do not go together; never says which is
    /// wrong.
    #[error("wrong login or recovery key")]
    BadRecovery,
    /// An operator disabled the account. Said only once the password
    /// was right.
    #[error("this account is disabled; ask the server's operator")]
    Disabled,
    /// The PIN did not unlock the vault.
    #[error("wrong PIN")]
    WrongPin,
    /// The password and PIN asked again (to delete the account) do not
    /// open the vault; which was wrong is not told.
    #[error("wrong password or PIN")]
    WrongPasswordOrPin,
    /// The current password given to `passwd` was wrong.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// No such item (or not this user's).
    #[error("no {kind} named `{name}`")]
    NotFound { kind: &'static str, name: String },
    /// No item with that id for this user.
    #[error("not found")]
    NotFoundId,
    /// The name or login is taken.
    #[error("{0}")]
    Conflict(String),
    /// The item changed since it was read.
    #[error("the item was changed meanwhile; read it again and retry")]
    VersionMismatch,
    /// Not allowed here (registration closed, an invite missing or not
    /// valid); the text says why.
    #[error("{0}")]
    Forbidden(String),
    /// A per-user limit was reached.
    #[error("{0}")]
    LimitReached(String),
    /// Too many failed attempts for this login or address: locked for a while.
    #[error("too many failed attempts; try again in {retry_after} s")]
    Throttled { retry_after: u64 },
    /// Too many wrong PINs for this login: locked for a while. The password
    /// was not checked.
    #[error("too many failed attempts; try again in {retry_after} s")]
    PinLocked { retry_after: u64 },
    /// A stored item failed its integrity check: the database was altered
    /// (a ciphertext rolled back or moved, a name index swapped).
    #[error(
        "a stored item failed its integrity check: the database was altered; nothing was changed"
    )]
    Tampered { item: i64 },
    /// The server's disk is full: nothing was written.
    #[error(
        "the server's disk is full, so nothing was written; reading still works, and \
         changes will again once the operator frees some space"
    )]
    StorageFull,
    /// Too much work queued (Argon2 pool saturated).
    #[error("the server is busy; try again in a moment")]
    Busy,
    /// A remote server refused the request; the text is its explanation.
    #[error("{0}")]
    Rejected(String),
    /// A file to import that cannot be read at all; nothing was imported.
    #[error("{0}; nothing was imported")]
    BadFile(#[from] crate::interchange::FileError),
    /// Records of a file to import that break Keeper's rules; nothing was
    /// imported.
    #[error("{}", unimportable(.0))]
    Unimportable(Vec<crate::interchange::Problem>),
    /// Anything that is not the user's fault.
    #[error("internal error")]
    Unexpected(#[source] Internal),
}

/// The one line an import refused for its records says: how many, and
/// the first few with where they are and why.
fn unimportable(problems: &[crate::interchange::Problem]) -> String {
    const SHOWN: usize = 5;
    let mut line = match problems.len() {
        1 => "nothing was imported: 1 record breaks Keeper's rules: ".to_owned(),
        n => format!("nothing was imported: {n} records break Keeper's rules: "),
    };
    let listed: Vec<String> = problems
        .iter()
        .take(SHOWN)
        .map(|p| format!("{}: {}", p.at, p.reason))
        .collect();
    line.push_str(&listed.join("; "));
    if problems.len() > SHOWN {
        line.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    line
}

impl ServiceError {
    /// An unexpected failure of `what`, caused by `source`.
    pub fn unexpected(what: &str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unexpected(Internal::caused_by(what, source))
    }
}

/// What went wrong inside, for the log (never shown to users): what was
/// being done, and the error that caused it where there is one.
#[derive(Debug, Clone)]
pub struct Internal {
    what: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Internal {
    /// `what` failed because of `source`.
    pub fn caused_by(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            what: what.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The description and every cause after it, for the log.
    pub fn chain(&self) -> String {
        let mut text = self.what.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<String> for Internal {
    fn from(what: String) -> Self {
        Self { what, source: None }
    }
}

impl From<&str> for Internal {
    fn from(what: &str) -> Self {
        what.to_owned().into()
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionMismatch => Self::VersionMismatch,
            StoreError::NotFound => Self::NotFoundId,
            StoreError::Conflict => Self::Conflict("already exists".into()),
            StoreError::LimitReached => Self::LimitReached("the item limit is reached".into()),
            StoreError::Full => Self::StorageFull,
            StoreError::Disabled => Self::Disabled,
            e @ (StoreError::Damaged(_) | StoreError::Unexpected(_)) => {
                Self::Unexpected(Internal::caused_by("a database call failed", e))
            }
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Busy => Self::Busy,
            other => Self::Unexpected(Internal::caused_by("a cryptographic step failed", other)),
        }
    }
}

impl ServiceError {
    /// The detail to log for an unexpected error (never shown to users):
    /// what failed and each cause.
    pub fn internal_detail(&self) -> Option<String> {
        match self {
            Self::Unexpected(internal) => Some(internal.chain()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpected_storage_error_keeps_it_as_its_source() {
        let e = ServiceError::from(StoreError::Unexpected("disk I/O error".into()));

        let source = std::error::Error::source(&e).expect("the internal error");
        let cause = source.source().expect("the storage error");
        assert!(cause.to_string().contains("disk I/O error"), "{cause}");
        assert_eq!(e.to_string(), "internal error", "users see nothing more");
        let logged = e.internal_detail().expect("a detail to log");
        assert!(
            logged.starts_with("a database call failed: ") && logged.contains("disk I/O error"),
            "{logged}"
        );
    }
}
