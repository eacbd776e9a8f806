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

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult, PgTypeInfo,
    PgValueRef,
};
use sqlx::{Decode, Encode, Postgres, Transaction, Type};
use time::OffsetDateTime;

use super::chain::{Head, micros};
mod audit;
mod throttle;

use super::group::AuditQueue;
use super::sql::{Affected, Sql, Stamp};
use super::{
    AuditRecord, AuditVerdict, Durability, ItemRecord, StoreError, ThrottleDecision, ThrottleRule,
    UserRecord,
};
use crate::crypto::AuditKey;
use crate::domain::{ItemKind, UserId};
pub(crate) use audit::verify_chains;

type Shared = Sql<Postgres>;

/// PostgreSQL stores a point in time as `TIMESTAMPTZ`, to the microsecond.
impl Type<Postgres> for Stamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Stamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode(micros(self.0), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Stamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<'r, Postgres>>::decode(value).map(Self)
    }
}

impl Affected for PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

/// Connections each node keeps at most.
const POOL_SIZE: u32 = 16;

/// The PostgreSQL implementation of the store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    audit_key: Arc<AuditKey>,
    audit_queue: AuditQueue,
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
            .connect_with(options)
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
            audit::authenticate_heads(&pool, &audit_key).await?;
        }
        let audit_key = Arc::new(audit_key);
        let audit_queue = AuditQueue::spawn({
            let (pool, key) = (pool.clone(), audit_key.clone());
            move |group| {
                let (pool, key) = (pool.clone(), key.clone());
                async move { audit::write_group(&pool, &key, group).await }
            }
        });
        Ok(Self {
            pool,
            audit_key,
            audit_queue,
            sweep: Arc::default(),
            node: crate::crypto::random_id().unsigned_abs(),
        })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The transaction of a change (READ COMMITTED; the statements lock
    /// what they must).
    pub(super) async fn begin_change(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Appends the change's audit record, if it has one, and commits.
    pub(super) async fn commit_change(
        &self,
        mut tx: Transaction<'static, Postgres>,
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
        self.pool.close().await;
    }

    pub(super) async fn update_credentials(
        &self,
        u: &UserRecord,
        previous_salt: &[u8],
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // As with items: of two changes from one state, the second finds
        // the salt changed once the first commits, and updates nothing.
        Shared::update_credentials(&mut tx, u, previous_salt, audit.at).await?;
        audit::insert(&mut tx, &self.audit_key, audit).await?;
        // Delivered to the listening nodes when (and only if) this commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CREDENTIALS_CHANNEL)
            .bind(format!("{} {}", self.node, u.id.get()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The users whose credentials other nodes change from now on, as
    /// they commit. The listener holds one pooled connection and ends when
    /// the pool closes; if its connection drops, changes announced until
    /// it reconnects are missed (and logged as possibly missed).
    pub(super) async fn credential_changes(
        &self,
    ) -> Result<tokio::sync::mpsc::Receiver<UserId>, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(CREDENTIALS_CHANNEL).await?;
        let (changed, changes) = tokio::sync::mpsc::channel(64);
        let own = self.node;
        tokio::spawn(async move {
            loop {
                let note = match listener.try_recv().await {
                    Ok(Some(note)) => note,
                    Ok(None) => {
                        tracing::warn!(
                            "lost the database connection that hears of credential changes on \
                             other nodes; a change made there meanwhile may leave a session open"
                        );
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
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                let mut words = note.payload().split(' ');
                let node = words.next().and_then(|w| w.parse::<u64>().ok());
                let user = words.next().and_then(|w| w.parse::<i64>().ok());
                if let (Some(node), Some(user)) = (node, user)
                    && node != own
                    && changed.send(UserId::new(user)).await.is_err()
                {
                    return;
                }
            }
        });
        Ok(changes)
    }

    pub(super) async fn insert_item(
        &self,
        kind: ItemKind,
        i: &ItemRecord,
        limit: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // The owner's row is locked until commit, so inserts of one user
        // count one after another, on every node; the count runs after the
        // lock is granted and so sees every insert committed before. NO KEY
        // UPDATE leaves the row to foreign-key checks (the audit group's
        // records of this user), which FOR UPDATE would deadlock with.
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(i.user.get())
            .fetch_optional(&mut *tx)
            .await?;
        Shared::insert_item(&mut tx, kind, i, limit).await?;
        audit::insert(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        self.audit_queue.record(audit).await
    }

    pub(super) async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        // One snapshot for the events and the heads, so that records
        // appended while this runs cannot look like a broken chain.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let verdict = audit::verify_chains(&mut tx, &self.audit_key).await?;
        tx.commit().await?;
        Ok(verdict)
    }

    pub(super) async fn audit_heads(&self) -> Result<Vec<(i64, Head)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        audit::heads(&mut conn).await
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

    pub(super) async fn throttle_apply(
        &self,
        keys: &[Vec<u8>],
        now: OffsetDateTime,
        rule: &ThrottleRule<'_>,
    ) -> Result<ThrottleDecision, StoreError> {
        throttle::apply(&self.pool, &self.sweep, keys, now, rule).await
    }
}
