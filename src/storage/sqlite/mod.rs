//! SQLite storage: WAL mode, one writer connection and a pool of readers.
//!
//! SQLite allows one writer at a time: every write goes through a
//! single-connection pool, and every write transaction starts with
//! `BEGIN IMMEDIATE`, so that it takes the write lock first and waits (busy
//! timeout) for another process's writer instead of failing with
//! `SQLITE_BUSY` when it reads before it writes. Reads go through a separate
//! pool and never block behind the writer.

use std::str::FromStr;
use std::time::Duration;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteArgumentsBuffer, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Decode, Encode, Sqlite, Transaction, Type};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::collections::HashMap;
use std::sync::Arc;

use super::chain::{Head, ts};
mod audit;
mod throttle;

use super::group::AuditQueue;
use super::space::{Space, WAL_PAGES, WAL_PAGES_WHEN_FULL};
use super::sql::{Affected, Sql, Stamp};
use super::{
    AuditRecord, AuditVerdict, Durability, ItemRecord, StoreError, ThrottleDecision, ThrottleRule,
    UserRecord,
};
use crate::crypto::AuditKey;
use crate::domain::ItemKind;

type Shared = Sql<Sqlite>;

/// SQLite stores a point in time as RFC 3339 text with six fraction digits,
/// so that text order is time order.
impl Type<Sqlite> for Stamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Stamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'_, Sqlite>>::encode(ts(self.0)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Stamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(OffsetDateTime::parse(text, &Rfc3339)?))
    }
}

impl Affected for SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

/// The SQLite implementation of the store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    audit_key: Arc<AuditKey>,
    audit_queue: AuditQueue,
    sweep: Arc<super::Sweep>,
    space: Arc<Space>,
}

