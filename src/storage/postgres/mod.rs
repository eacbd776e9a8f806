//! PostgreSQL storage: the engine for more than one node.
//!
//! Every piece of shared state lives in the database, so any node serves any
//! user. Concurrency is left to PostgreSQL: unique constraints decide between
//! two creates of one name, versions are checked by conditional updates, a
//! throttle counter is bumped by one upsert, and appending to an audit chain
//! locks the chain's head row, so writers on several nodes append one at a
//! time and the chain stays whole. Transactions run at READ COMMITTED; none
//! reads a value and then writes on the strength of it without holding the
//! row's lock.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;

mod audit;
mod throttle;

use super::chain::{micros, ts};
use super::group::AuditLog;
use super::lease::Leases;
use super::sql::{Engine, Sql};
use super::{AuditRecord, AuditVerdict, Durability, StoreError, UserRecord};
use crate::crypto::AuditKey;
use crate::domain::UserId;

type Shared = Sql<Postgres>;

impl Engine for Postgres {
    /// `TIMESTAMPTZ`, to the microsecond.
    type Time = OffsetDateTime;
    type TimeRef<'r> = OffsetDateTime;

    fn to_column(t: OffsetDateTime) -> Result<OffsetDateTime, BoxDynError> {
        Ok(micros(t))
    }

    fn from_column(t: OffsetDateTime) -> Result<OffsetDateTime, BoxDynError> {
        Ok(t)
    }

    fn column_text(t: OffsetDateTime) -> Result<String, BoxDynError> {
        Ok(ts(t)?)
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    const CHAIN_HEAD: &'static str = audit::CHAIN_HEAD;
    const APPEND: &'static str = audit::APPEND;
    const MORE_IDS: Option<&'static str> = Some(audit::MORE_IDS);
}

/// Connections each node keeps at most for changes and everything else
/// but the reads of `readers`.
const POOL_SIZE: u32 = 16;

/// Connections each node keeps at most for single-statement reads.
const READERS: usize = 8;

/// The PostgreSQL implementation of the store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    readers: Arc<Leases<Postgres>>,
    audit: AuditLog,
    sweep: Arc<super::Sweep>,
    /// Tells this node's credential-change notifications from the others'.
    node: u64,
}

/// The channel on which nodes announce a user's password or PIN change, so
/// that every node ends that user's other sessions.
const CREDENTIALS_CHANNEL: &str = "keeper_credentials";

