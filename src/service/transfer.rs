//! Moving in and out: another manager's export (or Keeper's own archive)
//! read into the vault as new items, all of them in one transaction or
//! none; and the vault written out as an archive or Bitwarden's files.

use std::collections::{HashMap, HashSet};

use zeroize::Zeroizing;

use super::{Origin, ServiceError, Services, Unlocked};
use crate::crypto::random_id;
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};
use crate::domain::{Action, History, ItemKind, ItemName, Outcome};
use crate::interchange::export::{self, ExportFormat};
use crate::interchange::{self, Draft, Entry, Format, Place, Problem};
use crate::storage::{ItemRecord, StoreError};

/// An item that came in under another name than the file gave it, since
/// that one was taken.
#[derive(Debug, Clone)]
pub struct Renamed {
    pub at: Place,
    pub kind: ItemKind,
    pub from: String,
    pub to: String,
}

/// What an import stored or, dry, would store.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub format: Format,
    pub dry_run: bool,
    /// New items by kind, in [`ItemKind::ALL`]'s order.
    pub created: Vec<(ItemKind, usize)>,
    pub renamed: Vec<Renamed>,
    pub skipped: Vec<Problem>,
}

impl ImportReport {
    pub fn total(&self) -> usize {
        self.created.iter().map(|(_, n)| n).sum()
    }
}

/// The name `base` takes as the `n`th of its kind: `github (2)`, cut so
/// that it stays within the longest name.
fn numbered(base: &ItemName, n: usize) -> Result<ItemName, ServiceError> {
    let suffix = format!(" ({n})");
    let room = ItemName::MAX_LEN - suffix.chars().count();
    let stem: String = base.as_str().chars().take(room).collect();
    Ok(ItemName::parse(&format!("{}{suffix}", stem.trim_end()))?)
}

