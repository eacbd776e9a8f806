//! SQLite storage: WAL mode, one writer connection and a pool of readers.
//!
//! SQLite allows one writer at a time and sqlx cannot open `BEGIN IMMEDIATE`
//! transactions, so every write goes through a single-connection pool; reads
//! go through a separate pool and never block behind it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AuditRecord, ItemRecord, StoreError, TokenRecord, UserRecord};
use crate::crypto::WrappedKey;
use crate::domain::{ItemKind, Login, UserId};

/// The SQLite implementation of the store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

/// Picks the statement for the table that holds `kind`.
macro_rules! per_kind {
    ($kind:expr, $($part:literal)*) => {
        match $kind {
            ItemKind::Card => per_kind!(@table "cards" $($part)*),
            ItemKind::Password => per_kind!(@table "passwords" $($part)*),
        }
    };
    (@table $table:literal $before:literal $after:literal) => { concat!($before, $table, $after) };
}

/// Timestamps are stored in UTC with a fixed width (microseconds), so that
/// comparing the text compares the times.
const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

fn ts(t: OffsetDateTime) -> Result<String, StoreError> {
    t.to_offset(time::UtcOffset::UTC)
        .format(STORED_TIME)
        .map_err(|e| StoreError::Unexpected(format!("timestamp: {e}")))
}

fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| StoreError::Unexpected(format!("timestamp: {e}")))
}

fn user_from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let login: String = row.try_get("login")?;
    Ok(UserRecord {
        id: UserId::new(row.try_get("id")?),
        login: Login::parse(&login)
            .map_err(|e| StoreError::Unexpected(format!("stored login: {e}")))?,
        password_hash: row.try_get("password_hash")?,
        kek_salt: row.try_get("kek_salt")?,
        wrapped_dek: WrappedKey(row.try_get("wrapped_dek")?),
    })
}

fn item_from_row(row: &SqliteRow) -> Result<ItemRecord, StoreError> {
    Ok(ItemRecord {
        id: row.try_get("id")?,
        user: UserId::new(row.try_get("user_id")?),
        name_index: row.try_get("name_index")?,
        sealed: row.try_get("sealed")?,
        version: row.try_get("version")?,
        created_at: parse_ts(row.try_get("created_at")?)?,
        updated_at: parse_ts(row.try_get("updated_at")?)?,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get("id")?,
        user: UserId::new(row.try_get("user_id")?),
        token_hash: row.try_get("token_hash")?,
        wrapped_dek: WrappedKey(row.try_get("wrapped_dek")?),
        created_at: parse_ts(row.try_get("created_at")?)?,
        last_used_at: parse_ts(row.try_get("last_used_at")?)?,
        expires_at: parse_ts(row.try_get("expires_at")?)?,
    })
}

fn audit_from_row(row: &SqliteRow) -> Result<AuditRecord, StoreError> {
    let bad =
        |e: crate::domain::DomainError| StoreError::Unexpected(format!("stored audit event: {e}"));
    Ok(AuditRecord {
        at: parse_ts(row.try_get("at")?)?,
        user: row.try_get::<Option<i64>, _>("user_id")?.map(UserId::new),
        channel: row.try_get::<String, _>("channel")?.parse().map_err(bad)?,
        remote_addr: row.try_get("remote_addr")?,
        action: row.try_get::<String, _>("action")?.parse().map_err(bad)?,
        target: row.try_get("target")?,
        outcome: row.try_get::<String, _>("outcome")?.parse().map_err(bad)?,
    })
}

