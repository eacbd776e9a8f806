//! `totp add | show | copy | edit`, and how one-time passwords appear in
//! the shell (`totp list | rm` are `item.rs`).

use super::Echo::{Hidden, Shown};
use super::item::{self, Shelled, ShowField};
use super::need;
use crate::domain::kind::Totp;
use crate::domain::totp::Algorithm;
use crate::domain::{
    Access, DomainError, Extras, ExtrasChanges, ItemName, TotpChanges, TotpFields, TotpSeed,
};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{SecretText, TotpCode, TotpDetail, TotpSummary, Viewed};
use zeroize::Zeroizing;

/// The parts of a seed given as flags; an empty issuer or account clears it.
#[derive(Debug, Default)]
pub struct SeedParts {
    pub secret: Option<Zeroizing<String>>,
    pub issuer: Option<String>,
    pub account: Option<String>,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
}

impl SeedParts {
    /// Whether no part was given.
    pub fn is_empty(&self) -> bool {
        self.secret.is_none()
            && self.issuer.is_none()
            && self.account.is_none()
            && self.algorithm.is_none()
            && self.digits.is_none()
            && self.period.is_none()
    }

    /// A seed of these parts with `secret`, the rest as in `base` (or the
    /// defaults: SHA1, 6 digits, 30 s).
    fn seed(&self, secret: &str, base: Option<&TotpSeed>) -> Result<TotpSeed, DomainError> {
        let label = |given: &Option<String>, kept: Option<&str>| match given {
            Some(v) => Some(v.clone()),
            None => kept.map(str::to_owned),
        };
        TotpSeed::new(
            secret,
            self.algorithm
                .or(base.map(TotpSeed::algorithm))
                .unwrap_or_default(),
            self.digits.or(base.map(TotpSeed::digits)).unwrap_or(6),
            self.period.or(base.map(TotpSeed::period)).unwrap_or(30),
            label(&self.issuer, base.and_then(TotpSeed::issuer)).as_deref(),
            label(&self.account, base.and_then(TotpSeed::account)).as_deref(),
        )
    }

    /// An answer to the secret question: a base32 secret, or a whole URI.
    fn answer(&self, answer: &str) -> Result<TotpSeed, DomainError> {
        if answer
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("otpauth:")
        {
            TotpSeed::parse_uri(answer)
        } else {
            self.seed(answer, None)
        }
    }
}

/// Where a new or edited seed comes from.
#[derive(Debug)]
pub enum SeedInput {
    /// `--uri`: the whole seed.
    Uri(TotpSeed),
    /// The flags of its parts (maybe none).
    Parts(SeedParts),
}

/// A name a seed suggests: its issuer, or else its account.
fn suggested_name(seed: &TotpSeed) -> Option<ItemName> {
    [seed.issuer(), seed.account()]
        .into_iter()
        .flatten()
        .find_map(|n| ItemName::parse(n).ok())
}

/// `totp add`: the seed from `--uri`, or from `--secret` and its
/// parameters; a missing secret is asked for (hidden), and a missing name
/// is the URI's issuer or account, or asked for.
#[derive(Debug)]
pub struct Add {
    pub name: Option<ItemName>,
    pub seed: SeedInput,
    pub extras: Extras,
}

impl Add {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let p = &mut *ctx.prompter;
        let given = match &self.seed {
            SeedInput::Uri(seed) => self.name.or_else(|| suggested_name(seed)),
            SeedInput::Parts(_) => self.name,
        };
        let name = need(p, given, ("name", "Name", Shown), ItemName::parse).await?;
        let seed = match self.seed {
            SeedInput::Uri(seed) => seed,
            SeedInput::Parts(parts) => match &parts.secret {
                Some(secret) => parts.seed(secret, None)?,
                None => {
                    let question = ("secret", "Secret (base32, or an otpauth:// URI)", Hidden);
                    need(p, None, question, |answer| parts.answer(answer)).await?
                }
            },
        };
        let added = ctx
            .vault
            .add::<Totp>(TotpFields {
                name,
                seed,
                extras: self.extras,
            })
            .await?;
        Ok(Output::Done(format!(
            "Added one-time password `{}`.",
            sanitize(&added.name)
        )))
    }
}

/// `totp edit NAME [--name N] [--uri URI | --secret S --issuer I …]`.
#[derive(Debug)]
pub struct Edit {
    pub name: ItemName,
    pub new_name: Option<ItemName>,
    pub seed: SeedInput,
    pub extras: ExtrasChanges,
}

