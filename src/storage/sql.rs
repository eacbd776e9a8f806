//! The statements both engines run, written once.
//!
//! Every statement here is plain SQL with `$N` parameters, which sqlx's
//! SQLite driver accepts as well as PostgreSQL's. Rows are decoded by
//! `#[derive(FromRow)]` structs; the one type the engines store differently,
//! a point in time, is [`Stamp`], whose encodings live in the engine files
//! (RFC 3339 text on SQLite, `TIMESTAMPTZ` on PostgreSQL). What genuinely
//! differs between the engines (transactions and locking, the audit chain,
//! the throttle, the pools) stays in `sqlite.rs` and `postgres.rs`, which
//! call these functions on their own connections.

use std::marker::PhantomData;

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use time::OffsetDateTime;

use super::{AuditFilter, AuditRecord, ItemRecord, StoreError, TokenRecord, UserRecord};
use crate::crypto::WrappedKey;
use crate::domain::{DomainError, ItemKind, Login, UserId};

/// A point in time as an engine stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp(pub(super) OffsetDateTime);

#[derive(FromRow)]
pub(super) struct ItemRow {
    id: i64,
    user_id: i64,
    name_index: Vec<u8>,
    sealed: Vec<u8>,
    version: i64,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<ItemRow> for ItemRecord {
    fn from(row: ItemRow) -> Self {
        Self {
            id: row.id,
            user: UserId::new(row.user_id),
            name_index: row.name_index,
            sealed: row.sealed,
            version: row.version,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        }
    }
}

#[derive(FromRow)]
pub(super) struct UserRow {
    id: i64,
    login: String,
    password_hash: String,
    kek_salt: Vec<u8>,
    wrapped_dek: Vec<u8>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: UserId::new(row.id),
            login: Login::parse(&row.login)
                .map_err(|e| StoreError::Unexpected(format!("stored login: {e}")))?,
            password_hash: row.password_hash,
            kek_salt: row.kek_salt,
            wrapped_dek: WrappedKey(row.wrapped_dek),
        })
    }
}

#[derive(FromRow)]
pub(super) struct TokenRow {
    id: i64,
    user_id: i64,
    token_hash: Vec<u8>,
    wrapped_dek: Vec<u8>,
    created_at: Stamp,
    last_used_at: Stamp,
    expires_at: Stamp,
}

impl From<TokenRow> for TokenRecord {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            user: UserId::new(row.user_id),
            token_hash: row.token_hash,
            wrapped_dek: WrappedKey(row.wrapped_dek),
            created_at: row.created_at.0,
            last_used_at: row.last_used_at.0,
            expires_at: row.expires_at.0,
        }
    }
}

#[derive(FromRow)]
pub(super) struct AuditRow {
    at: Stamp,
    user_id: Option<i64>,
    channel: String,
    remote_addr: Option<String>,
    action: String,
    target: Option<String>,
    outcome: String,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let bad = |e: DomainError| StoreError::Unexpected(format!("stored audit event: {e}"));
        Ok(Self {
            at: row.at.0,
            user: row.user_id.map(UserId::new),
            channel: row.channel.parse().map_err(bad)?,
            remote_addr: row.remote_addr,
            action: row.action.parse().map_err(bad)?,
            target: row.target,
            outcome: row.outcome.parse().map_err(bad)?,
        })
    }
}

/// An audit record with the login of its user, for `keeper audit list`.
#[derive(FromRow)]
pub(super) struct ListedAuditRow {
    #[sqlx(flatten)]
    audit: AuditRow,
    login: Option<String>,
}

/// How many rows a statement changed: each engine's result says so in its
/// own type.
pub(super) trait Affected {
    fn rows(&self) -> u64;
}

/// The shared statements, for the engine `DB`.
pub(super) struct Sql<DB>(PhantomData<DB>);