async fn insert_audit(tx: &mut Transaction<'_, Sqlite>, a: &AuditRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (at, user_id, channel, remote_addr, action, target, outcome) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ts(a.at)?)
    .bind(a.user.map(|u| u.get()))
    .bind(a.channel.as_str())
    .bind(a.remote_addr.as_deref())
    .bind(a.action.as_str())
    .bind(a.target.as_deref())
    .bind(a.outcome.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqliteStore {
    /// Opens the database at `url`, creating the file and applying migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unexpected(format!("bad database URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a process crash and power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    pub(super) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(super) async fn create_user(
        &self,
        u: &UserRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let now = ts(audit.at)?;
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, login, password_hash, kek_salt, wrapped_dek, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id.get())
        .bind(u.login.as_str())
        .bind(&u.password_hash)
        .bind(&u.kek_salt)
        .bind(&u.wrapped_dek.0)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn user_by_login(
        &self,
        login: &Login,
    ) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE login = ?")
            .bind(login.as_str())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub(super) async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id.get())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub(super) async fn update_credentials(
        &self,
        u: &UserRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?, kek_salt = ?, wrapped_dek = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&u.password_hash)
        .bind(&u.kek_salt)
        .bind(&u.wrapped_dek.0)
        .bind(ts(audit.at)?)
        .bind(u.id.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM tokens WHERE user_id = ?")
            .bind(u.id.get())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn insert_token(
        &self,
        t: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO tokens (id, user_id, token_hash, wrapped_dek, created_at, last_used_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id)
        .bind(t.user.get())
        .bind(&t.token_hash)
        .bind(&t.wrapped_dek.0)
        .bind(ts(t.created_at)?)
        .bind(ts(t.last_used_at)?)
        .bind(ts(t.expires_at)?)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn token_by_hash(
        &self,
        hash: &[u8],
    ) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM tokens WHERE token_hash = ?")
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()
    }

    pub(super) async fn touch_token(&self, id: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE tokens SET last_used_at = ? WHERE id = ?")
            .bind(ts(at)?)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn delete_token(
        &self,
        id: i64,
        audit: Option<&AuditRecord>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM tokens WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn count_tokens(&self, now: OffsetDateTime) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE expires_at > ?")
                .bind(ts(now)?)
                .fetch_one(&self.reader)
                .await?,
        )
    }

    pub(super) async fn list_items(
        &self,
        user: UserId,
        kind: ItemKind,
    ) -> Result<Vec<ItemRecord>, StoreError> {
        sqlx::query(per_kind!(kind, "SELECT * FROM " " WHERE user_id = ? ORDER BY created_at, id"))
            .bind(user.get())
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(item_from_row)
            .collect()
    }

    pub(super) async fn count_items(
        &self,
        user: UserId,
        kind: ItemKind,
    ) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar(per_kind!(kind, "SELECT COUNT(*) FROM " " WHERE user_id = ?"))
                .bind(user.get())
                .fetch_one(&self.reader)
                .await?,
        )
    }

    pub(super) async fn item_by_index(
        &self,
        user: UserId,
        kind: ItemKind,
        index: &[u8],
    ) -> Result<Option<ItemRecord>, StoreError> {
        sqlx::query(per_kind!(kind, "SELECT * FROM " " WHERE user_id = ? AND name_index = ?"))
            .bind(user.get())
            .bind(index)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(item_from_row)
            .transpose()
    }

    pub(super) async fn item_by_id(
        &self,
        user: UserId,
        kind: ItemKind,
        id: i64,
    ) -> Result<Option<ItemRecord>, StoreError> {
        sqlx::query(per_kind!(kind, "SELECT * FROM " " WHERE user_id = ? AND id = ?"))
            .bind(user.get())
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(item_from_row)
            .transpose()
    }

    pub(super) async fn insert_item(
        &self,
        kind: ItemKind,
        i: &ItemRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(per_kind!(
            kind,
            "INSERT INTO "
            " (id, user_id, name_index, sealed, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(i.id)
        .bind(i.user.get())
        .bind(&i.name_index)
        .bind(&i.sealed)
        .bind(i.version)
        .bind(ts(i.created_at)?)
        .bind(ts(i.updated_at)?)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn update_item(
        &self,
        kind: ItemKind,
        i: &ItemRecord,
        expected: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(per_kind!(
            kind,
            "UPDATE "
            " SET name_index = ?, sealed = ?, version = ?, updated_at = ? WHERE id = ? AND user_id = ? AND version = ?"
        ))
        .bind(&i.name_index)
        .bind(&i.sealed)
        .bind(i.version)
        .bind(ts(i.updated_at)?)
        .bind(i.id)
        .bind(i.user.get())
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            let exists: Option<i64> = sqlx::query_scalar(
                per_kind!(kind, "SELECT version FROM " " WHERE id = ? AND user_id = ?"),
            )
            .bind(i.id)
            .bind(i.user.get())
            .fetch_optional(&mut *tx)
            .await?;
            return Err(if exists.is_some() {
                StoreError::VersionMismatch
            } else {
                StoreError::NotFound
            });
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn delete_item(
        &self,
        kind: ItemKind,
        user: UserId,
        id: i64,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(per_kind!(kind, "DELETE FROM " " WHERE id = ? AND user_id = ?"))
            .bind(id)
            .bind(user.get())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn record(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn audit_for_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        sqlx::query("SELECT * FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?")
            .bind(user.get())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(audit_from_row)
            .collect()
    }
}
