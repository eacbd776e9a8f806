//! The statements both engines run, written once.
//!
//! Every statement here is plain SQL with `$N` parameters, which sqlx's
//! SQLite driver accepts as well as PostgreSQL's. Rows are decoded by
//! `#[derive(FromRow)]` structs. What sets the engines apart in these
//! statements is each one's [`Engine`] implementation: how its columns hold
//! a point in time, and the few statements whose locking differs. What
//! differs beyond statements (transactions, the pools, the throttle's
//! locking) stays in `sqlite/` and `postgres/`, which call these functions
//! on their own connections.

use std::marker::PhantomData;

use futures_util::TryStreamExt;
use sqlx::{Encode, Executor, FromRow, IntoArguments, QueryBuilder, Transaction, Type};
use time::OffsetDateTime;

use super::chain::{ChainRow, Head, Link, head_mac, verdict};
use super::{
    AuditFilter, AuditRecord, AuditVerdict, CredentialsRead, ItemRecord, ListedItem, StoreError,
    TokenRecord, TrashRecord, UserRecord,
};
use crate::crypto::AuditKey;
use crate::domain::{ItemKind, Login, UserId};

mod engine;
mod rows;
mod throttle;

pub(super) use engine::{Engine, Stamp, TimeText};
pub(super) use rows::*;

/// A chain's head as [`Engine::CHAIN_HEAD`] takes it.
type TakenHead = (Option<i64>, Option<Vec<u8>>, Option<i64>, i64);

/// The shared statements, for the engine `DB`.
pub(super) struct Sql<DB>(PhantomData<DB>);

