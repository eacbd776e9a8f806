//! The SSH line editor: the key decoder and the editor fed by it.
//!
//! Input: four header bytes (mode, terminal width, line limit, chunking
//! seed), then the bytes a client sends. Properties checked:
//!
//! - Decoding does not depend on how the bytes are split into packets: all
//!   at once, one byte at a time and in seeded random chunks give the same
//!   keys. A `Char` is never a control character, and a paste holds no
//!   control character other than tab.
//! - Feeding those keys to a `LineEditor` (with the shell's completer)
//!   never panics; every line it returns fits the limit and holds no
//!   control character; the history stays within its cap.
//! - What the editor writes is UTF-8 that a terminal of the given width
//!   shows on one line: no character lands past the last column and the
//!   cursor is never moved off the screen, so it stays within the visible
//!   buffer (also across width changes between packets).
//! - In secret mode the editor writes only the prompt and fixed control
//!   sequences, never a typed character, and records no history.
#![no_main]

use keeper::editor::{Event, Key, KeyDecoder, LineEditor};
use keeper::shell::complete::ShellCompleter;
use libfuzzer_sys::fuzz_target;

const HEADER: usize = 4;
const HISTORY_CAP: usize = 3;
const PROMPT: &str = "alice@keeper> ";
const SECRET_PROMPT: &str = "PIN: ";
const BELL: &str = "\x07";
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";
const CLEAR_TO_EOL: &str = "\x1b[K";

fuzz_target!(|data: &[u8]| {
    let Some((header, input)) = data.split_first_chunk::<HEADER>() else {
        return;
    };
    let [mode, width, max_len, seed] = *header;
    let secret = mode & 1 == 1;
    let chunks = Chunks::new(input, seed);

    let whole = KeyDecoder::new().feed(input);
    let mut bytewise_decoder = KeyDecoder::new();
    let bytewise: Vec<Key> = input
        .iter()
        .flat_map(|b| bytewise_decoder.feed(&[*b]))
        .collect();
    assert_eq!(whole, bytewise, "decoding byte by byte changes nothing");
    for key in &whole {
        check_key(key);
    }

    let mut session = Session::new(usize::from(max_len), u16::from(width % 64), secret);
    let mut decoder = KeyDecoder::new();
    let mut chunked = Vec::new();
    for (chunk, new_width) in chunks {
        if let Some(cols) = new_width.filter(|_| !secret) {
            session.set_width(cols);
        }
        for key in decoder.feed(chunk) {
            chunked.push(key.clone());
            session.handle(key);
        }
    }
    assert_eq!(whole, chunked, "decoding in chunks changes nothing");
    session.finish();
});

fn check_key(key: &Key) {
    match key {
        Key::Char(c) => assert!(!c.is_control(), "a Char is printable: {c:?}"),
        Key::Paste(text) => assert!(
            !text.chars().any(|c| c.is_control() && c != '\t'),
            "a paste holds no control characters: {text:?}"
        ),
        _ => {}
    }
}

/// Splits the input into chunks of 1 to 16 bytes chosen by a small
/// generator seeded from the header; some chunks change the terminal width.
struct Chunks<'a> {
    rest: &'a [u8],
    state: u32,
}

impl<'a> Chunks<'a> {
    fn new(input: &'a [u8], seed: u8) -> Self {
        Self {
            rest: input,
            state: u32::from(seed) | 0x5eed_0000,
        }
    }
}

impl<'a> Iterator for Chunks<'a> {
    /// A chunk, and the width to set before it, if any.
    type Item = (&'a [u8], Option<u16>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let len = 1 + (self.state >> 16) as usize % 16;
        let changes_width = (self.state >> 8).is_multiple_of(16);
        let width = changes_width.then_some((self.state >> 24) as u16 % 64);
        let (chunk, rest) = self.rest.split_at(len.min(self.rest.len()));
        self.rest = rest;
        Some((chunk, width))
    }
}

/// An editor reading line after line, with a model of the terminal it
/// draws on.
struct Session {
    editor: LineEditor,
    completer: ShellCompleter,
    max_len: usize,
    secret: bool,
    /// What `start` wrote: the prompt as shown at this width.
    shown_prompt: String,
    screen: Screen,
}

impl Session {
    fn new(max_len: usize, width: u16, secret: bool) -> Self {
        let mut editor = LineEditor::new(max_len, HISTORY_CAP);
        editor.set_width(width);
        let completer = ShellCompleter {
            cards: ["visa", "my visa", "o'brien", "Ünïcödé"]
                .map(String::from)
                .to_vec(),
            passwords: ["github", "git lab", "gmail"].map(String::from).to_vec(),
        };
        let mut session = Self {
            editor,
            completer,
            max_len,
            secret,
            shown_prompt: String::new(),
            screen: Screen::new(effective_cols(width)),
        };
        session.start();
        session
    }

