//! Storage: SQL, transactions and migrations, behind one narrow interface.
//!
//! Services see [`Store`] and the record types below and nothing of SQL. Each
//! write takes the [`AuditRecord`] that describes it and commits both in one
//! transaction, so a change is never made without its audit record.

/// Picks the statement for the table that holds `kind`.
macro_rules! per_kind {
    ($kind:expr, $($part:literal)*) => {
        match $kind {
            ItemKind::Card => per_kind!(@table "cards" $($part)*),
            ItemKind::Password => per_kind!(@table "passwords" $($part)*),
        }
    };
    (@table $table:literal $before:literal $after:literal) => { concat!($before, $table, $after) };
}

mod chain;
mod copy;
mod group;
mod postgres;
mod sqlite;

use time::OffsetDateTime;

use crate::crypto::{AuditKey, WrappedKey};
use crate::domain::{Action, Channel, ItemKind, Login, Outcome, UserId};
use time::OffsetDateTime as Time;

pub use copy::{BackupReport, MigrateReport, backup_sqlite, migrate_sqlite_to_postgres};
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
}

/// A sealed item (card or password) as stored.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub id: i64,
    pub user: UserId,
    pub name_index: Vec<u8>,
    pub sealed: Vec<u8>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An API token as stored: its hash and the data key wrapped under it.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub user: UserId,
    pub token_hash: Vec<u8>,
    pub wrapped_dek: WrappedKey,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// One audit event. It holds no secret and no item name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: OffsetDateTime,
    pub user: Option<UserId>,
    pub channel: Channel,
    pub remote_addr: Option<String>,
    pub action: Action,
    pub target: Option<String>,
    pub outcome: Outcome,
}

/// What `keeper audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerdict {
    pub records: u64,
    pub chains: u64,
    /// The first changed, inserted or deleted record, described.
    pub problem: Option<String>,
}

/// Filters of `keeper audit list`; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub login: Option<Login>,
    pub action: Option<Action>,
    pub outcome: Option<Outcome>,
    pub channel: Option<Channel>,
    pub since: Option<Time>,
    pub until: Option<Time>,
    pub limit: i64,
}

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
    /// The database failed or holds something it should not.
    #[error("storage failure: {0}")]
    Unexpected(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            _ => Self::Unexpected(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Unexpected(format!("migration failed: {e}"))
    }
}

/// What an acknowledged write must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Durability {
    /// The server process crashing or being killed (the default): a commit
    /// reaches the operating system before it is acknowledged.
    #[default]
    #[value(name = "crash")]
    ProcessCrash,
    /// The machine losing power as well: every commit is synced to disk
    /// before it is acknowledged, at the cost of write throughput.
    #[value(name = "power")]
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
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
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
        dispatch!(self.close())
    }

    pub async fn create_user(
        &self,
        user: &UserRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.create_user(user, audit))
    }

    pub async fn user_by_login(&self, login: &Login) -> Result<Option<UserRecord>, StoreError> {
        dispatch!(self.user_by_login(login))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        dispatch!(self.user_by_id(id))
    }

    /// Stores a new API token.
    pub async fn insert_token(
        &self,
        token: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.insert_token(token, audit))
    }

    pub async fn token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        dispatch!(self.token_by_hash(hash))
    }

    /// Records that a token was used at `at`.
    pub async fn touch_token(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        dispatch!(self.touch_token(id, at))
    }

    /// Deletes a token; with an audit record when the user asked for it.
    pub async fn delete_token(
        &self,
        id: i64,
        audit: Option<&AuditRecord>,
    ) -> Result<(), StoreError> {
        dispatch!(self.delete_token(id, audit))
    }

    /// How many unexpired tokens exist, in all or for one user.
    pub async fn count_tokens(
        &self,
        now: OffsetDateTime,
        user: Option<UserId>,
    ) -> Result<i64, StoreError> {
        dispatch!(self.count_tokens(now, user))
    }

    /// Replaces the password hash, KEK salt and wrapped key of a user, and
    /// revokes every API token of theirs, in one transaction.
    pub async fn update_credentials(
        &self,
        user: &UserRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.update_credentials(user, audit))
    }

    pub async fn list_items(
        &self,
        user: UserId,
        kind: ItemKind,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        dispatch!(self.list_items(user, kind))
    }

    pub async fn count_items(&self, user: UserId, kind: ItemKind) -> Result<i64, StoreError> {
        dispatch!(self.count_items(user, kind))
    }

    pub async fn item_by_index(
        &self,
        user: UserId,
        kind: ItemKind,
        index: &[u8],
    ) -> Result<Option<ItemRecord>, StoreError> {
        dispatch!(self.item_by_index(user, kind, index))
    }

    pub async fn item_by_id(
        &self,
        user: UserId,
        kind: ItemKind,
        id: i64,
    ) -> Result<Option<ItemRecord>, StoreError> {
        dispatch!(self.item_by_id(user, kind, id))
    }

    pub async fn insert_item(
        &self,
        kind: ItemKind,
        item: &ItemRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.insert_item(kind, item, audit))
    }

    /// Writes `item` (whose `version` is the new one) if the stored version is `expected`.
    pub async fn update_item(
        &self,
        kind: ItemKind,
        item: &ItemRecord,
        expected: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.update_item(kind, item, expected, audit))
    }

    pub async fn delete_item(
        &self,
        kind: ItemKind,
        user: UserId,
        id: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self.delete_item(kind, user, id, audit))
    }

    /// Records an event that accompanies no change (a login, a reveal …).
    pub async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        dispatch!(self.record(audit))
    }

    /// Walks every audit chain and reports the first broken record.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        dispatch!(self.verify_audit())
    }

    /// Events across all users, newest first, with the login they belong to.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<(AuditRecord, Option<String>)>, StoreError> {
        dispatch!(self.list_audit(filter))
    }

    /// The latest time until which any of `keys` is locked, if one is now.
    pub async fn throttle_locked(
        &self,
        keys: &[String],
        now: Time,
    ) -> Result<Option<Time>, StoreError> {
        dispatch!(self.throttle_locked(keys, now))
    }

    /// Counts a failure for `key`; returns its failure count (after forgetting
    /// failures older than `forget`), and locks it until `lock(count)` if that
    /// gives a time.
    pub async fn throttle_fail(
        &self,
        key: &str,
        now: Time,
        forget: time::Duration,
        lock: &(dyn Fn(i64) -> Option<Time> + Sync),
    ) -> Result<(i64, Option<Time>), StoreError> {
        dispatch!(self.throttle_fail(key, now, forget, lock))
    }

    /// Forgets the failures of `key` (after a success).
    pub async fn throttle_reset(&self, key: &str) -> Result<(), StoreError> {
        dispatch!(self.throttle_reset(key))
    }

    /// A user's own events, newest first.
    pub async fn audit_for_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        dispatch!(self.audit_for_user(user, limit))
    }
}
