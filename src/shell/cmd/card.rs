//! `card add`, and how cards appear in the shell (`card list | show | edit
//! | rm` are `item.rs`).

use super::Echo::{Hidden, Shown};
use super::item::Shelled;
use super::{need, offer};
use crate::domain::kind::Card;
use crate::domain::{CardFields, CardNumber, Cvv, Expiry, Extras, Holder, ItemName, Note};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{CardDetail, CardSummary, SecretText};
use zeroize::Zeroizing;

/// `card add`: every missing field is asked for (the CVV hidden).
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub number: Option<CardNumber>,
    pub holder: Option<Holder>,
    pub expiry: Option<Expiry>,
    pub cvv: Option<Cvv>,
    pub note: Option<Note>,
    pub extras: Extras,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        // A command that names every required field runs without questions;
        // otherwise it becomes a dialogue that also offers the optional ones.
        let dialogue = p.interactive()
            && (self.name.is_none() || self.number.is_none() || self.expiry.is_none());
        let fields = CardFields {
            name: need(p, self.name, ("name", "Name", Shown), ItemName::parse).await?,
            number: need(
                p,
                self.number,
                ("number", "Card number", Hidden),
                CardNumber::parse,
            )
            .await?,
            expiry: need(
                p,
                self.expiry,
                ("expiry", "Expiry (MM/YY)", Shown),
                Expiry::parse,
            )
            .await?,
            holder: offer(
                p,
                dialogue,
                self.holder,
                ("holder", "Holder", Shown),
                Holder::parse,
            )
            .await?,
            cvv: offer(p, dialogue, self.cvv, ("cvv", "CVV", Hidden), Cvv::parse).await?,
            note: offer(p, dialogue, self.note, ("note", "Note", Shown), Note::parse).await?,
            extras: self.extras,
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

impl Shelled for Card {
    const NOUN: &'static str = "card";
    const SHELL_WORD: &'static str = "card";
    const EDIT_FLAGS: &'static str =
        "--name --number --holder --expiry --cvv --note --tag --field --secret-field";
    fn field(c: &CardDetail, name: &str) -> Option<Zeroizing<String>> {
        let text = super::item::value;
        let secret = SecretText::to_zeroizing;
        match name {
            "name" => Some(text(&c.summary.name)),
            "brand" => Some(text(&c.summary.brand)),
            "number" => c.number.as_ref().map(secret),
            "holder" => c.summary.holder.as_deref().map(text),
            "expiry" => Some(text(&c.summary.expiry)),
            "cvv" => c.cvv.as_ref().and_then(|v| v.as_ref()).map(secret),
            "note" => c.note.as_deref().map(text),
            _ => None,
        }
    }

    fn list_output(cards: Vec<CardSummary>, json: bool) -> Output {
        Output::Cards { cards, json }
    }

    fn show_output(card: CardDetail, json: bool) -> Output {
        Output::Card {
            card: Box::new(card),
            json,
        }
    }
}
