//! `pass add | list | show | edit | rm | gen | copy`.

use super::{ask, require, require_twice};
use crate::domain::kind::Password;
use crate::domain::{
    GenLength, ItemName, Note, PasswordChanges, PasswordFields, Secret, Url, Username,
};
use crate::service::Access;
use crate::shell::generate::generate;
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;

/// `pass add`: missing fields are asked for; the password hidden and twice.
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub url: Option<Url>,
    pub username: Option<Username>,
    pub password: Option<Secret>,
    pub generate: Option<GenLength>,
    pub note: Option<Note>,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        let interactive = p.interactive()
            && (self.name.is_none() || (self.password.is_none() && self.generate.is_none()));
        let name = match self.name {
            Some(v) => v,
            None => require(p, "name", "Name: ", false, ItemName::parse).await?,
        };
        let url = match self.url {
            Some(v) => Some(v),
            None if interactive => {
                ask(p, "url", "URL (optional): ", false, true, Url::parse).await?
            }
            None => None,
        };
        let username = match self.username {
            Some(v) => Some(v),
            None if interactive => {
                ask(
                    p,
                    "username",
                    "Username (optional): ",
                    false,
                    true,
                    Username::parse,
                )
                .await?
            }
            None => None,
        };
        let generated = self.generate.is_some();
        let password = match (self.password, self.generate) {
            (Some(v), _) => v,
            (None, Some(len)) => generate(len, true),
            (None, None) => require_twice(p, "password", "Password: ", Secret::parse).await?,
        };
        let note = match self.note {
            Some(v) => Some(v),
            None if interactive => {
                ask(p, "note", "Note (optional): ", false, true, Note::parse).await?
            }
            None => None,
        };
        let fields = PasswordFields {
            name,
            url,
            username,
            password,
            note,
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

/// `pass list [FILTER]`.
#[derive(Debug)]
pub struct List {
    pub filter: Option<String>,
    pub json: bool,
}

impl List {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let mut entries = ctx.vault.list::<Password>().await?;
        if let Some(filter) = self.filter.as_deref().map(str::to_lowercase) {
            let matches =
                |v: Option<&String>| v.is_some_and(|v| v.to_lowercase().contains(&filter));
            entries.retain(|e| {
                matches(Some(&e.name)) || matches(e.url.as_ref()) || matches(e.username.as_ref())
            });
        }
        Ok(Output::Passwords {
            entries,
            json: self.json,
        })
    }
}

/// `pass show`.
#[derive(Debug)]
pub struct Show {
    pub name: ItemName,
    pub reveal: bool,
    pub json: bool,
}

impl Show {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let access = if self.reveal {
            Access::Reveal
        } else {
            Access::View
        };
        let entry = ctx.vault.show::<Password>(&self.name, access).await?;
        Ok(Output::Password {
            entry: Box::new(entry),
            json: self.json,
        })
    }
}

/// `pass edit`.
#[derive(Debug)]
pub struct Edit {
    pub name: ItemName,
    pub generate: Option<GenLength>,
    pub changes: PasswordChanges,
}

impl Edit {
    pub async fn apply<V: Vault, P: Prompter>(
        mut self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        if let Some(len) = self.generate {
            self.changes.password = Some(generate(len, true));
        }
        if self.changes.is_empty() {
            return Err(ShellError::Usage(
                "error: nothing to change; give at least one of --name --url --username --password --generate --note".into(),
            ));
        }
        let entry = ctx.vault.edit::<Password>(&self.name, self.changes).await?;
        Ok(Output::Done(format!(
            "Updated password `{}`.",
            sanitize(&entry.name)
        )))
    }
}

/// `pass rm`.
#[derive(Debug)]
pub struct Rm {
    pub name: ItemName,
}

impl Rm {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        ctx.vault.remove::<Password>(&self.name).await?;
        Ok(Output::Done(format!(
            "Deleted password `{}`.",
            sanitize(self.name.as_str())
        )))
    }
}

/// `pass gen`.
#[derive(Debug)]
pub struct Gen {
    pub length: GenLength,
    pub symbols: bool,
}

impl Gen {
    pub fn apply(self) -> Result<Output, ShellError> {
        Ok(Output::Generated(generate(self.length, self.symbols)))
    }
}

/// `pass copy`.
#[derive(Debug)]
pub struct Copy {
    pub name: ItemName,
}

impl Copy {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let entry = ctx.vault.show::<Password>(&self.name, Access::Copy).await?;
        let secret = entry.password.ok_or_else(|| {
            ShellError::Service(crate::service::ServiceError::Unexpected(
                "no password returned".into(),
            ))
        })?;
        Ok(Output::Copy {
            name: entry.summary.name,
            secret,
        })
    }
}
