//! Storage: SQL, transactions and migrations, behind one narrow interface.
//!
//! Services see [`Store`] and the record types below and nothing of SQL. Each
//! write takes the [`AuditRecord`] that describes it and commits both in one
//! transaction, so a change is never made without its audit record.

mod chain;
mod copy;
mod group;
mod lease;
mod postgres;
mod space;
mod sql;
mod sqlite;

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::crypto::{AuditKey, WrappedKey};
use crate::domain::{ItemKind, Login, UserId};
use chain::Head;
use sql::{Sql, Stamp};
use sqlx::sqlite::SqliteError;
use time::OffsetDateTime as Time;

pub use crate::domain::{AuditFilter, AuditRecord};
pub use chain::{Checkpoint, CheckpointChain};
pub use copy::{
    BackupReport, MigrateReport, backup_sqlite, create_private, migrate_sqlite_to_postgres,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A user's row: identity and wrapped key material, nothing readable.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub login: Login,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub kek_salt: Vec<u8>,
    pub wrapped_dek: WrappedKey,
    /// The data key under the recovery key; `None` for an account made
    /// before recovery keys that has not asked for one. A credential update
    /// writes it only when it is `Some`, so that a password or PIN change
    /// never puts back a key replaced meanwhile.
    pub recovery_wrapped: Option<WrappedKey>,
    /// An operator disabled the account: it opens on no channel.
    pub disabled: bool,
}

/// What a credential change was made from, which must still be stored
/// when it is written.
#[derive(Debug, Clone, Copy)]
pub struct CredentialsRead<'a> {
    /// The KEK salt read.
    pub salt: &'a [u8],
    /// The recovery wrapping a new one replaces, when the change writes one
    /// (a recovery): a key re-issued meanwhile makes the change fail.
    pub recovery: Option<&'a [u8]>,
}

/// A user as operators see them (`keeper admin users`): nothing of the
/// vault but how many items it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: UserId,
    pub login: Login,
    pub created_at: Time,
    pub disabled_at: Option<Time>,
    /// When the vault was last opened (password and PIN right), from the
    /// audit log.
    pub last_login: Option<Time>,
    /// Items stored (the trash not counted).
    pub items: i64,
}

/// A sealed item (card or password) as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRecord {
    pub id: i64,
    #[sqlx(rename = "user_id", try_from = "i64")]
    pub user: UserId,
    pub name_index: Vec<u8>,
    pub sealed: Vec<u8>,
    pub version: i64,
    #[sqlx(try_from = "Stamp")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "Stamp")]
    pub updated_at: OffsetDateTime,
}

/// An item in the trash, as its listing reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrashRecord {
    pub id: i64,
    pub kind: String,
    pub sealed: Vec<u8>,
    pub version: i64,
    #[sqlx(try_from = "Stamp")]
    pub deleted_at: OffsetDateTime,
}

/// An item as a listing reads it: what opening and showing it takes, and
/// no more (each column read is one more value copied out of SQLite).
#[derive(Debug, sqlx::FromRow)]
pub struct ListedItem {
    pub id: i64,
    pub sealed: Vec<u8>,
    pub version: i64,
    #[sqlx(try_from = "Stamp")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "Stamp")]
    pub updated_at: OffsetDateTime,
}

/// An API token as stored: its hash and the data key wrapped under it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: i64,
    #[sqlx(rename = "user_id", try_from = "i64")]
    pub user: UserId,
    pub token_hash: Vec<u8>,
    #[sqlx(try_from = "Vec<u8>")]
    pub wrapped_dek: WrappedKey,
    #[sqlx(try_from = "Stamp")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "Stamp")]
    pub last_used_at: OffsetDateTime,
    #[sqlx(try_from = "Stamp")]
    pub expires_at: OffsetDateTime,
}

/// What `keeper audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerdict {
    pub records: u64,
    pub chains: u64,
    /// The first changed, inserted or deleted record, described.
    pub problem: Option<String>,
}

