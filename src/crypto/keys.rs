//! Key types: data keys, key-encryption keys and the keys derived for a vault.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::aead::{Aad, open, seal};
use super::{CryptoError, random_bytes};
use crate::domain::ItemKind;

/// A user's random 256-bit data key (DEK). It never leaves memory unwrapped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

/// A key-encryption key derived from the user's password and PIN, or from a token.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Kek(pub(super) [u8; 32]);

/// A data key sealed under a KEK: `nonce ‖ ciphertext ‖ tag`.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey(pub Vec<u8>);

impl From<Vec<u8>> for WrappedKey {
    fn from(sealed: Vec<u8>) -> Self {
        Self(sealed)
    }
}

/// The keys an unlocked session works with, derived from the DEK.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VaultKeys {
    dek: DataKey,
    seal: [u8; 32],
    index: [u8; 32],
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "(***)"))
            }
        }
    )*};
}
redacted_debug!(DataKey, Kek, VaultKeys);

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappedKey({} bytes)", self.0.len())
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in parts {
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// Seals this key under `kek`, bound to `binding` (e.g. the user id).
    pub fn wrap(&self, kek: &Kek, binding: &Aad) -> Result<WrappedKey, CryptoError> {
        Ok(WrappedKey(seal(&kek.0, &self.0, binding)?))
    }

    /// Opens a wrapped key. A wrong KEK (wrong password or PIN) fails here.
    pub fn unwrap(kek: &Kek, wrapped: &WrappedKey, binding: &Aad) -> Result<Self, CryptoError> {
        let plain = Zeroizing::new(open(&kek.0, &wrapped.0, binding)?);
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed("data key length"))?;
        Ok(Self(bytes))
    }

    /// The sub-keys for sealing items and indexing names.
    pub fn vault_keys(&self) -> VaultKeys {
        VaultKeys {
            seal: hmac(&self.0, &[b"keeper/v1/seal"]),
            index: hmac(&self.0, &[b"keeper/v1/index"]),
            dek: self.clone(),
        }
    }
}

impl Kek {
    /// Wraps raw key material (from Argon2 or a token derivation).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key a recovery key wraps the data key under. 200 random bits
    /// need no stretching: an HMAC derives it.
    pub fn from_recovery_key(key: &crate::domain::RecoveryKey) -> Self {
        Self(hmac(key.expose(), &[b"keeper/v1/recovery-kek"]))
    }
}

/// The first bytes of an item sealed in format 2.
const ITEM_V2: &[u8] = b"\0KI2";

impl VaultKeys {
    /// The data key these were derived from (needed to re-wrap it).
    pub fn data_key(&self) -> &DataKey {
        &self.dek
    }

