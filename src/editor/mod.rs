//! A small line editor for the SSH shell.
//!
//! `rustyline` wants a real terminal, but the server only has an SSH
//! channel: bytes in from the client, bytes out to it. This module turns the
//! one into the other with no I/O of its own:
//!
//! - [`KeyDecoder`] turns the raw bytes the client sends into [`Key`]s,
//!   keeping state across packets (split UTF-8 characters and escape
//!   sequences, `\r\n` pairs, bracketed paste), with every buffer bounded.
//! - [`LineEditor`] applies keys to the line being read and returns the
//!   bytes to write back, plus an [`Event`] when the line ends. It offers
//!   history, Tab completion through a [`Completer`], horizontal scrolling
//!   for long lines and a secret mode for passwords that echoes nothing.
//!
//! Both are pure and deterministic and never panic on any input.
//!
//! ```
//! use keeper::editor::{Event, KeyDecoder, LineEditor, NoCompletion};
//!
//! let mut decoder = KeyDecoder::new();
//! let mut editor = LineEditor::new(1024, 100);
//! let mut screen = editor.start("> ", false);
//! let mut line = None;
//! for key in decoder.feed(b"ls\r\n") {
//!     let (out, event) = editor.handle(key, &NoCompletion);
//!     screen.extend(out);
//!     line = line.or(event);
//! }
//! assert_eq!(line, Some(Event::Line("ls".into())));
//! assert_eq!(screen, b"> ls\r\n");
//! ```

mod history;
mod keys;
mod line;

pub use keys::{Key, KeyDecoder, MAX_ESCAPE_BYTES, MAX_PASTE_BYTES};
pub use line::{Completer, Event, LineEditor, NoCompletion, QUERY_ITEMS};
