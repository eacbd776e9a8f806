//! Breached passwords, looked up in an operator's local copy of the
//! "Pwned Passwords" list (SHA-1, ordered by hash): one line per hash,
//! `HEX40:COUNT`, with `\n` or `\r\n` line ends, as the downloader writes it.
//!
//! The file is searched in place: a binary search over byte offsets that
//! reads one line at each step (about 30 reads of a few hundred bytes for
//! the 40 GB file), so nothing of it is loaded into memory and nothing
//! leaves the server. A password is hashed in memory and its hash is
//! compared, never written anywhere.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

/// Longest line a well-formed file holds (40 hex digits, `:`, a count,
/// `\r\n`), with room to spare.
const MAX_LINE: usize = 128;

/// Why a lookup could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    #[error("breach file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("breach file {path}: not a Pwned Passwords SHA-1 file near byte {at}: {reason}")]
    Malformed {
        path: PathBuf,
        at: u64,
        reason: &'static str,
    },
}

/// An opened breach file.
#[derive(Debug)]
pub struct BreachFile {
    path: PathBuf,
    file: File,
    len: u64,
}

/// A line of the file: where it starts, where the next begins, its hash.
struct Line {
    start: u64,
    next: u64,
    hash: [u8; 40],
    count: u64,
}

impl BreachFile {
    /// Opens `path` and checks that its first line has the list's shape.
    pub fn open(path: &Path) -> Result<Self, BreachError> {
        let io = |source| BreachError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let breach = Self {
            path: path.to_owned(),
            file,
            len,
        };
        breach.line_at(0)?;
        Ok(breach)
    }

    /// How many times `password` appears in the list (0: not in it).
    pub fn count(&self, password: &[u8]) -> Result<u64, BreachError> {
        let digest = Sha1::digest(password);
        let mut hex = [0u8; 40];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        self.count_hash(&hex)
    }

    /// The count of a hash given as 40 uppercase hex digits.
    fn count_hash(&self, target: &[u8; 40]) -> Result<u64, BreachError> {
        // The target's line, if there is one, starts in [lo, hi).
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let Some(line) = self.line_at(mid)? else {
                hi = mid;
                continue;
            };
            if line.start >= hi {
                hi = mid;
                continue;
            }
            match line.hash.cmp(target) {
                std::cmp::Ordering::Less => lo = line.next,
                std::cmp::Ordering::Equal => return Ok(line.count),
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(0)
    }

    /// The first line that starts at `pos` or after it; `None` past the
    /// last one.
    fn line_at(&self, pos: u64) -> Result<Option<Line>, BreachError> {
        let from = pos.saturating_sub(1);
        let mut buf = [0u8; 2 * MAX_LINE];
        let read = self.read_at(&mut buf, from)?;
        let buf = &buf[..read];
        // At 0 a line starts here; elsewhere after the next line end at
        // or after `pos - 1`.
        let skip = if pos == 0 {
            0
        } else {
            match buf.iter().position(|&b| b == b'\n') {
                Some(end) => end + 1,
                None if read < 2 * MAX_LINE => return Ok(None),
                None => return Err(self.malformed(from, "a line is too long")),
            }
        };
        let rest = &buf[skip..];
        if rest.is_empty() {
            return Ok(None);
        }
        let start = from + skip as u64;
        let end = rest.iter().position(|&b| b == b'\n');
        let (text, next) = match end {
            Some(end) => (&rest[..end], start + end as u64 + 1),
            // The last line may lack its line end.
            None if start + rest.len() as u64 == self.len => (rest, self.len),
            None => return Err(self.malformed(start, "a line is too long")),
        };
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let (hash, count) = text
            .split_at_checked(40)
            .ok_or_else(|| self.malformed(start, "a line is shorter than a SHA-1 hash"))?;
        let mut upper = [0u8; 40];
        for (to, &from) in upper.iter_mut().zip(hash) {
            if !from.is_ascii_hexdigit() {
                return Err(self.malformed(start, "a hash is not hexadecimal"));
            }
            *to = from.to_ascii_uppercase();
        }
        let count = count
            .strip_prefix(b":")
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.trim().parse().ok())
            .ok_or_else(|| self.malformed(start, "a hash is not followed by `:COUNT`"))?;
        Ok(Some(Line {
            start,
            next,
            hash: upper,
            count,
        }))
    }

