//! The outcomes a service call can end in besides success.

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
    /// The PIN did not unlock the vault.
    #[error("wrong PIN")]
    WrongPin,
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
    /// Anything that is not the user's fault.
    #[error("internal error")]
    Unexpected(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionMismatch => Self::VersionMismatch,
            StoreError::NotFound => Self::NotFoundId,
            StoreError::Conflict => Self::Conflict("already exists".into()),
            StoreError::LimitReached => Self::LimitReached("the item limit is reached".into()),
            StoreError::Full => Self::StorageFull,
            e @ StoreError::Damaged(_) => Self::Unexpected(e.to_string()),
            StoreError::Unexpected(m) => Self::Unexpected(m),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Busy => Self::Busy,
            other => Self::Unexpected(other.to_string()),
        }
    }
}

impl ServiceError {
    /// The detail to log for an unexpected error (never shown to users).
    pub fn internal_detail(&self) -> Option<&str> {
        match self {
            Self::Unexpected(m) => Some(m),
            _ => None,
        }
    }
}