    fn start(&mut self) {
        let prompt = if self.secret { SECRET_PROMPT } else { PROMPT };
        let out = self.editor.start(prompt, self.secret);
        self.shown_prompt = String::from_utf8(out).expect("the prompt is UTF-8");
        assert!(
            prompt.ends_with(&self.shown_prompt),
            "the shown prompt is the prompt's tail"
        );
        let shown = self.shown_prompt.clone();
        self.write(shown.as_bytes());
    }

    fn set_width(&mut self, cols: u16) {
        self.editor.set_width(cols);
        self.screen.resize(effective_cols(cols));
    }

    fn handle(&mut self, key: Key) {
        let (out, event) = self.editor.handle(key, &self.completer);
        self.write(&out);
        let Some(event) = event else {
            assert!(self.editor.is_reading(), "only an event ends the line");
            return;
        };
        assert!(!self.editor.is_reading(), "an event ends the line");
        if let Event::Line(line) = event {
            assert!(line.chars().count() <= self.max_len, "the line fits");
            assert!(
                !line.chars().any(char::is_control),
                "a line holds no control characters: {line:?}"
            );
            self.editor.add_history(&line);
        }
        self.start();
    }

    fn write(&mut self, out: &[u8]) {
        let text = std::str::from_utf8(out).expect("the editor writes UTF-8");
        if self.secret {
            check_secret_output(text, &self.shown_prompt);
        } else {
            self.screen.write(text);
        }
    }

    fn finish(&self) {
        assert!(self.editor.history().len() <= HISTORY_CAP);
        if self.secret {
            assert!(
                self.editor.history().is_empty(),
                "secret lines are never recorded"
            );
        }
    }
}

/// The width the editor uses for `cols` (0 means 80).
fn effective_cols(cols: u16) -> usize {
    match cols {
        0 => 80,
        n => usize::from(n),
    }
}

/// Checks that `text` is made only of the prompt and fixed sequences.
fn check_secret_output(text: &str, prompt: &str) {
    let pieces = [
        prompt,
        CLEAR_SCREEN,
        CLEAR_TO_EOL,
        "^C\r\n",
        "\r\n",
        "\r",
        BELL,
    ];
    let mut rest = text;
    while !rest.is_empty() {
        let piece = pieces
            .iter()
            .filter(|p| !p.is_empty())
            .find(|p| rest.starts_with(**p))
            .unwrap_or_else(|| panic!("secret mode wrote {rest:?}"));
        rest = &rest[piece.len()..];
    }
}

/// One line of a terminal with automatic margins: enough of VT100 to see
/// whether the editor's line stays on one row.
struct Screen {
    cols: usize,
    col: usize,
    /// A character was written past the last column since the last newline.
    wrapped: bool,
    /// The width changed and the line has not been redrawn since.
    stale: bool,
}

impl Screen {
    fn new(cols: usize) -> Self {
        Self {
            cols,
            col: 0,
            wrapped: false,
            stale: false,
        }
    }

    fn resize(&mut self, cols: usize) {
        self.cols = cols;
        self.stale = true;
    }

    /// Interprets one write. Afterwards the line being edited must not have
    /// wrapped (a completion listing may, but it ends with a newline), and
    /// unless the width changed since the last redraw, the cursor must be
    /// on the screen.
    fn write(&mut self, text: &str) {
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    self.col = 0;
                    self.stale = false;
                }
                '\n' => self.wrapped = false,
                '\x07' => {}
                '\x1b' => self.escape(&mut chars),
                c => {
                    assert!(!c.is_control(), "the editor writes no raw control {c:?}");
                    if self.col >= self.cols {
                        self.wrapped = true;
                    }
                    self.col += 1;
                }
            }
        }
        assert!(!self.wrapped, "the edited line wrapped: {text:?}");
        if !self.stale {
            assert!(
                self.col < self.cols,
                "the cursor is off the screen: {text:?}"
            );
        }
    }

    fn escape(&mut self, chars: &mut std::str::Chars<'_>) {
        assert_eq!(chars.next(), Some('['), "only CSI sequences are written");
        let mut param = String::new();
        let fin = loop {
            match chars.next() {
                Some(d) if d.is_ascii_digit() => param.push(d),
                Some(f) => break f,
                None => panic!("truncated escape sequence"),
            }
        };
        match fin {
            'K' | 'J' => {}
            'H' => self.col = 0,
            'C' => {
                let n: usize = param.parse().expect("a column count");
                self.col += n;
                assert!(
                    self.col < self.cols,
                    "cursor moved to column {} of {}",
                    self.col,
                    self.cols
                );
            }
            other => panic!("unexpected CSI final {other:?}"),
        }
    }
}