/// Sets how often the writer connection checkpoints, for `space`.
async fn set_autocheckpoint(
    conn: &mut sqlx::SqliteConnection,
    space: &Space,
) -> Result<(), sqlx::Error> {
    let pages = if space.is_full() {
        WAL_PAGES_WHEN_FULL
    } else {
        WAL_PAGES
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA wal_autocheckpoint = {pages}"
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Rows the SQLite worker may produce ahead of the reader.
const READ_AHEAD_ROWS: usize = 4096;

/// Refuses a damaged database file before anything is written to it:
/// `PRAGMA quick_check` reads every page and checks the b-tree structure
/// (seconds for a large vault, once per start).
async fn check_integrity(pool: &SqlitePool) -> Result<(), StoreError> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA quick_check(5)")
        .fetch_all(pool)
        .await?;
    if problems.iter().all(|p| p == "ok") {
        return Ok(());
    }
    Err(StoreError::Damaged(problems.join("; ")))
}

impl SqliteStore {
    /// Opens the database at `url`, creating the file and applying migrations;
    /// audit records are chained under `audit_key`.
    pub async fn connect(
        url: &str,
        audit_key: AuditKey,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        let synchronous = match durability {
            // WAL with NORMAL: a commit is in the WAL (the OS's page cache)
            // before it is acknowledged, so it survives the process crashing;
            // the WAL is synced at checkpoints.
            Durability::ProcessCrash => SqliteSynchronous::Normal,
            // FULL: the WAL is synced at every commit.
            Durability::PowerLoss => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unexpected(format!("bad database URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let space = Arc::new(Space::next_to(options.get_filename()));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect({
                let space = space.clone();
                move |conn, _| {
                    let space = space.clone();
                    Box::pin(async move { set_autocheckpoint(conn, &space).await })
                }
            })
            // A commit that failed (a full disk) may leave SQLite rolled back
            // while sqlx still counts an open transaction; every later BEGIN
            // would then fail. Such a connection is replaced, not reused.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    if !sqlx::Connection::is_in_transaction(conn) {
                        return Ok(true);
                    }
                    // The rollback of a dropped transaction may still be on
                    // its way to the connection's worker: let it land first.
                    sqlx::Connection::ping(conn).await?;
                    Ok(!sqlx::Connection::is_in_transaction(conn))
                })
            })
            .connect_with(options.clone())
            .await?;
        check_integrity(&writer).await?;
        let heads_had_macs: bool = sqlx::query_scalar(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('audit_heads') WHERE name = 'head_mac'",
        )
        .fetch_one(&writer)
        .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        if !heads_had_macs {
            audit::authenticate_heads(&writer, &audit_key).await?;
        }
        // sqlx's SQLite worker thread hands rows over through a bounded
        // channel (50 by default) and the reader wakes for each batch; a
        // roomy channel lets a long listing flow without a context switch
        // every few rows.
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true).row_buffer_size(READ_AHEAD_ROWS))
            .await?;
        let audit_key = Arc::new(audit_key);
        let audit_queue = AuditQueue::spawn({
            let (writer, key) = (writer.clone(), audit_key.clone());
            move |group| {
                let (writer, key) = (writer.clone(), key.clone());
                async move { audit::write_group(&writer, &key, group).await }
            }
        });
        Ok(Self {
            writer,
            reader,
            audit_key,
            audit_queue,
            sweep: Arc::default(),
            space,
        })
    }

    /// After a write found the disk full: gives the reserve up and
    /// checkpoints the WAL, so that reads and logins keep the room they
    /// need (see `space`). Whether this call was the one that did.
    pub(super) async fn give_up_reserve(&self) -> bool {
        if !self.space.filled() {
            return false;
        }
        if let Ok(mut conn) = self.writer.acquire().await {
            let _ = set_autocheckpoint(&mut conn, &self.space).await;
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await;
        }
        true
    }

    /// Lets a change the user asked for through unless the disk is full.
    async fn admit(&self) -> Result<(), StoreError> {
        let was_full = self.space.is_full();
        self.space.admit()?;
        if was_full {
            let mut conn = self.writer.acquire().await?;
            set_autocheckpoint(&mut conn, &self.space).await?;
        }
        Ok(())
    }

    pub(super) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The write transaction of a change: `BEGIN IMMEDIATE`, after the
    /// full-disk check when `admit` (a change users ask for).
    pub(super) async fn begin_change(
        &self,
        admit: bool,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        if admit {
            self.admit().await?;
        }
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Appends the change's audit record, if it has one, and commits.
    pub(super) async fn commit_change(
        &self,
        mut tx: Transaction<'static, Sqlite>,
        audit: Option<&AuditRecord>,
    ) -> Result<(), StoreError> {
        if let Some(audit) = audit {
            audit::insert(&mut tx, &self.audit_key, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) fn audit_key(&self) -> &AuditKey {
        &self.audit_key
    }

    pub(super) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(super) async fn update_credentials(
        &self,
        u: &UserRecord,
        previous_salt: &[u8],
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        self.admit().await?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Shared::update_credentials(&mut tx, u, previous_salt, audit.at).await?;
        audit::insert(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn insert_item(
        &self,
        kind: ItemKind,
        i: &ItemRecord,
        limit: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        self.admit().await?;
        // BEGIN IMMEDIATE holds the write lock from here: no other insert
        // can come between the count and this one.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Shared::insert_item(&mut tx, kind, i, limit).await?;
        audit::insert(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        audit::verify(&self.reader, &self.audit_key).await
    }

    /// Every chain's head.
    pub(super) async fn audit_heads(&self) -> Result<Vec<(i64, Head)>, StoreError> {
        audit::heads(&self.reader).await
    }

    /// The chain and MAC of each record of `ids` that exists.
    pub(super) async fn audit_macs(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, (i64, Vec<u8>)>, StoreError> {
        audit::macs(&self.reader, ids).await
    }

    pub(super) async fn throttle_apply(
        &self,
        keys: &[Vec<u8>],
        now: OffsetDateTime,
        rule: &ThrottleRule<'_>,
    ) -> Result<ThrottleDecision, StoreError> {
        throttle::apply(&self.writer, &self.sweep, keys, now, rule).await
    }

    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        self.audit_queue.record(audit).await
    }
}
