//! The command shell shared by every front end: one grammar, one set of
//! commands, one renderer.
//!
//! A front end reads a line, calls [`parse_line`], runs the [`Command`] with a
//! [`Ctx`] (the services, the unlocked vault and a [`Prompter`] that knows how
//! to ask the user for missing fields), and prints the [`Output`] with
//! [`render`]. The SSH shell, SSH exec and the local client differ only in
//! their prompter and in how they write bytes.

pub mod clipboard;
mod cmd;
pub mod complete;
pub mod generate;
mod grammar;
pub mod input;
pub mod render;
pub mod vault;

use std::future::Future;

use zeroize::Zeroizing;

use crate::domain::{Login, Secret};
use crate::service::ServiceError;

use crate::views::{
    CardDetail, CardSummary, EventView, FoundView, HealthEntry, HistoryEntry, IdentityDetail,
    IdentitySummary, NoteDetail, NoteSummary, PasswordDetail, PasswordSummary, SecretText,
    TotpCode, TotpDetail, TotpSummary, TrashEntry,
};
pub use cmd::Command;
pub use cmd::{parse_line, parse_words};
pub use grammar::{SECRET_FLAGS, commands, history_may_keep};
pub use vault::{Credentials, LocalVault, Vault};

/// Something that can ask the user a question: the interactive SSH shell,
/// the local client, or nothing at all (exec mode).
pub trait Prompter: Send {
    /// Asks `question`; `secret` answers are not echoed.
    fn ask(
        &mut self,
        question: &Question,
    ) -> impl Future<Output = Result<Zeroizing<String>, ShellError>> + Send;

    /// Tells the user something between questions (e.g. why an answer was refused).
    fn say(&mut self, line: &str) -> impl Future<Output = Result<(), ShellError>> + Send;

    /// Reads text of several lines (a note's), shown as typed: the lines
    /// up to one holding only `.` or the end of input. A prompter that
    /// cannot read more than a line fails as [`ShellError::Missing`].
    fn ask_text(
        &mut self,
        question: &Question,
    ) -> impl Future<Output = Result<Zeroizing<String>, ShellError>> + Send {
        let flag = question.flag;
        async move { Err(ShellError::Missing(flag)) }
    }

    /// A secret that, where no terminal asks it, is the next line of the
    /// input: an archive's passphrase through exec, after the PIN line.
    fn ask_secret_line(
        &mut self,
        question: &Question,
    ) -> impl Future<Output = Result<Zeroizing<String>, ShellError>> + Send {
        self.ask(question)
    }

    /// The whole of a file to import: the one at `path` where the front
    /// end can open files (the local client), else the rest of an input
    /// that is not a terminal (SSH exec). At most `max` bytes.
    fn read_file(
        &mut self,
        path: Option<&str>,
        max: usize,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, ShellError>> + Send {
        let _ = (path, max);
        async move { Err(ShellError::Usage(FILE_FROM_STDIN.to_owned())) }
    }

    /// Whether questions reach a person. Commands then also offer optional
    /// fields; without one (exec), only a missing required field is an error.
    fn interactive(&self) -> bool {
        true
    }
}

/// Why a file cannot be read where a terminal is the input.
pub const FILE_FROM_STDIN: &str = "error: over SSH, import reads the file from standard input \
     after the PIN line: `ssh HOST import --format FORMAT < FILE` (without -t)";

/// One question for a [`Prompter`].
#[derive(Debug, Clone)]
pub struct Question {
    /// The flag that would have answered it (`number` for `--number`).
    pub flag: &'static str,
    /// What the user sees, e.g. `Card number: `.
    pub prompt: String,
    /// Hidden input.
    pub secret: bool,
}

/// Everything a command may use: the vault and a way to ask the user.
pub struct Ctx<'a, V, P> {
    pub vault: &'a mut V,
    pub prompter: &'a mut P,
}

/// Why a command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The line did not match the grammar; the text is the full message.
    #[error("{0}")]
    Usage(String),
    /// A service refused or failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A required value was missing and could not be asked for.
    #[error("missing --{0} (exec mode cannot prompt; pass it as a flag)")]
    Missing(&'static str),
    /// The user gave up on a prompt (Ctrl-C) or input ended.
    #[error("cancelled")]
    Cancelled,
    /// Nothing was typed at a prompt for the idle limit: the session locks.
    #[error("locked after inactivity")]
    Idle,
    /// The password or PIN was changed in another session while this one
    /// waited at a prompt: the session ends.
    #[error("your password or PIN was changed in another session")]
    Revoked,
    /// Three invalid answers in a row.
    #[error("{0}")]
    TooManyAttempts(String),
}

