//! AES-256-GCM sealing with a random 96-bit nonce and explicit associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::{CryptoError, random_bytes};
use crate::domain::ItemKind;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Room for an item's binding with four 20-digit numbers and the longest kind.
const AAD_CAPACITY: usize = 128;

/// Associated data: what a ciphertext is bound to. Opening it under any other
/// binding fails, so a ciphertext copied to another row or user is useless.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(String);

impl Aad {
    /// Binding for a user's wrapped data key.
    pub fn user_key(user: i64) -> Self {
        Self(format!("keeper/v1/dek/user={user}"))
    }

    /// Binding for a user's data key wrapped under their recovery key.
    pub fn recovery_key(user: i64) -> Self {
        Self(format!("keeper/v1/dek/user={user}/recovery"))
    }

    /// Binding for a data key wrapped under an access token.
    pub fn token_key(user: i64, token_id: i64) -> Self {
        Self(format!("keeper/v1/dek/user={user}/token={token_id}"))
    }

    /// Binding for a sealed item, as format 1 made it (no version).
    pub fn item_v1(user: i64, kind: ItemKind, row: i64) -> Self {
        Self(format!("keeper/v1/item/user={user}/kind={kind}/row={row}"))
    }

    /// Binding for a sealed item: its owner, kind, row and version, so an
    /// older ciphertext put back into a newer row does not open.
    pub fn item(user: i64, kind: ItemKind, row: i64, version: i64) -> Self {
        use std::fmt::Write;
        // Sized once for the longest binding: a listing makes one per item,
        // and `format!` grew its string three times.
        let mut aad = String::with_capacity(AAD_CAPACITY);
        let _ = write!(
            aad,
            "keeper/v2/item/user={user}/kind={kind}/row={row}/version={version}"
        );
        Self(aad)
    }
}

/// Encrypts `plain` under `key`; the output is `nonce ‖ ciphertext ‖ tag`.
pub fn seal(key: &[u8; 32], plain: &[u8], aad: &Aad) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new(key.into());
    let nonce_bytes: [u8; NONCE_LEN] = random_bytes();
    let nonce = Nonce::from(nonce_bytes);
    let body = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: aad.0.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Internal("AES-GCM encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + body.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts and authenticates a value made by [`seal`] with the same key and binding.
pub fn open(key: &[u8; 32], sealed: &[u8], aad: &Aad) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Malformed("sealed value too short"));
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let nonce_bytes: [u8; NONCE_LEN] = nonce_bytes
        .try_into()
        .map_err(|_| CryptoError::Malformed("nonce"))?;
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: body,
                aad: aad.0.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_items_binding_is_the_text_items_were_always_sealed_under() {
        for (user, row, version) in [(1, 2, 3), (i64::MIN, i64::MAX, i64::MIN), (0, -1, 1)] {
            for kind in ItemKind::ALL.iter().copied() {
                assert_eq!(
                    Aad::item(user, kind, row, version).0,
                    format!("keeper/v2/item/user={user}/kind={kind}/row={row}/version={version}")
                );
            }
        }
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let key = [3u8; 32];
        let aad = Aad::user_key(1);
        let a = seal(&key, b"same", &aad).expect("seal");
        let b = seal(&key, b"same", &aad).expect("seal");
        assert_ne!(a, b);
        assert_eq!(open(&key, &a, &aad).expect("open"), b"same");
    }

    #[test]
    fn a_flipped_bit_fails_to_open() {
        let key = [3u8; 32];
        let aad = Aad::user_key(1);
        let mut sealed = seal(&key, b"secret", &aad).expect("seal");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(
            open(&key, &sealed, &aad),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn a_truncated_value_is_reported_as_malformed() {
        assert!(matches!(
            open(&[0; 32], &[1, 2, 3], &Aad::user_key(1)),
            Err(CryptoError::Malformed(_))
        ));
    }
}
