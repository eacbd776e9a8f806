//! Room to keep reading when the disk under an SQLite database fills up.
//!
//! A reserve file of [`RESERVE_BYTES`] sits next to the database. While the
//! disk has room, it is simply there. When a write fails because the disk
//! is full, the store gives the reserve up and checkpoints the WAL. The
//! checkpoint copies the WAL's pages into the database file, which grows by
//! as many pages as the WAL holds beyond its end, so the reserve is sized to
//! take a whole WAL ([`WAL_PAGES`]) and then some: once the WAL is truncated,
//! the small writes that reads and logins make (their audit records, tokens)
//! go on in what is left, while changes that users ask for (items, accounts,
//! credentials) are refused with a clear error before they touch the
//! database. Each refused change first tries to write the reserve back;
//! once that succeeds the disk has room again and changes are accepted,
//! without a restart.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::StoreError;

/// WAL pages between automatic checkpoints while the disk has room
/// (SQLite's default), and while it is full, when the WAL must recycle its
/// space.
pub(super) const WAL_PAGES: u32 = 1000;
pub(super) const WAL_PAGES_WHEN_FULL: u32 = 16;

/// SQLite's page size (its default; Keeper does not change it).
const PAGE_BYTES: usize = 4096;

/// What is left once the checkpoint has taken its share: about two hundred
/// logins' or reads' worth of audit records between two checkpoints.
const HEADROOM_BYTES: usize = 256 * 1024;

/// What the reserve holds back: room for the checkpoint of a whole WAL,
/// and the headroom after it.
pub(super) const RESERVE_BYTES: usize = WAL_PAGES as usize * PAGE_BYTES + HEADROOM_BYTES;

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

    /// Allocates the reserve in full, or removes what part of it was.
    fn write_reserve(&self) -> std::io::Result<()> {
        if std::fs::metadata(&self.reserve).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64) {
            return Ok(());
        }
        let written = std::fs::File::create(&self.reserve).and_then(allocate);
        if written.is_err() {
            let _ = std::fs::remove_file(&self.reserve);
        }
        written
    }
}

/// Takes [`RESERVE_BYTES`] of the disk for `file`: the filesystem allocates
/// the blocks without their being written.
#[cfg(target_os = "linux")]
fn allocate(file: std::fs::File) -> std::io::Result<()> {
    nix::fcntl::posix_fallocate(&file, 0, RESERVE_BYTES as nix::libc::off_t)
        .map_err(std::io::Error::from)
}

/// Takes [`RESERVE_BYTES`] of the disk for `file`, written with zeros and
/// synced so that the blocks are the file's.
#[cfg(not(target_os = "linux"))]
fn allocate(mut file: std::fs::File) -> std::io::Result<()> {
    use std::io::Write;
    file.write_all(&vec![0; RESERVE_BYTES])?;
    file.sync_all()
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