/// One throttle key's state. Keys are HMACs; see `service::throttle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRow {
    pub failures: i64,
    pub last_failure: Time,
    pub locked_until: Option<Time>,
    /// Attempts counted but not yet settled (their Argon2 work is running).
    pub pending: i64,
    /// When those pending attempts count as abandoned (a crashed node).
    pub pending_until: Option<Time>,
}

/// What becomes of one throttle row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowChange {
    Keep,
    Set(ThrottleRow),
    Delete,
}

/// What a throttle rule decided over the rows of an attempt's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Nothing changes; the attempt is refused until then.
    Refuse { until: Time },
    /// Nothing changes; other attempts being checked fill the budget, so
    /// this one waits for them.
    Wait,
    /// Each key's row changes so (one entry per key, in order).
    Write(Vec<RowChange>),
}

/// The rule `Store::throttle_apply` runs with the rows locked.
pub type ThrottleRule<'a> = dyn Fn(&[Option<ThrottleRow>]) -> ThrottleDecision + Sync + 'a;

/// When throttle rows were last swept; at most one sweep a minute.
#[derive(Debug, Default)]
pub(crate) struct Sweep(std::sync::Mutex<Option<Time>>);

impl Sweep {
    /// Whether a sweep is due now (and, if so, it counts as done).
    pub(crate) fn due(&self, now: Time) -> bool {
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| now - t < time::Duration::minutes(1)) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// What the store heard of credential changes made on other nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// This user's password or PIN was changed, or an operator disabled
    /// or deleted the account.
    Changed(UserId),
    /// The connection that hears of changes was lost: any user's may have
    /// changed meanwhile.
    Missed,
}

/// How long a throttle row is kept after its last failure or lock: no
/// shorter than the throttle remembers failures (the longest lock, at most a
/// day, plus a day).
pub const THROTTLE_KEEP: time::Duration = time::Duration::days(2);

/// Expected outcomes of storage calls, plus one for everything unexpected.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique key (login, item name) is taken.
    #[error("already exists")]
    Conflict,
    /// No such row for this user.
    #[error("not found")]
    NotFound,
    /// The row changed since the caller read it.
    #[error("version mismatch")]
    VersionMismatch,
    /// An operator disabled the user meanwhile: nothing was changed.
    #[error("the account is disabled")]
    Disabled,
    /// The user already stores as many items of the kind as allowed.
    #[error("item limit reached")]
    LimitReached,
    /// The disk under the database is full: nothing was written.
    #[error("the disk is full")]
    Full,
    /// The database file is damaged: SQLite found it malformed.
    #[error(
        "the database is damaged ({0}); stop every server on it and restore the latest \
         backup made with `keeper backup`"
    )]
    Damaged(String),
    /// The database failed or holds something it should not.
    #[error("storage failure: {0}")]
    Unexpected(String),
}

/// Whether the audit key a server was given is the one the database's
/// audit log was written under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKeyFit {
    /// No audit record yet: any key will do.
    NoRecords,
    /// At least one chain head authenticates under the key.
    Fits,
    /// Records exist and not one chain head authenticates under the key.
    Mismatch,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(db) => match db.try_downcast_ref::<SqliteError>() {
                // The primary result code (the low byte of an extended one):
                // SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB.
                Some(lite) => match sqlx::error::DatabaseError::code(lite)
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff)
                {
                    Some(11 | 26) => Self::Damaged(db.message().to_owned()),
                    Some(13) => Self::Full,
                    _ => Self::Unexpected(e.to_string()),
                },
                // disk_full
                None if db.code().as_deref() == Some("53100") => Self::Full,
                None => Self::Unexpected(e.to_string()),
            },
            _ => Self::Unexpected(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Unexpected(format!("migration failed: {e}"))
    }
}

/// What an acknowledged write must survive (`--durability`, mapped by
/// `config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The server process crashing or being killed (the default): a commit
    /// reaches the operating system before it is acknowledged.
    #[default]
    ProcessCrash,
    /// The machine losing power as well: every commit is synced to disk
    /// before it is acknowledged, at the cost of write throughput.
    PowerLoss,
}

