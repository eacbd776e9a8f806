//! The local terminal: rustyline for lines (history, completion), and
//! echo-less reads for secrets.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};

use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use zeroize::Zeroizing;

use crate::shell::complete::ShellCompleter;
use crate::shell::input::{RestError, RestOfInput, TextLines};
use crate::shell::{Prompter, Question, ShellError};

/// Reads one line from standard input with echo turned off when it is a
/// terminal; the prompt goes to standard error.
pub fn read_secret(prompt: &str) -> std::io::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    let saved = if stdin.is_terminal() {
        tcgetattr(&stdin).ok()
    } else {
        None
    };
    // Echo goes off before the prompt appears, so nothing typed after seeing
    // it is ever shown; TCSANOW keeps what was already typed (TCSAFLUSH would
    // throw a quick typist's password away).
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        quiet.local_flags.insert(LocalFlags::ECHONL);
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, &quiet);
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = Zeroizing::new(String::new());
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = &saved {
        let _ = tcsetattr(&stdin, SetArg::TCSANOW, saved);
    }
    ended_line(read?, &mut line)?;
    Ok(line)
}

/// Reads one visible line from standard input (prompt on standard error).
pub fn read_visible(prompt: &str) -> std::io::Result<Zeroizing<String>> {
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin().lock().read_line(&mut line)?;
    ended_line(read, &mut line)?;
    Ok(line)
}

/// After a read of `read` bytes into `line`: an error if input ended before
/// a line did, else the line without its line end.
fn ended_line(read: usize, line: &mut String) -> std::io::Result<()> {
    if read == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "input ended",
        ));
    }
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(())
}

/// Completion for rustyline, from the shell's own completer.
#[derive(Default)]
pub struct KeeperHelper {
    pub completer: ShellCompleter,
}

impl Completer for KeeperHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        // rustyline counts bytes, the shell completer counts characters.
        let char_pos = line[..pos.min(line.len())].chars().count();
        let (start, words) = self.completer.candidates(line, char_pos);
        let byte_start = line
            .char_indices()
            .nth(start)
            .map_or(line.len(), |(i, _)| i);
        let words = words.into_iter().map(|w| format!("{w} ")).collect();
        Ok((byte_start, words))
    }
}

impl Hinter for KeeperHelper {
    type Hint = String;
}

impl Highlighter for KeeperHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for KeeperHelper {}

impl Helper for KeeperHelper {}

/// Asks questions in the local terminal.
pub struct LocalPrompter<'a> {
    pub editor: Option<&'a mut rustyline::Editor<KeeperHelper, rustyline::history::DefaultHistory>>,
}

impl Prompter for LocalPrompter<'_> {
    async fn ask(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        if q.secret {
            return read_secret(&q.prompt).map_err(|_| ShellError::Cancelled);
        }
        match &mut self.editor {
            // Answers are not commands: they stay out of the history.
            Some(editor) => editor
                .readline(&q.prompt)
                .map(Zeroizing::new)
                .map_err(|_| ShellError::Cancelled),
            None => read_visible(&q.prompt).map_err(|_| ShellError::Cancelled),
        }
    }

    async fn say(&mut self, line: &str) -> Result<(), ShellError> {
        eprintln!("{line}");
        Ok(())
    }

    async fn ask_text(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        eprintln!("{}", q.prompt);
        self.read_text()
    }

    async fn read_file(
        &mut self,
        path: Option<&str>,
        max: usize,
    ) -> Result<Zeroizing<Vec<u8>>, ShellError> {
        match path {
            Some(path) if path != "-" => read_local_file(path, max),
            _ => Err(ShellError::Usage(
                "error: name the file: `import --format FORMAT FILE`".to_owned(),
            )),
        }
    }
}

impl LocalPrompter<'_> {
    /// One line of a note's text; `None` when input ends (Ctrl-D).
    fn text_line(&mut self) -> Result<Option<Zeroizing<String>>, ShellError> {
        match &mut self.editor {
            Some(editor) => match editor.readline("> ") {
                Ok(line) => Ok(Some(Zeroizing::new(line))),
                Err(rustyline::error::ReadlineError::Eof) => Ok(None),
                Err(_) => Err(ShellError::Cancelled),
            },
            None => match read_visible("") {
                Ok(line) => Ok(Some(line)),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                Err(_) => Err(ShellError::Cancelled),
            },
        }
    }

    /// The lines of a note up to one holding only `.` or the end of input.
    fn read_text(&mut self) -> Result<Zeroizing<String>, ShellError> {
        let mut lines = TextLines::new();
        while let Some(line) = self.text_line()? {
            if lines.push(&line) {
                break;
            }
        }
        lines.finish()
    }
}

/// The file at `path`, at most `max` bytes.
pub fn read_local_file(path: &str, max: usize) -> Result<Zeroizing<Vec<u8>>, ShellError> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| {
        ShellError::Usage(format!(
            "error: cannot read `{path}`: {e}; nothing was imported"
        ))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > max {
        return Err(
            crate::service::ServiceError::BadFile(crate::interchange::FileError::TooLarge).into(),
        );
    }
    Ok(bytes)
}

/// Standard input, when it is not a terminal: a one-shot command reads a
/// note's text from it, as SSH exec does.
pub struct Stdin;

impl RestOfInput for Stdin {
    async fn read_rest(&mut self, max: usize) -> Result<Zeroizing<Vec<u8>>, RestError> {
        use std::io::Read;
        // One byte more than `max` tells there was more.
        let mut bytes = Zeroizing::new(Vec::with_capacity(max + 1));
        std::io::stdin()
            .lock()
            .take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| RestError::Failed("standard input could not be read"))?;
        if bytes.len() > max {
            return Err(RestError::TooMuch);
        }
        Ok(bytes)
    }

    async fn read_path(
        &mut self,
        path: &str,
        max: usize,
    ) -> Result<Zeroizing<Vec<u8>>, ShellError> {
        read_local_file(path, max)
    }

    async fn read_input_line(&mut self) -> Result<Zeroizing<String>, RestError> {
        read_visible("").map_err(|_| RestError::Failed("standard input ended before that line"))
    }
}
