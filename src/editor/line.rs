//! A single-line editor driven by [`Key`]s, producing the bytes to write
//! back to the terminal.
//!
//! Rendering follows linenoise's single-line mode: a refresh writes `\r`,
//! the prompt, the visible part of the buffer, `\x1b[K` (clear to the end of
//! the line), then `\r\x1b[{n}C` to put the cursor on its column. When the
//! prompt and buffer are wider than the terminal, only a window of the
//! buffer is shown, scrolled so that the cursor stays visible. Every
//! character is taken to be one column wide (wide CJK characters and
//! combining marks are not measured).

use std::fmt;
use std::io::Write as _;

use zeroize::Zeroize;

use super::history::History;

use super::keys::Key;

/// The bell, written when a key cannot do what it asks.
const BELL: &[u8] = b"\x07";
/// Home the cursor and clear the screen.
const CLEAR_SCREEN: &[u8] = b"\x1b[H\x1b[2J";
/// Clear from the cursor to the end of the line.
const CLEAR_TO_EOL: &[u8] = b"\x1b[K";
/// The terminal width used until [`LineEditor::set_width`] says otherwise.
const DEFAULT_COLS: usize = 80;

/// More completions than this are listed only after the user says so
/// (readline's `completion-query-items`).
pub const QUERY_ITEMS: usize = 100;

/// What ends reading a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Enter was pressed; the text of the line.
    Line(String),
    /// Ctrl-C was pressed; the line is discarded.
    Interrupted,
    /// Ctrl-D was pressed on an empty line.
    Eof,
}

/// Supplies Tab completions.
pub trait Completer {
    /// Given the line and the cursor position `pos` (a char index), returns
    /// the char index where the word being completed starts and the full
    /// candidate words that could replace `line[start..pos]`.
    fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>);
}

/// A [`Completer`] that never offers anything (Tab rings the bell).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCompletion;

impl Completer for NoCompletion {
    fn complete(&self, _line: &str, pos: usize) -> (usize, Vec<String>) {
        (pos, Vec::new())
    }
}

/// A line editor with history and Tab completion, pure and deterministic:
/// feed it keys with [`handle`](Self::handle), write the bytes it returns.
///
/// The buffer's memory is wiped when characters are deleted, when it has to
/// grow and when a line ends, since in secret mode it holds a password.
pub struct LineEditor {
    /// Most chars the buffer may hold.
    max_len: usize,
    /// Terminal width, at least 1.
    cols: usize,
    /// Between `start` and the event that ends the line.
    reading: bool,
    /// Nothing typed is echoed, history is not used.
    secret: bool,
    /// Why the current line must be refused when it ends: input that did not
    /// fit in `max_len`, or bytes that were not UTF-8, were dropped from it.
    rejection: Option<&'static str>,
    prompt: String,
    /// The prompt's width in chars.
    prompt_width: usize,
    /// The line being edited; never holds a control character.
    buf: Vec<char>,
    /// Cursor position, a char index into `buf` (`0..=buf.len()`).
    pos: usize,
    /// Index of the first char of `buf` shown on screen.
    scroll: usize,
    history: History,
    /// The previous key was a Tab with several candidates that could not
    /// extend the word: the next such Tab lists them.
    tab_listing: bool,
    /// Completions waiting for a `y` before they are listed: there are more
    /// than [`QUERY_ITEMS`].
    query: Option<Vec<String>>,
    /// The screen may not match the last render (the width changed), so the
    /// next output must be a full refresh.
    stale: bool,
}

impl fmt::Debug for LineEditor {
    /// Leaves out the buffer, which may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineEditor")
            .field("max_len", &self.max_len)
            .field("history_cap", &self.history.cap())
            .field("cols", &self.cols)
            .field("reading", &self.reading)
            .field("secret", &self.secret)
            .field("prompt", &self.prompt)
            .field("history_len", &self.history.entries().len())
            .finish_non_exhaustive()
    }
}

impl Drop for LineEditor {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl LineEditor {
    /// An editor whose lines hold at most `max_len` chars and whose history
    /// keeps at most `history_cap` entries. It is not reading until
    /// [`start`](Self::start) is called.
    #[must_use]
    pub fn new(max_len: usize, history_cap: usize) -> Self {
        Self {
            max_len,
            cols: DEFAULT_COLS,
            reading: false,
            secret: false,
            rejection: None,
            prompt: String::new(),
            prompt_width: 0,
            buf: Vec::new(),
            pos: 0,
            scroll: 0,
            history: History::new(history_cap),
            tab_listing: false,
            query: None,
            stale: false,
        }
    }

    /// Sets the terminal width in columns (0 means the default, 80). The
    /// next redraw respects it.
    pub fn set_width(&mut self, cols: u16) {
        let cols = match usize::from(cols) {
            0 => DEFAULT_COLS,
            n => n,
        };
        if cols != self.cols {
            self.cols = cols;
            self.stale = true;
        }
    }

    /// Begins reading a new line (abandoning any line in progress) and
    /// returns the bytes to write: the prompt. The caller guarantees the
    /// prompt holds no control characters. If the prompt is as wide as the
    /// terminal or wider, only its last `width / 2` chars are shown.
    ///
    /// In `secret` mode nothing typed is echoed, not even asterisks, and
    /// history is neither browsed nor recorded.
    pub fn start(&mut self, prompt: &str, secret: bool) -> Vec<u8> {
        self.clear_line();
        self.reading = true;
        self.secret = secret;
        self.rejection = None;
        prompt.clone_into(&mut self.prompt);
        self.prompt_width = prompt.chars().count();
        self.stale = false;
        if secret {
            // Room for a typical password, so it is not copied by growth.
            self.reserve_clean(self.max_len.min(256));
        }
        self.shown_prompt().0.as_bytes().to_vec()
    }

    /// Why the line being read (or just finished) should be refused, if input
    /// was dropped from it: it did not fit in `max_len`, or was not UTF-8.
    #[must_use]
    pub fn rejection(&self) -> Option<&'static str> {
        self.rejection
    }

    /// Whether a line is being read: between [`start`](Self::start) and the
    /// [`Event`] that ends it.
    #[must_use]
    pub fn is_reading(&self) -> bool {
        self.reading
    }

    /// The history, oldest first.
    #[must_use]
    pub fn history(&self) -> &[String] {
        self.history.entries()
    }

    /// Appends `line` to the history unless it is empty or whitespace, or
    /// equal to the newest entry; drops the oldest entries beyond the cap.
    ///
    /// As a safety net, does nothing while a secret line is being read or
    /// after one has ended (until the next [`start`](Self::start)), so a
    /// caller that records every [`Event::Line`] cannot record a password.
    pub fn add_history(&mut self, line: &str) {
        if !self.secret {
            self.history.add(line);
        }
    }

