//! The line editor's history: the lines entered, which one is shown while
//! browsing, and the line being typed, put aside meanwhile (wiped when it
//! is dropped or replaced).

use zeroize::Zeroize;

/// Entered lines, oldest first, and the state of browsing them.
pub(super) struct History {
    entries: Vec<String>,
    /// Most entries kept.
    cap: usize,
    /// The entry shown, or `None` for the line being typed.
    shown: Option<usize>,
    /// The line being typed, put aside while browsing.
    saved: Vec<char>,
}

impl History {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            entries: Vec::new(),
            cap,
            shown: None,
            saved: Vec::new(),
        }
    }

    pub(super) fn entries(&self) -> &[String] {
        &self.entries
    }

    pub(super) fn cap(&self) -> usize {
        self.cap
    }

    /// Appends `line` unless it is blank or repeats the newest entry; drops
    /// the oldest entries beyond the cap.
    pub(super) fn add(&mut self, line: &str) {
        if line.trim().is_empty() || self.entries.last().is_some_and(|last| last == line) {
            return;
        }
        self.entries.push(line.to_owned());
        let excess = self.entries.len().saturating_sub(self.cap);
        if excess > 0 {
            self.entries.drain(..excess);
            // Keep pointing at the same entry while browsing.
            self.shown = match self.shown {
                Some(i) if i >= excess => Some(i - excess),
                Some(_) if !self.entries.is_empty() => Some(0),
                _ => None,
            };
        }
    }

    /// Stops browsing: the next Up starts from the newest entry again.
    pub(super) fn rewind(&mut self) {
        self.saved.zeroize();
        self.shown = None;
    }

    /// Up: the entry before the one shown (the newest when none is), with
    /// `typing` put aside first; `None` at the oldest.
    pub(super) fn older(&mut self, typing: &[char], max_len: usize) -> Option<Vec<char>> {
        let target = match self.shown {
            None => self.entries.len().checked_sub(1),
            Some(i) => i.checked_sub(1),
        }?;
        if self.shown.is_none() {
            self.saved.zeroize();
            self.saved = typing.to_vec();
        }
        self.shown = Some(target);
        Some(self.entry(target, max_len))
    }

    /// Down: the next entry, or past the newest the line put aside; `None`
    /// when not browsing.
    pub(super) fn newer(&mut self, max_len: usize) -> Option<Vec<char>> {
        let shown = self.shown?;
        if shown + 1 < self.entries.len() {
            self.shown = Some(shown + 1);
            Some(self.entry(shown + 1, max_len))
        } else {
            self.shown = None;
            Some(std::mem::take(&mut self.saved))
        }
    }

    /// Entry `index` as editable chars: no control character, at most
    /// `max_len` of them.
    fn entry(&self, index: usize, max_len: usize) -> Vec<char> {
        self.entries
            .get(index)
            .map(|entry| {
                entry
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(max_len)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for History {
    fn drop(&mut self) {
        self.saved.zeroize();
    }
}
