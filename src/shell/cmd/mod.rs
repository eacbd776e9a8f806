//! Commands: one type per command, each with `apply(self, ctx) -> Output`.
//! [`Command`] is the single dispatch point.

pub mod account;
pub mod card;
pub mod help;
pub mod log;
pub mod parse;
pub mod pass;

pub use parse::{parse_line, parse_words};

use zeroize::Zeroizing;

use super::{Ctx, Output, Prompter, Question, ShellError, Vault};
use crate::domain::DomainError;

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    CardAdd(card::Add),
    CardList(card::List),
    CardShow(card::Show),
    CardEdit(card::Edit),
    CardRm(card::Rm),
    PassAdd(pass::Add),
    PassList(pass::List),
    PassShow(pass::Show),
    PassEdit(pass::Edit),
    PassRm(pass::Rm),
    PassGen(pass::Gen),
    PassCopy(pass::Copy),
    Log(log::Log),
    Whoami(account::Whoami),
    Lock(account::Lock),
    Passwd(account::Passwd),
    Pin(account::ChangePin),
    Exit(account::Exit),
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
            Command::CardList(c) => c.apply(ctx).await,
            Command::CardShow(c) => c.apply(ctx).await,
            Command::CardEdit(c) => c.apply(ctx).await,
            Command::CardRm(c) => c.apply(ctx).await,
            Command::PassAdd(c) => c.apply(ctx).await,
            Command::PassList(c) => c.apply(ctx).await,
            Command::PassShow(c) => c.apply(ctx).await,
            Command::PassEdit(c) => c.apply(ctx).await,
            Command::PassRm(c) => c.apply(ctx).await,
            Command::PassGen(c) => c.apply(),
            Command::PassCopy(c) => c.apply(ctx).await,
            Command::Log(c) => c.apply(ctx).await,
            Command::Whoami(c) => c.apply(ctx),
            Command::Lock(c) => c.apply(),
            Command::Passwd(c) => c.apply(ctx).await,
            Command::Pin(c) => c.apply(ctx).await,
            Command::Exit(c) => c.apply(),
            Command::Help(c) => c.apply(),
        }
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
        )
    }
}

/// How many invalid answers a prompt accepts before giving up.
const ATTEMPTS: usize = 3;

/// Asks until the answer parses (at most [`ATTEMPTS`] times). With `optional`,
/// an empty answer means "none".
pub(super) async fn ask<P: Prompter, T>(
    prompter: &mut P,
    flag: &'static str,
    prompt: &str,
    secret: bool,
    optional: bool,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, ShellError> {
    let question = Question {
        flag,
        prompt: prompt.to_owned(),
        secret,
    };
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

/// Asks for a required value.
pub(super) async fn require<P: Prompter, T>(
    prompter: &mut P,
    flag: &'static str,
    prompt: &str,
    secret: bool,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<T, ShellError> {
    ask(prompter, flag, prompt, secret, false, parse)
        .await?
        .ok_or(ShellError::Cancelled)
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
