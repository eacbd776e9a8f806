//! `whoami`, `lock`, `passwd`, `pin`, `exit`.

use zeroize::Zeroizing;

use super::require_twice;
use crate::domain::{Password, Pin};
use crate::shell::{Ctx, Output, Prompter, Question, ShellError, Vault};

/// `whoami`.
#[derive(Debug)]
pub struct Whoami;

impl Whoami {
    pub fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        Ok(Output::Whoami(ctx.vault.login().clone()))
    }
}

/// `lock`.
#[derive(Debug)]
pub struct Lock;

impl Lock {
    pub fn apply(self) -> Result<Output, ShellError> {
        Ok(Output::Lock)
    }
}

/// `exit`.
#[derive(Debug)]
pub struct Exit;

impl Exit {
    pub fn apply(self) -> Result<Output, ShellError> {
        Ok(Output::Exit)
    }
}

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

/// `passwd`: asks the current password and the new one twice.
#[derive(Debug)]
pub struct Passwd;

impl Passwd {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        if !ctx.prompter.interactive() {
            return Err(ShellError::Usage(
                "error: passwd asks for passwords: run it in the shell or with a terminal (ssh -t)"
                    .into(),
            ));
        }
        let current = ask_secret(ctx.prompter, "current-password", "Current password: ").await?;
        let login = ctx.vault.login().clone();
        let new = require_twice(ctx.prompter, "new-password", "New password: ", |s| {
            Password::parse(s, &login)
        })
        .await?;
        let pin = if ctx.vault.knows_pin() {
            None
        } else {
            Some(ask_secret(ctx.prompter, "pin", "PIN: ").await?)
        };
        ctx.vault
            .change_password(&current, pin.as_deref().map(String::as_str), new)
            .await?;
        Ok(Output::Done("Password changed.".into()))
    }
}

/// `pin`: asks the current PIN and the new one twice.
#[derive(Debug)]
pub struct ChangePin;

impl ChangePin {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        if !ctx.prompter.interactive() {
            return Err(ShellError::Usage(
                "error: pin asks for PINs: run it in the shell or with a terminal (ssh -t)".into(),
            ));
        }
        let password = if ctx.vault.knows_password() {
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
}
