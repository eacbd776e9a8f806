//! Audit checkpoints on disk: `keeper audit checkpoint` writes one for an
//! operator to keep elsewhere, and every server keeps its latest beside the
//! audit key (`keys/audit_checkpoint`), so that a database rolled back to an
//! older copy is caught: the log in it no longer extends the checkpoint.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::service::Services;
use crate::storage::Checkpoint;

/// How often a server writes its checkpoint while the log grows.
const EVERY: Duration = Duration::from_secs(30);

/// Where a server keeps its checkpoint: beside the audit key.
pub fn kept_path(audit_key: &Path) -> PathBuf {
    audit_key.with_file_name("audit_checkpoint")
}

/// Reads a checkpoint file; `None` if there is none.
pub fn read(path: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{} is not an audit checkpoint: {e}", path.display()))
}

/// Writes `checkpoint` to `path` (mode 0600) through a temporary file, so a
/// reader never sees half of one.
pub fn write(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(checkpoint)
        .map_err(|e| anyhow::anyhow!("cannot encode the checkpoint: {e}"))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}

/// Refuses a database whose log does not extend the checkpoint at `path`.
pub async fn check(services: &Services, path: &Path) -> anyhow::Result<()> {
    let Some(kept) = read(path)? else {
        return Ok(());
    };
    match services
        .audit_extends(&kept)
        .await
        .map_err(|e| anyhow::anyhow!("cannot check the audit checkpoint: {e}"))?
    {
        None => Ok(()),
        Some(problem) => Err(anyhow::anyhow!(
            "the database's audit log does not extend the checkpoint {} made at {}: {problem}. \
             The database was rolled back to an older copy, restored from a backup, or altered. \
             If you restored a backup on purpose, move the checkpoint aside and start again; \
             `keeper audit verify --since FILE` with the moved file tells what is missing",
            path.display(),
            kept.created_at
        )),
    }
}

/// Writes the server's checkpoint now, then every [`EVERY`] while the log
/// changes, and once more when `shutdown` fires.
pub async fn keep(services: Services, path: PathBuf, shutdown: CancellationToken) {
    let mut last: Option<Checkpoint> = None;
    loop {
        let stopping = shutdown.is_cancelled();
        match services.audit_checkpoint().await {
            Ok(checkpoint) if last.as_ref().is_none_or(|l| l.chains != checkpoint.chains) => {
                match write(&path, &checkpoint) {
                    Ok(()) => last = Some(checkpoint),
                    Err(e) => tracing::error!(error = %e, "audit checkpoint not written"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "audit checkpoint not made"),
        }
        if stopping {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = shutdown.cancelled() => {}
        }
    }
}
