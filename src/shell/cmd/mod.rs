//! Commands: one type per command, each with `apply(self, ctx) -> Output`.
//! [`Command`] is the single dispatch point.

pub mod account;
pub mod card;
pub mod find;
pub mod help;
pub mod identity;
pub mod item;
pub mod log;
pub mod note;
pub mod parse;
pub mod pass;
pub mod totp;
pub mod transfer;
pub mod trash;

pub use parse::{parse_line, parse_words};

use zeroize::Zeroizing;

use super::{Ctx, Output, Prompter, Question, ShellError, Vault};
use crate::domain::DomainError;
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    CardAdd(card::Add),
    CardList(item::List<Card>),
    CardShow(item::Show<Card>),
    CardEdit(item::Edit<Card>),
    CardRm(item::Rm<Card>),
    CardHistory(item::History<Card>),
    PassAdd(pass::Add),
    PassList(item::List<Password>),
    PassShow(item::Show<Password>),
    PassEdit(item::Edit<Password>),
    PassRm(item::Rm<Password>),
    PassHistory(item::History<Password>),
    PassGen(pass::Gen),
    PassCopy(pass::Copy),
    PassTotp(pass::Code),
    NoteAdd(note::Add),
    NoteList(item::List<SecureNote>),
    NoteShow(item::Show<SecureNote>),
    NoteEdit(note::Edit),
    NoteRm(item::Rm<SecureNote>),
    NoteHistory(item::History<SecureNote>),
    TotpAdd(totp::Add),
    TotpList(item::List<Totp>),
    TotpShow(totp::Show),
    TotpCopy(totp::Copy),
    TotpEdit(totp::Edit),
    TotpRm(item::Rm<Totp>),
    TotpHistory(item::History<Totp>),
    IdAdd(identity::Add),
    IdList(item::List<Identity>),
    IdShow(item::Show<Identity>),
    IdEdit(item::Edit<Identity>),
    IdRm(item::Rm<Identity>),
    IdHistory(item::History<Identity>),
    TrashList(trash::List),
    TrashRestore(trash::Restore),
    TrashEmpty(trash::Empty),
    Find(find::Find),
    Health(find::Health),
    Import(transfer::Import),
    Export(transfer::Export),
    Log(log::Log),
    Whoami,
    Lock,
    Passwd,
    Pin,
    RecoveryKey,
    AccountDelete,
    Exit,
    Help(help::Help),
}

impl Command {
    /// Runs the command.
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        match self {
            Command::CardAdd(c) => c.apply(ctx).await,
            Command::CardList(c) => c.apply(ctx.vault).await,
            Command::CardShow(c) => c.apply(ctx.vault).await,
            Command::CardEdit(c) => c.apply(ctx.vault).await,
            Command::CardRm(c) => c.apply(ctx).await,
            Command::CardHistory(c) => c.apply(ctx.vault).await,
            Command::PassAdd(c) => c.apply(ctx).await,
            Command::PassList(c) => c.apply(ctx.vault).await,
            Command::PassShow(c) => c.apply(ctx.vault).await,
            Command::PassEdit(c) => c.apply(ctx.vault).await,
            Command::PassRm(c) => c.apply(ctx).await,
            Command::PassHistory(c) => c.apply(ctx.vault).await,
            Command::PassGen(c) => c.apply(),
            Command::PassCopy(c) => c.apply(ctx.vault).await,
            Command::PassTotp(c) => c.apply(ctx.vault).await,
            Command::NoteAdd(c) => c.apply(ctx).await,
            Command::NoteList(c) => c.apply(ctx.vault).await,
            Command::NoteShow(c) => c.apply(ctx.vault).await,
            Command::NoteEdit(c) => c.apply(ctx).await,
            Command::NoteRm(c) => c.apply(ctx).await,
            Command::NoteHistory(c) => c.apply(ctx.vault).await,
            Command::TotpAdd(c) => c.apply(ctx).await,
            Command::TotpList(c) => c.apply(ctx.vault).await,
            Command::TotpShow(c) => c.apply(ctx.vault).await,
            Command::TotpCopy(c) => c.apply(ctx.vault).await,
            Command::TotpEdit(c) => c.apply(ctx.vault).await,
            Command::TotpRm(c) => c.apply(ctx).await,
            Command::TotpHistory(c) => c.apply(ctx.vault).await,
            Command::IdAdd(c) => c.apply(ctx).await,
            Command::IdList(c) => c.apply(ctx.vault).await,
            Command::IdShow(c) => c.apply(ctx.vault).await,
            Command::IdEdit(c) => c.apply(ctx.vault).await,
            Command::IdRm(c) => c.apply(ctx).await,
            Command::IdHistory(c) => c.apply(ctx.vault).await,
            Command::TrashList(c) => c.apply(ctx.vault).await,
            Command::TrashRestore(c) => c.apply(ctx.vault).await,
            Command::TrashEmpty(c) => c.apply(ctx).await,
            Command::Find(c) => c.apply(ctx.vault).await,
            Command::Health(c) => c.apply(ctx.vault).await,
            Command::Import(c) => c.apply(ctx).await,
            Command::Export(c) => c.apply(ctx).await,
            Command::Log(c) => c.apply(ctx.vault).await,
            Command::Whoami => Ok(Output::Whoami(ctx.vault.login().clone())),
            Command::Lock => Ok(Output::Lock),
            Command::Passwd => account::passwd(ctx).await,
            Command::Pin => account::change_pin(ctx).await,
            Command::RecoveryKey => account::recovery_key(ctx).await,
            Command::AccountDelete => account::delete(ctx).await,
            Command::Exit => Ok(Output::Exit),
            Command::Help(c) => c.apply(),
        }
    }

    /// Runs a command given whole (SSH exec, the local client's argv): it
    /// asks through `prompter` on a terminal; without one
    /// ([`Unattended`](crate::shell::input::Unattended)) a missing value is
    /// an error that names its flag.
    pub async fn run<V: Vault, P: Prompter>(
        self,
        vault: &mut V,
        prompter: &mut P,
    ) -> Result<Output, ShellError> {
        self.apply(&mut Ctx { vault, prompter }).await
    }

    /// Whether the command writes to the user's clipboard, which needs a
    /// terminal (OSC 52).
    pub fn copies(&self) -> bool {
        matches!(self, Command::PassCopy(_) | Command::TotpCopy(_))
    }

    /// Whether the command changes the set or names of stored items, so a
    /// front end knows to refresh what it completes.
    pub fn changes_items(&self) -> bool {
        matches!(
            self,
            Command::CardAdd(_)
                | Command::CardEdit(_)
                | Command::CardRm(_)
                | Command::PassAdd(_)
                | Command::PassEdit(_)
                | Command::PassRm(_)
                | Command::NoteAdd(_)
                | Command::NoteEdit(_)
                | Command::NoteRm(_)
                | Command::TotpAdd(_)
                | Command::TotpEdit(_)
                | Command::TotpRm(_)
                | Command::IdAdd(_)
                | Command::IdEdit(_)
                | Command::IdRm(_)
                | Command::TrashRestore(_)
        )
    }
}

