//! The throttle rows on SQLite: read, decided and written under the write
//! lock, in one transaction.

use sqlx::sqlite::SqlitePool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::storage::chain::ts;
use crate::storage::{
    RowChange, StoreError, Sweep, THROTTLE_KEEP, ThrottleDecision, ThrottleRow, ThrottleRule,
};

/// A throttle row as SQLite stores it.
type StoredThrottle = (i64, String, Option<String>, i64, Option<String>);

fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| StoreError::Unexpected(format!("timestamp: {e}")))
}

pub(super) async fn apply(
    writer: &SqlitePool,
    sweep: &Sweep,
    keys: &[Vec<u8>],
    now: OffsetDateTime,
    rule: &ThrottleRule<'_>,
) -> Result<ThrottleDecision, StoreError> {
    // BEGIN IMMEDIATE holds the write lock: no other writer, in this
    // process or another, sees the rows between the read and the write.
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut rows = Vec::with_capacity(keys.len());
    for key in keys {
        let row: Option<StoredThrottle> = sqlx::query_as(
            "SELECT failures, last_failure, locked_until, pending, pending_until \
             FROM throttle WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        rows.push(
            row.map(|(failures, last, until, pending, pending_until)| {
                Ok::<_, StoreError>(ThrottleRow {
                    failures,
                    last_failure: parse_ts(&last)?,
                    locked_until: until.as_deref().map(parse_ts).transpose()?,
                    pending,
                    pending_until: pending_until.as_deref().map(parse_ts).transpose()?,
                })
            })
            .transpose()?,
        );
    }
    let decision = rule(&rows);
    if let ThrottleDecision::Write(changes) = &decision {
        for (key, change) in keys.iter().zip(changes) {
            match change {
                RowChange::Keep => {}
                RowChange::Delete => {
                    sqlx::query("DELETE FROM throttle WHERE key = ?")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
                RowChange::Set(row) => {
                    sqlx::query(
                        "INSERT INTO throttle \
                         (key, failures, last_failure, locked_until, pending, pending_until) \
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET \
                         failures = excluded.failures, last_failure = excluded.last_failure, \
                         locked_until = excluded.locked_until, pending = excluded.pending, \
                         pending_until = excluded.pending_until",
                    )
                    .bind(key)
                    .bind(row.failures)
                    .bind(ts(row.last_failure)?)
                    .bind(row.locked_until.map(ts).transpose()?)
                    .bind(row.pending)
                    .bind(row.pending_until.map(ts).transpose()?)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        if sweep.due(now) {
            let before = ts(now - THROTTLE_KEEP)?;
            sqlx::query(
                "DELETE FROM throttle WHERE last_failure < ?1 \
                 AND (locked_until IS NULL OR locked_until < ?2) \
                 AND (pending_until IS NULL OR pending_until < ?2)",
            )
            .bind(&before)
            .bind(ts(now)?)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(decision)
}
