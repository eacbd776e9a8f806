//! Whole-database operations: an online backup of an SQLite vault, and the
//! move of an SQLite vault into PostgreSQL.
//!
//! Both copy rows as they are stored. Nothing is decrypted on the way, and
//! nothing here could: the keys that open the rows are derived from users'
//! passwords and PINs.

use std::path::Path;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{
    AssertSqlSafe, ColumnIndex, Connection, Decode, Executor, IntoArguments, Postgres, Row, Sqlite,
    Type,
};

use super::sql::{Engine, Sql, Stamp};
use super::{PostgresStore, StoreError};
use crate::crypto::AuditKey;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub bytes: u64,
    pub users: i64,
    pub items: i64,
}

/// Writes a consistent copy of the SQLite database at `url` to `dest` (a new
/// file) with `VACUUM INTO`, while servers may keep using the database; then
/// checks the copy's integrity.
pub async fn backup_sqlite(url: &str, dest: &Path) -> Result<BackupReport, StoreError> {
    if dest.exists() {
        return Err(StoreError::Unexpected(format!(
            "{} exists; a backup never overwrites a file",
            dest.display()
        )));
    }
    let dest_text = dest
        .to_str()
        .ok_or_else(|| StoreError::Unexpected(format!("{} is not valid UTF-8", dest.display())))?;
    let source = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unexpected(format!("bad database URL: {e}")))?
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&source).await?;
    // The copy exists, empty and private, before SQLite writes into it.
    create_private(dest)?;
    let vacuumed = sqlx::query("VACUUM INTO ?")
        .bind(dest_text)
        .execute(&mut conn)
        .await;
    if let Err(e) = vacuumed {
        let _ = std::fs::remove_file(dest);
        return Err(e.into());
    }
    conn.close().await?;

    let copy = SqliteConnectOptions::new().filename(dest).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&copy).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(StoreError::Unexpected(format!(
            "the copy failed its integrity check: {check}"
        )));
    }
    let (users, items): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users), \
                (SELECT COUNT(*) FROM items)",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    let bytes = std::fs::metadata(dest)
        .map_err(|e| StoreError::Unexpected(format!("{}: {e}", dest.display())))?
        .len();
    Ok(BackupReport {
        bytes,
        users,
        items,
    })
}

/// Creates `path` as a new, empty file readable by its owner only; fails
/// if it exists.
pub fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Unexpected(format!("{}: {e}", path.display())))
}

/// The type of a column, as the two engines store it.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    OptInt,
    Text,
    OptText,
    Bytes,
    OptBytes,
    Time,
    OptTime,
}

/// One column's value, read from either engine.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Time(Option<Stamp>),
}

/// A table and its columns.
type Table = (&'static str, &'static [(&'static str, Kind)]);

/// `table!(name: column Kind, …)`, a [`Table`].
macro_rules! table {
    ($table:ident: $($column:ident $kind:ident),+ $(,)?) => {
        (stringify!($table), &[$((stringify!($column), Kind::$kind)),+])
    };
}

/// The tables copied, parents first, each with its columns, the first of
/// which orders the rows.
const TABLES: &[Table] = &[
    table!(users: id Int, login Text, password_hash Text, kek_salt Bytes, wrapped_dek Bytes,
        created_at Time, updated_at Time, recovery_wrapped OptBytes, disabled_at OptTime),
    table!(items: id Int, user_id Int, kind Text, name_index Bytes, sealed Bytes, version Int,
        created_at Time, updated_at Time),
    table!(trash: id Int, user_id Int, kind Text, name_index Bytes, sealed Bytes, version Int,
        created_at Time, updated_at Time, deleted_at Time),
    table!(tokens: id Int, user_id Int, token_hash Bytes, wrapped_dek Bytes, created_at Time,
        last_used_at Time, expires_at Time),
    table!(audit_events: id Int, at Time, user_id OptInt, channel Text, remote_addr OptText,
        action Text, target OptText, outcome Text, prev_id Int, mac Bytes),
    table!(audit_heads: chain Int, last_id Int, mac Bytes, count Int, head_mac Bytes),
    table!(invites: code_hash Bytes, created_at Time, expires_at Time, used_at OptTime),
    table!(throttle: key Bytes, failures Int, last_failure Time, locked_until OptTime,
        pending Int, pending_until OptTime, owner OptBytes),
];

/// Every row of `table` (the values of its `columns`), in order, as
/// `conn` sees it.
async fn read_table<DB>(
    conn: &mut DB::Connection,
    table: &str,
    columns: &[(&str, Kind)],
) -> Result<Vec<Vec<Value>>, StoreError>
where
    DB: Engine,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
{
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    // Table and column names come from `TABLES`, never from input.
    let select = format!(
        "SELECT {} FROM {table} ORDER BY {}",
        names.join(", "),
        names[0]
    );
    let rows = sqlx::query(AssertSqlSafe(select)).fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .map(|&(name, kind)| {
                    Ok(match kind {
                        Kind::Int => Value::Int(Some(row.try_get(name)?)),
                        Kind::OptInt => Value::Int(row.try_get(name)?),
                        Kind::Text => Value::Text(Some(row.try_get(name)?)),
                        Kind::OptText => Value::Text(row.try_get(name)?),
                        Kind::Bytes => Value::Bytes(Some(row.try_get(name)?)),
                        Kind::OptBytes => Value::Bytes(row.try_get(name)?),
                        Kind::Time => Value::Time(Some(row.try_get(name)?)),
                        Kind::OptTime => Value::Time(row.try_get(name)?),
                    })
                })
                .collect()
        })
        .collect()
}

/// What a move copied, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    /// (table, rows copied and compared)
    pub tables: Vec<(String, usize)>,
    /// Records in the copied audit log, whose chains verified under the
    /// audit key before the copy was committed.
    pub audit_records: u64,
}