impl Edit {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let seed = match self.seed {
            SeedInput::Uri(seed) => Some(seed),
            SeedInput::Parts(parts) if parts.is_empty() => None,
            // The parts not given stay as they are: read them first.
            SeedInput::Parts(parts) => {
                let current = vault.show::<Totp>(&self.name, Access::Reveal).await?;
                let current = Totp::fields_of(&current)?.seed;
                let secret = match &parts.secret {
                    Some(secret) => secret.clone(),
                    None => current.expose_secret(),
                };
                Some(parts.seed(&secret, Some(&current))?)
            }
        };
        if self.new_name.is_none() && seed.is_none() && self.extras.is_empty() {
            return Err(ShellError::Usage(format!(
                "error: nothing to change; give at least one of {}",
                Totp::EDIT_FLAGS
            )));
        }
        let changes = TotpChanges {
            name: self.new_name,
            seed,
            extras: self.extras,
        };
        let edited = vault.edit::<Totp>(&self.name, changes).await?;
        Ok(Output::Done(format!(
            "Updated one-time password `{}`.",
            sanitize(&edited.name)
        )))
    }
}

/// `totp show NAME`: the current code and the seed's parameters; the
/// secret only with `--reveal`.
#[derive(Debug)]
pub struct Show(pub item::Show<Totp>);

impl Show {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let show = self.0;
        // The code needs the secret, whatever is shown of it.
        let detail = vault.show::<Totp>(&show.name, Access::Reveal).await?;
        let seed = Totp::fields_of(&detail)?.seed;
        let code = TotpCode::now(&detail.summary.name, &seed);
        if let Some(field) = show.field {
            let value = match &field {
                ShowField::Own("code") => Some(Zeroizing::new(code.code.clone())),
                ShowField::Own("uri") => Some(seed.to_uri()),
                ShowField::Own(other) => Totp::field(&detail, other),
                ShowField::Custom(key) => item::custom_field::<Totp>(&detail, key)?,
            };
            return value
                .map(Output::Field)
                .ok_or_else(|| item::no_value::<Totp>(&detail, &field).into());
        }
        let detail = if show.reveal {
            detail
        } else {
            Totp::concealed(detail)
        };
        Ok(Output::Totp {
            totp: Box::new(detail),
            code: Some(code),
            json: show.json,
        })
    }
}

/// `totp copy NAME`: the current code to the clipboard.
#[derive(Debug)]
pub struct Copy {
    pub name: ItemName,
    /// Leave it on the clipboard.
    pub keep: bool,
}

impl Copy {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let detail = vault.show::<Totp>(&self.name, Access::Copy).await?;
        let seed = Totp::fields_of(&detail)?.seed;
        let code = TotpCode::now(&detail.summary.name, &seed);
        Ok(Output::Copy {
            what: "one-time code",
            name: code.name.clone(),
            keep: self.keep,
            secret: crate::views::SecretText::new(&code.code),
        })
    }
}

impl Shelled for Totp {
    const NOUN: &'static str = "one-time password";
    const SHELL_WORD: &'static str = "totp";
    const EDIT_FLAGS: &'static str = "--name --uri --secret --issuer --account --algorithm --digits --period --tag --field --secret-field";
    fn field(t: &TotpDetail, name: &str) -> Option<Zeroizing<String>> {
        let text = super::item::value;
        match name {
            "name" => Some(text(&t.summary.name)),
            "issuer" => t.summary.issuer.as_deref().map(text),
            "account" => t.summary.account.as_deref().map(text),
            "algorithm" => Some(text(&t.algorithm)),
            "digits" => Some(Zeroizing::new(t.digits.to_string())),
            "period" => Some(Zeroizing::new(t.period.to_string())),
            "secret" => t.secret.as_ref().map(SecretText::to_zeroizing),
            _ => None,
        }
    }

    fn list_output(items: Vec<TotpSummary>, json: bool) -> Output {
        Output::Totps { items, json }
    }

    fn show_output(totp: TotpDetail, json: bool) -> Output {
        // `totp show` is `Show`, which adds the code.
        Output::Totp {
            totp: Box::new(totp),
            code: None,
            json,
        }
    }

    fn matches(t: &TotpSummary, filter: &str) -> bool {
        item::any_contains(
            [Some(&t.name), t.issuer.as_ref(), t.account.as_ref()],
            filter,
        )
    }
}
