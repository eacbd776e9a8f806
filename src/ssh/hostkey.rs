//! The server's persistent Ed25519 host key.

use std::path::Path;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, PrivateKey};

/// Loads the host key at `path`, generating it (mode 0600) on first start so
/// that clients see the same fingerprint after every restart.
///
/// A new key is written to a private temporary file and then linked into
/// place, which fails if another server got there first; then that server's
/// key is used. Two servers starting at once on one directory thus agree.
pub fn load_or_create_host_key(path: &Path) -> anyhow::Result<PrivateKey> {
    if path.exists() {
        return load(path);
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| anyhow::anyhow!("cannot generate host key: {e}"))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode host key: {e}"))?;
    if !crate::crypto::create_key_file(path, text.as_bytes(), "host key")? {
        return load(path);
    }
    tracing::info!(
        path = %path.display(),
        fingerprint = %key.public_key().fingerprint(Default::default()),
        "generated ssh host key"
    );
    Ok(key)
}

fn load(path: &Path) -> anyhow::Result<PrivateKey> {
    russh::keys::load_secret_key(path, None)
        .map_err(|e| anyhow::anyhow!("cannot read host key {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_generated_key_is_private_and_loaded_again_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/host");
        let first = load_or_create_host_key(&path).expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_create_host_key(&path).expect("load");
        assert_eq!(first.public_key(), second.public_key());
        assert_eq!(
            std::fs::read_dir(path.parent().expect("dir"))
                .expect("ls")
                .count(),
            1
        );
    }

    #[test]
    fn an_unreadable_key_is_a_clear_error() {
        let garbage = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(garbage.path(), "not a key").expect("write");
        let err = load_or_create_host_key(garbage.path()).expect_err("garbage key");
        assert!(
            format!("{err:#}").contains("cannot read host key"),
            "{err:#}"
        );
    }
}
