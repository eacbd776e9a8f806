//! `pass add | gen | copy`, and how passwords appear in the shell
//! (`pass list | show | edit | rm` are `item.rs`).

use super::Echo::Shown;
use super::item::Shelled;
use super::{need, offer, require_twice};
use crate::domain::kind::Password;
use crate::domain::{
    Extras, GenLength, ItemName, Note, PasswordFields, Secret, TotpSeed, Url, Username,
};
use crate::service::Access;
use crate::shell::generate::{Passphrase, generate, password_entropy};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{PasswordDetail, PasswordSummary, SecretText, TotpCode};
use zeroize::Zeroizing;

/// `pass add`: missing fields are asked for; the password hidden and twice.
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub url: Option<Url>,
    pub username: Option<Username>,
    pub password: Option<Secret>,
    pub generate: Option<GenLength>,
    pub note: Option<Note>,
    pub totp: Option<TotpSeed>,
    pub extras: Extras,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        let dialogue = p.interactive()
            && (self.name.is_none() || (self.password.is_none() && self.generate.is_none()));
        let generated = self.generate.is_some();
        let fields = PasswordFields {
            name: need(p, self.name, ("name", "Name", Shown), ItemName::parse).await?,
            url: offer(p, dialogue, self.url, ("url", "URL", Shown), Url::parse).await?,
            username: offer(
                p,
                dialogue,
                self.username,
                ("username", "Username", Shown),
                Username::parse,
            )
            .await?,
            password: match (self.password, self.generate) {
                (Some(v), _) => v,
                (None, Some(len)) => generate(len, true),
                (None, None) => require_twice(p, "password", "Password: ", Secret::parse).await?,
            },
            note: offer(p, dialogue, self.note, ("note", "Note", Shown), Note::parse).await?,
            totp: self.totp,
            extras: self.extras,
        };
        let entry = ctx.vault.add::<Password>(fields).await?;
        let how = if generated {
            " with a generated password"
        } else {
            ""
        };
        Ok(Output::Done(format!(
            "Added password `{}`{how}.",
            sanitize(&entry.name)
        )))
    }
}

impl Shelled for Password {
    const NOUN: &'static str = "password";
    const SHELL_WORD: &'static str = "pass";
    const EDIT_FLAGS: &'static str =
        "--name --url --username --password --generate --note --totp --tag --field --secret-field";
    fn field(e: &PasswordDetail, name: &str) -> Option<Zeroizing<String>> {
        let text = super::item::value;
        match name {
            "name" => Some(text(&e.summary.name)),
            "url" => e.summary.url.as_deref().map(text),
            "username" => e.summary.username.as_deref().map(text),
            "password" => e.password.as_ref().map(SecretText::to_zeroizing),
            "note" => e.note.as_deref().map(text),
            "totp" => e.totp.as_ref().map(SecretText::to_zeroizing),
            _ => None,
        }
    }

    fn list_output(entries: Vec<PasswordSummary>, json: bool) -> Output {
        Output::Passwords { entries, json }
    }

    fn show_output(entry: PasswordDetail, json: bool) -> Output {
        Output::Password {
            entry: Box::new(entry),
            json,
        }
    }

    fn matches(e: &PasswordSummary, filter: &str) -> bool {
        super::item::any_contains([Some(&e.name), e.url.as_ref(), e.username.as_ref()], filter)
    }
}

/// What `pass gen` makes.
#[derive(Debug)]
pub enum GenShape {
    /// Random characters.
    Password { length: GenLength, symbols: bool },
    /// Words from the EFF's list.
    Passphrase(Passphrase),
}

/// `pass gen`.
#[derive(Debug)]
pub struct Gen {
    pub shape: GenShape,
    pub json: bool,
}

impl Gen {
    pub fn apply(self) -> Result<Output, ShellError> {
        let (secret, entropy_bits) = match self.shape {
            GenShape::Password { length, symbols } => {
                (generate(length, symbols), password_entropy(length, symbols))
            }
            GenShape::Passphrase(phrase) => (phrase.generate(), phrase.entropy()),
        };
        Ok(Output::Generated {
            secret,
            entropy_bits,
            json: self.json,
        })
    }
}

/// `pass copy`.
#[derive(Debug)]
pub struct Copy {
    pub name: ItemName,
    /// Leave it on the clipboard.
    pub keep: bool,
}

impl Copy {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let entry = vault.show::<Password>(&self.name, Access::Copy).await?;
        let secret = entry.password.ok_or_else(|| {
            ShellError::Service(crate::service::ServiceError::Unexpected(
                "no password returned".into(),
            ))
        })?;
        Ok(Output::Copy {
            what: "password",
            name: entry.summary.name,
            keep: self.keep,
            secret,
        })
    }
}

/// `pass totp NAME`: the current code of the seed kept with an entry.
#[derive(Debug)]
pub struct Code {
    pub name: ItemName,
    pub json: bool,
}

impl Code {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let entry = vault.show::<Password>(&self.name, Access::Reveal).await?;
        let Some(uri) = &entry.totp else {
            let name = sanitize(&entry.summary.name).into_owned();
            return Err(crate::domain::DomainError::invalid(
                "totp",
                format!(
                    "password `{name}` keeps no one-time password seed \
                     (`pass edit {name} --totp URI` adds one)"
                ),
            )
            .into());
        };
        let seed = TotpSeed::parse_uri_as("totp", uri.expose())?;
        Ok(Output::Code {
            code: TotpCode::now(&entry.summary.name, &seed),
            json: self.json,
        })
    }
}