    /// Applies one key; returns the bytes to write to the terminal and the
    /// event that ends the line, if this key ended it. When no line is
    /// being read, does nothing.
    pub fn handle(&mut self, key: Key, completer: &dyn Completer) -> (Vec<u8>, Option<Event>) {
        if !self.reading {
            return (Vec::new(), None);
        }
        let after_failed_tab = std::mem::take(&mut self.tab_listing);
        if let Some(candidates) = self.query.take() {
            // `Display all N possibilities? (y or n)`: y (or Tab, or space)
            // lists them; any other key leaves them unlisted.
            let out = match key {
                Key::Char('y' | 'Y' | ' ') | Key::Tab => self.listing(&candidates),
                _ => {
                    let mut out = b"\r\n".to_vec();
                    out.extend(self.render());
                    out
                }
            };
            return (out, None);
        }
        let out = match key {
            Key::Enter => {
                let line = self.buf.iter().collect();
                return self.finish(b"\r\n", Event::Line(line));
            }
            Key::CtrlC => return self.finish(b"^C\r\n", Event::Interrupted),
            Key::CtrlD if self.buf.is_empty() => return self.finish(b"\r\n", Event::Eof),
            Key::Char(c) => {
                if c.is_control() {
                    Vec::new()
                } else {
                    self.insert(&[c])
                }
            }
            Key::Paste(mut text) => {
                let mut chars: Vec<char> = text
                    .chars()
                    .filter_map(|c| match c {
                        '\t' | '\n' | '\r' => Some(' '),
                        c if c.is_control() => None,
                        c => Some(c),
                    })
                    .collect();
                let out = self.insert(&chars);
                chars.zeroize();
                text.zeroize();
                out
            }
            Key::Backspace if self.pos > 0 => {
                self.delete(self.pos - 1..self.pos);
                self.redraw()
            }
            Key::Delete | Key::CtrlD if self.pos < self.buf.len() => {
                self.delete(self.pos..self.pos + 1);
                self.redraw()
            }
            Key::Left if self.pos > 0 => self.move_to(self.pos - 1),
            Key::Right if self.pos < self.buf.len() => self.move_to(self.pos + 1),
            Key::Home | Key::CtrlA if self.pos > 0 => self.move_to(0),
            Key::End | Key::CtrlE if self.pos < self.buf.len() => self.move_to(self.buf.len()),
            Key::CtrlK if self.pos < self.buf.len() => {
                self.delete(self.pos..self.buf.len());
                self.redraw()
            }
            Key::CtrlU if self.pos > 0 => {
                self.delete(0..self.pos);
                self.redraw()
            }
            Key::CtrlW if self.pos > 0 => {
                let start = self.previous_word_start();
                self.delete(start..self.pos);
                self.redraw()
            }
            Key::CtrlL => {
                let mut out = CLEAR_SCREEN.to_vec();
                out.extend(self.render());
                out
            }
            Key::Up if !self.secret => self.history_up(),
            Key::Down if !self.secret => self.history_down(),
            Key::Tab if !self.secret => self.complete(completer, after_failed_tab),
            Key::InvalidUtf8 => {
                let first = self.rejection.is_none();
                self.rejection.get_or_insert("input is not valid UTF-8");
                if first { BELL.to_vec() } else { Vec::new() }
            }
            _ => Vec::new(),
        };
        (out, None)
    }

    /// Ends the line: writes `out`, returns `event`, forgets the buffer.
    fn finish(&mut self, out: &[u8], event: Event) -> (Vec<u8>, Option<Event>) {
        self.clear_line();
        self.reading = false;
        (out.to_vec(), Some(event))
    }

    /// Empties (and wipes) the buffer and resets the editing state.
    fn clear_line(&mut self) {
        self.buf.zeroize();
        self.history.rewind();
        self.pos = 0;
        self.scroll = 0;
        self.tab_listing = false;
        self.query = None;
    }

    /// Makes room for `extra` more chars without letting `Vec` reallocate
    /// behind our back: the old allocation is wiped before it is freed.
    fn reserve_clean(&mut self, extra: usize) {
        let needed = self.buf.len().saturating_add(extra);
        if needed > self.buf.capacity() {
            let capacity = needed.max(self.buf.capacity().saturating_mul(2)).max(16);
            let mut grown = Vec::with_capacity(capacity);
            grown.extend_from_slice(&self.buf);
            let mut old = std::mem::replace(&mut self.buf, grown);
            old.zeroize();
        }
    }

    /// Inserts `chars` (no control characters) at the cursor, as many as
    /// fit in `max_len`; rings the bell if some did not fit.
    fn insert(&mut self, chars: &[char]) -> Vec<u8> {
        let room = self.max_len.saturating_sub(self.buf.len());
        let fitting = chars.get(..room).unwrap_or(chars);
        let mut out = Vec::new();
        if !fitting.is_empty() {
            let at_end = self.pos == self.buf.len();
            let old_scroll = self.scroll;
            self.splice_in(self.pos, fitting);
            self.pos += fitting.len();
            if !self.secret {
                self.adjust_scroll();
                if at_end && !self.stale && self.scroll == old_scroll {
                    // Cheap echo: the text just extends the line on screen.
                    out.extend(fitting.iter().collect::<String>().as_bytes());
                } else {
                    out = self.render();
                }
            }
        }
        if fitting.len() < chars.len() {
            // One bell per line: a flood of input must not become a flood of bells.
            if self.rejection.is_none() {
                out.extend(BELL);
            }
            self.rejection = Some("line too long");
        }
        out
    }

    /// Inserts `chars` at char index `at` (not moving the cursor).
    fn splice_in(&mut self, at: usize, chars: &[char]) {
        self.reserve_clean(chars.len());
        let at = at.min(self.buf.len());
        self.buf.splice(at..at, chars.iter().copied());
    }

    /// Deletes the chars in `range` (clamped to the buffer), wiping them,
    /// and moves the cursor along.
    fn delete(&mut self, range: std::ops::Range<usize>) {
        let len = self.buf.len();
        let end = range.end.min(len);
        let start = range.start.min(end);
        let count = end - start;
        if count == 0 {
            return;
        }
        if let Some(tail) = self.buf.get_mut(start..) {
            tail.rotate_left(count);
        }
        if let Some(removed) = self.buf.get_mut(len - count..) {
            removed.zeroize();
        }
        self.buf.truncate(len - count);
        if self.pos >= end {
            self.pos -= count;
        } else if self.pos > start {
            self.pos = start;
        }
    }