impl Services {
    /// Reads `file` as `format` and stores its items, or (`dry_run`) says
    /// what would be stored. A record that breaks a rule stores nothing at
    /// all; one that is nothing Keeper keeps is skipped and named. A name
    /// already taken (in the vault or earlier in the file) gets a number.
    pub async fn import(
        &self,
        origin: &Origin,
        s: &Unlocked,
        format: Format,
        file: Zeroizing<Vec<u8>>,
        passphrase: Option<Zeroizing<String>>,
        dry_run: bool,
    ) -> Result<ImportReport, ServiceError> {
        let parsed = tokio::task::spawn_blocking(move || {
            interchange::parse(format, &file, passphrase.as_deref().map(String::as_str))
        })
        .await
        .map_err(|e| ServiceError::unexpected("reading an import", e))??;
        if !parsed.errors.is_empty() {
            return Err(ServiceError::Unimportable(parsed.errors));
        }
        let mut entries = parsed.entries;
        let renamed = self.unclash(s, &mut entries).await?;
        let mut created: Vec<(ItemKind, usize)> = ItemKind::ALL.iter().map(|k| (*k, 0)).collect();
        for entry in &entries {
            if let Some((_, n)) = created.iter_mut().find(|(k, _)| *k == entry.draft.kind()) {
                *n += 1;
            }
        }
        let report = ImportReport {
            format,
            dry_run,
            created,
            renamed,
            skipped: parsed.skipped,
        };
        if dry_run {
            return Ok(report);
        }
        let now = super::now();
        let records = entries
            .iter()
            .enumerate()
            .map(|(n, entry)| {
                // A microsecond apart (the database's precision), so that
                // lists show the items in the file's order.
                let at = now + time::Duration::microseconds(n as i64);
                let id = random_id();
                let kind = entry.draft.kind();
                let none = History::default();
                let sealed = match &entry.draft {
                    Draft::Card(f) => self.seal::<Card>(s, id, 1, f, &none)?,
                    Draft::Password(f) => self.seal::<Password>(s, id, 1, f, &none)?,
                    Draft::Note(f) => self.seal::<SecureNote>(s, id, 1, f, &none)?,
                    Draft::Totp(f) => self.seal::<Totp>(s, id, 1, f, &none)?,
                    Draft::Identity(f) => self.seal::<Identity>(s, id, 1, f, &none)?,
                };
                let record = ItemRecord {
                    id,
                    user: s.user(),
                    name_index: s.keys().name_index(kind, &entry.draft.name().normalized()),
                    sealed,
                    version: 1,
                    created_at: at,
                    updated_at: at,
                };
                Ok((kind, record))
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let mut audit = origin.audit(Some(s.user()), Action::Import, None, Outcome::Ok);
        audit.target = Some(format!("{format}: {} items", records.len()));
        let limit = self.inner.limits.items_per_kind;
        match self
            .store()
            .insert_items(s.user(), &records, limit, &audit)
            .await
        {
            Ok(()) => Ok(report),
            Err(StoreError::LimitReached) => Err(ServiceError::LimitReached(format!(
                "the file would take you past {limit} items of one kind, the most allowed; \
                 nothing was imported"
            ))),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(
                "an item was added meanwhile under a name the file uses; nothing was \
                 imported, try again"
                    .to_owned(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Every item of the vault written as `format`, audited as an export.
    /// Keeper's archive is encrypted with `passphrase`; the other formats
    /// hold the secrets unencrypted, which the front ends ask before.
    pub async fn export(
        &self,
        origin: &Origin,
        s: &Unlocked,
        format: ExportFormat,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        if format == ExportFormat::Keeper {
            let given = passphrase.as_deref().map_or("", String::as_str);
            export::check_passphrase(given)?;
        }
        let mut drafts: Vec<Draft> = Vec::new();
        drafts.extend(
            self.open_all::<Card>(origin, s)
                .await?
                .into_iter()
                .map(|i| Draft::Card(i.fields)),
        );
        drafts.extend(
            self.open_all::<Password>(origin, s)
                .await?
                .into_iter()
                .map(|i| Draft::Password(i.fields)),
        );
        drafts.extend(
            self.open_all::<SecureNote>(origin, s)
                .await?
                .into_iter()
                .map(|i| Draft::Note(i.fields)),
        );
        drafts.extend(
            self.open_all::<Totp>(origin, s)
                .await?
                .into_iter()
                .map(|i| Draft::Totp(i.fields)),
        );
        drafts.extend(
            self.open_all::<Identity>(origin, s)
                .await?
                .into_iter()
                .map(|i| Draft::Identity(i.fields)),
        );
        let count = drafts.len();
        // Encrypting costs scrypt's half second, off the async threads.
        let file = tokio::task::spawn_blocking(move || match format {
            ExportFormat::Keeper => {
                export::keeper(&drafts, passphrase.as_deref().map_or("", String::as_str))
            }
            ExportFormat::BitwardenJson => export::bitwarden_json(&drafts),
            ExportFormat::BitwardenCsv => export::bitwarden_csv(&drafts),
        })
        .await
        .map_err(|e| ServiceError::unexpected("writing an export", e))?
        .map_err(|e| ServiceError::unexpected("writing an export", e))?;
        let mut audit = origin.audit(Some(s.user()), Action::Export, None, Outcome::Ok);
        let plain = if format.is_plaintext() {
            ", unencrypted"
        } else {
            ""
        };
        audit.target = Some(format!("{format}{plain}: {count} items"));
        self.store().record(&audit).await?;
        Ok(file)
    }

    /// Gives every entry whose name is taken, in the vault or by an entry
    /// before it, the first free numbered name.
    async fn unclash(
        &self,
        s: &Unlocked,
        entries: &mut [Entry],
    ) -> Result<Vec<Renamed>, ServiceError> {
        let mut taken: HashMap<ItemKind, HashSet<Vec<u8>>> = HashMap::new();
        for kind in ItemKind::ALL {
            if entries.iter().any(|e| e.draft.kind() == *kind) {
                let stored = self.store().name_indexes(s.user(), *kind).await?;
                taken.insert(*kind, stored.into_iter().collect());
            }
        }
        let mut renamed = Vec::new();
        for entry in entries.iter_mut() {
            let kind = entry.draft.kind();
            let names = taken.entry(kind).or_default();
            let original = entry.draft.name().clone();
            let mut name = original.clone();
            let mut n = 1;
            loop {
                let index = s.keys().name_index(kind, &name.normalized());
                if names.insert(index) {
                    break;
                }
                n += 1;
                name = numbered(&original, n)?;
            }
            if n > 1 {
                renamed.push(Renamed {
                    at: entry.at,
                    kind,
                    from: original.as_str().to_owned(),
                    to: name.as_str().to_owned(),
                });
                entry.draft.rename(name);
            }
        }
        Ok(renamed)
    }
}
