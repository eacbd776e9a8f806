//! `card add | list | show | edit | rm`.

use super::{ask, require};
use crate::domain::kind::Card;
use crate::domain::{
    Access, CardChanges, CardFields, CardNumber, Cvv, Expiry, Holder, ItemName, Note,
};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;

/// `card add`: every missing field is asked for (the CVV hidden).
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub number: Option<CardNumber>,
    pub holder: Option<Holder>,
    pub expiry: Option<Expiry>,
    pub cvv: Option<Cvv>,
    pub note: Option<Note>,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        // A command that names every required field runs without questions;
        // otherwise it becomes a dialogue that also offers the optional ones.
        let interactive = p.interactive()
            && (self.name.is_none() || self.number.is_none() || self.expiry.is_none());
        let name = match self.name {
            Some(v) => v,
            None => require(p, "name", "Name: ", false, ItemName::parse).await?,
        };
        let number = match self.number {
            Some(v) => v,
            None => require(p, "number", "Card number: ", true, CardNumber::parse).await?,
        };
        let expiry = match self.expiry {
            Some(v) => v,
            None => require(p, "expiry", "Expiry (MM/YY): ", false, Expiry::parse).await?,
        };
        let holder = match self.holder {
            Some(v) => Some(v),
            None if interactive => {
                ask(
                    p,
                    "holder",
                    "Holder (optional): ",
                    false,
                    true,
                    Holder::parse,
                )
                .await?
            }
            None => None,
        };
        let cvv = match self.cvv {
            Some(v) => Some(v),
            None if interactive => {
                ask(p, "cvv", "CVV (optional): ", true, true, Cvv::parse).await?
            }
            None => None,
        };
        let note = match self.note {
            Some(v) => Some(v),
            None if interactive => {
                ask(p, "note", "Note (optional): ", false, true, Note::parse).await?
            }
            None => None,
        };
        let fields = CardFields {
            name,
            number,
            holder,
            expiry,
            cvv,
            note,
        };
        let card = ctx.vault.add::<Card>(fields).await?;
        Ok(Output::Done(format!(
            "Added card `{}` ({} ending {}).",
            sanitize(&card.name),
            card.brand,
            card.last4
        )))
    }
}

/// `card list`.
#[derive(Debug)]
pub struct List {
    pub json: bool,
}

impl List {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let cards = ctx.vault.list::<Card>().await?;
        Ok(Output::Cards {
            cards,
            json: self.json,
        })
    }
}

/// `card show`.
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
        let card = ctx
            .vault
            .show::<Card>(&self.name, reveal(self.reveal))
            .await?;
        Ok(Output::Card {
            card: Box::new(card),
            json: self.json,
        })
    }
}

/// `card edit`: changes the given fields; an empty value clears an optional one.
#[derive(Debug)]
pub struct Edit {
    pub name: ItemName,
    pub changes: CardChanges,
}

impl Edit {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        if self.changes.is_empty() {
            return Err(ShellError::Usage(
                "error: nothing to change; give at least one of --name --number --holder --expiry --cvv --note".into(),
            ));
        }
        let card = ctx.vault.edit::<Card>(&self.name, self.changes).await?;
        Ok(Output::Done(format!(
            "Updated card `{}`.",
            sanitize(&card.name)
        )))
    }
}

/// `card rm`.
#[derive(Debug)]
pub struct Rm {
    pub name: ItemName,
}

impl Rm {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        ctx.vault.remove::<Card>(&self.name).await?;
        Ok(Output::Done(format!(
            "Deleted card `{}`.",
            sanitize(self.name.as_str())
        )))
    }
}

/// `card show` reads a card revealed or not.
fn reveal(reveal: bool) -> Access {
    if reveal { Access::Reveal } else { Access::View }
}
