//! The audit chain on PostgreSQL: the statements that append to it under
//! the chain head's row lock, and the group commit.

use std::sync::Arc;

use sqlx::postgres::PgPool;

use super::Shared;
use crate::crypto::AuditKey;
use crate::storage::{AuditRecord, StoreError};

/// The head of a chain and the next id (`Engine::CHAIN_HEAD`). The
/// statement locks the chain's head row (creating it for a new chain) and,
/// holding that lock, takes the next id; a concurrent writer to the same
/// chain, on this node or another, waits for the lock and then sees the new
/// head.
pub(super) const CHAIN_HEAD: &str = "INSERT INTO audit_heads AS h (chain, last_id, mac) VALUES ($1, 0, '') \
     ON CONFLICT (chain) DO UPDATE SET last_id = h.last_id \
     RETURNING h.last_id, h.mac, h.count, \
               nextval(pg_get_serial_sequence('audit_events', 'id'))";

/// The record and the head's move, in one statement (`Engine::APPEND`).
pub(super) const APPEND: &str = "WITH event AS ( \
         INSERT INTO audit_events (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)) \
     UPDATE audit_heads SET last_id = $1, mac = $10, count = $12, head_mac = $13 WHERE chain = $11";

/// Every chain head with the records of its chain, for giving the heads
/// their count and MAC once the migration that adds them has run; locked,
/// since nodes that migrate together may each do it (with the same result).
pub(super) const HEADS_TO_AUTHENTICATE: &str = "SELECT h.chain, h.last_id, h.mac, \
     (SELECT COUNT(*) FROM audit_events e WHERE COALESCE(e.user_id, 0) = h.chain) \
     FROM audit_heads h FOR UPDATE";

/// Record ids beyond the first, for a group with several records of one
/// chain (`Engine::MORE_IDS`): nodes take ids from one sequence, so the ids
/// of one group need not follow each other.
pub(super) const MORE_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('audit_events', 'id')) FROM generate_series(1, $1)";

/// Writes one group of audit records in one transaction (one WAL flush);
/// `commit` appends to chains in ascending order, so groups on different
/// nodes lock head rows in the same order and never deadlock.
pub(super) async fn write_group(
    pool: PgPool,
    key: Arc<AuditKey>,
    group: Vec<AuditRecord>,
) -> Result<(), StoreError> {
    Shared::commit(pool.begin().await?, &key, &group).await
}