impl<DB> Sql<DB>
where
    DB: Engine + sqlx::database::HasStatementCache,
    DB::Arguments: IntoArguments<DB> + Default,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Stamp>: Encode<'q, DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, DB::Row>,
    for<'r> (i64, i64, Vec<u8>, i64): FromRow<'r, DB::Row>,
    for<'r> TakenHead: FromRow<'r, DB::Row>,
    for<'r> ItemRecord: FromRow<'r, DB::Row>,
    for<'r> ListedItem: FromRow<'r, DB::Row>,
    for<'r> TrashRecord: FromRow<'r, DB::Row>,
    for<'r> (i64, i64): FromRow<'r, DB::Row>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> UserSummaryRow: FromRow<'r, DB::Row>,
    for<'r> TokenLoginRow: FromRow<'r, DB::Row>,
    for<'r> AuditRow: FromRow<'r, DB::Row>,
    for<'r> ListedAuditRow: FromRow<'r, DB::Row>,
    for<'r> ChainedAuditRow: FromRow<'r, DB::Row>,
    for<'r> HeadRow: FromRow<'r, DB::Row>,
{
    /// Runs `statement` with `key` as `$1`; how many rows it changed.
    async fn execute_with<'e, 'k>(
        e: impl Executor<'e, Database = DB>,
        statement: &'static str,
        key: impl Encode<'k, DB> + Type<DB> + 'k,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(statement).bind(key).execute(e).await?;
        Ok(DB::rows_affected(&done))
    }

    // Users.

    pub(super) async fn insert_user(
        conn: &mut DB::Connection,
        u: &UserRecord,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, login, password_hash, kek_salt, wrapped_dek, created_at, updated_at, \
             recovery_wrapped) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(u.id.get())
        .bind(u.login.as_str())
        .bind(u.password_hash.as_str())
        .bind(u.kek_salt.as_slice())
        .bind(u.wrapped_dek.0.as_slice())
        .bind(Stamp(at))
        .bind(u.recovery_wrapped.as_ref().map(|w| w.0.as_slice()))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// A new user, using the invite whose code hashes to `invite` (if
    /// any) in the same transaction: an unknown, used or expired one is
    /// `NotFound` and nothing is written.
    pub(super) async fn register_user(
        conn: &mut DB::Connection,
        u: &UserRecord,
        invite: Option<&[u8]>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if let Some(hash) = invite {
            let used = sqlx::query(
                "UPDATE invites SET used_at = $1 \
                 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(Stamp(at))
            .bind(hash)
            .execute(&mut *conn)
            .await?;
            if DB::rows_affected(&used) != 1 {
                return Err(StoreError::NotFound);
            }
        }
        Self::insert_user(conn, u, at).await
    }

    /// Whether the invite whose code hashes to `hash` may still be used.
    pub(super) async fn invite_usable<'e>(
        e: impl Executor<'e, Database = DB>,
        hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (found,) = sqlx::query_as::<DB, (i64,)>(
            "SELECT COUNT(*) FROM invites \
             WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash)
        .bind(Stamp(now))
        .fetch_one(e)
        .await?;
        Ok(found > 0)
    }

    /// A new invite code's hash, usable until `expires`.
    pub(super) async fn insert_invite(
        conn: &mut DB::Connection,
        hash: &[u8],
        at: OffsetDateTime,
        expires: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO invites (code_hash, created_at, expires_at) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(Stamp(at))
            .bind(Stamp(expires))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub(super) async fn user_by_login<'e>(
        e: impl Executor<'e, Database = DB>,
        login: &Login,
    ) -> Result<Option<UserRecord>, StoreError> {
        Self::user_where(e, "SELECT * FROM users WHERE login = $1", login.as_str()).await
    }

    pub(super) async fn user_by_id<'e>(
        e: impl Executor<'e, Database = DB>,
        id: UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        Self::user_where(e, "SELECT * FROM users WHERE id = $1", id.get()).await
    }

    /// The user that `select` finds with `key` as `$1`.
    async fn user_where<'e, 'k>(
        e: impl Executor<'e, Database = DB>,
        select: &'static str,
        key: impl Encode<'k, DB> + Type<DB> + 'k,
    ) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query_as::<DB, UserRow>(select)
            .bind(key)
            .fetch_optional(e)
            .await?
            .map(UserRecord::try_from)
            .transpose()
    }

    /// The credential change of `update_credentials`, in the caller's
    /// transaction: only if the stored KEK salt (and the recovery wrapping
    /// a new one replaces) are still the ones `read`; every token of the
    /// user goes with it.
    pub(super) async fn update_credentials(
        conn: &mut DB::Connection,
        u: &UserRecord,
        read: &CredentialsRead<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, kek_salt = $2, wrapped_dek = $3, updated_at = $4, \
             recovery_wrapped = COALESCE($7, recovery_wrapped) \
             WHERE id = $5 AND kek_salt = $6 AND disabled_at IS NULL \
             AND ($7 IS NULL OR recovery_wrapped = $8)",
        )
        .bind(u.password_hash.as_str())
        .bind(u.kek_salt.as_slice())
        .bind(u.wrapped_dek.0.as_slice())
        .bind(Stamp(at))
        .bind(u.id.get())
        .bind(read.salt)
        .bind(u.recovery_wrapped.as_ref().map(|w| w.0.as_slice()))
        .bind(read.recovery)
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&done) != 1 {
            return Err(Self::credentials_miss(&mut *conn, u.id).await);
        }
        Self::execute_with(conn, "DELETE FROM tokens WHERE user_id = $1", u.id.get()).await?;
        Ok(())
    }

    /// Why an update of the user's credentials matched no row: the user is
    /// gone, disabled, or changed meanwhile.
    async fn credentials_miss(conn: &mut DB::Connection, user: UserId) -> StoreError {
        let disabled = sqlx::query_as::<DB, (i64,)>(
            "SELECT CAST(CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM users WHERE id = $1",
        )
        .bind(user.get())
        .fetch_optional(conn)
        .await;
        match disabled {
            Ok(Some((0,))) => StoreError::VersionMismatch,
            Ok(Some(_)) => StoreError::Disabled,
            Ok(None) => StoreError::NotFound,
            Err(e) => e.into(),
        }
    }

    /// A new recovery wrapping, only if the KEK salt is still `salt` (the
    /// password and PIN checked for it were not replaced meanwhile, by a
    /// recovery or a change) and the account is enabled.
    pub(super) async fn set_recovery_wrapped(
        conn: &mut DB::Connection,
        user: UserId,
        wrapped: &[u8],
        salt: &[u8],
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET recovery_wrapped = $1 \
             WHERE id = $2 AND kek_salt = $3 AND disabled_at IS NULL",
        )
        .bind(wrapped)
        .bind(user.get())
        .bind(salt)
        .execute(&mut *conn)
        .await?;
        match DB::rows_affected(&done) {
            1 => Ok(()),
            _ => Err(Self::credentials_miss(conn, user).await),
        }
    }

    pub(super) async fn upgrade_password_hash<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        old: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(user.get())
            .bind(old)
            .execute(e)
            .await?;
        Ok(())
    }

    // Operators.

    /// Disables the user from `at`, or with `None` enables them again;
    /// `NotFound` if there is no such user. Their tokens are deleted both
    /// ways: one issued by a login that raced the disable (hidden while the
    /// account is disabled) must not come back with the enable.
    pub(super) async fn set_disabled(
        conn: &mut DB::Connection,
        user: UserId,
        at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(at.map(Stamp))
            .bind(user.get())
            .execute(&mut *conn)
            .await?;
        if DB::rows_affected(&done) != 1 {
            return Err(StoreError::NotFound);
        }
        Self::execute_with(conn, "DELETE FROM tokens WHERE user_id = $1", user.get()).await?;
        Ok(())
    }

    /// Deletes the user's rows, each table named (not left to cascades),
    /// and the throttle rows of their login `owner`; `NotFound` if there
    /// is no such user. Their audit records stay.
    pub(super) async fn delete_user(
        conn: &mut DB::Connection,
        user: UserId,
        owner: &[u8],
    ) -> Result<(), StoreError> {
        for table in [
            "DELETE FROM tokens WHERE user_id = $1",
            "DELETE FROM trash WHERE user_id = $1",
            "DELETE FROM items WHERE user_id = $1",
            "DELETE FROM item_counts WHERE user_id = $1",
        ] {
            Self::execute_with(&mut *conn, table, user.get()).await?;
        }
        Self::execute_with(&mut *conn, "DELETE FROM throttle WHERE owner = $1", owner).await?;
        match Self::execute_with(conn, "DELETE FROM users WHERE id = $1", user.get()).await? {
            1 => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Every user with what operators see of them, by login.
    pub(super) async fn list_users<'e>(
        e: impl Executor<'e, Database = DB>,
    ) -> Result<Vec<super::UserSummary>, StoreError> {
        sqlx::query_as::<DB, UserSummaryRow>(
            "SELECT u.id, u.login, u.created_at, u.disabled_at, \
             (SELECT MAX(a.at) FROM audit_events a WHERE a.user_id = u.id \
              AND a.action = 'session.unlock' AND a.outcome = 'ok') AS last_login, \
             CAST((SELECT COALESCE(SUM(c.stored), 0) FROM item_counts c WHERE c.user_id = u.id) \
              AS BIGINT) AS items \
             FROM users u ORDER BY u.login",
        )
        .fetch_all(e)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }

    /// The newest audit record's id (0 for none).
    pub(super) async fn last_audit_id<'e>(
        e: impl Executor<'e, Database = DB>,
    ) -> Result<i64, StoreError> {
        let (last,) = sqlx::query_as::<DB, (i64,)>(
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM audit_events",
        )
        .fetch_one(e)
        .await?;
        Ok(last)
    }

    /// The users whose accounts operators disabled or deleted in the audit
    /// records after `after`, up to `upto`.
    pub(super) async fn ended_by_operators(
        conn: &mut DB::Connection,
        after: i64,
        upto: i64,
    ) -> Result<Vec<UserId>, StoreError> {
        let users = sqlx::query_as::<DB, (i64,)>(
            "SELECT DISTINCT user_id FROM audit_events \
             WHERE id > $1 AND id <= $2 AND channel = 'operator' AND user_id IS NOT NULL \
             AND action IN ('admin.disable', 'admin.delete')",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(conn)
        .await?;
        Ok(users.into_iter().map(|(u,)| UserId::new(u)).collect())
    }

    // Tokens.

    pub(super) async fn insert_token(
        conn: &mut DB::Connection,
        t: &TokenRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, wrapped_dek, created_at, last_used_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id)
        .bind(t.user.get())
        .bind(t.token_hash.as_slice())
        .bind(t.wrapped_dek.0.as_slice())
        .bind(Stamp(t.created_at))
        .bind(Stamp(t.last_used_at))
        .bind(Stamp(t.expires_at))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The token with hash `hash` and its user's login, in one statement:
    /// a request's token is checked with one round trip.
    pub(super) async fn token_by_hash<'e>(
        e: impl Executor<'e, Database = DB>,
        hash: &[u8],
    ) -> Result<Option<(TokenRecord, Login)>, StoreError> {
        let row = sqlx::query_as::<DB, TokenLoginRow>(
            "SELECT tokens.*, users.login FROM tokens JOIN users ON users.id = tokens.user_id \
             WHERE tokens.token_hash = $1 AND users.disabled_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(e)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub(super) async fn touch_token<'e>(
        e: impl Executor<'e, Database = DB>,
        id: i64,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // Never back in time: another node may have recorded a later use.
        sqlx::query(
            "UPDATE tokens SET last_used_at = \
             CASE WHEN last_used_at < $1 THEN $1 ELSE last_used_at END WHERE id = $2",
        )
        .bind(Stamp(at))
        .bind(id)
        .execute(e)
        .await?;
        Ok(())
    }

    pub(super) async fn delete_token(conn: &mut DB::Connection, id: i64) -> Result<(), StoreError> {
        Self::execute_with(conn, "DELETE FROM tokens WHERE id = $1", id).await?;
        Ok(())
    }

    pub(super) async fn count_tokens<'e>(
        e: impl Executor<'e, Database = DB>,
        now: OffsetDateTime,
        user: Option<UserId>,
    ) -> Result<i64, StoreError> {
        let (count,) = sqlx::query_as::<DB, (i64,)>(
            "SELECT COUNT(*) FROM tokens \
             WHERE expires_at > $1 AND (CAST($2 AS BIGINT) IS NULL OR user_id = $2)",
        )
        .bind(Stamp(now))
        .bind(user.map(|u| u.get()))
        .fetch_one(e)
        .await?;
        Ok(count)
    }

    // Items, every kind in one table.

    pub(super) async fn list_items<'e, T>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
        each: &mut impl FnMut(ListedItem) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let mut rows = sqlx::query_as::<DB, ListedItem>(
            "SELECT id, sealed, version, created_at, updated_at FROM items \
             WHERE user_id = $1 AND kind = $2 ORDER BY created_at, id",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .fetch(e);
        let mut items = Vec::new();
        while let Some(row) = rows.try_next().await? {
            items.push(each(row));
        }
        Ok(items)
    }

    pub(super) async fn item_by_index<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
        index: &[u8],
    ) -> Result<Option<ItemRecord>, StoreError> {
        let select = "SELECT * FROM items WHERE user_id = $1 AND kind = $2 AND name_index = $3";
        Self::item_where(e, select, user, kind, index).await
    }

    pub(super) async fn item_by_id<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
        id: i64,
    ) -> Result<Option<ItemRecord>, StoreError> {
        let select = "SELECT * FROM items WHERE user_id = $1 AND kind = $2 AND id = $3";
        Self::item_where(e, select, user, kind, id).await
    }

    /// The item of `user` and `kind` that `select` finds with `key` as `$3`.
    async fn item_where<'e, 'k>(
        e: impl Executor<'e, Database = DB>,
        select: &'static str,
        user: UserId,
        kind: ItemKind,
        key: impl Encode<'k, DB> + Type<DB> + 'k,
    ) -> Result<Option<ItemRecord>, StoreError> {
        Ok(sqlx::query_as::<DB, ItemRecord>(select)
            .bind(user.get())
            .bind(kind.as_str())
            .bind(key)
            .fetch_optional(e)
            .await?)
    }

    /// Inserts `item` unless its owner already has `limit` of the kind.
    /// The owner's count of the kind goes up first, in one statement that
    /// also checks the limit and locks the count until the transaction
    /// ends: concurrent inserts of the owner, on any node, count one after
    /// another and cannot pass the limit together.
    pub(super) async fn insert_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        i: &ItemRecord,
        limit: i64,
    ) -> Result<(), StoreError> {
        if limit < 1 {
            return Err(StoreError::LimitReached);
        }
        let counted = sqlx::query(
            "INSERT INTO item_counts (user_id, kind, stored) VALUES ($1, $2, 1) \
             ON CONFLICT (user_id, kind) DO UPDATE SET stored = item_counts.stored + 1 \
             WHERE item_counts.stored < $3",
        )
        .bind(i.user.get())
        .bind(kind.as_str())
        .bind(limit)
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&counted) != 1 {
            return Err(StoreError::LimitReached);
        }
        sqlx::query(
            "INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(i.id)
        .bind(i.user.get())
        .bind(kind.as_str())
        .bind(i.name_index.as_slice())
        .bind(i.sealed.as_slice())
        .bind(i.version)
        .bind(Stamp(i.created_at))
        .bind(Stamp(i.updated_at))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The name indexes of `user`'s items of `kind`.
    pub(super) async fn name_indexes<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows = sqlx::query_as::<DB, (Vec<u8>,)>(
            "SELECT name_index FROM items WHERE user_id = $1 AND kind = $2",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .fetch_all(e)
        .await?;
        Ok(rows.into_iter().map(|(index,)| index).collect())
    }

    /// Inserts every one of `items` (all of `user`) or, when the kinds'
    /// counts would pass `limit` together, none.
    pub(super) async fn insert_items(
        conn: &mut DB::Connection,
        user: UserId,
        items: &[(ItemKind, ItemRecord)],
        limit: i64,
    ) -> Result<(), StoreError> {
        for kind in ItemKind::ALL {
            let added = items.iter().filter(|(k, _)| k == kind).count() as i64;
            if added == 0 {
                continue;
            }
            if added > limit {
                return Err(StoreError::LimitReached);
            }
            let counted = sqlx::query(
                "INSERT INTO item_counts (user_id, kind, stored) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, kind) DO UPDATE SET stored = item_counts.stored + $3 \
                 WHERE item_counts.stored + $3 <= $4",
            )
            .bind(user.get())
            .bind(kind.as_str())
            .bind(added)
            .bind(limit)
            .execute(&mut *conn)
            .await?;
            if DB::rows_affected(&counted) != 1 {
                return Err(StoreError::LimitReached);
            }
        }
        for (kind, i) in items {
            sqlx::query(
                "INSERT INTO items (id, user_id, kind, name_index, sealed, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(i.id)
            .bind(user.get())
            .bind(kind.as_str())
            .bind(i.name_index.as_slice())
            .bind(i.sealed.as_slice())
            .bind(i.version)
            .bind(Stamp(i.created_at))
            .bind(Stamp(i.updated_at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Writes `item` (whose `version` is the new one) if the stored version
    /// is `expected`. The check and the write are one statement: of two
    /// concurrent updates from one version, the second finds the row
    /// changed and updates nothing.
    pub(super) async fn update_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        i: &ItemRecord,
        expected: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE items SET name_index = $1, sealed = $2, version = $3, updated_at = $4 \
             WHERE id = $5 AND user_id = $6 AND kind = $7 AND version = $8",
        )
        .bind(i.name_index.as_slice())
        .bind(i.sealed.as_slice())
        .bind(i.version)
        .bind(Stamp(i.updated_at))
        .bind(i.id)
        .bind(i.user.get())
        .bind(kind.as_str())
        .bind(expected)
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&done) == 1 {
            return Ok(());
        }
        let exists = sqlx::query_as::<DB, (i64,)>(
            "SELECT version FROM items WHERE id = $1 AND user_id = $2 AND kind = $3",
        )
        .bind(i.id)
        .bind(i.user.get())
        .bind(kind.as_str())
        .fetch_optional(conn)
        .await?;
        Err(match exists {
            Some(_) => StoreError::VersionMismatch,
            None => StoreError::NotFound,
        })
    }

    pub(super) async fn delete_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        user: UserId,
        id: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM items WHERE id = $1 AND user_id = $2 AND kind = $3")
            .bind(id)
            .bind(user.get())
            .bind(kind.as_str())
            .execute(&mut *conn)
            .await?;
        if DB::rows_affected(&done) != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE item_counts SET stored = stored - 1 \
             WHERE user_id = $1 AND kind = $2 AND stored > 0",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .execute(conn)
        .await?;
        Ok(())
    }

    // The trash.

    /// Moves item `id` of `user` to the trash, deleted `at`.
    pub(super) async fn trash_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        user: UserId,
        id: i64,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let moved = sqlx::query(
            "INSERT INTO trash (id, user_id, kind, name_index, sealed, version, created_at, \
             updated_at, deleted_at) SELECT id, user_id, kind, name_index, sealed, version, \
             created_at, updated_at, $4 FROM items WHERE id = $1 AND user_id = $2 AND kind = $3",
        )
        .bind(id)
        .bind(user.get())
        .bind(kind.as_str())
        .bind(Stamp(at))
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&moved) != 1 {
            return Err(StoreError::NotFound);
        }
        Self::delete_item(conn, kind, user, id).await
    }

    /// What `user` has in the trash, oldest deletion first.
    pub(super) async fn list_trash<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
    ) -> Result<Vec<TrashRecord>, StoreError> {
        Ok(sqlx::query_as::<DB, TrashRecord>(
            "SELECT id, kind, sealed, version, deleted_at FROM trash \
             WHERE user_id = $1 ORDER BY deleted_at, id",
        )
        .bind(user.get())
        .fetch_all(e)
        .await?)
    }

    /// How many items `user` has in the trash.
    pub(super) async fn count_trash<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
    ) -> Result<i64, StoreError> {
        let (count,) =
            sqlx::query_as::<DB, (i64,)>("SELECT COUNT(*) FROM trash WHERE user_id = $1")
                .bind(user.get())
                .fetch_one(e)
                .await?;
        Ok(count)
    }

    /// Moves item `id` back from the trash into the vault, counted against
    /// `limit`; a name taken meanwhile is a conflict.
    pub(super) async fn restore_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        user: UserId,
        id: i64,
        limit: i64,
    ) -> Result<(), StoreError> {
        let record = sqlx::query_as::<DB, ItemRecord>(
            "SELECT id, user_id, name_index, sealed, version, created_at, updated_at FROM trash \
             WHERE id = $1 AND user_id = $2 AND kind = $3",
        )
        .bind(id)
        .bind(user.get())
        .bind(kind.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        Self::insert_item(&mut *conn, kind, &record, limit).await?;
        Self::delete_trashed(conn, user, Some(id)).await?;
        Ok(())
    }

    /// Deletes item `id` (or, for `None`, every item) from `user`'s trash;
    /// how many went.
    pub(super) async fn delete_trashed(
        conn: &mut DB::Connection,
        user: UserId,
        id: Option<i64>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM trash WHERE user_id = $1 AND (CAST($2 AS BIGINT) IS NULL OR id = $2)",
        )
        .bind(user.get())
        .bind(id)
        .execute(conn)
        .await?;
        match DB::rows_affected(&done) {
            0 if id.is_some() => Err(StoreError::NotFound),
            n => Ok(n),
        }
    }

    /// Every item deleted before `before`, of every user: `(user, id)`.
    pub(super) async fn expired_trash<'e>(
        e: impl Executor<'e, Database = DB>,
        before: OffsetDateTime,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(sqlx::query_as::<DB, (i64, i64)>(
            "SELECT user_id, id FROM trash WHERE deleted_at < $1 ORDER BY deleted_at, id",
        )
        .bind(Stamp(before))
        .fetch_all(e)
        .await?)
    }

    // The audit log.

    /// Events across all users, newest first, with the login they belong to.
    pub(super) async fn list_audit<'e>(
        e: impl Executor<'e, Database = DB>,
        f: &AuditFilter,
    ) -> Result<Vec<(AuditRecord, Option<String>)>, StoreError> {
        let rows = sqlx::query_as::<DB, ListedAuditRow>(
            "SELECT a.*, u.login AS login FROM audit_events a LEFT JOIN users u ON u.id = a.user_id \
             WHERE (CAST($1 AS TEXT) IS NULL OR u.login = $1) \
             AND (CAST($2 AS TEXT) IS NULL OR a.action = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR a.outcome = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR a.channel = $4) \
             AND (CAST($5 AS TIMESTAMPTZ) IS NULL OR a.at >= $5) \
             AND (CAST($6 AS TIMESTAMPTZ) IS NULL OR a.at < $6) \
             ORDER BY a.id DESC LIMIT $7",
        )
        .bind(f.login.as_ref().map(|l| l.as_str()))
        .bind(f.action.map(|a| a.as_str()))
        .bind(f.outcome.map(|o| o.as_str()))
        .bind(f.channel.map(|c| c.as_str()))
        .bind(f.since.map(Stamp))
        .bind(f.until.map(Stamp))
        .bind(f.limit)
        .fetch_all(e)
        .await?;
        rows.into_iter()
            .map(|row| Ok((AuditRecord::try_from(row.audit)?, row.login)))
            .collect()
    }

    /// A user's own events, newest first.
    pub(super) async fn audit_for_user<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        sqlx::query_as::<DB, AuditRow>(
            "SELECT * FROM audit_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user.get())
        .bind(limit)
        .fetch_all(e)
        .await?
        .into_iter()
        .map(AuditRecord::try_from)
        .collect()
    }

    /// Appends an audit record to its chain, in the caller's transaction:
    /// the engine's [`Engine::CHAIN_HEAD`] takes the chain's head and the
    /// next id, then its [`Engine::APPEND`] writes the record whole, MAC
    /// included, and moves the head.
    pub(super) async fn append(
        conn: &mut DB::Connection,
        key: &AuditKey,
        a: &AuditRecord,
    ) -> Result<(), StoreError> {
        let (prev_id, prev_mac, count, id) = sqlx::query_as::<DB, TakenHead>(DB::CHAIN_HEAD)
            .bind(a.user.map_or(0, |u| u.get()))
            .fetch_one(&mut *conn)
            .await?;
        let prev_mac = prev_mac.unwrap_or_default();
        let link = Link::after(
            key,
            a,
            id,
            prev_id.unwrap_or(0),
            &prev_mac,
            count.unwrap_or(0),
        )?;
        sqlx::query(DB::APPEND)
            .bind(link.id)
            .bind(Stamp(a.at))
            .bind(a.user.map(|u| u.get()))
            .bind(a.channel.as_str())
            .bind(a.remote_addr.as_deref())
            .bind(a.action.as_str())
            .bind(a.target.as_deref())
            .bind(a.outcome.as_str())
            .bind(link.prev_id)
            .bind(link.mac.as_slice())
            .bind(link.chain)
            .bind(link.count)
            .bind(link.head_mac.as_slice())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Appends several records of one chain, in order, with one statement
    /// for the records and one for the head: the head is taken once and
    /// each record linked to the one before it here, not in the database.
    async fn append_run(
        conn: &mut DB::Connection,
        key: &AuditKey,
        run: &[&AuditRecord],
    ) -> Result<(), StoreError> {
        let Some(first) = run.first() else {
            return Ok(());
        };
        let (prev_id, prev_mac, count, id) = sqlx::query_as::<DB, TakenHead>(DB::CHAIN_HEAD)
            .bind(first.user.map_or(0, |u| u.get()))
            .fetch_one(&mut *conn)
            .await?;
        let mut ids = vec![id];
        match DB::MORE_IDS {
            Some(more) => ids.extend(
                sqlx::query_scalar::<DB, i64>(more)
                    .bind(i64::try_from(run.len() - 1).unwrap_or(i64::MAX))
                    .fetch_all(&mut *conn)
                    .await?,
            ),
            None => ids.extend((1..).map(|n| id + n).take(run.len() - 1)),
        }
        ids.sort_unstable();
        if ids.len() != run.len() {
            return Err(StoreError::Unexpected(format!(
                "{} audit ids taken for {} records",
                ids.len(),
                run.len()
            )));
        }
        let (mut prev_id, mut prev_mac, mut count) = (
            prev_id.unwrap_or(0),
            prev_mac.unwrap_or_default(),
            count.unwrap_or(0),
        );
        let mut links = Vec::with_capacity(run.len());
        for (a, id) in run.iter().zip(ids) {
            let link = Link::after(key, a, id, prev_id, &prev_mac, count)?;
            (prev_id, count) = (link.id, link.count);
            prev_mac.clone_from(&link.mac);
            links.push(link);
        }
        let mut events = QueryBuilder::<DB>::new(
            "INSERT INTO audit_events \
             (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) ",
        );
        events.push_values(run.iter().zip(&links), |mut row, (a, link)| {
            row.push_bind(link.id)
                .push_bind(Stamp(a.at))
                .push_bind(a.user.map(|u| u.get()))
                .push_bind(a.channel.as_str())
                .push_bind(a.remote_addr.clone())
                .push_bind(a.action.as_str())
                .push_bind(a.target.clone())
                .push_bind(a.outcome.as_str())
                .push_bind(link.prev_id)
                .push_bind(link.mac.clone());
        });
        events.build().persistent(false).execute(&mut *conn).await?;
        let Some(head) = links.last() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO audit_heads (chain, last_id, mac, count, head_mac) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain) DO UPDATE SET \
             last_id = excluded.last_id, mac = excluded.mac, count = excluded.count, \
             head_mac = excluded.head_mac",
        )
        .bind(head.chain)
        .bind(head.id)
        .bind(head.mac.as_slice())
        .bind(head.count)
        .bind(head.head_mac.as_slice())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Appends `audits` to their chains and commits: a change with its
    /// audit record, or a group of records that stand alone. Chains are
    /// appended to in ascending order (so that writers on several nodes
    /// take head locks in one order and never deadlock), each chain's
    /// records in the order given; a lone record takes the engine's own
    /// statements, several of one chain go in one statement.
    pub(super) async fn commit<'a>(
        mut tx: Transaction<'_, DB>,
        key: &AuditKey,
        audits: impl IntoIterator<Item = &'a AuditRecord>,
    ) -> Result<(), StoreError> {
        let mut audits: Vec<&AuditRecord> = audits.into_iter().collect();
        // Stable: one chain's records keep their order.
        audits.sort_by_key(|a| a.user.map_or(0, |u| u.get()));
        for run in audits.chunk_by(|a, b| a.user == b.user) {
            match run {
                [one] => Self::append(&mut tx, key, one).await?,
                run => Self::append_run(&mut tx, key, run).await?,
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every chain's head.
    pub(super) async fn audit_heads<'e>(
        e: impl Executor<'e, Database = DB>,
    ) -> Result<Vec<(i64, Head)>, StoreError> {
        let heads = sqlx::query_as::<DB, HeadRow>(
            "SELECT chain, last_id, mac, count, head_mac FROM audit_heads ORDER BY chain",
        )
        .fetch_all(e)
        .await?;
        Ok(heads.into_iter().map(|h| (h.chain, h.head)).collect())
    }

    /// Checks every audit chain as `conn` sees the database.
    pub(super) async fn verify_chains(
        conn: &mut DB::Connection,
        key: &AuditKey,
    ) -> Result<AuditVerdict, StoreError> {
        let rows = sqlx::query_as::<DB, ChainedAuditRow>("SELECT * FROM audit_events ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(ChainRow::from)
            .collect();
        let heads = Self::audit_heads(&mut *conn).await?.into_iter().collect();
        let users = sqlx::query_scalar::<DB, i64>("SELECT id FROM users")
            .fetch_all(&mut *conn)
            .await?;
        Ok(verdict(key, rows, &heads, &users))
    }

    /// Gives every chain head a count and a MAC and commits, once, when the
    /// migration that adds them has just run: the log as it stands then is
    /// taken as intact (`keeper audit verify` before upgrading checks that).
    /// `heads` is the engine's statement that selects each head's chain,
    /// last id and MAC and the number of records in its chain.
    pub(super) async fn authenticate_heads(
        mut tx: Transaction<'_, DB>,
        key: &AuditKey,
        heads: &'static str,
    ) -> Result<(), StoreError> {
        let heads = sqlx::query_as::<DB, (i64, i64, Vec<u8>, i64)>(heads)
            .fetch_all(&mut *tx)
            .await?;
        for (chain, last_id, mac, count) in heads {
            sqlx::query("UPDATE audit_heads SET count = $1, head_mac = $2 WHERE chain = $3")
                .bind(count)
                .bind(head_mac(key, chain, count, last_id, &mac).as_slice())
                .bind(chain)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // The throttle rows (each engine reads and locks them its own way).
}
