//! `list | show | edit | rm`, written once for every kind; `card.rs` and
//! `pass.rs` hold what only their kind has (its `add` dialogue, `pass gen`,
//! `pass copy`).

use std::fmt;
use std::marker::PhantomData;

use crate::domain::kind::Changes;
use crate::domain::{Access, DomainError, FieldKey, ItemName, Tag};
use crate::shell::{Ctx, Output, Prompter, ShellError, Vault};
use crate::views::sanitize::sanitize;
use crate::views::{SecretText, Viewed};
use zeroize::Zeroizing;

/// How a kind appears in the shell.
pub trait Shelled: Viewed {
    /// What messages call one: `card`, `password`.
    const NOUN: &'static str;
    /// The flags `edit` takes, for the error when none is given.
    const EDIT_FLAGS: &'static str;
    /// The command word of the kind: `card`, `pass`, `id`.
    const SHELL_WORD: &'static str;

    fn list_output(items: Vec<Self::Summary>, json: bool) -> Output;
    /// The field `name` (one of [`Self::FIELDS`]) of a revealed detail;
    /// `None` when the item leaves it empty.
    fn field(detail: &Self::Detail, name: &str) -> Option<Zeroizing<String>>;
    fn show_output(item: Self::Detail, json: bool) -> Output;
    /// Whether a listed item matches the filter of `list` (lowercase).
    fn matches(item: &Self::Summary, filter: &str) -> bool {
        Self::listed(item).1.to_lowercase().contains(filter)
    }
}

/// Whether any of `values` contains `filter` (lowercase), ignoring case:
/// what `list FILTER` matches against.
pub fn any_contains<'a>(
    values: impl IntoIterator<Item = Option<&'a String>>,
    filter: &str,
) -> bool {
    values
        .into_iter()
        .flatten()
        .any(|v| v.to_lowercase().contains(filter))
}

/// A stored value for `show --field`, in memory wiped when dropped.
pub fn value(s: &str) -> Zeroizing<String> {
    Zeroizing::new(s.to_owned())
}

/// `list [FILTER] [--tag T]`.
pub struct List<K> {
    pub filter: Option<String>,
    pub tag: Option<Tag>,
    pub json: bool,
    kind: PhantomData<K>,
}

impl<K> List<K> {
    pub fn new(
        filter: Option<String>,
        tag: Option<String>,
        json: bool,
    ) -> Result<Self, DomainError> {
        let tag = tag.as_deref().map(Tag::parse).transpose()?;
        let kind = PhantomData;
        Ok(Self {
            filter,
            tag,
            json,
            kind,
        })
    }
}

impl<K: Shelled> List<K> {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let mut items = vault.list::<K>().await?;
        if let Some(filter) = self.filter.as_deref().map(str::to_lowercase) {
            items.retain(|item| K::matches(item, &filter));
        }
        if let Some(tag) = &self.tag {
            items.retain(|item| K::tags(item).iter().any(|t| tag.is(t)));
        }
        Ok(K::list_output(items, self.json))
    }
}

/// The field `show --field` prints.
#[derive(Debug, Clone)]
pub enum ShowField {
    /// One of the kind's own [`Kind::FIELDS`](crate::domain::Kind::FIELDS).
    Own(&'static str),
    /// A custom field's key.
    Custom(FieldKey),
}

/// `show NAME [--reveal] [--field F]`.
pub struct Show<K> {
    pub name: ItemName,
    pub reveal: bool,
    pub json: bool,
    pub field: Option<ShowField>,
    kind: PhantomData<K>,
}

impl<K: Shelled> Show<K> {
    /// A `field` that is none of the kind's own is a custom field's key.
    pub fn new(
        name: &str,
        reveal: bool,
        json: bool,
        field: Option<&str>,
    ) -> Result<Self, DomainError> {
        let name = ItemName::named(name)?;
        let field = field
            .map(|wanted| {
                let wanted = wanted.trim();
                match K::FIELDS.iter().find(|f| f.eq_ignore_ascii_case(wanted)) {
                    Some(own) => Ok(ShowField::Own(own)),
                    None => FieldKey::parse(wanted).map(ShowField::Custom),
                }
            })
            .transpose()?;
        let kind = PhantomData;
        Ok(Self {
            name,
            reveal,
            json,
            field,
            kind,
        })
    }

    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        // Which custom fields there are, and which are secret, shows
        // without a reveal.
        let access = match &self.field {
            None if !self.reveal => Access::View,
            Some(ShowField::Custom(_)) => Access::View,
            _ => Access::Reveal,
        };
        let mut item = vault.show::<K>(&self.name, access).await?;
        let Some(field) = self.field else {
            return Ok(K::show_output(item, self.json));
        };
        // A secret custom field's value takes a reveal, audited as one.
        if let ShowField::Custom(key) = &field {
            let secret = K::custom_fields(&item)
                .iter()
                .any(|f| key.is(&f.key) && f.secret);
            if secret {
                item = vault.show::<K>(&self.name, Access::Reveal).await?;
            }
        }
        let value = match &field {
            ShowField::Own(own) => K::field(&item, own),
            ShowField::Custom(key) => custom_field::<K>(&item, key)?,
        };
        value
            .map(Output::Field)
            .ok_or_else(|| no_value::<K>(&item, &field).into())
    }
}