/// The database the services use. One variant per engine.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite (WAL), the default.
    Sqlite(SqliteStore),
    /// PostgreSQL, shared by any number of nodes.
    Postgres(PostgresStore),
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            // A write that found the disk full gives the reserve up; the
            // first to do so tries once more in the room that made, so that
            // the read or login it belongs to is not the one that pays.
            Store::Sqlite(s) => match s.$method($($arg),*).await {
                Err(StoreError::Full) if s.give_up_reserve().await => s.$method($($arg),*).await,
                other => other,
            },
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

/// A read both engines run as the same statements (`sql/`), on a
/// connection leased for it (`lease`).
macro_rules! shared_read {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => leased!(s, sqlx::Sqlite, $method($($arg),*)),
            Store::Postgres(s) => leased!(s, sqlx::Postgres, $method($($arg),*)),
        }
    };
}

/// `shared_read!` on one engine's leased connections. A read that fails
/// unexpectedly (its connection may have been lost with the server, and
/// the other idle ones with it: see `lease`) is tried once more on a new
/// connection; reads change nothing, so trying again is safe.
macro_rules! leased {
    ($s:ident, $db:ty, $method:ident ( $($arg:expr),* )) => {{
        let mut lease = $s.readers().lease().await?;
        let read = Sql::<$db>::$method(&mut lease.conn, $($arg),*).await;
        $s.readers().give_back(lease, &read);
        match read {
            Err(StoreError::Unexpected(_)) => {
                let mut lease = $s.readers().lease().await?;
                let read = Sql::<$db>::$method(&mut lease.conn, $($arg),*).await;
                $s.readers().give_back(lease, &read);
                read
            }
            read => read,
        }
    }};
}

/// A small write both engines make with the same statement, outside any
/// change (a token's last use, a rehashed password).
macro_rules! shared_write {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => match Sql::<sqlx::Sqlite>::$method(s.writer(), $($arg),*).await {
                Err(StoreError::Full) if s.give_up_reserve().await => {
                    Sql::<sqlx::Sqlite>::$method(s.writer(), $($arg),*).await
                }
                other => other,
            },
            Store::Postgres(s) => Sql::<sqlx::Postgres>::$method(s.pool(), $($arg),*).await,
        }
    };
}

/// A change made with the shared statements on SQLite: in the write
/// transaction (refused first while the disk is full, when `$admit` says it
/// is one users ask for), committed with its audit record.
macro_rules! sqlite_change {
    ($s:ident, admit: $admit:expr, audit: $audit:expr, $method:ident ( $($arg:expr),* )) => {{
        let attempt = || async {
            let mut tx = $s.begin_change($admit).await?;
            Sql::<sqlx::Sqlite>::$method(&mut tx, $($arg),*).await?;
            Sql::<sqlx::Sqlite>::commit(tx, $s.audit_key(), $audit).await
        };
        match attempt().await {
            Err(StoreError::Full) if $s.give_up_reserve().await => attempt().await,
            other => other,
        }
    }};
}

/// A change both engines make with the same statements: in the write
/// transaction each engine opens (see `sqlite_change!`), committed with its
/// audit record.
macro_rules! shared_change {
    ($self:ident, admit: $admit:expr, audit: $audit:expr, $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => {
                sqlite_change!(s, admit: $admit, audit: $audit, $method($($arg),*))
            }
            Store::Postgres(s) => {
                let mut tx = s.begin_change().await?;
                Sql::<sqlx::Postgres>::$method(&mut tx, $($arg),*).await?;
                Sql::<sqlx::Postgres>::commit(tx, s.audit_key(), $audit).await
            }
        }
    };
}

/// An operator's change to `$user`'s account, with its audit record: on
/// PostgreSQL the other nodes are told in the same transaction (they end
/// the user's sessions); a server on SQLite finds the record itself.
macro_rules! announced_change {
    ($self:ident, $user:expr, $audit:expr, $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => {
                sqlite_change!(s, admit: false, audit: Some($audit), $method($($arg),*))
            }
            Store::Postgres(s) => {
                let mut tx = s.begin_change().await?;
                Sql::<sqlx::Postgres>::$method(&mut tx, $($arg),*).await?;
                s.announce(&mut tx, $user).await?;
                Sql::<sqlx::Postgres>::commit(tx, s.audit_key(), Some($audit)).await
            }
        }
    };
}

