//! The key hierarchy: Argon2id for passwords and key-encryption keys, AES-256-GCM
//! for wrapping data keys and sealing items, HMAC-SHA-256 for blind indexes.
//!
//! ```text
//! password ‖ PIN ──Argon2id(salt)──▶ KEK ──wraps──▶ DEK (random, per user)
//!                                                   ├─HMAC("seal")──▶ item key  (AES-256-GCM)
//!                                                   └─HMAC("index")─▶ index key (HMAC of names)
//! ```
//!
//! Every key lives in a zeroizing type and prints as a redaction.

mod aead;
mod audit;
mod kdf;
mod keyfile;
mod keys;
mod random;

pub use aead::{Aad, open, seal};
pub use audit::AuditKey;
pub use kdf::{HashPool, KdfParams, Pepper, Verified, kek_input};
pub use keyfile::create_once as create_key_file;
pub use keys::{DataKey, Kek, VaultKeys, WrappedKey};
pub use random::{random_bytes, random_id};

/// Owns a buffer behind a `Bytes` and wipes it when the last view is dropped.
struct Wiped(zeroize::Zeroizing<Vec<u8>>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `bytes` as a `Bytes` whose memory is wiped once the network stack is
/// done with it: for output that may hold a secret.
pub fn wiped_bytes(bytes: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from_owner(Wiped(zeroize::Zeroizing::new(bytes)))
}

/// What can go wrong in a cryptographic operation.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A ciphertext did not authenticate: wrong key, wrong binding, or tampering.
    #[error("ciphertext failed to authenticate")]
    Authentication,
    /// The bounded hashing pool is saturated; the caller should retry later.
    #[error("the server is busy; try again shortly")]
    Busy,
    /// A stored value has the wrong shape (truncated blob, bad PHC string).
    #[error("malformed stored value: {0}")]
    Malformed(&'static str),
    /// A failure of the primitive itself (should not happen).
    #[error("crypto failure: {0}")]
    Internal(String),
}
