//! SQLite storage: WAL mode, one writer connection and leased readers.
//!
//! SQLite allows one writer at a time: every write goes through a
//! single-connection pool, and every write transaction starts with
//! `BEGIN IMMEDIATE`, so that it takes the write lock first and waits (busy
//! timeout) for another process's writer instead of failing with
//! `SQLITE_BUSY` when it reads before it writes. Reads run on read-only
//! connections of their own (`lease`) and never block behind the writer.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod audit;
mod throttle;

use super::chain::ts;
use super::group::AuditLog;
use super::lease::Leases;
use super::space::{Space, WAL_PAGES, WAL_PAGES_WHEN_FULL};
use super::sql::{Engine, Sql};
use super::{AuditRecord, AuditVerdict, Durability, StoreError};
use crate::crypto::AuditKey;

type Shared = Sql<Sqlite>;

impl Engine for Sqlite {
    /// RFC 3339 text in UTC with six fraction digits, so that text order
    /// is time order.
    type Time = String;
    type TimeRef<'r> = &'r str;

    fn to_column(t: OffsetDateTime) -> Result<String, BoxDynError> {
        Ok(ts(t)?)
    }

    fn from_column(t: &str) -> Result<OffsetDateTime, BoxDynError> {
        Ok(OffsetDateTime::parse(t, &Rfc3339)?)
    }

    /// The text as stored, so that any change to it shows.
    fn column_text(t: &str) -> Result<String, BoxDynError> {
        Ok(t.to_owned())
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    const CHAIN_HEAD: &'static str = audit::CHAIN_HEAD;
    const APPEND: &'static str = audit::APPEND;
    const MORE_IDS: Option<&'static str> = None;
}

/// The SQLite implementation of the store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: Arc<Leases<Sqlite>>,
    audit: AuditLog,
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

/// Connections reads run on, each with its worker thread.
const READERS: usize = 4;

/// Rows the SQLite worker may produce ahead of the reader.
const READ_AHEAD_ROWS: usize = 4096;
/// How much of the database file a reader maps instead of reading it page
/// by page into its own cache (SQLite's memory-mapped I/O; the WAL is still
/// read as before). Mapped pages are the kernel's page cache, shared by
/// every reader.
const READER_MMAP: u64 = 256 << 20;

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

/// How often a server looks for operators' commands run by another
/// process on the same database (`keeper admin disable|delete`), to end
/// the sessions they concern.
const OPERATOR_POLL: Duration = Duration::from_secs(1);
/// Failed looks in a row after which every session on this server ends,
/// since an operator's disable may have gone unheard meanwhile.
const POLL_FAILURES_BEFORE_MISSED: u32 = 10;

impl SqliteStore {
    /// The users whose sessions operators' commands ended from now on:
    /// another process cannot tell this one otherwise, so the audit log
    /// is read once every [`OPERATOR_POLL`] for their records (ids grow
    /// in commit order on SQLite, so each look reads only the new ones).
    /// The task ends with the store (closed or dropped) or the receiver;
    /// a look that fails is logged and made again at the next tick, from
    /// the same record on, so that nothing is missed.
    pub(super) async fn operator_changes(
        &self,
    ) -> Result<tokio::sync::mpsc::Receiver<super::Heard>, StoreError> {
        let mut seen = {
            let mut lease = self.readers.lease().await?;
            let read = Sql::<Sqlite>::last_audit_id(&mut lease.conn).await;
            self.readers.give_back(lease, &read);
            read?
        };
        let store = Arc::downgrade(&self.readers);
        let (heard, changes) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                tokio::time::sleep(OPERATOR_POLL).await;
                let Some(readers) = store.upgrade() else {
                    return;
                };
                if heard.is_closed() || readers.is_closed() {
                    return;
                }
                let read = match readers.lease().await {
                    Ok(mut lease) => {
                        let read = async {
                            let last = Sql::<Sqlite>::last_audit_id(&mut lease.conn).await?;
                            let users = if last > seen {
                                Sql::<Sqlite>::ended_by_operators(&mut lease.conn, seen, last)
                                    .await?
                            } else {
                                Vec::new()
                            };
                            Ok::<_, StoreError>((last, users))
                        }
                        .await;
                        readers.give_back(lease, &read);
                        read
                    }
                    Err(_) if readers.is_closed() => return,
                    Err(e) => Err(e),
                };
                drop(readers);
                let news = match read {
                    Ok((last, users)) => {
                        seen = last;
                        failures = 0;
                        users.into_iter().map(super::Heard::Changed).collect()
                    }
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures.is_multiple_of(60) {
                            tracing::warn!(error = %e, failures, "cannot read the audit log for operators' commands");
                        }
                        // Long enough that a disable may go unheard for a
                        // while: every session here ends, as when
                        // PostgreSQL's listener loses its connection.
                        if failures == POLL_FAILURES_BEFORE_MISSED {
                            vec![super::Heard::Missed]
                        } else {
                            Vec::new()
                        }
                    }
                };
                for news in news {
                    if heard.send(news).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(changes)
    }

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
            let tx = writer.begin_with("BEGIN IMMEDIATE").await?;
            Shared::authenticate_heads(tx, &audit_key, audit::HEADS_TO_AUTHENTICATE).await?;
        }
        // sqlx's SQLite worker thread hands rows over through a bounded
        // channel (50 by default) and the reader wakes for each batch; a
        // roomy channel lets a long listing flow without a context switch
        // every few rows.
        let readers = Arc::new(Leases::new(
            options
                .read_only(true)
                .row_buffer_size(READ_AHEAD_ROWS)
                .pragma("mmap_size", READER_MMAP.to_string()),
            READERS,
        ));
        Ok(Self {
            audit: AuditLog::spawn(writer.clone(), audit_key, audit::write_group),
            writer,
            readers,
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

    /// The connections reads are run on.
    pub(super) fn readers(&self) -> &Leases<Sqlite> {
        &self.readers
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

    pub(super) fn audit_key(&self) -> &AuditKey {
        self.audit.key()
    }

    pub(super) async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    pub(super) async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut lease = self.readers.lease().await?;
        let verdict = Shared::verify_chains(&mut lease.conn, self.audit.key()).await;
        self.readers.give_back(lease, &verdict);
        verdict
    }

    /// The chain and MAC of each record of `ids` that exists.
    pub(super) async fn audit_macs(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, (i64, Vec<u8>)>, StoreError> {
        let mut lease = self.readers.lease().await?;
        let found = macs_on(&mut lease.conn, ids).await;
        self.readers.give_back(lease, &found);
        found
    }

    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        self.audit.record(audit).await
    }
}

/// `SqliteStore::audit_macs`, on one connection.
async fn macs_on(
    conn: &mut sqlx::SqliteConnection,
    ids: &[i64],
) -> Result<HashMap<i64, (i64, Vec<u8>)>, StoreError> {
    let mut found = HashMap::new();
    for id in ids {
        let row: Option<(Option<i64>, Vec<u8>)> =
            sqlx::query_as("SELECT user_id, mac FROM audit_events WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((user, mac)) = row {
            found.insert(*id, (user.unwrap_or(0), mac));
        }
    }
    Ok(found)
}
