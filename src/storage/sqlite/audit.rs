//! The audit chain on SQLite: the statements that append to it under the
//! write lock, and the group commit.

use std::sync::Arc;

use sqlx::sqlite::SqlitePool;

use super::Shared;
use crate::crypto::AuditKey;
use crate::storage::{AuditRecord, StoreError};

/// The head of a chain and the next id (`Engine::CHAIN_HEAD`). Every
/// write transaction holds SQLite's write lock (`BEGIN IMMEDIATE`), so the
/// next id can be read before the insert and the record written whole, MAC
/// included.
pub(super) const CHAIN_HEAD: &str = "SELECT (SELECT last_id FROM audit_heads WHERE chain = $1), \
     (SELECT mac FROM audit_heads WHERE chain = $1), \
     (SELECT count FROM audit_heads WHERE chain = $1), \
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'), 0) + 1";

/// The record, then its chain's head, made if the chain is new
/// (`Engine::APPEND`): two statements in one string, which sqlx's SQLite
/// driver runs in one round trip to the connection's worker, binding each
/// statement's `$N` from the same arguments.
pub(super) const APPEND: &str = "INSERT INTO audit_events \
     (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10); \
     INSERT INTO audit_heads (chain, last_id, mac, count, head_mac) VALUES ($11, $1, $10, $12, $13) \
     ON CONFLICT (chain) DO UPDATE SET last_id = excluded.last_id, mac = excluded.mac, \
     count = excluded.count, head_mac = excluded.head_mac";

/// Every chain head with the records of its chain, for giving the heads
/// their count and MAC once the migration that adds them has run.
pub(super) const HEADS_TO_AUTHENTICATE: &str = "SELECT h.chain, h.last_id, h.mac, \
     (SELECT COUNT(*) FROM audit_events e WHERE COALESCE(e.user_id, 0) = h.chain) \
     FROM audit_heads h";

/// Writes one group of audit records in one transaction.
pub(super) async fn write_group(
    writer: SqlitePool,
    key: Arc<AuditKey>,
    group: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    let tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    Shared::commit(tx, &key, &group).await
}