/// The value of the custom field `key` of `item`; `Err` if it has none so
/// keyed, naming the fields it has.
pub fn custom_field<K: Shelled>(
    item: &K::Detail,
    key: &FieldKey,
) -> Result<Option<Zeroizing<String>>, DomainError> {
    let custom = K::custom_fields(item);
    match custom.iter().find(|f| key.is(&f.key)) {
        Some(f) => Ok(f.value.as_ref().map(SecretText::to_zeroizing)),
        None => {
            let mut known: Vec<String> = K::FIELDS.iter().map(|f| (*f).to_owned()).collect();
            known.extend(custom.iter().map(|f| sanitize(&f.key).into_owned()));
            Err(DomainError::invalid(
                "field",
                format!(
                    "{} `{}` has no field `{}`; its fields are {}",
                    K::NOUN,
                    sanitize(K::listed(&K::summary_of(item.clone())).1),
                    sanitize(key.as_str()),
                    known.join(", ")
                ),
            ))
        }
    }
}

/// The error for a field `item` leaves empty.
pub fn no_value<K: Shelled>(item: &K::Detail, field: &ShowField) -> DomainError {
    let field = match field {
        ShowField::Own(own) => (*own).to_owned(),
        ShowField::Custom(key) => sanitize(key.as_str()).into_owned(),
    };
    DomainError::invalid(
        "field",
        format!(
            "{} `{}` has no {field}",
            K::NOUN,
            sanitize(K::listed(&K::summary_of(item.clone())).1)
        ),
    )
}

/// `edit NAME --FIELD VALUE…`: changes the given fields; an empty value
/// clears an optional one.
pub struct Edit<K: Shelled> {
    pub name: ItemName,
    pub changes: K::Changes,
}

impl<K: Shelled> Edit<K> {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        if self.changes.is_empty() {
            return Err(ShellError::Usage(format!(
                "error: nothing to change; give at least one of {}",
                K::EDIT_FLAGS
            )));
        }
        let item = vault.edit::<K>(&self.name, self.changes).await?;
        Ok(Output::Done(format!(
            "Updated {} `{}`.",
            K::NOUN,
            sanitize(K::listed(&item).1)
        )))
    }
}

/// `rm NAME [-f]`: into the trash, after a question in a shell.
pub struct Rm<K> {
    pub name: ItemName,
    pub force: bool,
    kind: PhantomData<K>,
}

impl<K> Rm<K> {
    pub fn new(name: &str, force: bool) -> Result<Self, DomainError> {
        let name = ItemName::named(name)?;
        let kind = PhantomData;
        Ok(Self { name, force, kind })
    }
}

impl<K: Shelled> Rm<K> {
    pub async fn apply<V: Vault, P: Prompter>(
        self,
        ctx: &mut Ctx<'_, V, P>,
    ) -> Result<Output, ShellError> {
        let shown = sanitize(self.name.as_str());
        if !self.force {
            if !ctx.prompter.interactive() {
                return Err(ShellError::Usage(format!(
                    "error: deleting needs -f when nothing can ask first: `{} rm NAME -f` \
                     moves it to the trash",
                    K::SHELL_WORD
                )));
            }
            let prompt = format!("Delete `{shown}`? [y/N] ");
            if !super::trash::confirmed(&mut *ctx.prompter, prompt).await? {
                return Ok(Output::Done(format!("Kept {} `{shown}`.", K::NOUN)));
            }
        }
        ctx.vault.remove::<K>(&self.name).await?;
        Ok(Output::Done(format!(
            "Moved {} `{shown}` to the trash (`trash restore {shown}` brings it back).",
            K::NOUN,
        )))
    }
}

/// `history NAME [--reveal] [--json]`.
pub struct History<K> {
    pub name: ItemName,
    pub reveal: bool,
    pub json: bool,
    kind: PhantomData<K>,
}

impl<K> History<K> {
    pub fn new(name: &str, reveal: bool, json: bool) -> Result<Self, DomainError> {
        let name = ItemName::named(name)?;
        let kind = PhantomData;
        Ok(Self {
            name,
            reveal,
            json,
            kind,
        })
    }
}

impl<K: Shelled> History<K> {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let entries = vault.history::<K>(&self.name, self.reveal).await?;
        Ok(Output::History {
            entries,
            json: self.json,
        })
    }
}

/// The commands name the item they act on; the edit's values may be secret.
macro_rules! debug_names_only {
    ($($command:ident),*) => {$(
        impl<K: Shelled> fmt::Debug for $command<K> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($command))
                    .field("kind", &K::KIND)
                    .field("name", &self.name)
                    .finish_non_exhaustive()
            }
        }
    )*};
}
debug_names_only!(Show, Edit, Rm, History);

impl<K: Shelled> fmt::Debug for List<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List").field("kind", &K::KIND).finish()
    }
}
