//! Reading a note's text, written once for every front end: the lines a
//! person types (or pastes) up to a line of `.`, or the rest of an input
//! that is not a terminal (SSH exec, a pipe into the local client).

use std::future::Future;

use zeroize::Zeroizing;

use super::{Prompter, Question, ShellError};
use crate::domain::{DomainError, NoteText};
use crate::interchange::FileError;
use crate::service::ServiceError;

/// A note's lines as they are typed, joined by line breaks, never past the
/// longest text: a text that breaks a rule is still read to its end (so
/// that none of its lines is taken for a command), then refused whole.
pub struct TextLines {
    text: Zeroizing<String>,
    refused: Option<String>,
}

impl Default for TextLines {
    fn default() -> Self {
        Self::new()
    }
}

impl TextLines {
    pub fn new() -> Self {
        Self {
            // Never grown: no copy of the text is left behind.
            text: Zeroizing::new(String::with_capacity(NoteText::MAX_BYTES)),
            refused: None,
        }
    }

    /// Takes one line; `true` when it is the `.` that ends the text.
    pub fn push(&mut self, line: &str) -> bool {
        if line == "." {
            return true;
        }
        if self.refused.is_some() {
            return false;
        }
        let size = self.text.len() + usize::from(!self.text.is_empty()) + line.len();
        if size > NoteText::MAX_BYTES {
            self.refuse(NoteText::TOO_LONG);
            return false;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
        false
    }

    /// A line could not be taken (`why`): the whole text will be refused.
    pub fn refuse(&mut self, why: &str) {
        self.text.clear();
        self.refused.get_or_insert_with(|| why.to_owned());
    }

    /// The text, or why it is refused.
    pub fn finish(self) -> Result<Zeroizing<String>, ShellError> {
        match self.refused {
            Some(why) => Err(unstored(&why)),
            None => Ok(self.text),
        }
    }
}

fn unstored(why: &str) -> ShellError {
    DomainError::invalid("text", format!("{why}; nothing was stored")).into()
}

/// Why the rest of an input was not read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestError {
    /// It held more than was asked for.
    TooMuch,
    /// It could not be read; the reason.
    Failed(&'static str),
}

/// An input that is not a terminal, read to its end.
pub trait RestOfInput: Send {
    /// The rest of the input, at most `max` bytes.
    fn read_rest(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, RestError>> + Send;

    /// The next line of the input, without its end: a passphrase after
    /// the PIN line.
    fn read_input_line(
        &mut self,
    ) -> impl Future<Output = Result<Zeroizing<String>, RestError>> + Send;

    /// The file at `path`, at most `max` bytes, where this side can open
    /// files (the local client); over SSH it cannot.
    fn read_path(
        &mut self,
        path: &str,
        max: usize,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, ShellError>> + Send {
        let _ = (path, max);
        async { Err(ShellError::Usage(super::FILE_FROM_STDIN.to_owned())) }
    }
}

impl<R: RestOfInput> RestOfInput for &mut R {
    fn read_rest(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, RestError>> + Send {
        (**self).read_rest(max)
    }

    fn read_path(
        &mut self,
        path: &str,
        max: usize,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, ShellError>> + Send {
        (**self).read_path(path, max)
    }

    fn read_input_line(
        &mut self,
    ) -> impl Future<Output = Result<Zeroizing<String>, RestError>> + Send {
        (**self).read_input_line()
    }
}

/// A prompter for input that is not a terminal: it asks nothing (a missing
/// value is an error naming its flag), and a note's text is the rest of
/// the input, one final line break dropped so that `show --field text`
/// gives a file back byte for byte.
pub struct Unattended<R>(pub R);

impl<R: RestOfInput> Prompter for Unattended<R> {
    async fn ask(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        Err(ShellError::Missing(q.flag))
    }

    async fn say(&mut self, _line: &str) -> Result<(), ShellError> {
        Ok(())
    }

    fn interactive(&self) -> bool {
        false
    }

    async fn ask_secret_line(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        match self.0.read_input_line().await {
            Ok(line) => Ok(line),
            Err(_) => Err(ShellError::Usage(format!(
                "error: the {} is read from the line of standard input after the PIN",
                q.flag
            ))),
        }
    }

    async fn read_file(
        &mut self,
        path: Option<&str>,
        max: usize,
    ) -> Result<Zeroizing<Vec<u8>>, ShellError> {
        if let Some(path) = path.filter(|p| *p != "-") {
            return self.0.read_path(path, max).await;
        }
        match self.0.read_rest(max).await {
            Ok(bytes) => Ok(bytes),
            Err(RestError::TooMuch) => Err(ServiceError::BadFile(FileError::TooLarge).into()),
            Err(RestError::Failed(why)) => Err(ShellError::Usage(format!(
                "error: {why}; nothing was imported"
            ))),
        }
    }

    async fn ask_text(&mut self, _q: &Question) -> Result<Zeroizing<String>, ShellError> {
        // Room for the longest text and a CR LF after it.
        let mut bytes = match self.0.read_rest(NoteText::MAX_BYTES + 2).await {
            Ok(bytes) => bytes,
            Err(RestError::TooMuch) => return Err(unstored(NoteText::TOO_LONG)),
            Err(RestError::Failed(why)) => return Err(unstored(why)),
        };
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                Err(unstored("the input is not valid UTF-8"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_joined_up_to_the_dot() {
        let mut lines = TextLines::new();
        for line in ["one", "", "  three"] {
            assert!(!lines.push(line));
        }
        assert!(lines.push("."));
        assert_eq!(lines.finish().expect("text").as_str(), "one\n\n  three");
    }

    #[test]
    fn a_text_over_64_kib_is_refused_whole_even_if_later_lines_fit() {
        let mut lines = TextLines::new();
        lines.push(&"a".repeat(NoteText::MAX_BYTES - 1));
        lines.push("bc");
        lines.push("d");
        let refused = lines.finish().map(|_| ()).expect_err("too long");
        assert!(refused.to_string().contains("64 KiB"), "{refused}");
    }

    #[test]
    fn exactly_64_kib_of_lines_fits() {
        let mut lines = TextLines::new();
        lines.push(&"a".repeat(NoteText::MAX_BYTES - 2));
        lines.push("b");
        assert_eq!(lines.finish().expect("fits").len(), NoteText::MAX_BYTES);
    }
}
