//! The audit chain on PostgreSQL: appending under the chain head's row
//! lock, and reading it back for `keeper audit verify`.

use std::collections::HashMap;

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Row, Transaction};
use time::OffsetDateTime;

use crate::crypto::AuditKey;
use crate::storage::chain::{
    ChainRow, HEAD_ROWS, Head, HeadRow, audit_fields, head_mac, micros, seal, ts, verdict,
};
use crate::storage::{AuditRecord, AuditVerdict, StoreError};

/// Writes one group of audit records in one transaction (one WAL flush).
/// It appends to its chains in ascending chain order, so groups on different
/// nodes lock head rows in the same order and never deadlock.
pub(super) async fn write_group(
    pool: &PgPool,
    key: &AuditKey,
    mut group: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    // Stable: one chain's records keep their order.
    group.sort_by_key(|audit| audit.user.map_or(0, |u| u.get()));
    let mut tx = pool.begin().await?;
    for audit in &group {
        insert(&mut tx, key, audit).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Appends an audit record to its chain, in the caller's transaction.
///
/// The first statement locks the chain's head row (creating it for a new
/// chain) and, holding that lock, takes the next id; the second writes the
/// record and moves the head. A concurrent writer to the same chain, on this
/// node or another, waits for the lock and then sees the new head.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    key: &AuditKey,
    a: &AuditRecord,
) -> Result<(), StoreError> {
    let chain = a.user.map_or(0, |u| u.get());
    let (prev_id, prev_mac, count, id): (i64, Vec<u8>, i64, i64) = sqlx::query_as(
        "INSERT INTO audit_heads AS h (chain, last_id, mac) VALUES ($1, 0, '') \
         ON CONFLICT (chain) DO UPDATE SET last_id = h.last_id \
         RETURNING h.last_id, h.mac, h.count, \
                   nextval(pg_get_serial_sequence('audit_events', 'id'))",
    )
    .bind(chain)
    .fetch_one(&mut **tx)
    .await?;
    let at = micros(a.at);
    let fields = audit_fields(
        id,
        prev_id,
        &ts(at)?,
        a.user.map(|u| u.get()),
        a.channel.as_str(),
        a.remote_addr.as_deref(),
        a.action.as_str(),
        a.target.as_deref(),
        a.outcome.as_str(),
    );
    let mac = seal(key, &prev_mac, &fields);
    let count = count + 1;
    sqlx::query(
        "WITH event AS ( \
             INSERT INTO audit_events (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)) \
         UPDATE audit_heads SET last_id = $1, mac = $10, count = $12, head_mac = $13 WHERE chain = $11",
    )
    .bind(id)
    .bind(at)
    .bind(a.user.map(|u| u.get()))
    .bind(a.channel.as_str())
    .bind(a.remote_addr.as_deref())
    .bind(a.action.as_str())
    .bind(a.target.as_deref())
    .bind(a.outcome.as_str())
    .bind(prev_id)
    .bind(&mac)
    .bind(chain)
    .bind(count)
    .bind(head_mac(key, chain, count, id, &mac))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives every chain head a count and a MAC, once, when the migration
/// that adds them has just run (see the SQLite store). Nodes that migrate
/// together may each do it; the result is the same.
pub(super) async fn authenticate_heads(pool: &PgPool, key: &AuditKey) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let heads: Vec<(i64, i64, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT h.chain, h.last_id, h.mac, \
                (SELECT COUNT(*) FROM audit_events e WHERE COALESCE(e.user_id, 0) = h.chain) \
         FROM audit_heads h FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (chain, last_id, mac, count) in heads {
        sqlx::query("UPDATE audit_heads SET count = $1, head_mac = $2 WHERE chain = $3")
            .bind(count)
            .bind(head_mac(key, chain, count, last_id, &mac))
            .bind(chain)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every chain's head, as `conn` sees the database.
pub(crate) async fn heads(conn: &mut sqlx::PgConnection) -> Result<Vec<(i64, Head)>, StoreError> {
    let heads: Vec<HeadRow> = sqlx::query_as(HEAD_ROWS).fetch_all(&mut *conn).await?;
    Ok(heads.into_iter().map(Into::into).collect())
}

/// Checks every audit chain as the connection `conn` sees the database.
pub(crate) async fn verify_chains(
    conn: &mut sqlx::PgConnection,
    key: &AuditKey,
) -> Result<AuditVerdict, StoreError> {
    let rows = sqlx::query("SELECT * FROM audit_events ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let user: Option<i64> = row.try_get("user_id")?;
            let prev_id = row.try_get("prev_id")?;
            let at: OffsetDateTime = row.try_get("at")?;
            let fields = audit_fields(
                id,
                prev_id,
                &ts(at)?,
                user,
                row.try_get::<&str, _>("channel")?,
                row.try_get::<Option<&str>, _>("remote_addr")?,
                row.try_get::<&str, _>("action")?,
                row.try_get::<Option<&str>, _>("target")?,
                row.try_get::<&str, _>("outcome")?,
            );
            Ok(ChainRow {
                chain: user.unwrap_or(0),
                id,
                prev_id,
                fields,
                mac: row.try_get("mac")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let heads: HashMap<i64, Head> = heads(&mut *conn).await?.into_iter().collect();
    let users: Vec<i64> = sqlx::query_scalar("SELECT id FROM users")
        .fetch_all(&mut *conn)
        .await?;
    Ok(verdict(key, rows, &heads, &users))
}
