//! The server's audit key: an HMAC key that chains audit records so that a
//! changed, inserted or deleted record is detected (`keeper audit verify`).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::random_bytes;

/// The HMAC-SHA-256 key of the audit chain. Kept in a file beside the host
/// key (mode 0600), never in the database it protects.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

impl AuditKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// Loads the key at `path`, creating it (mode 0600) on first start. A new
    /// key is linked into place only if no other server created one first.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::load(path);
        }
        let key = Self::generate();
        let text = Zeroizing::new(format!("{}\n", STANDARD.encode(key.0)));
        if super::keyfile::create_once(path, text.as_bytes(), "audit key")? {
            Ok(key)
        } else {
            Self::load(path)
        }
    }

    /// Loads an existing key (operators' commands never create one).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read audit key {}: {e}", path.display()))?,
        );
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| anyhow::anyhow!("audit key {} is not base64", path.display()))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("audit key {} must hold 32 bytes", path.display()))?;
        Ok(Self(key))
    }

    /// A key for another purpose of this server (`label` names it),
    /// derived so that one file under `keys/` holds every server secret.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"keeper/v1/derive\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The MAC of one record: over the previous record's MAC in the same
    /// chain and the record's fields, each length-prefixed.
    pub fn mac(&self, prev_mac: &[u8], fields: &[&[u8]]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"keeper/v1/audit");
        for part in std::iter::once(prev_mac).chain(fields.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_depends_on_every_field_the_previous_mac_and_the_key() {
        let key = AuditKey([1; 32]);
        let base = key.mac(b"prev", &[b"a", b"b"]);
        assert_eq!(base, key.mac(b"prev", &[b"a", b"b"]));
        assert_ne!(base, key.mac(b"prev", &[b"a", b"c"]));
        assert_ne!(base, key.mac(b"other", &[b"a", b"b"]));
        assert_ne!(base, key.mac(b"prev", &[b"ab", b""]));
        assert_ne!(base, AuditKey([2; 32]).mac(b"prev", &[b"a", b"b"]));
    }

    #[test]
    fn a_created_key_is_private_and_loads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/audit_key");
        let first = AuditKey::load_or_create(&path).expect("create");
        let again = AuditKey::load_or_create(&path).expect("load");
        assert_eq!(first.0, again.0);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(format!("{first:?}"), "AuditKey(***)");
    }
}