/// Copies every row of the SQLite vault at `from` into the empty PostgreSQL
/// database at `to`, in one transaction: the source is read in one snapshot,
/// the rows are written as stored, every copied row is read back and
/// compared with its source, and the copied audit chains are verified under
/// `audit_key` before anything is committed. Any difference rolls it all
/// back.
pub async fn migrate_sqlite_to_postgres(
    from: &str,
    to: &str,
    audit_key: &AuditKey,
) -> Result<MigrateReport, StoreError> {
    // The source is brought to the current schema first (as `serve` would),
    // then read in one transaction.
    let source_options = SqliteConnectOptions::from_str(from)
        .map_err(|e| StoreError::Unexpected(format!("bad source URL: {e}")))?
        .busy_timeout(std::time::Duration::from_secs(10));
    if !source_options.get_filename().exists() {
        return Err(StoreError::Unexpected(format!(
            "no database at {}",
            source_options.get_filename().display()
        )));
    }
    let source = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(source_options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&source).await?;

    // The target gets its schema from the regular start-up path.
    let target_store = PostgresStore::connect(to, audit_key.clone(), Default::default()).await?;
    target_store.close().await;
    let target_options = PgConnectOptions::from_str(to)
        .map_err(|e| StoreError::Unexpected(format!("bad target URL: {e}")))?;
    let target = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(target_options)
        .await?;

    let result = copy_all(&source, &target, audit_key).await;
    source.close().await;
    target.close().await;
    result
}

async fn copy_all(
    source: &sqlx::SqlitePool,
    target: &sqlx::PgPool,
    audit_key: &AuditKey,
) -> Result<MigrateReport, StoreError> {
    let mut read = source.begin().await?;
    let mut write = target.begin().await?;
    let present: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM audit_events) \
              + (SELECT COUNT(*) FROM throttle)",
    )
    .fetch_one(&mut *write)
    .await?;
    if present != 0 {
        return Err(StoreError::Unexpected(
            "the target database is not empty; a vault is only ever copied into an empty one"
                .into(),
        ));
    }
    let mut copied = Vec::new();
    for &(table, columns) in TABLES {
        let rows = read_table::<Sqlite>(&mut read, table, columns).await?;
        // As in `read_table`, the names come from `TABLES`.
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let parameters: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            parameters.join(", ")
        );
        for row in &rows {
            let mut query = sqlx::query(AssertSqlSafe(insert.as_str()));
            for value in row {
                query = match value {
                    Value::Int(v) => query.bind(*v),
                    Value::Text(v) => query.bind(v.as_deref()),
                    Value::Bytes(v) => query.bind(v.as_deref()),
                    Value::Time(v) => query.bind(*v),
                };
            }
            query.execute(&mut *write).await?;
        }
        // Read back and compare, row by row, in the same order.
        let written = read_table::<Postgres>(&mut write, table, columns).await?;
        if written.len() != rows.len() {
            return Err(StoreError::Unexpected(format!(
                "{table}: {} rows read, {} written",
                rows.len(),
                written.len()
            )));
        }
        if let Some(at) = rows.iter().zip(&written).position(|(a, b)| a != b) {
            return Err(StoreError::Unexpected(format!(
                "{table}: row {} differs after the copy",
                at + 1
            )));
        }
        copied.push((table.to_owned(), rows.len()));
    }
    // Each user's count of items by kind, from the rows just copied.
    sqlx::query(
        "INSERT INTO item_counts (user_id, kind, stored) \
         SELECT user_id, kind, COUNT(*) FROM items GROUP BY user_id, kind",
    )
    .execute(&mut *write)
    .await?;
    // New audit records continue after the copied ones.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), \
                       COALESCE((SELECT MAX(id) FROM audit_events), 0) + 1, false)",
    )
    .execute(&mut *write)
    .await?;
    // The copied audit chains verify, as `keeper audit verify` will check
    // them, before anything is committed.
    let verdict = Sql::<Postgres>::verify_chains(&mut write, audit_key).await?;
    if let Some(problem) = verdict.problem {
        return Err(StoreError::Unexpected(format!(
            "the copied audit log does not verify: {problem} (is the audit key the source's?)"
        )));
    }
    read.commit().await?;
    write.commit().await?;
    Ok(MigrateReport {
        tables: copied,
        audit_records: verdict.records,
    })
}
