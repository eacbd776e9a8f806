//! The throttle rows on SQLite: read, decided and written under the write
//! lock, in one transaction.

use sqlx::Sqlite;
use time::OffsetDateTime;

use super::{Shared, SqliteStore};
use crate::storage::sql::ThrottleColumns;
use crate::storage::{RowChange, StoreError, ThrottleDecision, ThrottleRule};

impl SqliteStore {
    pub(in crate::storage) async fn throttle_apply(
        &self,
        keys: &[Vec<u8>],
        owners: &[Option<Vec<u8>>],
        now: OffsetDateTime,
        rule: &ThrottleRule<'_>,
    ) -> Result<ThrottleDecision, StoreError> {
        // BEGIN IMMEDIATE holds the write lock: no other writer, in this
        // process or another, sees the rows between the read and the write.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query_as::<Sqlite, ThrottleColumns>(
                "SELECT failures, last_failure, locked_until, pending, pending_until \
                 FROM throttle WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            rows.push(row.map(Into::into));
        }
        let decision = rule(&rows);
        if let ThrottleDecision::Write(changes) = &decision {
            for ((key, owner), change) in keys.iter().zip(owners).zip(changes) {
                match change {
                    RowChange::Keep => {}
                    RowChange::Delete => Shared::delete_throttle(&mut tx, key).await?,
                    RowChange::Set(row) => {
                        let set = "INSERT INTO throttle \
                             (key, failures, last_failure, locked_until, pending, pending_until, \
                             owner) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO UPDATE \
                             SET failures = excluded.failures, last_failure = excluded.last_failure, \
                             locked_until = excluded.locked_until, pending = excluded.pending, \
                             pending_until = excluded.pending_until, \
                             owner = COALESCE(throttle.owner, excluded.owner)";
                        Shared::set_throttle(&mut tx, set, key, owner.as_deref(), row).await?;
                    }
                }
            }
            if self.sweep.due(now) {
                Shared::sweep_throttle(&mut tx, now).await?;
            }
        }
        tx.commit().await?;
        Ok(decision)
    }
}
