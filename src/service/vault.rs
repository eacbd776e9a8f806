//! Items of every kind: sealed on the way in, opened on the way out,
//! audited. Written once over [`Kind`]; what differs between kinds is in
//! their modules under `domain::kind`.

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{Origin, ServiceError, Services, Unlocked};
use crate::crypto::random_id;
use crate::domain::history::StoredHistory;
use crate::domain::kind::WithExtras;
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};
use crate::domain::{Access, Brand, History, ItemKind, ItemName, Kind, Op, Outcome};
use crate::storage::{ItemRecord, StoreError, TrashRecord};

/// A stored item, opened.
#[derive(Debug, Clone)]
pub struct Item<K: Kind> {
    pub id: K::Id,
    pub fields: K::Fields,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Item names by item id.
pub type ItemLabels = std::collections::HashMap<String, String>;

/// A stored card, opened.
pub type CardItem = Item<Card>;

/// A stored password entry, opened.
pub type PasswordItem = Item<Password>;

/// A stored secure note, opened.
pub type NoteItem = Item<SecureNote>;

/// A stored one-time password seed, opened.
pub type TotpItem = Item<Totp>;

/// A stored identity, opened.
pub type IdentityItem = Item<Identity>;

impl Item<Card> {
    pub fn brand(&self) -> Brand {
        self.fields.number.brand()
    }
    pub fn last4(&self) -> String {
        self.fields.number.last4()
    }
}

/// Which item of a kind: by name (the shell) or by row id (the API). A
/// missing id and another user's id are the same `NotFoundId`.
#[derive(Debug, Clone, Copy)]
pub enum ItemRef<'a> {
    Name(&'a ItemName),
    Id(i64),
}

/// Which item in the trash: by name (the shell) or by id (the API).
#[derive(Debug, Clone, Copy)]
pub enum TrashRef<'a> {
    Name(&'a ItemName),
    Id(i64),
}

/// An item in the trash, its name opened.
#[derive(Debug, Clone)]
pub struct Trashed {
    pub id: i64,
    pub kind: ItemKind,
    pub name: String,
    pub deleted_at: OffsetDateTime,
}

/// How healthy one password entry is (`health`).
#[derive(Debug, Clone)]
pub struct Health {
    pub id: i64,
    pub name: String,
    pub weak: bool,
    /// The names of the other entries with the same password.
    pub reused_with: Vec<String>,
    pub old: bool,
    /// `None` when the server has no breach file.
    pub breached: Option<bool>,
}

/// Whether a password is weak: a zxcvbn score below 3 (fewer than 10^8
/// guesses), the entry's name, username and URL counted as known words.
fn weak(f: &crate::domain::PasswordFields) -> bool {
    let mut known = vec![f.name.as_str()];
    known.extend(f.username.as_ref().map(|u| u.as_str()));
    known.extend(f.url.as_ref().map(|u| u.as_str()));
    u8::from(zxcvbn::zxcvbn(f.password.expose(), &known).score()) < 3
}

/// A change to an item.
pub enum Edit<K: Kind> {
    /// These fields change, the others stay (the shell's `edit`).
    Changes(K::Changes),
    /// Every field is replaced, if the stored version is still `expected`
    /// (the API's `PUT` with `If-Match`).
    Replace { expected: i64, fields: K::Fields },
}

fn not_found(kind: ItemKind, name: &ItemName) -> ServiceError {
    ServiceError::NotFound {
        kind: kind.as_str(),
        name: name.as_str().to_owned(),
    }
}

fn taken(kind: ItemKind, name: &ItemName) -> ServiceError {
    ServiceError::Conflict(format!("a {kind} named `{}` already exists", name.as_str()))
}

/// A stored row, the fields it opened to and its secrets' history.
struct Opened<K: Kind> {
    record: ItemRecord,
    fields: K::Fields,
    history: History,
}

/// What is sealed in an item's row: its fields and, beside them, the
/// history of its secrets.
#[derive(serde::Serialize)]
struct Sealed<'a, S> {
    #[serde(flatten)]
    fields: &'a S,
    #[serde(flatten)]
    history: &'a StoredHistory,
}

impl<K: Kind> Opened<K> {
    /// The item, once the store wrote it; a name taken meanwhile is a
    /// conflict.
    fn written(self, result: Result<(), StoreError>) -> Result<Item<K>, ServiceError> {
        match result {
            Ok(()) => Ok(self.item()),
            Err(StoreError::Conflict) => Err(taken(K::KIND, K::name(&self.fields))),
            Err(e) => Err(e.into()),
        }
    }