/// How many invalid answers a prompt accepts before giving up.
const ATTEMPTS: usize = 3;

/// How an answer is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Echo {
    Shown,
    Hidden,
}

/// Asks `prompt` until the answer parses (at most [`ATTEMPTS`] times).
/// With `optional`, an empty answer means "none".
async fn ask<P: Prompter, T>(
    prompter: &mut P,
    question: Question,
    optional: bool,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, ShellError> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let answer: Zeroizing<String> = prompter.ask(&question).await?;
        if optional && answer.trim().is_empty() {
            return Ok(None);
        }
        match parse(&answer) {
            Ok(v) => return Ok(Some(v)),
            Err(e) => {
                last = e.to_string();
                prompter.say(&format!("error: {last}")).await?;
            }
        }
    }
    Err(ShellError::TooManyAttempts(format!(
        "{last} (gave up after {ATTEMPTS} tries)"
    )))
}

/// A required value: the one the command line gave, or else the answer to
/// `Label: `.
pub(super) async fn need<P: Prompter, T>(
    p: &mut P,
    given: Option<T>,
    (flag, label, echo): (&'static str, &str, Echo),
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<T, ShellError> {
    if let Some(v) = given {
        return Ok(v);
    }
    let question = Question {
        flag,
        prompt: format!("{label}: "),
        secret: echo == Echo::Hidden,
    };
    ask(p, question, false, parse)
        .await?
        .ok_or(ShellError::Cancelled)
}

/// An optional value: the one the command line gave; else, in a
/// `dialogue`, the answer to `Label (optional): ` (empty for none); else none.
pub(super) async fn offer<P: Prompter, T>(
    p: &mut P,
    dialogue: bool,
    given: Option<T>,
    (flag, label, echo): (&'static str, &str, Echo),
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, ShellError> {
    if given.is_some() || !dialogue {
        return Ok(given);
    }
    let question = Question {
        flag,
        prompt: format!("{label} (optional): "),
        secret: echo == Echo::Hidden,
    };
    ask(p, question, true, parse).await
}

/// Asks for a secret twice; both answers must match.
pub(super) async fn require_twice<P: Prompter, T>(
    prompter: &mut P,
    flag: &'static str,
    prompt: &str,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<T, ShellError> {
    for _ in 0..ATTEMPTS {
        let first = prompter
            .ask(&Question {
                flag,
                prompt: prompt.to_owned(),
                secret: true,
            })
            .await?;
        if let Err(e) = parse(&first) {
            prompter.say(&format!("error: {e}")).await?;
            continue;
        }
        let again = prompter
            .ask(&Question {
                flag,
                prompt: "Repeat: ".to_owned(),
                secret: true,
            })
            .await?;
        if *first != *again {
            prompter.say("error: the two entries differ").await?;
            continue;
        }
        return Ok(parse(&first)?);
    }
    Err(ShellError::TooManyAttempts(format!(
        "no valid {flag} after {ATTEMPTS} tries"
    )))
}