    /// Seals an item's plaintext, bound to its owner, kind, row and
    /// version (format 2: `ITEM_V2 ‖ nonce ‖ ciphertext ‖ tag`).
    pub fn seal_item(
        &self,
        user: i64,
        kind: ItemKind,
        row: i64,
        version: i64,
        plain: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let body = seal(&self.seal, plain, &Aad::item(user, kind, row, version))?;
        let mut out = Vec::with_capacity(ITEM_V2.len() + body.len());
        out.extend_from_slice(ITEM_V2);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens an item sealed for the same owner, kind, row and version.
    /// Items sealed in format 1 (bound to the row, not the version) still
    /// open; they are sealed again in format 2 when next written.
    pub fn open_item(
        &self,
        user: i64,
        kind: ItemKind,
        row: i64,
        version: i64,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if let Some(body) = sealed.strip_prefix(ITEM_V2) {
            match open(&self.seal, body, &Aad::item(user, kind, row, version)) {
                Ok(plain) => return Ok(Zeroizing::new(plain)),
                // A format-1 nonce may begin with the marker by chance.
                Err(CryptoError::Authentication | CryptoError::Malformed(_)) => {}
                Err(e) => return Err(e),
            }
        }
        open(&self.seal, sealed, &Aad::item_v1(user, kind, row))
            .map(Zeroizing::new)
            .map_err(|e| match e {
                CryptoError::Malformed(_) => CryptoError::Authentication,
                e => e,
            })
    }

    /// The keyed blind index of a normalised item name: equal names give equal
    /// indexes for this user and kind, and nothing else can be learned from it.
    pub fn name_index(&self, kind: ItemKind, normalized_name: &str) -> Vec<u8> {
        hmac(
            &self.index,
            &[kind.as_str().as_bytes(), normalized_name.as_bytes()],
        )
        .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(b: u8) -> Kek {
        Kek([b; 32])
    }

    #[test]
    fn a_wrapped_key_opens_with_the_same_kek_and_binding() {
        let dek = DataKey::generate();
        let wrapped = dek.wrap(&kek(1), &Aad::user_key(7)).expect("wrap");
        let back = DataKey::unwrap(&kek(1), &wrapped, &Aad::user_key(7)).expect("unwrap");
        assert_eq!(back.0, dek.0);
    }

    #[test]
    fn a_wrong_kek_fails_to_unwrap() {
        let wrapped = DataKey::generate()
            .wrap(&kek(1), &Aad::user_key(7))
            .expect("wrap");
        assert!(matches!(
            DataKey::unwrap(&kek(2), &wrapped, &Aad::user_key(7)),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn a_wrapped_key_moved_to_another_user_fails_to_unwrap() {
        let wrapped = DataKey::generate()
            .wrap(&kek(1), &Aad::user_key(7))
            .expect("wrap");
        assert!(DataKey::unwrap(&kek(1), &wrapped, &Aad::user_key(8)).is_err());
    }

    #[test]
    fn an_item_moved_to_another_row_user_kind_or_version_fails_to_open() {
        let keys = DataKey::generate().vault_keys();
        let sealed = keys
            .seal_item(1, ItemKind::Card, 10, 3, b"4111111111111111")
            .expect("seal");
        let opened = keys
            .open_item(1, ItemKind::Card, 10, 3, &sealed)
            .expect("open");
        assert_eq!(opened.as_slice(), b"4111111111111111");
        for (user, kind, row, version, moved) in [
            (1, ItemKind::Card, 11, 3, "to another row"),
            (2, ItemKind::Card, 10, 3, "to another user"),
            (1, ItemKind::Password, 10, 3, "to another kind"),
            (1, ItemKind::Card, 10, 4, "an older version put back"),
        ] {
            let reopened = keys.open_item(user, kind, row, version, &sealed);
            assert!(reopened.is_err(), "{moved}");
        }
    }

    #[test]
    fn an_item_sealed_in_format_one_still_opens_at_any_version() {
        let keys = DataKey::generate().vault_keys();
        let aad = Aad::item_v1(1, ItemKind::Password, 3);
        let old = crate::crypto::seal(&keys.seal, b"hunter2", &aad).expect("seal");
        let opened = keys.open_item(1, ItemKind::Password, 3, 7, &old);
        assert_eq!(opened.expect("open").as_slice(), b"hunter2");
        assert!(keys.open_item(1, ItemKind::Password, 4, 7, &old).is_err());
    }

    #[test]
    fn another_users_keys_cannot_open_an_item() {
        let alice = DataKey::generate().vault_keys();
        let mallory = DataKey::generate().vault_keys();
        let sealed = alice
            .seal_item(1, ItemKind::Password, 3, 1, b"hunter2")
            .expect("seal");
        assert!(
            mallory
                .open_item(1, ItemKind::Password, 3, 1, &sealed)
                .is_err()
        );
    }

    #[test]
    fn name_indexes_match_for_equal_names_and_differ_across_kinds_and_users() {
        let keys = DataKey::generate().vault_keys();
        let other = DataKey::generate().vault_keys();
        let a = keys.name_index(ItemKind::Card, "visa");
        assert_eq!(a, keys.name_index(ItemKind::Card, "visa"));
        assert_ne!(a, keys.name_index(ItemKind::Password, "visa"));
        assert_ne!(a, keys.name_index(ItemKind::Card, "visa2"));
        assert_ne!(a, other.name_index(ItemKind::Card, "visa"));
    }

    #[test]
    fn debug_output_of_keys_is_redacted() {
        let dek = DataKey::generate();
        let text = format!("{dek:?} {:?} {:?}", dek.vault_keys(), kek(9));
        assert!(!text.contains("9, 9"));
        assert!(text.contains("***"));
    }
}
