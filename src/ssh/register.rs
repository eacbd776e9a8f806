//! The registration dialogue behind `ssh new@HOST`, and the recovery
//! dialogue behind `ssh recover@HOST`.

use zeroize::Zeroizing;

use super::terminal::Terminal;
use crate::domain::{InviteCode, Login, Password, Pin, RecoveryKey};
use crate::service::{Origin, Registration, ServiceError, Services, Unlocked};
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
    let invite = match services.registration() {
        Registration::Closed => {
            return Err(ServiceError::Forbidden(
                "registration is closed on this server; ask its operator for an account".into(),
            )
            .into());
        }
        Registration::Invite => {
            term.write("Welcome to Keeper. Registration here is by invite (Ctrl-C cancels).\n")
                .await;
            Some(ask_valid(term, "Invite code: ", InviteCode::parse).await?)
        }
        Registration::Open => {
            term.write("Welcome to Keeper. Let's create your account (Ctrl-C cancels).\n")
                .await;
            None
        }
    };
    for _ in 0..ATTEMPTS {
        let login = ask_valid(term, "Login: ", Login::parse).await?;
        let (password, password_text) = ask_secret_twice(term, "Password (8+ characters): ", |s| {
            Password::parse(s, &login)
        })
        .await?;
        let (pin, pin_text) = ask_secret_twice(term, "PIN (4-12 digits): ", Pin::parse).await?;
        match services
            .register(origin, login.clone(), password, pin, invite.as_ref())
            .await
        {
            Ok(registered) => {
                term.write(&format!(
                    "Account `{login}` created. Next time: ssh {login}@<this host>, then your PIN.\n"
                ))
                .await;
                show_recovery_key(term, &registered.recovery_key).await;
                return Ok((
                    registered.vault,
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

/// Shows a recovery key once, with what it is for.
async fn show_recovery_key(term: &mut Terminal, key: &RecoveryKey) {
    let shown = key.display();
    let text = Zeroizing::new(format!(
        "\nYour recovery key, shown this once (write it down, keep it apart from your devices):\n\n    \
         {}\n\nWith it, `ssh recover@<this host>` sets a new password and PIN. Without it, a \
         forgotten password or PIN loses the vault: nobody can open it.\n\n",
        shown.as_str()
    ));
    term.write(&text).await;
}

/// The recovery dialogue: login and recovery key, checked before anything
/// else is asked, then a new password and PIN; a new recovery key is shown.
async fn recovery(
    services: &Services,
    origin: &Origin,
    term: &mut Terminal,
) -> Result<(Unlocked, Credentials), ShellError> {
    term.write("Recover your account with its recovery key (Ctrl-C cancels).\n")
        .await;
    let mut proof = None;
    for _ in 0..ATTEMPTS {
        let login = ask_valid(term, "Login: ", Login::parse).await?;
        let typed = ask(term, "Recovery key: ", true).await?;
        let key = match RecoveryKey::parse(&typed) {
            Ok(key) => key,
            Err(e) => {
                term.say(&format!("error: {e}")).await?;
                continue;
            }
        };
        match services.check_recovery_key(origin, &login, &key).await {
            Ok(checked) => {
                proof = Some(checked);
                break;
            }
            Err(ServiceError::BadRecovery) => {
                term.say("error: wrong login or recovery key").await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let Some(proof) = proof else {
        return Err(ShellError::Cancelled);
    };
    let login = proof.login().clone();
    let (password, password_text) = ask_secret_twice(term, "New password (8+ characters): ", |s| {
        Password::parse(s, &login)
    })
    .await?;
    let (pin, pin_text) = ask_secret_twice(term, "New PIN (4-12 digits): ", Pin::parse).await?;
    let recovered = services.recover(origin, proof, password, pin).await?;
    term.write(&format!(
        "Password and PIN of `{login}` changed; every other session and API token of it has ended.\n"
    ))
    .await;
    show_recovery_key(term, &recovered.recovery_key).await;
    Ok((
        recovered.vault,
        Credentials {
            password: password_text,
            pin: pin_text,
        },
    ))
}

/// Runs the recovery dialogue; `None` if the user gave up or it failed
/// (already reported).
pub async fn recover(
    services: &Services,
    origin: &Origin,
    term: &mut Terminal,
) -> Option<(Unlocked, Credentials)> {
    let done = recovery(services, origin, term).await;
    finish(done, term, "Recovery").await
}

/// Runs the dialogue; `None` if the user gave up or it failed (already reported).
pub async fn register(
    services: &Services,
    origin: &Origin,
    term: &mut Terminal,
) -> Option<(Unlocked, Credentials)> {
    let done = dialogue(services, origin, term).await;
    finish(done, term, "Registration").await
}

async fn finish(
    done: Result<(Unlocked, Credentials), ShellError>,
    term: &mut Terminal,
    what: &str,
) -> Option<(Unlocked, Credentials)> {
    match done {
        Ok(done) => Some(done),
        Err(ShellError::Cancelled) => {
            term.write(&format!("\n{what} cancelled.\n")).await;
            None
        }
        Err(e) => {
            if let ShellError::Service(s) = &e
                && let Some(detail) = s.internal_detail()
            {
                tracing::error!(error = %detail, dialogue = what, "dialogue failed");
            }
            term.write_err(&format!("error: {e}\n")).await;
            None
        }
    }
}