/// Refuses a database whose tables are not what the migrations made
/// (one dropped, or not readable): every table is read once. PostgreSQL
/// checks its own pages; this catches a schema damaged by hand or by a
/// partial restore.
async fn check_sanity(pool: &PgPool) -> Result<(), StoreError> {
    let checked: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM tokens) \
              + (SELECT COUNT(*) FROM items) \
              + (SELECT COUNT(*) FROM audit_events) + (SELECT COUNT(*) FROM audit_heads) \
              + (SELECT COUNT(*) FROM throttle)",
    )
    .fetch_one(pool)
    .await;
    match checked {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) => Err(StoreError::Damaged(db.message().to_owned())),
        Err(e) => Err(e.into()),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and applies migrations. Several
    /// nodes may start at once: sqlx holds an advisory lock while it
    /// migrates, so one applies them and the others find them applied.
    ///
    /// Every commit is acknowledged only once PostgreSQL has flushed its WAL
    /// (`synchronous_commit = on`, set on each connection whatever the
    /// server's default), which covers a crash of this node and of the
    /// database server alike; both durability levels get that.
    pub async fn connect(
        url: &str,
        audit_key: AuditKey,
        _durability: Durability,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unexpected(format!("bad database URL: {e}")))?
            .options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let heads_had_macs: bool = sqlx::query_scalar(
            "SELECT COUNT(*) > 0 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'audit_heads' \
             AND column_name = 'head_mac'",
        )
        .fetch_one(&pool)
        .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        check_sanity(&pool).await?;
        if !heads_had_macs {
            let tx = pool.begin().await?;
            Shared::authenticate_heads(tx, &audit_key, audit::HEADS_TO_AUTHENTICATE).await?;
        }
        Ok(Self {
            audit: AuditLog::spawn(pool.clone(), audit_key, audit::write_group),
            pool,
            readers: Arc::new(Leases::new(options, READERS)),
            sweep: Arc::default(),
            node: crate::crypto::random_id().unsigned_abs(),
        })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The connections single-statement reads run on.
    pub(super) fn readers(&self) -> &Leases<Postgres> {
        &self.readers
    }

    /// The transaction of a change (READ COMMITTED; the statements lock
    /// what they must).
    pub(super) async fn begin_change(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    pub(super) fn audit_key(&self) -> &AuditKey {
        self.audit.key()
    }

    pub(super) async fn close(&self) {
        self.readers.close().await;
        self.pool.close().await;
    }

    pub(super) async fn update_credentials(
        &self,
        u: &UserRecord,
        read: &super::CredentialsRead<'_>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_change().await?;
        // As with items: of two changes from one state, the second finds
        // the salt changed once the first commits, and updates nothing.
        Shared::update_credentials(&mut tx, u, read, audit.at).await?;
        Shared::append(&mut tx, self.audit.key(), audit).await?;
        self.announce(&mut tx, u.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tells the other nodes, when (and only if) `tx` commits, that
    /// `user`'s sessions must end.
    pub(super) async fn announce(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        user: UserId,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CREDENTIALS_CHANNEL)
            .bind(format!("{} {}", self.node, user.get()))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The users whose credentials other nodes change from now on, as
    /// they commit. The listener holds one pooled connection and ends when
    /// the pool closes; if its connection drops, changes announced until it
    /// reconnects would go unheard, so it sends [`super::Heard::Missed`].
    pub(super) async fn credential_changes(
        &self,
    ) -> Result<tokio::sync::mpsc::Receiver<super::Heard>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(CREDENTIALS_CHANNEL).await?;
        let (changed, changes) = tokio::sync::mpsc::channel(64);
        let own = self.node;
        tokio::spawn(async move {
            loop {
                let note = match listener.try_recv().await {
                    Ok(Some(note)) => note,
                    // The connection was lost (the next call reconnects):
                    // a change made meanwhile would go unheard, so every
                    // session on this node is told to end.
                    Ok(None) => {
                        tracing::warn!(
                            "lost the database connection that hears of credential changes on \
                             other nodes; ending this node's sessions, since a change made \
                             meanwhile would go unheard"
                        );
                        if changed.send(super::Heard::Missed).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(e) => {
                        // Reconnecting failed (the database restarting):
                        // try again shortly, for as long as the pool lives.
                        tracing::warn!(
                            error = %e,
                            "cannot listen for credential changes on other nodes; retrying"
                        );
                        if changed.send(super::Heard::Missed).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                let mut words = note.payload().split(' ');
                let node = words.next().and_then(|w| w.parse::<u64>().ok());
                let user = words.next().and_then(|w| w.parse::<i64>().ok());
                if let (Some(node), Some(user)) = (node, user)
                    && node != own
                    && changed
                        .send(super::Heard::Changed(UserId::new(user)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
        });
        Ok(changes)
    }

    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        self.audit.record(audit).await
    }

    pub(super) async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        // One snapshot for the events and the heads, so that records
        // appended while this runs cannot look like a broken chain.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let verdict = Shared::verify_chains(&mut tx, self.audit.key()).await?;
        tx.commit().await?;
        Ok(verdict)
    }

    /// The chain and MAC of each record of `ids` that exists.
    pub(super) async fn audit_macs(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, (i64, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, Option<i64>, Vec<u8>)> =
            sqlx::query_as("SELECT id, user_id, mac FROM audit_events WHERE id = ANY($1)")
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, user, mac)| (id, (user.unwrap_or(0), mac)))
            .collect())
    }
}