impl<DB> Sql<DB>
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: Affected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Stamp: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Stamp>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> ItemRow: FromRow<'r, DB::Row>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> TokenRow: FromRow<'r, DB::Row>,
    for<'r> AuditRow: FromRow<'r, DB::Row>,
    for<'r> ListedAuditRow: FromRow<'r, DB::Row>,
{
    // Users.

    pub(super) async fn insert_user(
        conn: &mut DB::Connection,
        u: &UserRecord,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, login, password_hash, kek_salt, wrapped_dek, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(u.id.get())
        .bind(u.login.as_str())
        .bind(u.password_hash.as_str())
        .bind(u.kek_salt.as_slice())
        .bind(u.wrapped_dek.0.as_slice())
        .bind(Stamp(at))
        .execute(conn)
        .await?;
        Ok(())
    }

    pub(super) async fn user_by_login<'e>(
        e: impl Executor<'e, Database = DB>,
        login: &Login,
    ) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query_as::<DB, UserRow>("SELECT * FROM users WHERE login = $1")
            .bind(login.as_str())
            .fetch_optional(e)
            .await?
            .map(UserRecord::try_from)
            .transpose()
    }

    pub(super) async fn user_by_id<'e>(
        e: impl Executor<'e, Database = DB>,
        id: UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query_as::<DB, UserRow>("SELECT * FROM users WHERE id = $1")
            .bind(id.get())
            .fetch_optional(e)
            .await?
            .map(UserRecord::try_from)
            .transpose()
    }

    /// The credential change of `update_credentials`, in the caller's
    /// transaction: only if the stored KEK salt is still `previous_salt`;
    /// every token of the user goes with it.
    pub(super) async fn update_credentials(
        conn: &mut DB::Connection,
        u: &UserRecord,
        previous_salt: &[u8],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, kek_salt = $2, wrapped_dek = $3, updated_at = $4 \
             WHERE id = $5 AND kek_salt = $6",
        )
        .bind(u.password_hash.as_str())
        .bind(u.kek_salt.as_slice())
        .bind(u.wrapped_dek.0.as_slice())
        .bind(Stamp(at))
        .bind(u.id.get())
        .bind(previous_salt)
        .execute(&mut *conn)
        .await?;
        if done.rows() != 1 {
            let exists = sqlx::query_as::<DB, (i64,)>("SELECT id FROM users WHERE id = $1")
                .bind(u.id.get())
                .fetch_optional(&mut *conn)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::VersionMismatch,
                None => StoreError::NotFound,
            });
        }
        sqlx::query("DELETE FROM tokens WHERE user_id = $1")
            .bind(u.id.get())
            .execute(conn)
            .await?;
        Ok(())
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

    pub(super) async fn token_by_hash<'e>(
        e: impl Executor<'e, Database = DB>,
        hash: &[u8],
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(
            sqlx::query_as::<DB, TokenRow>("SELECT * FROM tokens WHERE token_hash = $1")
                .bind(hash)
                .fetch_optional(e)
                .await?
                .map(TokenRecord::from),
        )
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
        sqlx::query("DELETE FROM tokens WHERE id = $1")
            .bind(id)
            .execute(conn)
            .await?;
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

    pub(super) async fn list_items<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        let rows = sqlx::query_as::<DB, ItemRow>(
            "SELECT * FROM items WHERE user_id = $1 AND kind = $2 ORDER BY created_at, id",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .fetch_all(e)
        .await?;
        Ok(rows.into_iter().map(ItemRecord::from).collect())
    }

    pub(super) async fn item_by_index<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
        index: &[u8],
    ) -> Result<Option<ItemRecord>, StoreError> {
        Ok(sqlx::query_as::<DB, ItemRow>(
            "SELECT * FROM items WHERE user_id = $1 AND kind = $2 AND name_index = $3",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .bind(index)
        .fetch_optional(e)
        .await?
        .map(ItemRecord::from))
    }

    pub(super) async fn item_by_id<'e>(
        e: impl Executor<'e, Database = DB>,
        user: UserId,
        kind: ItemKind,
        id: i64,
    ) -> Result<Option<ItemRecord>, StoreError> {
        Ok(sqlx::query_as::<DB, ItemRow>(
            "SELECT * FROM items WHERE user_id = $1 AND kind = $2 AND id = $3",
        )
        .bind(user.get())
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(e)
        .await?
        .map(ItemRecord::from))
    }

    /// Inserts `item` unless its owner already has `limit` of the kind. The
    /// caller's transaction must keep other inserts of the owner out from
    /// the count to the commit (the engines do that differently).
    pub(super) async fn insert_item(
        conn: &mut DB::Connection,
        kind: ItemKind,
        i: &ItemRecord,
        limit: i64,
    ) -> Result<(), StoreError> {
        let (stored,) = sqlx::query_as::<DB, (i64,)>(
            "SELECT COUNT(*) FROM items WHERE user_id = $1 AND kind = $2",
        )
        .bind(i.user.get())
        .bind(kind.as_str())
        .fetch_one(&mut *conn)
        .await?;
        if stored >= limit {
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
        if done.rows() == 1 {
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
            .execute(conn)
            .await?;
        if done.rows() != 1 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    // The audit log, read (each engine appends to its chains its own way).

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
}
