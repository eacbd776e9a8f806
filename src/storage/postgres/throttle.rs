//! The throttle rows on PostgreSQL: locked, decided and written in one
//! transaction, whichever node the attempts reach.

use sqlx::postgres::PgPool;
use time::OffsetDateTime;

use crate::storage::chain::micros;
use crate::storage::{
    RowChange, StoreError, Sweep, THROTTLE_KEEP, ThrottleDecision, ThrottleRow, ThrottleRule,
};

pub(super) async fn apply(
    pool: &PgPool,
    sweep: &Sweep,
    keys: &[Vec<u8>],
    now: OffsetDateTime,
    rule: &ThrottleRule<'_>,
) -> Result<ThrottleDecision, StoreError> {
    let now = micros(now);
    let mut tx = pool.begin().await?;
    // Each key's row is locked (made if missing) in key order, so that
    // attempts on several nodes queue on the same rows and never
    // deadlock; a made-up row counts as absent.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut rows: Vec<Option<ThrottleRow>> = vec![None; keys.len()];
    for &i in &order {
        type Stored = (
            i64,
            OffsetDateTime,
            Option<OffsetDateTime>,
            i64,
            Option<OffsetDateTime>,
        );
        let (failures, last_failure, locked_until, pending, pending_until): Stored =
            sqlx::query_as(
                "INSERT INTO throttle AS t (key, failures, last_failure) VALUES ($1, 0, $2) \
                 ON CONFLICT (key) DO UPDATE SET key = t.key \
                 RETURNING failures, last_failure, locked_until, pending, pending_until",
            )
            .bind(&keys[i])
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        rows[i] = (failures > 0 || locked_until.is_some() || pending > 0).then_some(ThrottleRow {
            failures,
            last_failure,
            locked_until,
            pending,
            pending_until,
        });
    }
    let decision = rule(&rows);
    let changes = match &decision {
        ThrottleDecision::Write(changes) => changes.clone(),
        ThrottleDecision::Refuse { .. } | ThrottleDecision::Wait => {
            vec![RowChange::Keep; keys.len()]
        }
    };
    for ((key, change), before) in keys.iter().zip(&changes).zip(&rows) {
        match change {
            RowChange::Set(row) => {
                sqlx::query(
                    "UPDATE throttle SET failures = $2, last_failure = $3, locked_until = $4, \
                     pending = $5, pending_until = $6 WHERE key = $1",
                )
                .bind(key)
                .bind(row.failures)
                .bind(micros(row.last_failure))
                .bind(row.locked_until.map(micros))
                .bind(row.pending)
                .bind(row.pending_until.map(micros))
                .execute(&mut *tx)
                .await?;
            }
            // A row made up for the lock goes again.
            RowChange::Delete | RowChange::Keep
                if matches!(change, RowChange::Delete) || before.is_none() =>
            {
                sqlx::query("DELETE FROM throttle WHERE key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            RowChange::Delete | RowChange::Keep => {}
        }
    }
    if sweep.due(now) {
        sqlx::query(
            "DELETE FROM throttle WHERE last_failure < $1 \
             AND (locked_until IS NULL OR locked_until < $2) \
             AND (pending_until IS NULL OR pending_until < $2)",
        )
        .bind(now - THROTTLE_KEEP)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(decision)
}
