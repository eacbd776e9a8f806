//! The registration dialogue behind `ssh new@HOST`.

use zeroize::Zeroizing;

use super::terminal::Terminal;
use crate::domain::{Login, Password, Pin};
use crate::service::{Origin, ServiceError, Services, Unlocked};
use crate::shell::{Credentials, Prompter, Question, ShellError};

const ATTEMPTS: usize = 3;

async fn ask(
    term: &mut Terminal,
    prompt: &str,
    secret: bool,
) -> Result<Zeroizing<String>, ShellError> {
    term.ask(&Question {
        flag: "registration",
        prompt: prompt.to_owned(),
        secret,
    })
    .await
}

/// Asks for a value until it parses, or gives up after a few tries.
async fn ask_valid<T>(
    term: &mut Terminal,
    prompt: &str,
    parse: impl Fn(&str) -> Result<T, crate::domain::DomainError>,
) -> Result<T, ShellError> {
    for _ in 0..ATTEMPTS {
        let answer = ask(term, prompt, false).await?;
        match parse(&answer) {
            Ok(v) => return Ok(v),
            Err(e) => term.say(&format!("error: {e}")).await?,
        }
    }
    Err(ShellError::Cancelled)
}

/// Asks for a secret twice, without echo, until both match and it parses.
async fn ask_secret_twice<T>(
    term: &mut Terminal,
    prompt: &str,
    parse: impl Fn(&str) -> Result<T, crate::domain::DomainError>,
) -> Result<(T, Zeroizing<String>), ShellError> {
    for _ in 0..ATTEMPTS {
        let first = ask(term, prompt, true).await?;
        if let Err(e) = parse(&first) {
            term.say(&format!("error: {e}")).await?;
            continue;
        }
        let again = ask(term, "Repeat: ", true).await?;
        if *first != *again {
            term.say("error: the two entries differ").await?;
            continue;
        }
        let value = parse(&first)?;
        return Ok((value, first));
    }
    Err(ShellError::Cancelled)
}

async fn dialogue(
    services: &Services,
    origin: &Origin,
    term: &mut Terminal,
) -> Result<(Unlocked, Credentials), ShellError> {
    term.write("Welcome to Keeper. Let's create your account (Ctrl-C cancels).\n")
        .await;
    for _ in 0..ATTEMPTS {
        let login = ask_valid(term, "Login: ", Login::parse).await?;
        let (password, password_text) = ask_secret_twice(term, "Password (8+ characters): ", |s| {
            Password::parse(s, &login)
        })
        .await?;
        let (pin, pin_text) = ask_secret_twice(term, "PIN (4-12 digits): ", Pin::parse).await?;
        match services
            .register(origin, login.clone(), password, pin)
            .await
        {
            Ok(vault) => {
                term.write(&format!(
                    "Account `{login}` created. Next time: ssh {login}@<this host>, then your PIN.\n"
                ))
                .await;
                return Ok((
                    vault,
                    Credentials {
                        password: password_text,
                        pin: pin_text,
                    },
                ));
            }
            Err(ServiceError::Conflict(msg)) => {
                term.say(&format!("error: {msg}; choose another")).await?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ShellError::Cancelled)
}

/// Runs the dialogue; `None` if the user gave up or it failed (already reported).
pub async fn register(
    services: &Services,
    origin: &Origin,
    term: &mut Terminal,
) -> Option<(Unlocked, Credentials)> {
    match dialogue(services, origin, term).await {
        Ok(done) => Some(done),
        Err(ShellError::Cancelled) => {
            term.write("\nRegistration cancelled.\n").await;
            None
        }
        Err(e) => {
            if let ShellError::Service(s) = &e
                && let Some(detail) = s.internal_detail()
            {
                tracing::error!(error = %detail, "registration failed");
            }
            term.write_err(&format!("error: {e}\n")).await;
            None
        }
    }
}