    /// Where Ctrl-W's deletion starts: skip spaces left of the cursor, then
    /// the word before them.
    fn previous_word_start(&self) -> usize {
        let mut start = self.pos.min(self.buf.len());
        while start > 0 && self.buf.get(start - 1).is_some_and(|c| c.is_whitespace()) {
            start -= 1;
        }
        while start > 0 && self.buf.get(start - 1).is_some_and(|c| !c.is_whitespace()) {
            start -= 1;
        }
        start
    }

    fn move_to(&mut self, pos: usize) -> Vec<u8> {
        self.pos = pos.min(self.buf.len());
        self.redraw()
    }

    /// Replaces the buffer with a history entry or the saved line.
    fn load(&mut self, chars: Vec<char>) -> Vec<u8> {
        let mut old = std::mem::replace(&mut self.buf, chars);
        old.zeroize();
        self.pos = self.buf.len();
        self.render()
    }

    fn history_up(&mut self) -> Vec<u8> {
        match self.history.older(&self.buf, self.max_len) {
            Some(entry) => self.load(entry),
            None => Vec::new(),
        }
    }

    fn history_down(&mut self) -> Vec<u8> {
        match self.history.newer(self.max_len) {
            Some(entry) => self.load(entry),
            None => Vec::new(),
        }
    }

    /// Tab. One candidate replaces the word, plus a space. Several extend
    /// the word to their longest common prefix; if that extends nothing,
    /// the bell rings, and a second such Tab in a row lists them.
    fn complete(&mut self, completer: &dyn Completer, after_failed_tab: bool) -> Vec<u8> {
        let line: String = self.buf.iter().collect();
        let (start, candidates) = completer.complete(&line, self.pos);
        let start = start.min(self.pos);
        let mut unique: Vec<String> = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let clean: String = candidate.chars().filter(|c| !c.is_control()).collect();
            if !unique.contains(&clean) {
                unique.push(clean);
            }
        }
        match unique.as_slice() {
            [] => BELL.to_vec(),
            [only] => {
                let mut word: Vec<char> = only.chars().collect();
                word.push(' ');
                if self.replace_word(start, &word) {
                    return self.render();
                }
                word.pop();
                if self.replace_word(start, &word) {
                    self.render()
                } else {
                    BELL.to_vec()
                }
            }
            several => {
                let prefix = common_prefix(several);
                if prefix.len() > self.pos - start && self.replace_word(start, &prefix) {
                    self.render()
                } else if after_failed_tab && several.len() > QUERY_ITEMS {
                    let question =
                        format!("\r\nDisplay all {} possibilities? (y or n)", several.len());
                    self.query = Some(unique);
                    question.into_bytes()
                } else if after_failed_tab {
                    self.tab_listing = true;
                    self.listing(several)
                } else {
                    self.tab_listing = true;
                    BELL.to_vec()
                }
            }
        }
    }

    /// Lists `candidates` below the line and draws the line again.
    fn listing(&mut self, candidates: &[String]) -> Vec<u8> {
        let mut out = b"\r\n".to_vec();
        out.extend(candidates.join("  ").as_bytes());
        out.extend(b"\r\n");
        out.extend(self.render());
        out
    }

    /// Replaces `buf[start..pos]` with `word` and puts the cursor after it,
    /// if the result fits in `max_len`.
    fn replace_word(&mut self, start: usize, word: &[char]) -> bool {
        let new_len = self.buf.len() - (self.pos - start) + word.len();
        if new_len > self.max_len {
            return false;
        }
        self.delete(start..self.pos);
        self.splice_in(start, word);
        self.pos = start + word.len();
        true
    }

    /// The part of the prompt shown and its width: all of it if it leaves
    /// room for the cursor, otherwise its last `cols / 2` chars.
    fn shown_prompt(&self) -> (&str, usize) {
        if self.prompt_width < self.cols {
            return (&self.prompt, self.prompt_width);
        }
        let keep = self.cols / 2;
        let skip = self.prompt_width - keep;
        let from = self
            .prompt
            .char_indices()
            .nth(skip)
            .map_or(self.prompt.len(), |(i, _)| i);
        (self.prompt.get(from..).unwrap_or_default(), keep)
    }

    /// Columns left for the buffer after the prompt; at least 1.
    fn text_cols(&self) -> usize {
        self.cols.saturating_sub(self.shown_prompt().1).max(1)
    }

    /// Moves the window over the buffer so the cursor is inside it (the
    /// cursor may sit just after the last char, so a window of `w` columns
    /// shows the cursor at most at offset `w - 1`), without scrolling
    /// further than needed to show the end of the line.
    fn adjust_scroll(&mut self) {
        let width = self.text_cols();
        if self.pos < self.scroll {
            self.scroll = self.pos;
        }
        if self.pos >= self.scroll + width {
            self.scroll = self.pos + 1 - width;
        }
        let max_scroll = (self.buf.len() + 1).saturating_sub(width);
        self.scroll = self.scroll.min(max_scroll);
    }

    /// A refresh, or nothing in secret mode.
    fn redraw(&mut self) -> Vec<u8> {
        if self.secret {
            Vec::new()
        } else {
            self.render()
        }
    }

    /// The full refresh: `\r`, prompt, visible buffer, clear to end of line,
    /// cursor to its column. In secret mode only the prompt is drawn.
    fn render(&mut self) -> Vec<u8> {
        self.stale = false;
        let mut out = vec![b'\r'];
        let (prompt, prompt_width) = self.shown_prompt();
        out.extend(prompt.as_bytes());
        if self.secret {
            out.extend(CLEAR_TO_EOL);
            return out;
        }
        self.adjust_scroll();
        let end = (self.scroll + self.text_cols()).min(self.buf.len());
        let visible: String = self
            .buf
            .get(self.scroll..end)
            .unwrap_or_default()
            .iter()
            .collect();
        out.extend(visible.as_bytes());
        out.extend(CLEAR_TO_EOL);
        out.push(b'\r');
        let column = prompt_width + self.pos.saturating_sub(self.scroll);
        if column > 0 {
            // Writing to a Vec cannot fail.
            let _ = write!(out, "\x1b[{column}C");
        }
        out
    }
}