    fn read_at(&self, buf: &mut [u8], at: u64) -> Result<usize, BreachError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read_at(&mut buf[filled..], at + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(BreachError::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
        Ok(filled)
    }

    fn malformed(&self, at: u64, reason: &'static str) -> BreachError {
        BreachError::Malformed {
            path: self.path.clone(),
            at,
            reason,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    fn sha1_hex(password: &str) -> String {
        Sha1::digest(password.as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// A list of `passwords` (each counted by its index + 1), sorted by
    /// hash, with `line_end` after each line but perhaps the last.
    fn list(passwords: &[String], line_end: &str, last_end: bool) -> tempfile::NamedTempFile {
        let mut lines: Vec<(String, usize)> = passwords
            .iter()
            .enumerate()
            .map(|(i, p)| (sha1_hex(p), i + 1))
            .collect();
        lines.sort();
        lines.dedup_by(|a, b| a.0 == b.0);
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        let n = lines.len();
        for (i, (hash, count)) in lines.into_iter().enumerate() {
            let end = if i + 1 < n || last_end { line_end } else { "" };
            write!(file, "{hash}:{count}{end}").expect("write");
        }
        file.flush().expect("flush");
        file
    }

    #[test]
    fn every_listed_password_is_found_and_others_are_not() {
        let passwords: Vec<String> = (0..2000).map(|i| format!("password{i}")).collect();
        for (line_end, last_end) in [("\r\n", true), ("\n", true), ("\r\n", false)] {
            let file = list(&passwords, line_end, last_end);
            let breach = BreachFile::open(file.path()).expect("opens");
            for (i, p) in passwords.iter().enumerate() {
                assert_eq!(
                    breach.count(p.as_bytes()).expect("looks up"),
                    i as u64 + 1,
                    "{p}"
                );
            }
            for i in 0..500 {
                let p = format!("not-listed-{i}");
                assert_eq!(breach.count(p.as_bytes()).expect("looks up"), 0, "{p}");
            }
        }
    }

    #[test]
    fn a_file_that_is_not_the_list_is_refused_with_where() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"hello world\n").expect("write");
        let e = BreachFile::open(file.path()).expect_err("refused");
        assert!(
            e.to_string().contains("not a Pwned Passwords SHA-1 file"),
            "{e}"
        );
    }

    #[test]
    fn a_damaged_line_in_the_middle_is_an_error_not_a_wrong_answer() {
        let passwords: Vec<String> = (0..64).map(|i| format!("pw{i}")).collect();
        let file = list(&passwords, "\n", true);
        let mut text = std::fs::read_to_string(file.path()).expect("read");
        // The line every search reads first: the one after the middle byte.
        let middle = text.len() / 2;
        let line_start = middle + text[middle - 1..].find('\n').expect("a line end");
        text.replace_range(line_start..line_start + 5, "zzzzz");
        std::fs::write(file.path(), text).expect("write");
        let breach = BreachFile::open(file.path()).expect("first line is fine");
        for p in &passwords {
            let e = breach
                .count(p.as_bytes())
                .expect_err("reads the damaged line");
            assert!(e.to_string().contains("not hexadecimal"), "{e}");
        }
    }

    #[test]
    fn an_empty_file_lists_nothing() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let breach = BreachFile::open(file.path()).expect("opens");
        assert_eq!(breach.count(b"password").expect("looks up"), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn lookups_agree_with_a_scan(
            listed in proptest::collection::vec("[a-z0-9]{1,12}", 0..200),
            probes in proptest::collection::vec("[a-z0-9]{1,12}", 1..50),
        ) {
            let file = list(&listed, "\r\n", true);
            let breach = BreachFile::open(file.path()).expect("opens");
            for p in listed.iter().chain(&probes) {
                let want = listed.iter().position(|l| l == p).map_or(0, |i| i as u64 + 1);
                prop_assert_eq!(breach.count(p.as_bytes()).expect("looks up"), want);
            }
        }
    }
}
