//! The throttle rows on PostgreSQL: locked, decided and written in one
//! transaction, whichever node the attempts reach.

use sqlx::Postgres;
use time::OffsetDateTime;

use super::{PostgresStore, Shared};
use crate::storage::chain::micros;
use crate::storage::sql::{Stamp, ThrottleColumns};
use crate::storage::{RowChange, StoreError, ThrottleDecision, ThrottleRow, ThrottleRule};

impl PostgresStore {
    pub(in crate::storage) async fn throttle_apply(
        &self,
        keys: &[Vec<u8>],
        owners: &[Option<Vec<u8>>],
        now: OffsetDateTime,
        rule: &ThrottleRule<'_>,
    ) -> Result<ThrottleDecision, StoreError> {
        let now = micros(now);
        let mut tx = self.pool.begin().await?;
        // Each key's row is locked (made if missing) in key order, so that
        // attempts on several nodes queue on the same rows and never
        // deadlock; a made-up row counts as absent.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let mut rows: Vec<Option<ThrottleRow>> = vec![None; keys.len()];
        for &i in &order {
            let row: ThrottleRow = sqlx::query_as::<Postgres, ThrottleColumns>(
                "INSERT INTO throttle AS t (key, failures, last_failure) VALUES ($1, 0, $2) \
                 ON CONFLICT (key) DO UPDATE SET key = t.key \
                 RETURNING failures, last_failure, locked_until, pending, pending_until",
            )
            .bind(&keys[i])
            .bind(Stamp(now))
            .fetch_one(&mut *tx)
            .await?
            .into();
            rows[i] =
                (row.failures > 0 || row.locked_until.is_some() || row.pending > 0).then_some(row);
        }
        let decision = rule(&rows);
        let changes = match &decision {
            ThrottleDecision::Write(changes) => changes.clone(),
            ThrottleDecision::Refuse { .. } | ThrottleDecision::Wait => {
                vec![RowChange::Keep; keys.len()]
            }
        };
        for (((key, owner), change), before) in keys.iter().zip(owners).zip(&changes).zip(&rows) {
            match change {
                RowChange::Set(row) => {
                    let set = "UPDATE throttle SET failures = $2, last_failure = $3, \
                               locked_until = $4, pending = $5, pending_until = $6, \
                               owner = COALESCE(owner, $7) WHERE key = $1";
                    Shared::set_throttle(&mut tx, set, key, owner.as_deref(), row).await?;
                }
                // A row made up for the lock goes again.
                RowChange::Delete | RowChange::Keep
                    if matches!(change, RowChange::Delete) || before.is_none() =>
                {
                    Shared::delete_throttle(&mut tx, key).await?;
                }
                RowChange::Delete | RowChange::Keep => {}
            }
        }
        if self.sweep.due(now) {
            Shared::sweep_throttle(&mut tx, now).await?;
        }
        tx.commit().await?;
        Ok(decision)
    }
}