/// The longest common prefix, in chars, of `words`.
fn common_prefix(words: &[String]) -> Vec<char> {
    let mut iter = words.iter();
    let mut prefix: Vec<char> = iter.next().map(|w| w.chars().collect()).unwrap_or_default();
    for word in iter {
        let common = prefix
            .iter()
            .zip(word.chars())
            .take_while(|(a, b)| **a == *b)
            .count();
        prefix.truncate(common);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::editor::keys::KeyDecoder;

    /// Completes the whitespace-delimited word before the cursor from a
    /// fixed list.
    struct Words(&'static [&'static str]);

    impl Completer for Words {
        fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
            let chars: Vec<char> = line.chars().collect();
            let pos = pos.min(chars.len());
            let mut start = pos;
            while start > 0 && !chars[start - 1].is_whitespace() {
                start -= 1;
            }
            let word: String = chars[start..pos].iter().collect();
            let candidates = self
                .0
                .iter()
                .filter(|w| w.starts_with(&word))
                .map(|w| (*w).to_owned())
                .collect();
            (start, candidates)
        }
    }

    /// A one-line terminal: enough of VT100 to check what the editor draws.
    struct Screen {
        cols: usize,
        line: Vec<char>,
        col: usize,
        /// Some char was written past the last column.
        wrapped: bool,
    }

    impl Screen {
        fn new(cols: usize) -> Self {
            Self {
                cols,
                line: Vec::new(),
                col: 0,
                wrapped: false,
            }
        }

        fn text(&self) -> String {
            self.line.iter().collect()
        }

        fn write(&mut self, bytes: &[u8]) {
            let text = std::str::from_utf8(bytes).expect("the editor writes UTF-8");
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\r' => self.col = 0,
                    '\n' => self.line.clear(),
                    '\x07' => {}
                    '\x1b' => {
                        assert_eq!(chars.next(), Some('['), "only CSI is written");
                        let mut param = String::new();
                        let fin = loop {
                            match chars.next() {
                                Some(d) if d.is_ascii_digit() => param.push(d),
                                Some(f) => break f,
                                None => panic!("truncated escape sequence"),
                            }
                        };
                        let n: usize = param.parse().unwrap_or(1);
                        match fin {
                            'K' => self.line.truncate(self.col),
                            'C' => self.col = (self.col + n).min(self.cols - 1),
                            'H' => self.col = 0,
                            'J' => self.line.clear(),
                            other => panic!("unexpected CSI final {other:?}"),
                        }
                    }
                    c => {
                        assert!(!c.is_control(), "control char {c:?} written");
                        if self.col >= self.cols {
                            self.wrapped = true;
                            self.line.clear();
                            self.col = 0;
                        }
                        if self.col < self.line.len() {
                            self.line[self.col] = c;
                        } else {
                            self.line.resize(self.col, ' ');
                            self.line.push(c);
                        }
                        self.col += 1;
                    }
                }
            }
        }
    }

    /// An editor reading with the prompt `> ` and a screen showing it.
    fn reading(max_len: usize) -> (LineEditor, Screen) {
        let mut editor = LineEditor::new(max_len, 10);
        let mut screen = Screen::new(80);
        screen.write(&editor.start("> ", false));
        (editor, screen)
    }

    /// An editor reading a secret line after `prompt`.
    fn reading_secret(max_len: usize, prompt: &str) -> LineEditor {
        let mut editor = LineEditor::new(max_len, 10);
        editor.start(prompt, true);
        editor
    }

    /// Handles `keys` in turn; returns all output and the last event.
    fn press(editor: &mut LineEditor, keys: &[Key]) -> (Vec<u8>, Option<Event>) {
        press_with(editor, keys, &NoCompletion)
    }

    fn press_with(
        editor: &mut LineEditor,
        keys: &[Key],
        completer: &dyn Completer,
    ) -> (Vec<u8>, Option<Event>) {
        let mut out = Vec::new();
        let mut last = None;
        for key in keys {
            let (bytes, event) = editor.handle(key.clone(), completer);
            out.extend(bytes);
            if event.is_some() {
                last = event;
            }
        }
        (out, last)
    }

    /// Tab, completing from `completer`, only rings the bell.
    #[track_caller]
    fn tab_rings(editor: &mut LineEditor, completer: &dyn Completer) {
        assert_eq!(press_with(editor, &[Key::Tab], completer).0, BELL);
    }

    fn chars(text: &str) -> Vec<Key> {
        text.chars().map(Key::Char).collect()
    }

    fn type_text(editor: &mut LineEditor, text: &str) -> Vec<u8> {
        press(editor, &chars(text)).0
    }

    /// An editor reading with the prompt `> ` after `text` was typed.
    fn typed(max_len: usize, text: &str) -> LineEditor {
        let (mut editor, _) = reading(max_len);
        type_text(&mut editor, text);
        editor
    }

    fn buffer(editor: &LineEditor) -> String {
        editor.buf.iter().collect()
    }

    /// The line holds `text` with the cursor at `pos`.
    #[track_caller]
    fn assert_line(editor: &LineEditor, text: &str, pos: usize) {
        assert_eq!(buffer(editor), text);
        assert_eq!(editor.pos, pos);
    }

    /// The screen shows `text` with the cursor in column `col`.
    #[track_caller]
    fn assert_shows(screen: &Screen, text: &str, col: usize) {
        assert_eq!(screen.text(), text);
        assert_eq!(screen.col, col);
    }

    /// The screen shows exactly what the editor believes it shows.
    fn assert_screen_matches(editor: &LineEditor, screen: &Screen) {
        let (prompt, prompt_width) = editor.shown_prompt();
        let end = (editor.scroll + editor.text_cols()).min(editor.buf.len());
        let expected: String = prompt
            .chars()
            .chain(editor.buf[editor.scroll..end].iter().copied())
            .collect();
        assert_eq!(screen.text(), expected);
        assert_eq!(screen.col, prompt_width + editor.pos - editor.scroll);
        assert!(screen.line.len() <= screen.cols);
        assert!(screen.col < screen.cols);
    }

    #[test]
    fn start_returns_the_prompt_and_begins_reading() {
        let mut editor = LineEditor::new(10, 10);
        assert!(!editor.is_reading());
        assert_eq!(editor.start("vault> ", false), b"vault> ");
        assert!(editor.is_reading());
    }

    #[test]
    fn keys_before_start_produce_nothing() {
        let mut editor = LineEditor::new(10, 10);
        for key in [
            Key::Char('a'),
            Key::Enter,
            Key::CtrlC,
            Key::CtrlD,
            Key::CtrlL,
        ] {
            assert_eq!(editor.handle(key, &NoCompletion), (Vec::new(), None));
        }
        assert!(!editor.is_reading());
    }

    #[test]
    fn typing_then_enter_returns_the_line_and_a_newline() {
        let mut editor = typed(100, "list cards");
        let (out, event) = press(&mut editor, &[Key::Enter]);
        assert_eq!(out, b"\r\n");
        assert_eq!(event, Some(Event::Line("list cards".into())));
        assert!(!editor.is_reading());
        assert_eq!(
            editor.handle(Key::Char('x'), &NoCompletion),
            (Vec::new(), None)
        );
    }

    #[test]
    fn typing_at_the_end_echoes_just_the_typed_chars() {
        let (mut editor, _) = reading(100);
        assert_eq!(type_text(&mut editor, "a"), b"a");
        assert_eq!(type_text(&mut editor, "é€"), "é€".as_bytes());
    }

    #[test]
    fn typing_in_the_middle_redraws_the_line() {
        let (mut editor, mut screen) = reading(100);
        screen.write(&type_text(&mut editor, "ac"));
        screen.write(&press(&mut editor, &[Key::Left]).0);
        let out = type_text(&mut editor, "b");
        assert_eq!(out, b"\r> abc\x1b[K\r\x1b[4C");
        screen.write(&out);
        assert_shows(&screen, "> abc", 4);
    }

    #[test]
    fn a_new_line_after_enter_starts_empty() {
        let mut editor = typed(100, "abc");
        press(&mut editor, &[Key::Enter]);
        editor.start("> ", false);
        let (_, event) = press(&mut editor, &[Key::Char('x'), Key::Enter]);
        assert_eq!(event, Some(Event::Line("x".into())));
    }

    #[test]
    fn control_chars_never_enter_the_buffer() {
        let (mut editor, _) = reading(100);
        let (out, _) = press(&mut editor, &[Key::Char('\u{1b}'), Key::Char('\u{85}')]);
        assert!(out.is_empty());
        press(&mut editor, &[Key::Paste("a\tb\nc\u{7}d\re".into())]);
        assert_eq!(buffer(&editor), "a b cd e");
    }

    #[test]
    fn backspace_mid_line_deletes_the_char_before_the_cursor() {
        let (mut editor, mut screen) = reading(100);
        screen.write(&type_text(&mut editor, "abc"));
        screen.write(&press(&mut editor, &[Key::Left]).0);
        let (out, _) = press(&mut editor, &[Key::Backspace]);
        assert_eq!(out, b"\r> ac\x1b[K\r\x1b[3C");
        screen.write(&out);
        assert_line(&editor, "ac", 1);
        assert_shows(&screen, "> ac", 3);
    }

    #[test]
    fn backspace_at_the_start_does_nothing() {
        let mut editor = typed(100, "ab");
        press(&mut editor, &[Key::Home]);
        assert_eq!(press(&mut editor, &[Key::Backspace]), (Vec::new(), None));
        assert_eq!(buffer(&editor), "ab");
    }

    #[test]
    fn left_right_home_and_end_move_where_typing_inserts() {
        let (mut editor, mut screen) = reading(100);
        let mut run = |editor: &mut LineEditor, keys: &[Key]| {
            screen.write(&press(editor, keys).0);
            assert_screen_matches(editor, &screen);
        };
        run(&mut editor, &chars("bd"));
        run(&mut editor, &[Key::Left, Key::Char('c')]);
        assert_eq!(buffer(&editor), "bcd");
        run(&mut editor, &[Key::Home, Key::Char('a')]);
        assert_eq!(buffer(&editor), "abcd");
        run(&mut editor, &[Key::End, Key::Char('f')]);
        assert_eq!(buffer(&editor), "abcdf");
        run(&mut editor, &[Key::CtrlA, Key::Right, Key::Char('_')]);
        assert_eq!(buffer(&editor), "a_bcdf");
        run(&mut editor, &[Key::CtrlE, Key::Left, Key::Char('e')]);
        assert_line(&editor, "a_bcdef", 6);
    }

    #[test]
    fn moving_past_either_end_does_nothing() {
        let mut editor = typed(100, "ab");
        assert_eq!(
            press(&mut editor, &[Key::Right, Key::End, Key::CtrlE]).0,
            b""
        );
        press(&mut editor, &[Key::Home]);
        assert_eq!(
            press(&mut editor, &[Key::Left, Key::Home, Key::CtrlA]).0,
            b""
        );
        assert_eq!(editor.pos, 0);
    }

    #[test]
    fn delete_removes_the_char_under_the_cursor() {
        let mut editor = typed(100, "abc");
        press(&mut editor, &[Key::Home, Key::Delete]);
        assert_line(&editor, "bc", 0);
        press(&mut editor, &[Key::End]);
        assert_eq!(press(&mut editor, &[Key::Delete]).0, b"");
        assert_eq!(buffer(&editor), "bc");
    }

    #[test]
    fn ctrl_k_kills_to_the_end_of_the_line() {
        let mut editor = typed(100, "hello world");
        press(
            &mut editor,
            &[Key::Home, Key::Right, Key::Right, Key::CtrlK],
        );
        assert_line(&editor, "he", 2);
    }

    #[test]
    fn ctrl_u_kills_to_the_start_of_the_line() {
        let mut editor = typed(100, "hello world");
        press(&mut editor, &[Key::Left, Key::Left, Key::CtrlU]);
        assert_line(&editor, "ld", 0);
    }

    #[test]
    fn ctrl_w_deletes_the_previous_word_and_the_spaces_after_it() {
        let mut editor = typed(100, "show card  ");
        press(&mut editor, &[Key::CtrlW]);
        assert_eq!(buffer(&editor), "show ");
        press(&mut editor, &[Key::CtrlW]);
        assert_eq!(buffer(&editor), "");
        assert_eq!(press(&mut editor, &[Key::CtrlW]).0, b"");
    }

    #[test]
    fn ctrl_w_mid_word_deletes_only_the_part_before_the_cursor() {
        let mut editor = typed(100, "get password");
        press(&mut editor, &[Key::Left, Key::Left, Key::Left, Key::CtrlW]);
        assert_line(&editor, "get ord", 4);
    }

    #[test]
    fn history_up_and_down_restore_the_line_being_typed() {
        let (mut editor, mut screen) = reading(100);
        editor.add_history("first");
        editor.add_history("second");
        screen.write(&type_text(&mut editor, "draft"));
        let mut run = |editor: &mut LineEditor, key: Key| {
            screen.write(&press(editor, &[key]).0);
            assert_screen_matches(editor, &screen);
            buffer(editor)
        };
        assert_eq!(run(&mut editor, Key::Up), "second");
        assert_eq!(run(&mut editor, Key::Up), "first");
        assert_eq!(run(&mut editor, Key::Up), "first");
        assert_eq!(run(&mut editor, Key::Down), "second");
        assert_eq!(run(&mut editor, Key::Down), "draft");
        assert_eq!(run(&mut editor, Key::Down), "draft");
        assert_eq!(editor.pos, 5);
    }

    #[test]
    fn a_recalled_history_entry_can_be_edited_and_entered() {
        let (mut editor, _) = reading(100);
        editor.add_history("show visa");
        press(&mut editor, &[Key::Up, Key::Backspace, Key::Char('A')]);
        let (_, event) = press(&mut editor, &[Key::Enter]);
        assert_eq!(event, Some(Event::Line("show visA".into())));
        assert_eq!(editor.history(), ["show visa"]);
    }

    #[test]
    fn history_keys_do_nothing_without_history() {
        let mut editor = typed(100, "x");
        assert_eq!(
            press(&mut editor, &[Key::Up, Key::Down]),
            (Vec::new(), None)
        );
        assert_eq!(buffer(&editor), "x");
    }

    #[test]
    fn recalled_history_entries_are_cut_to_max_len() {
        let (mut editor, _) = reading(3);
        editor.add_history("abcdef");
        press(&mut editor, &[Key::Up]);
        assert_eq!(buffer(&editor), "abc");
    }

    #[test]
    fn enter_does_not_add_the_line_to_history() {
        let mut editor = typed(100, "ls");
        press(&mut editor, &[Key::Enter]);
        assert!(editor.history().is_empty());
    }

    #[test]
    fn add_history_skips_blank_lines_and_repeats_of_the_newest() {
        let mut editor = LineEditor::new(100, 10);
        for line in ["", "   ", "ls", "ls", "cd", "ls", "\t"] {
            editor.add_history(line);
        }
        assert_eq!(editor.history(), ["ls", "cd", "ls"]);
    }

    #[test]
    fn add_history_keeps_only_the_newest_entries_up_to_the_cap() {
        let mut editor = LineEditor::new(100, 2);
        for line in ["a", "b", "c"] {
            editor.add_history(line);
        }
        assert_eq!(editor.history(), ["b", "c"]);
        let mut none = LineEditor::new(100, 0);
        none.add_history("a");
        assert!(none.history().is_empty());
    }

    #[test]
    fn ctrl_c_discards_the_line_and_reports_an_interrupt() {
        let mut editor = typed(100, "oops");
        let (out, event) = press(&mut editor, &[Key::CtrlC]);
        assert_eq!(out, b"^C\r\n");
        assert_eq!(event, Some(Event::Interrupted));
        assert!(!editor.is_reading());
        assert!(editor.buf.is_empty());
    }

    #[test]
    fn ctrl_d_on_an_empty_line_is_eof() {
        let (mut editor, _) = reading(100);
        let (out, event) = press(&mut editor, &[Key::CtrlD]);
        assert_eq!(out, b"\r\n");
        assert_eq!(event, Some(Event::Eof));
        assert!(!editor.is_reading());
    }

    #[test]
    fn ctrl_d_on_a_non_empty_line_deletes_the_char_under_the_cursor() {
        let mut editor = typed(100, "abc");
        press(&mut editor, &[Key::Home]);
        let (out, event) = press(&mut editor, &[Key::CtrlD]);
        assert_eq!(event, None);
        assert_eq!(out, b"\r> bc\x1b[K\r\x1b[2C");
        assert_eq!(buffer(&editor), "bc");
        // At the end of a non-empty line it does nothing.
        press(&mut editor, &[Key::End]);
        assert_eq!(press(&mut editor, &[Key::CtrlD]), (Vec::new(), None));
        assert!(editor.is_reading());
    }

    #[test]
    fn ctrl_l_clears_the_screen_and_redraws_prompt_and_line() {
        let mut editor = typed(100, "abc");
        press(&mut editor, &[Key::Left]);
        let (out, _) = press(&mut editor, &[Key::CtrlL]);
        assert_eq!(out, b"\x1b[H\x1b[2J\r> abc\x1b[K\r\x1b[4C");
    }

    #[test]
    fn the_cursor_column_is_not_moved_when_it_is_zero() {
        let mut editor = LineEditor::new(100, 10);
        editor.start("", false);
        type_text(&mut editor, "ab");
        assert_eq!(press(&mut editor, &[Key::Home]).0, b"\rab\x1b[K\r");
    }

    #[test]
    fn paste_inserts_text_at_the_cursor() {
        let (mut editor, mut screen) = reading(100);
        screen.write(&type_text(&mut editor, "ad"));
        screen.write(&press(&mut editor, &[Key::Left]).0);
        screen.write(&press(&mut editor, &[Key::Paste("bc".into())]).0);
        assert_eq!(buffer(&editor), "abcd");
        assert_screen_matches(&editor, &screen);
        // At the end a paste is echoed cheaply.
        assert_eq!(
            press(&mut editor, &[Key::End, Key::Paste("ef".into())]).0,
            {
                let mut expected = b"\r> abcd\x1b[K\r\x1b[6C".to_vec();
                expected.extend(b"ef");
                expected
            }
        );
    }

    #[test]
    fn overflow_is_reported_until_the_next_line_starts() {
        let mut editor = LineEditor::new(3, 10);
        editor.start("> ", false);
        for c in "abcd".chars() {
            editor.handle(Key::Char(c), &NoCompletion);
        }
        assert_eq!(editor.rejection(), Some("line too long"));
        editor.handle(Key::Enter, &NoCompletion);
        assert_eq!(editor.rejection(), Some("line too long"));
        editor.start("> ", false);
        assert_eq!(editor.rejection(), None);
    }

    #[test]
    fn typing_beyond_max_len_rings_the_bell_once_and_changes_nothing() {
        let mut editor = typed(3, "abc");
        assert_eq!(type_text(&mut editor, "d"), b"\x07");
        press(&mut editor, &[Key::Home]);
        // The line is already refused; a flood of input is not a flood of bells.
        assert_eq!(type_text(&mut editor, "x"), b"");
        assert_eq!(buffer(&editor), "abc");
    }

    #[test]
    fn a_paste_beyond_max_len_is_truncated_with_a_bell() {
        let mut editor = typed(5, "ab");
        let (out, _) = press(&mut editor, &[Key::Paste("cdefg".into())]);
        assert_eq!(out, b"cde\x07");
        assert_eq!(buffer(&editor), "abcde");
    }

    #[test]
    fn tab_with_one_candidate_completes_the_word_and_adds_a_space() {
        let (mut editor, mut screen) = reading(100);
        let words = Words(&["show", "password"]);
        screen.write(&type_text(&mut editor, "show pa"));
        let (out, _) = press_with(&mut editor, &[Key::Tab], &words);
        assert_eq!(out, b"\r> show password \x1b[K\r\x1b[16C");
        screen.write(&out);
        assert_eq!(buffer(&editor), "show password ");
        assert_screen_matches(&editor, &screen);
    }

    #[test]
    fn tab_mid_line_completes_the_word_before_the_cursor() {
        let mut editor = typed(100, "sh visa");
        press(&mut editor, &[Key::Home, Key::Right, Key::Right]);
        press_with(&mut editor, &[Key::Tab], &Words(&["show"]));
        assert_line(&editor, "show  visa", 5);
    }

    #[test]
    fn tab_with_several_candidates_extends_to_their_common_prefix() {
        let mut editor = typed(100, "a");
        let (out, _) = press_with(&mut editor, &[Key::Tab], &Words(&["abc1", "abc2"]));
        assert_eq!(out, b"\r> abc\x1b[K\r\x1b[5C");
        assert_eq!(buffer(&editor), "abc");
    }

    #[test]
    fn a_second_tab_that_cannot_extend_lists_the_candidates() {
        let (mut editor, mut screen) = reading(100);
        let words = Words(&["xa", "xb", "y"]);
        type_text(&mut editor, "x");
        tab_rings(&mut editor, &words);
        let (out, _) = press_with(&mut editor, &[Key::Tab], &words);
        assert_eq!(out, b"\r\nxa  xb\r\n\r> x\x1b[K\r\x1b[3C");
        screen.write(&out);
        assert_screen_matches(&editor, &screen);
        assert_eq!(buffer(&editor), "x");
    }

    #[test]
    fn tab_after_an_extending_tab_rings_then_lists() {
        let words = Words(&["abc1", "abc2"]);
        let mut editor = typed(100, "a");
        press_with(&mut editor, &[Key::Tab], &words);
        tab_rings(&mut editor, &words);
        let (out, _) = press_with(&mut editor, &[Key::Tab], &words);
        assert!(out.starts_with(b"\r\nabc1  abc2\r\n"));
    }

    #[test]
    fn another_key_between_tabs_stops_the_listing() {
        let words = Words(&["xa", "xb"]);
        let mut editor = typed(100, "x");
        press_with(&mut editor, &[Key::Tab], &words);
        press(&mut editor, &[Key::Left, Key::Right]);
        tab_rings(&mut editor, &words);
    }

    #[test]
    fn tab_without_candidates_rings_the_bell() {
        let mut editor = typed(100, "zz");
        tab_rings(&mut editor, &Words(&["a"]));
        tab_rings(&mut editor, &NoCompletion);
        assert_eq!(buffer(&editor), "zz");
    }

    #[test]
    fn a_completion_that_does_not_fit_rings_the_bell() {
        let mut editor = typed(4, "p");
        tab_rings(&mut editor, &Words(&["password"]));
        assert_eq!(buffer(&editor), "p");
        // Without room for the trailing space, the word alone is inserted.
        press(&mut editor, &[Key::Backspace]);
        press_with(&mut editor, &[Key::Tab], &Words(&["pass"]));
        assert_eq!(buffer(&editor), "pass");
    }

    #[test]
    fn completion_candidates_lose_their_control_chars() {
        struct Nasty;
        impl Completer for Nasty {
            fn complete(&self, _line: &str, pos: usize) -> (usize, Vec<String>) {
                (pos + 10, vec!["\u{1b}[2Jevil".into()])
            }
        }
        let (mut editor, _) = reading(100);
        press_with(&mut editor, &[Key::Tab], &Nasty);
        assert_eq!(buffer(&editor), "[2Jevil ");
    }

    #[test]
    fn secret_mode_echoes_nothing_typed() {
        let mut editor = LineEditor::new(100, 10);
        assert_eq!(editor.start("Password: ", true), b"Password: ");
        let keys = [
            Key::Char('s'),
            Key::Char('3'),
            Key::Paste("cret".into()),
            Key::Left,
            Key::Home,
            Key::End,
            Key::Backspace,
            Key::Char('t'),
            Key::Up,
            Key::Down,
            Key::Tab,
            Key::Tab,
        ];
        let words = Words(&["s3cre", "s3crx"]);
        for key in keys {
            assert_eq!(editor.handle(key, &words), (Vec::new(), None));
        }
        let (out, event) = press(&mut editor, &[Key::Enter]);
        assert_eq!(out, b"\r\n");
        assert_eq!(event, Some(Event::Line("s3cret".into())));
    }

    #[test]
    fn secret_mode_backspace_and_ctrl_u_edit_the_hidden_line() {
        let mut editor = reading_secret(100, "PIN: ");
        press(&mut editor, &chars("12"));
        press(&mut editor, &[Key::CtrlU]);
        press(&mut editor, &chars("345"));
        press(&mut editor, &[Key::Backspace]);
        let (_, event) = press(&mut editor, &[Key::Enter]);
        assert_eq!(event, Some(Event::Line("34".into())));
    }

    #[test]
    fn secret_mode_ctrl_l_redraws_only_the_prompt() {
        let mut editor = reading_secret(100, "PIN: ");
        press(&mut editor, &chars("1234"));
        let (out, _) = press(&mut editor, &[Key::CtrlL]);
        assert_eq!(out, b"\x1b[H\x1b[2J\rPIN: \x1b[K");
    }

    #[test]
    fn secret_mode_never_uses_or_records_history() {
        let mut editor = LineEditor::new(100, 10);
        editor.add_history("visible");
        editor.start("Password: ", true);
        press(&mut editor, &[Key::Up]);
        assert!(editor.buf.is_empty());
        press(&mut editor, &chars("hunter2"));
        let (_, event) = press(&mut editor, &[Key::Enter]);
        let Some(Event::Line(line)) = event else {
            panic!("expected a line");
        };
        editor.add_history(&line);
        assert_eq!(editor.history(), ["visible"]);
        // The next ordinary line can be recorded again.
        editor.start("> ", false);
        editor.add_history("ls");
        assert_eq!(editor.history(), ["visible", "ls"]);
    }

    #[test]
    fn secret_mode_still_rings_the_bell_at_max_len() {
        let mut editor = reading_secret(2, "PIN: ");
        assert_eq!(press(&mut editor, &chars("123")).0, b"\x07");
    }

    #[test]
    fn a_long_line_scrolls_so_the_cursor_stays_visible() {
        let (mut editor, _) = reading(100);
        editor.set_width(10);
        let mut screen = Screen::new(10);
        screen.write(b"> ");
        for c in "abcdefghijklmnop".chars() {
            screen.write(&press(&mut editor, &[Key::Char(c)]).0);
            assert_screen_matches(&editor, &screen);
        }
        assert_shows(&screen, "> jklmnop", 9);
        screen.write(&press(&mut editor, &[Key::Home]).0);
        assert_shows(&screen, "> abcdefgh", 2);
        for _ in 0..10 {
            screen.write(&press(&mut editor, &[Key::Right]).0);
            assert_screen_matches(&editor, &screen);
        }
        assert_shows(&screen, "> defghijk", 9);
        screen.write(&press(&mut editor, &[Key::CtrlK]).0);
        assert_screen_matches(&editor, &screen);
        screen.write(&press(&mut editor, &[Key::CtrlU]).0);
        assert_eq!(screen.text(), "> ");
        assert!(!screen.wrapped);
    }

    #[test]
    fn output_lines_never_exceed_the_width() {
        for cols in 1..=12u16 {
            let mut editor = LineEditor::new(100, 10);
            editor.set_width(cols);
            let mut screen = Screen::new(usize::from(cols));
            screen.write(&editor.start("vault> ", false));
            for key in chars("0123456789abcdefghij")
                .into_iter()
                .chain([Key::Home, Key::Right, Key::Right, Key::Char('X'), Key::End])
                .chain([Key::Left, Key::Left, Key::Backspace, Key::CtrlW, Key::CtrlL])
            {
                screen.write(&press(&mut editor, &[key]).0);
                assert_screen_matches(&editor, &screen);
            }
            assert!(!screen.wrapped, "cols {cols}");
        }
    }

    #[test]
    fn a_prompt_wider_than_the_terminal_is_cut_to_its_tail() {
        let mut editor = LineEditor::new(100, 10);
        editor.set_width(8);
        assert_eq!(editor.start("0123456789> ", false), b"89> ");
        let mut screen = Screen::new(8);
        screen.write(b"89> ");
        screen.write(&type_text(&mut editor, "abcdef"));
        assert_screen_matches(&editor, &screen);
        assert!(!screen.wrapped);
    }

    #[test]
    fn a_width_change_forces_a_full_redraw_on_the_next_key() {
        let mut editor = typed(100, "abc");
        editor.set_width(40);
        assert_eq!(type_text(&mut editor, "d"), b"\r> abcd\x1b[K\r\x1b[6C");
        assert_eq!(type_text(&mut editor, "e"), b"e");
    }

    #[test]
    fn width_zero_means_eighty_columns() {
        let mut editor = LineEditor::new(200, 10);
        editor.set_width(0);
        assert_eq!(editor.cols, 80);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let mut editor = typed(100, "a");
        assert_eq!(press(&mut editor, &[Key::Unknown]), (Vec::new(), None));
        assert_eq!(buffer(&editor), "a");
    }

    /// Bytes likely to exercise the decoder and the editor.
    fn input_token() -> impl Strategy<Value = Vec<u8>> {
        let named: Vec<&'static [u8]> = vec![
            b"\r",
            b"\n",
            b"\r\n",
            b"\x7f",
            b"\t",
            b"\x01",
            b"\x02",
            b"\x03",
            b"\x04",
            b"\x05",
            b"\x06",
            b"\x0b",
            b"\x0c",
            b"\x0e",
            b"\x10",
            b"\x15",
            b"\x17",
            b"\x1b",
            b"\x1b[A",
            b"\x1b[B",
            b"\x1b[C",
            b"\x1b[D",
            b"\x1b[H",
            b"\x1b[F",
            b"\x1b[3~",
            b"\x1b[1;5C",
            b"\x1b[200~",
            b"\x1b[201~",
            b"\x1bOH",
            b"ab",
            b"pa",
            b"x",
            b" ",
            "é€😀".as_bytes(),
        ];
        prop_oneof![
            3 => proptest::sample::select(named).prop_map(<[u8]>::to_vec),
            2 => proptest::collection::vec(b'a'..=b'z', 1..4),
            1 => proptest::collection::vec(any::<u8>(), 1..4),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Bytes(Vec<u8>),
        Width(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            20 => proptest::collection::vec(input_token(), 1..6)
                .prop_map(|tokens| Op::Bytes(tokens.concat())),
            1 => (0u16..30).prop_map(Op::Width),
        ]
    }

    const WORDS: Words = Words(&["password", "pass", "card", "cards", "visa", "x"]);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_input_never_panics_and_keeps_the_line_within_bounds(
            ops in proptest::collection::vec(op(), 0..40),
            max_len in 0usize..24,
            width in 0u16..30,
            prompt in proptest::sample::select(vec!["", "> ", "vault> ", "a-rather-long-prompt> "]),
        ) {
            let mut decoder = KeyDecoder::new();
            let mut editor = LineEditor::new(max_len, 3);
            editor.set_width(width);
            let mut screen = Screen::new(editor.cols);
            screen.write(&editor.start(prompt, false));
            for op in ops {
                let bytes = match op {
                    Op::Width(cols) => {
                        editor.set_width(cols);
                        screen.cols = editor.cols;
                        continue;
                    }
                    Op::Bytes(bytes) => bytes,
                };
                for key in decoder.feed(&bytes) {
                    let (out, event) = editor.handle(key, &WORDS);
                    screen.write(&out);
                    prop_assert!(editor.buf.len() <= max_len);
                    prop_assert!(editor.pos <= editor.buf.len());
                    prop_assert!(editor.buf.iter().all(|c| !c.is_control()));
                    if let Some(event) = event {
                        prop_assert!(!editor.is_reading());
                        if let Event::Line(line) = event {
                            prop_assert!(line.chars().count() <= max_len);
                            editor.add_history(&line);
                        }
                        prop_assert!(editor.history().len() <= 3);
                        screen.write(&editor.start(prompt, false));
                    } else if !editor.stale && !out.is_empty() {
                        assert_screen_matches(&editor, &screen);
                    }
                }
            }
        }

        #[test]
        fn secret_mode_never_writes_a_typed_char(
            ops in proptest::collection::vec(op(), 0..40),
            max_len in 0usize..24,
        ) {
            const PROMPT: &str = "PIN: ";
            let allowed: [&[u8]; 7] = [
                PROMPT.as_bytes(), CLEAR_SCREEN, CLEAR_TO_EOL, b"^C\r\n", b"\r\n", b"\r",
                BELL,
            ];
            let mut decoder = KeyDecoder::new();
            let mut editor = LineEditor::new(max_len, 3);
            let mut output = editor.start(PROMPT, true);
            for op in ops {
                let Op::Bytes(bytes) = op else {
                    continue;
                };
                for key in decoder.feed(&bytes) {
                    let (out, event) = editor.handle(key, &WORDS);
                    output.extend(out);
                    prop_assert!(editor.buf.len() <= max_len);
                    if let Some(Event::Line(line)) = &event {
                        editor.add_history(line);
                    }
                    if event.is_some() {
                        output.extend(editor.start(PROMPT, true));
                    }
                }
            }
            prop_assert!(editor.history().is_empty());
            // The output is made of the allowed pieces only.
            let mut rest = output.as_slice();
            while !rest.is_empty() {
                let piece = allowed.iter().find(|piece| rest.starts_with(piece));
                prop_assert!(piece.is_some(), "unexpected output {:?}", String::from_utf8_lossy(rest));
                rest = &rest[piece.map_or(1, |p| p.len())..];
            }
        }
    }
}