impl From<crate::domain::DomainError> for ShellError {
    fn from(e: crate::domain::DomainError) -> Self {
        Self::Service(ServiceError::Invalid(e))
    }
}

impl ShellError {
    /// The exit status a command that failed so ends with: 2 when it was
    /// not a valid command line (a usage error), 1 for any other failure.
    pub fn exit_status(&self) -> u32 {
        match self {
            ShellError::Usage(_) | ShellError::Missing(_) => 2,
            _ => 1,
        }
    }

    /// The one line shown to the user for this error. Unexpected failures are
    /// logged with their detail and shown plainly.
    pub fn user_line(&self) -> String {
        // Names the user stored may appear in messages: never raw.
        crate::views::sanitize::sanitize(&self.raw_line()).into_owned()
    }

    fn raw_line(&self) -> String {
        match self {
            ShellError::Usage(m) => m.clone(),
            ShellError::Service(s) => {
                if let Some(detail) = s.internal_detail() {
                    tracing::error!(error = %detail, "command failed unexpectedly");
                }
                format!("error: {s}")
            }
            other => format!("error: {other}"),
        }
    }
}

/// Whether a command line holds a secret flag and must stay out of history.
/// A line that does not split (unbalanced quotes) is kept out too.
pub fn holds_secret(line: &str) -> bool {
    match shell_words::split(line) {
        Ok(words) => words.iter().any(|w| {
            SECRET_FLAGS
                .iter()
                .any(|f| w == f || w.strip_prefix(f).is_some_and(|rest| rest.starts_with('=')))
        }),
        Err(_) => true,
    }
}

/// What a command produced, before rendering.
#[derive(Debug)]
pub enum Output {
    /// Nothing to print.
    Nothing,
    /// A confirmation; any stored text in it was sanitised when it was built.
    Done(String),
    /// `card list`.
    Cards { cards: Vec<CardSummary>, json: bool },
    /// `card show` (number and CVV present only when revealed).
    Card { card: Box<CardDetail>, json: bool },
    /// `pass list`.
    Passwords {
        entries: Vec<PasswordSummary>,
        json: bool,
    },
    /// `pass show` (password present only when revealed).
    Password {
        entry: Box<PasswordDetail>,
        json: bool,
    },
    /// `note list`.
    Notes { notes: Vec<NoteSummary>, json: bool },
    /// `note show` (the text present only when revealed).
    Note { note: Box<NoteDetail>, json: bool },
    /// `totp list`.
    Totps { items: Vec<TotpSummary>, json: bool },
    /// `totp show`: the seed (its secret only when revealed) and the
    /// current code.
    Totp {
        totp: Box<TotpDetail>,
        code: Option<TotpCode>,
        json: bool,
    },
    /// `id list`.
    Identities {
        items: Vec<IdentitySummary>,
        json: bool,
    },
    /// `id show` (the document number present only when revealed).
    Identity {
        identity: Box<IdentityDetail>,
        json: bool,
    },
    /// `pass totp`: a code alone.
    Code { code: TotpCode, json: bool },
    /// `pass gen`: a fresh password or passphrase, stored nowhere, and
    /// its entropy in bits.
    Generated {
        secret: Secret,
        entropy_bits: f64,
        json: bool,
    },
    /// `show --field`: one field's value, as stored.
    Field(Zeroizing<String>),
    /// `pass copy`, `totp copy`: a secret goes to the user's clipboard, not
    /// the screen; `what` it is (`password`) is named in the message.
    Copy {
        what: &'static str,
        name: String,
        secret: SecretText,
        /// `--keep`: the front end does not clear it again.
        keep: bool,
    },
    /// `find`.
    Found { items: Vec<FoundView>, json: bool },
    /// `health`.
    Health {
        entries: Vec<HealthEntry>,
        json: bool,
    },
    /// `import`: what it stored, or would.
    Imported {
        summary: crate::views::ImportSummary,
        json: bool,
    },
    /// `export`: the file, written to standard output as it is.
    File(Zeroizing<String>),
    /// `trash list`.
    Trash { items: Vec<TrashEntry>, json: bool },
    /// `history` (the values present only when revealed).
    History {
        entries: Vec<HistoryEntry>,
        json: bool,
    },
    /// `log`.
    Events { events: Vec<EventView>, json: bool },
    /// `whoami`.
    Whoami(Login),
    /// `help`.
    Help(String),
    /// `lock`: the front end drops the keys and asks for the PIN.
    Lock,
    /// `exit`.
    Exit,
    /// `account delete`: the account is gone; the front end says so and
    /// ends the session.
    Deleted(String),
}