impl Store {
    /// Opens (creating and migrating when needed) the database at `url`:
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub async fn connect(
        url: &str,
        audit_key: AuditKey,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(
                SqliteStore::connect(url, audit_key, durability).await?,
            ))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres(
                PostgresStore::connect(url, audit_key, durability).await?,
            ))
        } else {
            Err(StoreError::Unexpected(format!(
                "unsupported database URL `{}`: expected sqlite://PATH or postgres://…",
                url.split("://").next().unwrap_or(url)
            )))
        }
    }

    /// Closes every connection after in-flight queries finish.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }

    /// Stores a new user, using up the invite whose code hashes to
    /// `invite` in the same transaction (`NotFound` when it is unknown,
    /// used or expired).
    pub async fn create_user(
        &self,
        user: &UserRecord,
        invite: Option<&[u8]>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), register_user(user, invite, audit.at))
    }

    /// Whether the invite whose code hashes to `hash` may still be used.
    pub async fn invite_usable(
        &self,
        hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        shared_read!(self.invite_usable(hash, now))
    }

    /// Stores an invite code's hash, usable until `expires`.
    pub async fn insert_invite(
        &self,
        hash: &[u8],
        expires: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), insert_invite(hash, audit.at, expires))
    }

    pub async fn user_by_login(&self, login: &Login) -> Result<Option<UserRecord>, StoreError> {
        shared_read!(self.user_by_login(login))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        shared_read!(self.user_by_id(id))
    }

    /// Replaces the data key a user's recovery key wraps (a new key), only
    /// if the KEK salt is still `salt` and the account enabled (else
    /// `VersionMismatch` or `Disabled`, and nothing changes).
    pub async fn set_recovery_wrapped(
        &self,
        user: UserId,
        wrapped: &WrappedKey,
        salt: &[u8],
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), set_recovery_wrapped(user, &wrapped.0, salt))
    }

    /// Replaces a user's password hash with one of the same password (made
    /// with the pepper), if it is still `old`.
    pub async fn upgrade_password_hash(
        &self,
        user: UserId,
        old: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        shared_write!(self.upgrade_password_hash(user, old, new))
    }

    /// Stores a new API token.
    pub async fn insert_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: false, audit: Some(audit), insert_token(token))
    }

    /// The token with hash `hash`, and its user's login.
    pub async fn token_by_hash(
        &self,
        hash: &[u8],
    ) -> Result<Option<(TokenRecord, Login)>, StoreError> {
        shared_read!(self.token_by_hash(hash))
    }

    /// Records that a token was used at `at`.
    pub async fn touch_token(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        shared_write!(self.touch_token(id, at))
    }

    /// Deletes a token; with an audit record when the user asked for it.
    pub async fn delete_token(
        &self,
        id: i64,
        audit: Option<&AuditRecord>,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: false, audit: audit, delete_token(id))
    }

    /// How many unexpired tokens exist, in all or for one user.
    pub async fn count_tokens(
        &self,
        now: OffsetDateTime,
        user: Option<UserId>,
    ) -> Result<i64, StoreError> {
        shared_read!(self.count_tokens(now, user))
    }

    /// Replaces the password hash, KEK salt and wrapped key of a user, and
    /// revokes every API token of theirs, in one transaction; only if what
    /// the change was made from is still stored (every credential change
    /// draws a new KEK salt), else `VersionMismatch` and nothing changes.
    pub async fn update_credentials(
        &self,
        user: &UserRecord,
        read: &CredentialsRead<'_>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => sqlite_change!(
                s,
                admit: true,
                audit: Some(audit),
                update_credentials(user, read, audit.at)
            ),
            // The other nodes hear of the change as it commits.
            Store::Postgres(s) => s.update_credentials(user, read, audit).await,
        }
    }

    /// The users whose sessions other processes on the database end from
    /// now on: another node's password or PIN change (PostgreSQL), an
    /// operator's `keeper admin disable|delete` (either engine).
    pub async fn credential_changes(
        &self,
    ) -> Result<tokio::sync::mpsc::Receiver<Heard>, StoreError> {
        match self {
            Store::Sqlite(s) => s.operator_changes().await,
            Store::Postgres(s) => s.credential_changes().await,
        }
    }

    /// `each` of the user's items of `kind`, oldest first, applied to each
    /// row as it arrives: the rows still being read overlap with the work
    /// done on those already read.
    pub async fn list_items<T>(
        &self,
        user: UserId,
        kind: ItemKind,
        mut each: impl FnMut(ListedItem) -> T,
    ) -> Result<Vec<T>, StoreError> {
        shared_read!(self.list_items(user, kind, &mut each))
    }

    pub async fn item_by_index(
        &self,
        user: UserId,
        kind: ItemKind,
        index: &[u8],
    ) -> Result<Option<ItemRecord>, StoreError> {
        shared_read!(self.item_by_index(user, kind, index))
    }

    pub async fn item_by_id(
        &self,
        user: UserId,
        kind: ItemKind,
        id: i64,
    ) -> Result<Option<ItemRecord>, StoreError> {
        shared_read!(self.item_by_id(user, kind, id))
    }

    /// Stores a new item unless its owner already has `limit` of the kind:
    /// the count and the insert are one transaction, so concurrent inserts
    /// cannot pass the limit together.
    pub async fn insert_item(
        &self,
        kind: ItemKind,
        item: &ItemRecord,
        limit: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), insert_item(kind, item, limit))
    }

    /// The name indexes of `user`'s items of `kind`, to tell a name taken.
    pub async fn name_indexes(
        &self,
        user: UserId,
        kind: ItemKind,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        shared_read!(self.name_indexes(user, kind))
    }

    /// Stores every one of `items` of `user` in one transaction with its
    /// audit record, or none of them: a name taken meanwhile is
    /// `Conflict`, a kind's count past `limit` `LimitReached`.
    pub async fn insert_items(
        &self,
        user: UserId,
        items: &[(ItemKind, ItemRecord)],
        limit: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), insert_items(user, items, limit))
    }

    /// Writes `item` (whose `version` is the new one) if the stored version is `expected`.
    pub async fn update_item(
        &self,
        kind: ItemKind,
        item: &ItemRecord,
        expected: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), update_item(kind, item, expected))
    }

    pub async fn delete_item(
        &self,
        kind: ItemKind,
        user: UserId,
        id: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), delete_item(kind, user, id))
    }

    /// Moves an item to the trash, deleted `at`.
    pub async fn trash_item(
        &self,
        kind: ItemKind,
        user: UserId,
        id: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), trash_item(kind, user, id, audit.at))
    }

    /// What `user` has in the trash, oldest deletion first.
    pub async fn list_trash(&self, user: UserId) -> Result<Vec<TrashRecord>, StoreError> {
        shared_read!(self.list_trash(user))
    }

    /// How many items `user` has in the trash.
    pub async fn count_trash(&self, user: UserId) -> Result<usize, StoreError> {
        let count = shared_read!(self.count_trash(user))?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Moves an item back from the trash, counted against `limit`.
    pub async fn restore_item(
        &self,
        kind: ItemKind,
        user: UserId,
        id: i64,
        limit: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: true, audit: Some(audit), restore_item(kind, user, id, limit))
    }

    /// Deletes item `id` from `user`'s trash, or every item in it for
    /// `None`.
    pub async fn delete_trashed(
        &self,
        user: UserId,
        id: Option<i64>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: false, audit: Some(audit), delete_trashed(user, id))
    }

    /// Every trashed item deleted before `before`: `(user, id)`.
    pub async fn expired_trash(
        &self,
        before: OffsetDateTime,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        shared_read!(self.expired_trash(before))
    }

    /// Records an event that accompanies no change (a login, a reveal …).
    pub async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        dispatch!(self.record(audit))
    }

    /// Walks every audit chain and reports the first broken record.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        dispatch!(self.verify_audit())
    }

    /// A MAC'd summary of every chain's head now (`keeper audit checkpoint`).
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let heads = shared_read!(self.audit_heads())?;
        Checkpoint::of(self.audit_key(), &heads)
    }

    /// What keeps the log from extending `checkpoint`, if anything: a
    /// checkpoint not made under this audit key, or chains rolled back.
    pub async fn audit_extends(
        &self,
        checkpoint: &Checkpoint,
    ) -> Result<Option<String>, StoreError> {
        if !checkpoint.authentic(self.audit_key()) {
            return Ok(Some(
                "the checkpoint was not made under this audit key, or was altered".into(),
            ));
        }
        let heads: HashMap<i64, Head> = shared_read!(self.audit_heads())?.into_iter().collect();
        let ids = checkpoint.last_ids();
        let macs = dispatch!(self.audit_macs(&ids))?;
        Ok(checkpoint.missing_from(&heads, &macs))
    }

    /// Whether this store's audit key is the one its records were written
    /// under. One authentic chain head is enough: a head altered since is
    /// for `audit verify` to report, while a wrong key fits none.
    pub async fn audit_key_fit(&self) -> Result<AuditKeyFit, StoreError> {
        let heads = shared_read!(self.audit_heads())?;
        if heads.is_empty() {
            return Ok(AuditKeyFit::NoRecords);
        }
        let key = self.audit_key();
        let fits = heads
            .iter()
            .any(|(chain, head)| head.authentic(key, *chain));
        Ok(if fits {
            AuditKeyFit::Fits
        } else {
            AuditKeyFit::Mismatch
        })
    }

    fn audit_key(&self) -> &AuditKey {
        match self {
            Store::Sqlite(s) => s.audit_key(),
            Store::Postgres(s) => s.audit_key(),
        }
    }

    /// Events across all users, newest first, with the login they belong to.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<(AuditRecord, Option<String>)>, StoreError> {
        shared_read!(self.list_audit(filter))
    }

    /// Reads the throttle rows of `keys` (absent ones as `None`), each held
    /// against concurrent change on every node until `rule` has decided,
    /// writes what it decided, and commits: one atomic step. Rows whose
    /// window passed long ago are swept on the way now and then.
    pub async fn throttle_apply(
        &self,
        keys: &[Vec<u8>],
        owners: &[Option<Vec<u8>>],
        now: Time,
        rule: &ThrottleRule<'_>,
    ) -> Result<ThrottleDecision, StoreError> {
        dispatch!(self.throttle_apply(keys, owners, now, rule))
    }

    /// Until when a throttle row of the login `owner` (its HMAC) is
    /// locked, if one is now.
    pub async fn throttle_locked_until(
        &self,
        owner: &[u8],
        now: Time,
    ) -> Result<Option<Time>, StoreError> {
        shared_read!(self.throttle_locked_until(owner, now))
    }

    // Operators.

    /// Every user, by login.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        shared_read!(self.list_users())
    }

    /// Disables a user (ending every token of theirs in the same
    /// transaction) or enables them again. Nodes sharing the database
    /// hear of it and end the user's sessions.
    pub async fn set_disabled(
        &self,
        user: UserId,
        disabled: bool,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let at = disabled.then_some(audit.at);
        announced_change!(self, user, audit, set_disabled(user, at))
    }

    /// Deletes a user and everything of theirs (items, trash, tokens, the
    /// throttle rows of their login `owner`) but their audit chain, which
    /// `audit` ends. Nodes sharing the database end the user's sessions.
    pub async fn delete_user(
        &self,
        user: UserId,
        owner: &[u8],
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        announced_change!(self, user, audit, delete_user(user, owner))
    }

    /// Deletes the throttle rows of the login `owner`: its failures are
    /// forgotten and its locks lifted, from every address.
    pub async fn clear_throttle(
        &self,
        owner: &[u8],
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        shared_change!(self, admit: false, audit: Some(audit), clear_throttle(owner))
    }

    /// A user's own events, newest first.
    pub async fn audit_for_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        shared_read!(self.audit_for_user(user, limit))
    }
}
