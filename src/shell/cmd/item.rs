//! `list | show | edit | rm`, written once for every kind; `card.rs` and
//! `pass.rs` hold what only their kind has (its `add` dialogue, `pass gen`,
//! `pass copy`).

use std::fmt;
use std::marker::PhantomData;

use crate::domain::kind::Changes;
use crate::domain::{Access, DomainError, ItemName};
use crate::shell::{Output, ShellError, Vault};
use crate::views::Viewed;
use crate::views::sanitize::sanitize;
use zeroize::Zeroizing;

/// How a kind appears in the shell.
pub trait Shelled: Viewed {
    /// What messages call one: `card`, `password`.
    const NOUN: &'static str;
    /// The flags `edit` takes, for the error when none is given.
    const EDIT_FLAGS: &'static str;

    /// The fields `show --field` prints, as it names them.
    const FIELDS: &'static [&'static str];

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

/// `list [FILTER]`.
pub struct List<K> {
    pub filter: Option<String>,
    pub json: bool,
    kind: PhantomData<K>,
}

impl<K> List<K> {
    pub fn new(filter: Option<String>, json: bool) -> Self {
        let kind = PhantomData;
        Self { filter, json, kind }
    }
}

impl<K: Shelled> List<K> {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        let mut items = vault.list::<K>().await?;
        if let Some(filter) = self.filter.as_deref().map(str::to_lowercase) {
            items.retain(|item| K::matches(item, &filter));
        }
        Ok(K::list_output(items, self.json))
    }
}

/// `show NAME [--reveal] [--field F]`.
pub struct Show<K> {
    pub name: ItemName,
    pub reveal: bool,
    pub json: bool,
    /// One of the kind's [`Shelled::FIELDS`], to print alone.
    pub field: Option<&'static str>,
    kind: PhantomData<K>,
}

impl<K: Shelled> Show<K> {
    /// Refuses a `field` the kind does not have before anything is read.
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
                K::FIELDS
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(wanted))
                    .copied()
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "field",
                            format!(
                                "a {} has no field `{}`; its fields are {}",
                                K::NOUN,
                                sanitize(wanted),
                                K::FIELDS.join(", ")
                            ),
                        )
                    })
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
        let access = if self.reveal || self.field.is_some() {
            Access::Reveal
        } else {
            Access::View
        };
        let item = vault.show::<K>(&self.name, access).await?;
        let Some(field) = self.field else {
            return Ok(K::show_output(item, self.json));
        };
        match K::field(&item, field) {
            Some(value) => Ok(Output::Field(value)),
            None => Err(DomainError::invalid(
                "field",
                format!(
                    "{} `{}` has no {field}",
                    K::NOUN,
                    sanitize(K::listed(&K::summary_of(item)).1)
                ),
            )
            .into()),
        }
    }
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

/// `rm NAME`.
pub struct Rm<K> {
    pub name: ItemName,
    kind: PhantomData<K>,
}

impl<K> Rm<K> {
    pub fn new(name: &str) -> Result<Self, DomainError> {
        let name = ItemName::named(name)?;
        let kind = PhantomData;
        Ok(Self { name, kind })
    }
}

impl<K: Shelled> Rm<K> {
    pub async fn apply(self, vault: &mut impl Vault) -> Result<Output, ShellError> {
        vault.remove::<K>(&self.name).await?;
        Ok(Output::Done(format!(
            "Deleted {} `{}`.",
            K::NOUN,
            sanitize(self.name.as_str())
        )))
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
debug_names_only!(Show, Edit, Rm);

impl<K: Shelled> fmt::Debug for List<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List").field("kind", &K::KIND).finish()
    }
}
