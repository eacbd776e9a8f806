//! The server's persistent Ed25519 host key.

use std::path::Path;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, PrivateKey};

/// Loads the host key at `path`, generating it (mode 0600) on first start so
/// that clients see the same fingerprint after every restart.
pub fn load_or_create_host_key(path: &Path) -> Result<PrivateKey, String> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None)
            .map_err(|e| format!("cannot read host key {}: {e}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| format!("cannot generate host key: {e}"))?;
    key.write_openssh_file(path, LineEnding::LF)
        .map_err(|e| format!("cannot write host key {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), fingerprint = %key.public_key().fingerprint(Default::default()), "generated ssh host key");
    Ok(key)
}