    fn item(self) -> Item<K> {
        Item {
            id: K::id(self.record.id),
            fields: self.fields,
            version: self.record.version,
            created_at: self.record.created_at,
            updated_at: self.record.updated_at,
        }
    }
}

impl Services {
    /// Stores a new item.
    pub async fn add<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        fields: K::Fields,
    ) -> Result<Item<K>, ServiceError> {
        K::checked(&fields)?;
        let name = K::name(&fields);
        let limit = self.inner.limits.items_per_kind;
        // The unique index catches a taken name in its current form; one
        // stored by an earlier version may sit under an older form.
        if !name.legacy_forms().is_empty() && self.indexed::<K>(s, name).await?.is_some() {
            return Err(taken(K::KIND, name));
        }
        let id = random_id();
        let now = super::now();
        let record = ItemRecord {
            id,
            user: s.user(),
            name_index: s.keys().name_index(K::KIND, &name.normalized()),
            sealed: self.seal::<K>(s, id, 1, &fields, &History::default())?,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let audit = origin.audit(Some(s.user()), K::action(Op::Create), Some(id), Outcome::Ok);
        let written = self
            .store()
            .insert_item(K::KIND, &record, limit, &audit)
            .await;
        match written {
            Err(StoreError::LimitReached) => Err(ServiceError::LimitReached(format!(
                "you already store {limit} {}s, the most allowed",
                K::KIND
            ))),
            written => Opened::<K> {
                record,
                fields,
                history: History::default(),
            }
            .written(written),
        }
    }

    /// Every item of the kind, oldest first.
    pub async fn list<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<Item<K>>, ServiceError> {
        let items = self.open_all::<K>(origin, s).await?;
        self.audit_read(origin, s, K::action(Op::View), None)
            .await?;
        Ok(items)
    }

    /// One item, audited as a view, reveal or copy.
    pub async fn get<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        at: ItemRef<'_>,
        access: Access,
    ) -> Result<Item<K>, ServiceError> {
        let opened = self.find::<K>(origin, s, at, false).await?;
        self.audit_read(origin, s, K::action(access.into()), Some(opened.record.id))
            .await?;
        Ok(opened.item())
    }

    /// Changes an item.
    pub async fn edit<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        at: ItemRef<'_>,
        edit: Edit<K>,
    ) -> Result<Item<K>, ServiceError> {
        if let Edit::Replace { fields, .. } = &edit {
            K::checked(fields)?;
        }
        let Opened {
            record,
            mut fields,
            mut history,
        } = self.find::<K>(origin, s, at, true).await?;
        let before = K::secrets(&fields);
        let expected = match edit {
            Edit::Changes(changes) => {
                K::apply(changes, &mut fields)?;
                record.version
            }
            Edit::Replace {
                expected,
                fields: new,
            } => {
                fields = new;
                expected
            }
        };
        K::checked(&fields)?;
        let name = K::name(&fields);
        let version = expected + 1;
        let now = super::now();
        history.record(before, &K::secrets(&fields), now);
        let record = ItemRecord {
            name_index: s.keys().name_index(K::KIND, &name.normalized()),
            sealed: self.seal::<K>(s, record.id, version, &fields, &history)?,
            version,
            updated_at: now,
            ..record
        };
        let audit = origin.audit(
            Some(s.user()),
            K::action(Op::Update),
            Some(record.id),
            Outcome::Ok,
        );
        let written = self
            .store()
            .update_item(K::KIND, &record, expected, &audit)
            .await;
        Opened::<K> {
            record,
            fields,
            history,
        }
        .written(written)
    }

    /// The earlier values of an item's secrets, newest first, audited as
    /// a reveal when `reveal` (the values are shown) and a view otherwise.
    pub async fn history<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        at: ItemRef<'_>,
        reveal: bool,
    ) -> Result<(Item<K>, History), ServiceError> {
        let Opened {
            record,
            fields,
            history,
        } = self.find::<K>(origin, s, at, true).await?;
        let op = if reveal { Op::Reveal } else { Op::View };
        self.audit_read(origin, s, K::action(op), Some(record.id))
            .await?;
        let opened = Opened::<K> {
            record,
            fields,
            history: History::default(),
        };
        Ok((opened.item(), history))
    }

    /// Deletes an item: into the trash, or for good when `permanent`.
    pub async fn remove<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        at: ItemRef<'_>,
        permanent: bool,
    ) -> Result<(), ServiceError> {
        let id = match at {
            ItemRef::Id(id) => id,
            ItemRef::Name(_) => self.find::<K>(origin, s, at, false).await?.record.id,
        };
        let audit = origin.audit(Some(s.user()), K::action(Op::Delete), Some(id), Outcome::Ok);
        let store = self.store();
        let done = if permanent {
            store.delete_item(K::KIND, s.user(), id, &audit).await
        } else {
            store.trash_item(K::KIND, s.user(), id, &audit).await
        };
        match (done, at) {
            (Err(StoreError::NotFound), ItemRef::Name(name)) => Err(not_found(K::KIND, name)),
            (result, _) => Ok(result?),
        }
    }

    /// What the user has in the trash, oldest deletion first; audited as
    /// one view of it.
    pub async fn trash(&self, origin: &Origin, s: &Unlocked) -> Result<Vec<Trashed>, ServiceError> {
        let trashed = self.open_trash(origin, s).await?;
        self.audit_read(origin, s, crate::domain::Action::TrashView, None)
            .await?;
        Ok(trashed)
    }

    /// Moves an item back from the trash: by id, or by name (the one of
    /// that name deleted last, of any kind). Its name must be free again.
    pub async fn restore(
        &self,
        origin: &Origin,
        s: &Unlocked,
        which: TrashRef<'_>,
    ) -> Result<Trashed, ServiceError> {
        let trashed = self.open_trash(origin, s).await?;
        let found = match which {
            TrashRef::Id(id) => trashed.into_iter().find(|t| t.id == id),
            TrashRef::Name(name) => {
                let wanted = name.normalized();
                trashed
                    .into_iter()
                    .rev()
                    .find(|t| ItemName::named(&t.name).is_ok_and(|n| n.normalized() == wanted))
            }
        };
        let item = found.ok_or_else(|| match which {
            TrashRef::Id(_) => ServiceError::NotFoundId,
            TrashRef::Name(name) => ServiceError::NotFound {
                kind: "item in the trash",
                name: name.as_str().to_owned(),
            },
        })?;
        let audit = origin.audit(
            Some(s.user()),
            crate::domain::Action::TrashRestore,
            Some(item.id),
            Outcome::Ok,
        );
        let limit = self.inner.limits.items_per_kind;
        let restored = self
            .store()
            .restore_item(item.kind, s.user(), item.id, limit, &audit)
            .await;
        match restored {
            Ok(()) => Ok(item),
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!(
                "a {} named `{}` is in your vault; rename or delete it first",
                item.kind, item.name
            ))),
            Err(StoreError::LimitReached) => Err(ServiceError::LimitReached(format!(
                "you already store {limit} {}s, the most allowed",
                item.kind
            ))),
            Err(StoreError::NotFound) => Err(ServiceError::NotFoundId),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes everything in the user's trash for good; how many items.
    pub async fn empty_trash(&self, origin: &Origin, s: &Unlocked) -> Result<usize, ServiceError> {
        let count = self.store().count_trash(s.user()).await?;
        let audit = origin.audit(
            Some(s.user()),
            crate::domain::Action::TrashEmpty,
            None,
            Outcome::Ok,
        );
        self.store().delete_trashed(s.user(), None, &audit).await?;
        Ok(count)
    }

    /// Deletes for good every item kept in a trash past the retention, each
    /// audited as `trash.purge` by the server; how many.
    pub async fn purge_trash(&self) -> Result<usize, ServiceError> {
        let before = super::now() - self.inner.limits.trash_retention;
        let mut purged = 0;
        for (user, id) in self.store().expired_trash(before).await? {
            let audit = crate::domain::AuditRecord {
                at: super::now(),
                user: Some(crate::domain::UserId::new(user)),
                channel: crate::domain::Channel::Server,
                remote_addr: None,
                action: crate::domain::Action::TrashPurge,
                target: Some(id.to_string()),
                outcome: Outcome::Ok,
            };
            let user = crate::domain::UserId::new(user);
            match self.store().delete_trashed(user, Some(id), &audit).await {
                Ok(()) => purged += 1,
                // Restored or purged by another node meanwhile.
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(purged)
    }

    async fn open_trash(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<Trashed>, ServiceError> {
        let opened = self
            .store()
            .list_trash(s.user())
            .await?
            .into_iter()
            .map(|r| Self::open_trashed(s, &r))
            .collect();
        self.checked(origin, s, opened).await
    }

    fn open_trashed(s: &Unlocked, r: &TrashRecord) -> Result<Trashed, ServiceError> {
        let kind = ItemKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == r.kind)
            .ok_or_else(|| {
                ServiceError::Unexpected(format!("trashed item {} of no kind", r.id).into())
            })?;
        let name = match kind {
            ItemKind::Card => Self::trashed_name::<Card>(s, r)?,
            ItemKind::Password => Self::trashed_name::<Password>(s, r)?,
            ItemKind::Note => Self::trashed_name::<SecureNote>(s, r)?,
            ItemKind::Totp => Self::trashed_name::<Totp>(s, r)?,
            ItemKind::Identity => Self::trashed_name::<Identity>(s, r)?,
        };
        Ok(Trashed {
            id: r.id,
            kind,
            name,
            deleted_at: r.deleted_at,
        })
    }

    fn trashed_name<K: Kind>(s: &Unlocked, r: &TrashRecord) -> Result<String, ServiceError> {
        let fields = Self::open_fields::<K>(s, r.id, r.version, &r.sealed)?;
        Ok(K::name(&fields).as_str().to_owned())
    }

    /// How healthy each password entry is: weak (a zxcvbn score below 3),
    /// reused (the same password as other entries, named), old (unchanged
    /// for a year) and, with a breach file, breached. Audited once.
    pub async fn health(&self, origin: &Origin, s: &Unlocked) -> Result<Vec<Health>, ServiceError> {
        let opened = self
            .store()
            .list_items(s.user(), Password::KIND, |row| {
                let plain = Self::open_plain::<Password>(s, row.id, row.version, &row.sealed)?;
                let fields = Self::parse_fields::<Password>(row.id, &plain)?;
                let changed = Self::parse_history(row.id, &plain)?
                    .newest_first()
                    .find(|c| c.field == "password")
                    .map_or(row.created_at, |c| c.changed_at);
                Ok((row.id, fields, changed))
            })
            .await?
            .into_iter()
            .collect::<Result<Vec<_>, ServiceError>>();
        let entries = self.checked(origin, s, opened).await?;
        let breached = self.breached(&entries).await?;
        let year_ago = super::now() - time::Duration::days(365);
        let mut by_password: std::collections::HashMap<&str, Vec<usize>> = Default::default();
        for (i, (_, f, _)) in entries.iter().enumerate() {
            by_password.entry(f.password.expose()).or_default().push(i);
        }
        let report = entries
            .iter()
            .enumerate()
            .map(|(i, (id, f, changed))| {
                let password = f.password.expose();
                let reused_with = by_password
                    .get(password)
                    .into_iter()
                    .flatten()
                    .filter(|j| **j != i)
                    .map(|j| entries[*j].1.name.as_str().to_owned())
                    .collect();
                Health {
                    id: *id,
                    name: f.name.as_str().to_owned(),
                    weak: weak(f),
                    reused_with,
                    old: *changed < year_ago,
                    breached: breached.as_ref().map(|b| b[i]),
                }
            })
            .collect();
        self.audit_read(origin, s, crate::domain::Action::Health, None)
            .await?;
        Ok(report)
    }

    /// Whether each entry's password is in the breach file; `None` without
    /// one. The file is read off the async threads.
    async fn breached(
        &self,
        entries: &[(i64, crate::domain::PasswordFields, OffsetDateTime)],
    ) -> Result<Option<Vec<bool>>, ServiceError> {
        let Some(file) = self.inner.breach.clone() else {
            return Ok(None);
        };
        let passwords: Vec<Zeroizing<String>> = entries
            .iter()
            .map(|(_, f, _)| Zeroizing::new(f.password.expose().to_owned()))
            .collect();
        let found = tokio::task::spawn_blocking(move || {
            passwords
                .iter()
                .map(|p| file.count(p.as_bytes()).map(|n| n > 0))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| ServiceError::Unexpected(format!("breach lookup: {e}").into()))?
        .map_err(|e| ServiceError::Unexpected(e.to_string().into()))?;
        Ok(Some(found))
    }

    /// Every item's name by its id (as the audit log's targets spell ids),
    /// for `log` to show names beside ids. Not audited, like
    /// [`Services::item_names`]: the names go only to their owner.
    pub async fn item_labels(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<ItemLabels, ServiceError> {
        let mut labels = ItemLabels::new();
        self.label::<Card>(origin, s, &mut labels).await?;
        self.label::<Password>(origin, s, &mut labels).await?;
        self.label::<SecureNote>(origin, s, &mut labels).await?;
        self.label::<Totp>(origin, s, &mut labels).await?;
        self.label::<Identity>(origin, s, &mut labels).await?;
        Ok(labels)
    }

    async fn label<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        labels: &mut ItemLabels,
    ) -> Result<(), ServiceError> {
        for item in self.open_all::<K>(origin, s).await? {
            labels.insert(
                item.id.to_string(),
                K::name(&item.fields).as_str().to_owned(),
            );
        }
        Ok(())
    }

    /// Every item whose name, shown fields, tags or non-secret custom
    /// fields contain `text`, ignoring case and accents: `(kind, id, name)`, kind by kind. Audited as one search.
    pub async fn find_text(
        &self,
        origin: &Origin,
        s: &Unlocked,
        text: &str,
    ) -> Result<Vec<(ItemKind, String, String)>, ServiceError> {
        let wanted = crate::domain::search_form(text);
        let mut found = Vec::new();
        self.search::<Card>(origin, s, &wanted, &mut found).await?;
        self.search::<Password>(origin, s, &wanted, &mut found)
            .await?;
        self.search::<SecureNote>(origin, s, &wanted, &mut found)
            .await?;
        self.search::<Totp>(origin, s, &wanted, &mut found).await?;
        self.search::<Identity>(origin, s, &wanted, &mut found)
            .await?;
        self.audit_read(origin, s, crate::domain::Action::Find, None)
            .await?;
        Ok(found)
    }

    async fn search<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        wanted: &str,
        found: &mut Vec<(ItemKind, String, String)>,
    ) -> Result<(), ServiceError> {
        for item in self.open_all::<K>(origin, s).await? {
            let hit = K::searchable(&item.fields)
                .into_iter()
                .chain(item.fields.extras().searchable())
                .any(|v| crate::domain::search_form(v).contains(wanted));
            if hit {
                let name = K::name(&item.fields).as_str().to_owned();
                found.push((K::KIND, item.id.to_string(), name));
            }
        }
        Ok(())
    }

    /// The names of a user's items of one kind, for completion. Not audited:
    /// nothing but names the user already typed leaves the session.
    pub async fn item_names(
        &self,
        origin: &Origin,
        s: &Unlocked,
        kind: ItemKind,
    ) -> Result<Vec<String>, ServiceError> {
        match kind {
            ItemKind::Card => self.names::<Card>(origin, s).await,
            ItemKind::Password => self.names::<Password>(origin, s).await,
            ItemKind::Note => self.names::<SecureNote>(origin, s).await,
            ItemKind::Totp => self.names::<Totp>(origin, s).await,
            ItemKind::Identity => self.names::<Identity>(origin, s).await,
        }
    }

    async fn names<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(self
            .open_all::<K>(origin, s)
            .await?
            .iter()
            .map(|item| K::name(&item.fields).as_str().to_owned())
            .collect())
    }

    pub(super) fn seal<K: Kind>(
        &self,
        s: &Unlocked,
        id: i64,
        version: i64,
        fields: &K::Fields,
        history: &History,
    ) -> Result<Vec<u8>, ServiceError> {
        let sealed = Sealed {
            fields: &K::stored(fields),
            history: &StoredHistory::of(history),
        };
        let plain = Zeroizing::new(
            serde_json::to_vec(&sealed)
                .map_err(|e| ServiceError::Unexpected(format!("encode item: {e}").into()))?,
        );
        Ok(s.keys()
            .seal_item(s.user().get(), K::KIND, id, version, &plain)?)
    }

    /// Opens a stored item; one that does not open under its own binding
    /// (user, kind, row, version) was altered in the database.
    /// The history is read only when `history` asks for it (an edit, the
    /// `history` command): a plain read does not parse it.
    fn open<K: Kind>(
        &self,
        s: &Unlocked,
        record: ItemRecord,
        history: bool,
    ) -> Result<Opened<K>, ServiceError> {
        let plain = Self::open_plain::<K>(s, record.id, record.version, &record.sealed)?;
        let fields = Self::parse_fields::<K>(record.id, &plain)?;
        let history = if history {
            Self::parse_history(record.id, &plain)?
        } else {
            History::default()
        };
        Ok(Opened {
            record,
            fields,
            history,
        })
    }

    /// The history sealed beside an item's fields.
    fn parse_history(id: i64, plain: &[u8]) -> Result<History, ServiceError> {
        let stored: StoredHistory = serde_json::from_slice(plain).map_err(|e| {
            ServiceError::Unexpected(format!("decode item {id}'s history: {e}").into())
        })?;
        Ok(stored.open())
    }

    /// The fields sealed in item `id` at `version`.
    fn open_fields<K: Kind>(
        s: &Unlocked,
        id: i64,
        version: i64,
        sealed: &[u8],
    ) -> Result<K::Fields, ServiceError> {
        let plain = Self::open_plain::<K>(s, id, version, sealed)?;
        Self::parse_fields::<K>(id, &plain)
    }

    /// What item `id` at `version` seals, opened.
    fn open_plain<K: Kind>(
        s: &Unlocked,
        id: i64,
        version: i64,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let plain = s
            .keys()
            .open_item(s.user().get(), K::KIND, id, version, sealed)
            .map_err(|e| match e {
                crate::crypto::CryptoError::Authentication => ServiceError::Tampered { item: id },
                e => e.into(),
            })?;
        Ok(plain)
    }

    fn parse_fields<K: Kind>(id: i64, plain: &[u8]) -> Result<K::Fields, ServiceError> {
        let stored: K::Stored = serde_json::from_slice(plain)
            .map_err(|e| ServiceError::Unexpected(format!("decode item {id}: {e}").into()))?;
        K::fields(&stored)
            .map_err(|e| ServiceError::Unexpected(format!("stored item {id} invalid: {e}").into()))
    }

    /// Passes `result` on; an item found altered is logged and audited
    /// first (nothing else happens to it).
    async fn checked<T>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        if let Err(ServiceError::Tampered { item }) = &result {
            tracing::error!(item, user = %s.user(), "stored item failed its integrity check");
            let audit = origin.audit(
                Some(s.user()),
                crate::domain::Action::Tampered,
                Some(*item),
                Outcome::Failed,
            );
            self.store().record(&audit).await?;
        }
        result
    }

    /// The item `at` refers to. Found by name, the name inside the sealed
    /// item must be the one looked up: an index moved to another row is
    /// tampering.
    async fn find<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
        at: ItemRef<'_>,
        history: bool,
    ) -> Result<Opened<K>, ServiceError> {
        let opened = match at {
            ItemRef::Name(name) => {
                let record = self
                    .indexed::<K>(s, name)
                    .await?
                    .ok_or_else(|| not_found(K::KIND, name))?;
                let id = record.id;
                self.open::<K>(s, record, history).and_then(|o| {
                    if K::name(&o.fields).normalized() == name.normalized() {
                        Ok(o)
                    } else {
                        Err(ServiceError::Tampered { item: id })
                    }
                })
            }
            ItemRef::Id(id) => {
                let record = self
                    .store()
                    .item_by_id(s.user(), K::KIND, id)
                    .await?
                    .ok_or(ServiceError::NotFoundId)?;
                self.open::<K>(s, record, history)
            }
        };
        self.checked(origin, s, opened).await
    }

    /// The row indexed under `name`: under its current form, or else under
    /// a form an earlier version indexed it by.
    async fn indexed<K: Kind>(
        &self,
        s: &Unlocked,
        name: &ItemName,
    ) -> Result<Option<ItemRecord>, ServiceError> {
        let forms = std::iter::once(name.normalized()).chain(name.legacy_forms());
        for form in forms {
            let index = s.keys().name_index(K::KIND, &form);
            if let Some(record) = self
                .store()
                .item_by_index(s.user(), K::KIND, &index)
                .await?
            {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    pub(super) async fn open_all<K: Kind>(
        &self,
        origin: &Origin,
        s: &Unlocked,
    ) -> Result<Vec<Item<K>>, ServiceError> {
        let opened = self
            .store()
            .list_items(s.user(), K::KIND, |row| {
                let fields = Self::open_fields::<K>(s, row.id, row.version, &row.sealed)?;
                Ok(Item {
                    id: K::id(row.id),
                    fields,
                    version: row.version,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                })
            })
            .await?
            .into_iter()
            .collect();
        self.checked(origin, s, opened).await
    }

    async fn audit_read(
        &self,
        origin: &Origin,
        s: &Unlocked,
        action: crate::domain::Action,
        target: Option<i64>,
    ) -> Result<(), ServiceError> {
        let audit = origin.audit(Some(s.user()), action, target, Outcome::Ok);
        Ok(self.store().record(&audit).await?)
    }
}
