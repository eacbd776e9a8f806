//! `passwd`, `pin`, `recovery-key` and `account delete` (`whoami`, `lock` and `exit` are one line each in
//! [`super::Command::apply`]).

use zeroize::Zeroizing;

use super::require_twice;
use crate::domain::{Login, Password, Pin};
use crate::shell::{Ctx, Output, Prompter, Question, ShellError, Vault};

async fn ask_secret<P: Prompter>(
    p: &mut P,
    flag: &'static str,
    prompt: &str,
) -> Result<Zeroizing<String>, ShellError> {
    p.ask(&Question {
        flag,
        prompt: prompt.to_owned(),
        secret: true,
    })
    .await
}

/// A command that asks for secrets runs only where it can ask.
fn needs_terminal(p: &impl Prompter, why: &str) -> Result<(), ShellError> {
    if p.interactive() {
        Ok(())
    } else {
        Err(ShellError::Usage(format!(
            "error: {why}: run it in the shell or with a terminal (ssh -t)"
        )))
    }
}

/// `passwd`: asks the current password and the new one twice.
pub async fn passwd<V: Vault, P: Prompter>(ctx: &mut Ctx<'_, V, P>) -> Result<Output, ShellError> {
    needs_terminal(ctx.prompter, "passwd asks for passwords")?;
    let current = ask_secret(ctx.prompter, "current-password", "Current password: ").await?;
    let login = ctx.vault.login().clone();
    let new = require_twice(ctx.prompter, "new-password", "New password: ", |s| {
        Password::parse(s, &login)
    })
    .await?;
    let pin = if ctx.vault.knows_credentials() {
        None
    } else {
        Some(ask_secret(ctx.prompter, "pin", "PIN: ").await?)
    };
    ctx.vault
        .change_password(&current, pin.as_deref().map(String::as_str), new)
        .await?;
    Ok(Output::Done("Password changed.".into()))
}

/// `pin`: asks the current PIN and the new one twice.
pub async fn change_pin<V: Vault, P: Prompter>(
    ctx: &mut Ctx<'_, V, P>,
) -> Result<Output, ShellError> {
    needs_terminal(ctx.prompter, "pin asks for PINs")?;
    let password = if ctx.vault.knows_credentials() {
        None
    } else {
        Some(ask_secret(ctx.prompter, "password", "Password: ").await?)
    };
    let current = ask_secret(ctx.prompter, "current-pin", "Current PIN: ").await?;
    let new = require_twice(ctx.prompter, "new-pin", "New PIN: ", Pin::parse).await?;
    ctx.vault
        .change_pin(password.as_deref().map(String::as_str), &current, new)
        .await?;
    Ok(Output::Done("PIN changed.".into()))
}

/// `recovery-key`: asks the password again (and the PIN where the vault
/// does not hold it), then shows a new recovery key; the old one stops
/// working.
pub async fn recovery_key<V: Vault, P: Prompter>(
    ctx: &mut Ctx<'_, V, P>,
) -> Result<Output, ShellError> {
    needs_terminal(ctx.prompter, "recovery-key asks for your password")?;
    let password = ask_secret(ctx.prompter, "password", "Password: ").await?;
    let pin = if ctx.vault.knows_credentials() {
        None
    } else {
        Some(ask_secret(ctx.prompter, "pin", "PIN: ").await?)
    };
    let key = ctx
        .vault
        .new_recovery_key(&password, pin.as_deref().map(String::as_str))
        .await?;
    Ok(Output::Field(Zeroizing::new(format!(
        "Your new recovery key, shown this once (the old one no longer works):\n\n    {}\n\n\
         With it, `ssh recover@<this host>` sets a new password and PIN. Without it, a \
         forgotten password or PIN loses the vault.",
        key.as_str()
    ))))
}

/// `account delete`: asks the password and the PIN again (even where the
/// session holds them: the one who typed them may have walked away), then
/// the login, typed out, to confirm. The session ends with the account.
pub async fn delete<V: Vault, P: Prompter>(ctx: &mut Ctx<'_, V, P>) -> Result<Output, ShellError> {
    needs_terminal(
        ctx.prompter,
        "account delete asks for your password and PIN",
    )?;
    let login = ctx.vault.login().clone();
    ctx.prompter
        .say(&format!(
            "This deletes the account `{login}` and every item in it, for good; nobody, the \
             operator included, can bring them back. `export` first to keep a copy."
        ))
        .await?;
    let password = ask_secret(ctx.prompter, "password", "Password: ").await?;
    let pin = ask_secret(ctx.prompter, "pin", "PIN: ").await?;
    let typed = ctx
        .prompter
        .ask(&Question {
            flag: "confirm",
            prompt: format!("Type `{login}` to delete the account: "),
            secret: false,
        })
        .await?;
    if Login::parse(&typed).ok().as_ref() != Some(&login) {
        return Err(ShellError::Usage(
            "error: that is not the login; the account was not deleted".into(),
        ));
    }
    ctx.vault.delete_account(&password, &pin).await?;
    Ok(Output::Deleted(format!(
        "The account `{login}` and every item in it are deleted. Goodbye."
    )))
}
