//! Clearing a copy from the user's clipboard again, for every front end
//! that stays open after a copy (the SSH shell, `keeper shell`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What clears a terminal's clipboard: an OSC 52 write of nothing.
pub const CLEAR: &[u8] = b"\x1b]52;c;\x07";

/// The line a front end adds when it will clear a copy again after `secs`.
pub fn clearing_note(secs: u64) -> String {
    format!("The clipboard is cleared again in {secs} s (`--keep` leaves it).\n")
}

/// A session's copies, counted, so that the clear scheduled for one copy
/// does not clear a newer one.
#[derive(Debug, Clone, Default)]
pub struct Copies(Arc<AtomicU64>);

impl Copies {
    /// Counts a copy; the number is what [`Copies::is_latest`] checks.
    pub fn copied(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether copy `n` is still the latest: its clear may go ahead.
    pub fn is_latest(&self, n: u64) -> bool {
        self.0.load(Ordering::SeqCst) == n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_copy_is_cleared() {
        let copies = Copies::default();
        let first = copies.copied();
        let second = copies.clone().copied();
        assert!(!copies.is_latest(first));
        assert!(copies.is_latest(second));
    }
}
