//! `id add`, and how identities appear in the shell (`id list | show |
//! edit | rm` are `item.rs`).

use super::Echo::{Hidden, Shown};
use super::item::{self, Shelled};
use super::{need, offer};
use crate::domain::kind::Identity;
use crate::domain::{
    Address, DocumentNumber, Email, Extras, FullName, IdentityFields, ItemName, Note, Phone,
};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{IdentityDetail, IdentitySummary, SecretText};
use zeroize::Zeroizing;

/// `id add`: the name is required; in a dialogue every other field is
/// offered (the document number without echo).
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub full_name: Option<FullName>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
    pub document: Option<DocumentNumber>,
    pub note: Option<Note>,
    pub extras: Extras,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        let dialogue = p.interactive() && self.name.is_none();
        let fields = IdentityFields {
            name: need(p, self.name, ("name", "Name", Shown), ItemName::parse).await?,
            full_name: offer(
                p,
                dialogue,
                self.full_name,
                ("full-name", "Full name", Shown),
                FullName::parse,
            )
            .await?,
            email: offer(
                p,
                dialogue,
                self.email,
                ("email", "Email", Shown),
                Email::parse_address,
            )
            .await?,
            phone: offer(
                p,
                dialogue,
                self.phone,
                ("phone", "Phone", Shown),
                Phone::parse_number,
            )
            .await?,
            address: offer(
                p,
                dialogue,
                self.address,
                ("address", "Address", Shown),
                Address::parse,
            )
            .await?,
            document: offer(
                p,
                dialogue,
                self.document,
                ("document", "Document number", Hidden),
                DocumentNumber::parse,
            )
            .await?,
            note: offer(p, dialogue, self.note, ("note", "Note", Shown), Note::parse).await?,
            extras: self.extras,
        };
        let added = ctx.vault.add::<Identity>(fields).await?;
        Ok(Output::Done(format!(
            "Added identity `{}`.",
            sanitize(&added.name)
        )))
    }
}

impl Shelled for Identity {
    const NOUN: &'static str = "identity";
    const SHELL_WORD: &'static str = "id";
    const EDIT_FLAGS: &'static str = "--name --full-name --email --phone --address --document --note --tag --field --secret-field";
    fn field(i: &IdentityDetail, name: &str) -> Option<Zeroizing<String>> {
        let text = super::item::value;
        match name {
            "name" => Some(text(&i.summary.name)),
            "full_name" => i.summary.full_name.as_deref().map(text),
            "email" => i.summary.email.as_deref().map(text),
            "phone" => i.phone.as_deref().map(text),
            "address" => i.address.as_deref().map(text),
            "document" => i
                .document
                .as_ref()
                .and_then(Option::as_ref)
                .map(SecretText::to_zeroizing),
            "note" => i.note.as_deref().map(text),
            _ => None,
        }
    }

    fn list_output(items: Vec<IdentitySummary>, json: bool) -> Output {
        Output::Identities { items, json }
    }

    fn show_output(identity: IdentityDetail, json: bool) -> Output {
        Output::Identity {
            identity: Box::new(identity),
            json,
        }
    }

    fn matches(i: &IdentitySummary, filter: &str) -> bool {
        item::any_contains(
            [Some(&i.name), i.full_name.as_ref(), i.email.as_ref()],
            filter,
        )
    }
}
