//! The throttle's statements; each engine locks around them its own way.

use sqlx::{Encode, Executor, IntoArguments, Type};
use time::OffsetDateTime;

use super::{Engine, Sql, Stamp};
use crate::storage::{StoreError, THROTTLE_KEEP, ThrottleRow};

impl<DB> Sql<DB>
where
    DB: Engine,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Stamp>: Encode<'q, DB>,
    for<'r> (Option<Stamp>,): sqlx::FromRow<'r, DB::Row>,
{
    /// Stores `row` under `key` with `set`, the engine's statement taking
    /// the key and the row's columns as `$1` to `$6`, and the login the row
    /// counts for (`owner`) as `$7`.
    pub(in crate::storage) async fn set_throttle(
        conn: &mut DB::Connection,
        set: &'static str,
        key: &[u8],
        owner: Option<&[u8]>,
        row: &ThrottleRow,
    ) -> Result<(), StoreError> {
        sqlx::query(set)
            .bind(key)
            .bind(row.failures)
            .bind(Stamp(row.last_failure))
            .bind(row.locked_until.map(Stamp))
            .bind(row.pending)
            .bind(row.pending_until.map(Stamp))
            .bind(owner)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub(in crate::storage) async fn delete_throttle(
        conn: &mut DB::Connection,
        key: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Deletes the rows whose last failure is [`THROTTLE_KEEP`] old and
    /// whose lock and pending attempts have run out.
    pub(in crate::storage) async fn sweep_throttle(
        conn: &mut DB::Connection,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM throttle WHERE last_failure < $1 \
             AND (locked_until IS NULL OR locked_until < $2) \
             AND (pending_until IS NULL OR pending_until < $2)",
        )
        .bind(Stamp(now - THROTTLE_KEEP))
        .bind(Stamp(now))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Deletes every row that counts for the login `owner` (an operator's
    /// `unlock`).
    pub(in crate::storage) async fn clear_throttle(
        conn: &mut DB::Connection,
        owner: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle WHERE owner = $1")
            .bind(owner)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Until when a row of the login `owner` is locked, if one is now.
    pub(in crate::storage) async fn throttle_locked_until<'e>(
        e: impl Executor<'e, Database = DB>,
        owner: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let (until,) = sqlx::query_as::<DB, (Option<Stamp>,)>(
            "SELECT MAX(locked_until) FROM throttle WHERE owner = $1 AND locked_until > $2",
        )
        .bind(owner)
        .bind(Stamp(now))
        .fetch_one(e)
        .await?;
        Ok(until.map(Into::into))
    }
}
