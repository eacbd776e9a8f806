//! Room to keep reading when the disk under an SQLite database fills up.
//!
//! A reserve file of [`RESERVE_BYTES`] sits next to the database. While the
//! disk has room, it is simply there. When a write fails because the disk
//! is full, the store gives the reserve up: the space it frees, and a WAL
//! checkpoint, let the small writes that reads and logins make (their audit
//! records, tokens) go on, while changes that users ask for (items,
//! accounts, credentials) are refused with a clear error before they touch
//! the database. Each refused change first tries to write the reserve back;
//! once that succeeds the disk has room again and changes are accepted,
//! without a restart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::StoreError;

/// What the reserve holds back: about two hundred logins' or reads' worth
/// of audit records between two checkpoints.
pub(super) const RESERVE_BYTES: usize = 256 * 1024;

/// How often a refused change tries to write the reserve back.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// The disk-space state of one SQLite database.
#[derive(Debug)]
pub(super) struct Space {
    reserve: PathBuf,
    full: AtomicBool,
    last_try: Mutex<Option<Instant>>,
}

impl Space {
    /// The reserve of the database file `db`, written now if it can be; a
    /// disk already full at start leaves the store refusing changes.
    pub(super) fn next_to(db: &Path) -> Self {
        let mut name = db.as_os_str().to_owned();
        name.push(".reserve");
        let space = Self {
            reserve: PathBuf::from(name),
            full: AtomicBool::new(false),
            last_try: Mutex::new(None),
        };
        if let Err(e) = space.write_reserve() {
            tracing::warn!(error = %e, "the disk is full: changes are refused until there is room");
            space.full.store(true, Ordering::Release);
        }
        space
    }

    /// Lets a change through, or refuses it while the disk is full (and
    /// the reserve cannot be written back yet).
    pub(super) fn admit(&self) -> Result<(), StoreError> {
        if !self.full.load(Ordering::Acquire) {
            return Ok(());
        }
        {
            let mut last = self
                .last_try
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < RETRY_EVERY) {
                return Err(StoreError::Full);
            }
            *last = Some(Instant::now());
        }
        // Room for the reserve and as much again: a disk that has only just
        // enough is as good as full, and changes would fill it at once.
        if free_bytes(&self.reserve).is_some_and(|free| free < 2 * RESERVE_BYTES as u64) {
            return Err(StoreError::Full);
        }
        match self.write_reserve() {
            Ok(()) => {
                if self.full.swap(false, Ordering::AcqRel) {
                    tracing::info!("the disk has room again: changes are accepted");
                }
                Ok(())
            }
            Err(_) => Err(StoreError::Full),
        }
    }

    /// Gives the reserve up after a write found the disk full. Returns
    /// whether this is news (the caller then checkpoints the WAL).
    pub(super) fn filled(&self) -> bool {
        let _ = std::fs::remove_file(&self.reserve);
        let news = !self.full.swap(true, Ordering::AcqRel);
        if news {
            tracing::error!(
                "the disk under the database is full: changes are refused, reads and logins \
                 go on; free some space and changes are accepted again"
            );
        }
        news
    }

    pub(super) fn is_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }

    /// Writes the reserve in full, synced, or removes what part of it was
    /// written.
    fn write_reserve(&self) -> std::io::Result<()> {
        if std::fs::metadata(&self.reserve).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64) {
            return Ok(());
        }
        let written = std::fs::File::create(&self.reserve).and_then(|mut file| {
            file.write_all(&[0; RESERVE_BYTES])?;
            file.sync_all()
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&self.reserve);
        }
        written
    }
}

/// The bytes an unprivileged writer may still use on the filesystem that
/// holds `file`, if the system says.
fn free_bytes(file: &Path) -> Option<u64> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let stats = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(
        stats
            .blocks_available()
            .saturating_mul(stats.fragment_size()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_refuses_changes_until_the_reserve_fits_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let space = Space::next_to(&dir.path().join("keeper.db"));
        let reserve = dir.path().join("keeper.db.reserve");
        assert_eq!(
            std::fs::metadata(&reserve).expect("reserve").len(),
            RESERVE_BYTES as u64
        );
        assert!(space.admit().is_ok());

        assert!(space.filled());
        assert!(!reserve.exists(), "the reserve is given up");
        assert!(!space.filled(), "only the first fill is news");
        // Room again (a temporary directory always has 256 KiB): the first
        // change after the pause writes the reserve back and goes through.
        std::thread::sleep(RETRY_EVERY);
        assert!(space.admit().is_ok());
        assert!(!space.is_full() && reserve.exists());
    }
}
