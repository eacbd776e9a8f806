//! The audit chain on SQLite: appending under the write lock, and reading
//! it back for `keeper audit verify`.

use std::collections::HashMap;

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use crate::crypto::AuditKey;
use crate::storage::chain::{
    ChainRow, HEAD_ROWS, Head, HeadRow, audit_fields, head_mac, seal, ts, verdict,
};
use crate::storage::{AuditRecord, AuditVerdict, StoreError};

/// Writes one group of audit records in one transaction.
pub(super) async fn write_group(
    writer: &SqlitePool,
    key: &AuditKey,
    group: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    for audit in &group {
        insert(&mut tx, key, audit).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Appends an audit record to its chain, in the caller's transaction.
///
/// The transaction holds SQLite's write lock (`BEGIN IMMEDIATE`), so the
/// next id can be read before the insert and the record written whole, MAC
/// included, in one statement.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    key: &AuditKey,
    a: &AuditRecord,
) -> Result<(), StoreError> {
    let chain = a.user.map_or(0, |u| u.get());
    let (prev_id, prev_mac, count, id): (Option<i64>, Option<Vec<u8>>, Option<i64>, i64) =
        sqlx::query_as(
            "SELECT (SELECT last_id FROM audit_heads WHERE chain = ?1), \
                    (SELECT mac FROM audit_heads WHERE chain = ?1), \
                    (SELECT count FROM audit_heads WHERE chain = ?1), \
                    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'), 0) + 1",
        )
        .bind(chain)
        .fetch_one(&mut **tx)
        .await?;
    let prev_id = prev_id.unwrap_or(0);
    let prev_mac = prev_mac.unwrap_or_default();
    let count = count.unwrap_or(0) + 1;
    let at = ts(a.at)?;
    let fields = audit_fields(
        id,
        prev_id,
        &at,
        a.user.map(|u| u.get()),
        a.channel.as_str(),
        a.remote_addr.as_deref(),
        a.action.as_str(),
        a.target.as_deref(),
        a.outcome.as_str(),
    );
    let mac = seal(key, &prev_mac, &fields);
    sqlx::query(
        "INSERT INTO audit_events (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&at)
    .bind(a.user.map(|u| u.get()))
    .bind(a.channel.as_str())
    .bind(a.remote_addr.as_deref())
    .bind(a.action.as_str())
    .bind(a.target.as_deref())
    .bind(a.outcome.as_str())
    .bind(prev_id)
    .bind(&mac)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO audit_heads (chain, last_id, mac, count, head_mac) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (chain) DO UPDATE SET last_id = excluded.last_id, mac = excluded.mac, \
         count = excluded.count, head_mac = excluded.head_mac",
    )
    .bind(chain)
    .bind(id)
    .bind(&mac)
    .bind(count)
    .bind(head_mac(key, chain, count, id, &mac))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives every chain head a count and a MAC, once, when the migration
/// that adds them has just run: the log as it stands then is taken as
/// intact (`keeper audit verify` before upgrading checks that).
pub(super) async fn authenticate_heads(
    writer: &SqlitePool,
    key: &AuditKey,
) -> Result<(), StoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let heads: Vec<(i64, i64, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT h.chain, h.last_id, h.mac, \
                (SELECT COUNT(*) FROM audit_events e WHERE COALESCE(e.user_id, 0) = h.chain) \
         FROM audit_heads h",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (chain, last_id, mac, count) in heads {
        sqlx::query("UPDATE audit_heads SET count = ?, head_mac = ? WHERE chain = ?")
            .bind(count)
            .bind(head_mac(key, chain, count, last_id, &mac))
            .bind(chain)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn verify(
    reader: &SqlitePool,
    key: &AuditKey,
) -> Result<AuditVerdict, StoreError> {
    let rows = sqlx::query("SELECT * FROM audit_events ORDER BY id")
        .fetch_all(reader)
        .await?
        .iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let user: Option<i64> = row.try_get("user_id")?;
            let prev_id = row.try_get("prev_id")?;
            let fields = audit_fields(
                id,
                prev_id,
                row.try_get::<&str, _>("at")?,
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
    let heads: HashMap<i64, Head> = heads(reader).await?.into_iter().collect();
    let users: Vec<i64> = sqlx::query_scalar("SELECT id FROM users")
        .fetch_all(reader)
        .await?;
    Ok(verdict(key, rows, &heads, &users))
}

/// Every chain's head.
pub(super) async fn heads(reader: &SqlitePool) -> Result<Vec<(i64, Head)>, StoreError> {
    let heads: Vec<HeadRow> = sqlx::query_as(HEAD_ROWS).fetch_all(reader).await?;
    Ok(heads.into_iter().map(Into::into).collect())
}

/// The chain and MAC of each record of `ids` that exists.
pub(super) async fn macs(
    reader: &SqlitePool,
    ids: &[i64],
) -> Result<HashMap<i64, (i64, Vec<u8>)>, StoreError> {
    let mut found = HashMap::new();
    for id in ids {
        let row: Option<(Option<i64>, Vec<u8>)> =
            sqlx::query_as("SELECT user_id, mac FROM audit_events WHERE id = ?")
                .bind(id)
                .fetch_optional(reader)
                .await?;
        if let Some((user, mac)) = row {
            found.insert(*id, (user.unwrap_or(0), mac));
        }
    }
    Ok(found)
}
