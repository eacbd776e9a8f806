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
        // Each import holds its file and what it becomes in memory: only a
        // few run at once, server-wide.
        let Ok(_running) = self.inner.imports.clone().try_acquire_owned() else {
            return Err(ServiceError::Busy);
        };
        let parsed = tokio::task::spawn_blocking(move || {
            interchange::parse(format, &file, passphrase.as_deref().map(String::as_str))
        })
        .await
        .map_err(|e| ServiceError::unexpected("reading an import", e))??;
        if !parsed.errors.is_empty() {
            return Err(ServiceError::Unimportable(parsed.errors));
        }
        let mut entries = parsed.entries;
        let limit = self.inner.limits.items_per_kind;
        let mut taken: HashMap<ItemKind, HashSet<Vec<u8>>> = HashMap::new();
        let mut created: Vec<(ItemKind, usize)> = Vec::new();
        for kind in ItemKind::ALL {
            let count = entries.iter().filter(|e| e.draft.kind() == *kind).count();
            created.push((*kind, count));
            if count == 0 {
                continue;
            }
            let stored = self.store().name_indexes(s.user(), *kind).await?;
            // Checked before anything is renamed or sealed, so that a file
            // past the limit costs no more than its reading.
            if (stored.len() + count) as i64 > limit {
                return Err(too_many(limit));
            }
            taken.insert(*kind, stored.into_iter().collect());
        }
        let now = super::now();
        let (services, session) = (self.clone(), s.clone());
        let (renamed, records) = tokio::task::spawn_blocking(move || {
            let renamed = unclash(&session, &mut entries, taken)?;
            let records = if dry_run {
                Vec::new()
            } else {
                services.sealed_records(&session, &entries, now)?
            };
            Ok::<_, ServiceError>((renamed, records))
        })
        .await
        .map_err(|e| ServiceError::unexpected("sealing an import", e))??;
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
        let mut audit = origin.audit(Some(s.user()), Action::Import, None, Outcome::Ok);
        audit.target = Some(format!("{format}: {} items", records.len()));
        match self
            .store()
            .insert_items(s.user(), &records, limit, &audit)
            .await
        {
            Ok(()) => Ok(report),
            Err(StoreError::LimitReached) => Err(too_many(limit)),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(
                "an item was added meanwhile under a name the file uses; nothing was \
                 imported, try again"
                    .to_owned(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Every entry sealed as a new row, a microsecond apart (the database's
    /// precision), so that lists show the items in the file's order.
    fn sealed_records(
        &self,
        s: &Unlocked,
        entries: &[Entry],
        now: time::OffsetDateTime,
    ) -> Result<Vec<(ItemKind, ItemRecord)>, ServiceError> {
        entries
            .iter()
            .enumerate()
            .map(|(n, entry)| {
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
            .collect()
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
        if format == ExportFormat::Keeper && file.len() > interchange::MAX_IMPORT_BYTES {
            return Err(ServiceError::LimitReached(format!(
                "the archive would be larger than the {} MiB an import reads back; nothing \
                 was exported",
                interchange::MAX_IMPORT_BYTES >> 20
            )));
        }
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
}

/// The refusal of a file that would pass the per-kind limit.
fn too_many(limit: i64) -> ServiceError {
    ServiceError::LimitReached(format!(
        "the file would take you past {limit} items of one kind, the most allowed; \
         nothing was imported"
    ))
}

/// Gives every entry whose name is taken, in the vault (`taken`, by kind:
/// the name indexes stored) or by an entry before it, the first free
/// numbered name. A name stored by an earlier version may sit under an
/// older form of the index, so every form counts. Each name remembers the
/// last number it gave, so a thousand records of one name cost a thousand
/// steps, not half a million.
fn unclash(
    s: &Unlocked,
    entries: &mut [Entry],
    mut taken: HashMap<ItemKind, HashSet<Vec<u8>>>,
) -> Result<Vec<Renamed>, ServiceError> {
    let mut next: HashMap<(ItemKind, String), usize> = HashMap::new();
    let mut renamed = Vec::new();
    for entry in entries.iter_mut() {
        let kind = entry.draft.kind();
        let names = taken.entry(kind).or_default();
        let original = entry.draft.name().clone();
        let free = |name: &ItemName, names: &HashSet<Vec<u8>>| {
            std::iter::once(name.normalized())
                .chain(name.legacy_forms())
                .all(|form| !names.contains(&s.keys().name_index(kind, &form)))
        };
        let mut name = original.clone();
        let counter = next.entry((kind, original.normalized())).or_insert(1);
        while !free(&name, names) {
            *counter += 1;
            name = numbered(&original, *counter)?;
        }
        names.insert(s.keys().name_index(kind, &name.normalized()));
        if name.as_str() != original.as_str() {
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
