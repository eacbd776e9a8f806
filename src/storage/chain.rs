//! The audit chain, the same on every engine: which fields a record's MAC
//! covers, how they are written down, and how a chain is checked.

use std::collections::{BTreeSet, HashMap, HashSet};

use time::OffsetDateTime;

use super::{AuditVerdict, StoreError};
use crate::crypto::AuditKey;

/// Timestamps are stored in UTC with a fixed width (microseconds), so that
/// comparing the text compares the times.
const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

pub(super) fn ts(t: OffsetDateTime) -> Result<String, StoreError> {
    t.to_offset(time::UtcOffset::UTC)
        .format(STORED_TIME)
        .map_err(|e| StoreError::Unexpected(format!("timestamp: {e}")))
}

/// The fields an audit record's MAC covers, as stored.
#[allow(clippy::too_many_arguments)]
pub(super) fn audit_fields(
    id: i64,
    prev_id: i64,
    at: &str,
    user: Option<i64>,
    channel: &str,
    remote_addr: Option<&str>,
    action: &str,
    target: Option<&str>,
    outcome: &str,
) -> Vec<Vec<u8>> {
    let opt = |v: Option<&str>| v.map_or_else(|| b"\0null".to_vec(), |s| s.as_bytes().to_vec());
    vec![
        id.to_string().into_bytes(),
        prev_id.to_string().into_bytes(),
        at.as_bytes().to_vec(),
        opt(user.map(|u| u.to_string()).as_deref()),
        channel.as_bytes().to_vec(),
        opt(remote_addr),
        action.as_bytes().to_vec(),
        opt(target),
        outcome.as_bytes().to_vec(),
    ]
}

pub(super) fn seal(key: &AuditKey, prev_mac: &[u8], fields: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
    key.mac(prev_mac, &parts)
}

/// One stored audit row, for verification.
pub(super) struct ChainRow {
    pub chain: i64,
    pub id: i64,
    pub prev_id: i64,
    pub fields: Vec<Vec<u8>>,
    pub mac: Vec<u8>,
}

/// Walks one chain; returns the id of the first bad record and what is wrong.
fn check_chain(
    key: &AuditKey,
    rows: &[ChainRow],
    head: Option<&(i64, Vec<u8>)>,
) -> Option<(i64, String)> {
    let present: HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let mut prev_id = 0;
    let mut prev_mac: Vec<u8> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let valid = row.prev_id == prev_id && seal(key, &prev_mac, &row.fields) == row.mac;
        if !valid {
            let next = rows.get(i + 1);
            let problem =
                if row.prev_id != prev_id && row.prev_id != 0 && !present.contains(&row.prev_id) {
                    format!(
                        "record #{} was deleted (it came before #{})",
                        row.prev_id, row.id
                    )
                } else if row.prev_id != prev_id {
                    format!(
                        "record #{} was changed or inserted (its link is wrong)",
                        row.id
                    )
                } else if next.is_some_and(|n| n.prev_id == prev_id) {
                    format!("record #{} was inserted", row.id)
                } else {
                    format!("record #{} was changed", row.id)
                };
            return Some((row.id, problem));
        }
        prev_id = row.id;
        prev_mac = row.mac.clone();
    }
    match head {
        Some((last_id, mac)) if *last_id != prev_id || *mac != prev_mac => Some((
            prev_id.max(0) + 1,
            format!("record #{last_id} was deleted (the chain ended at #{prev_id})"),
        )),
        None if !rows.is_empty() => Some((rows[0].id, "the chain's head record is missing".into())),
        _ => None,
    }
}

/// Checks every chain of `rows` (in id order) against `heads` (each chain's
/// last id and MAC) and reports the first broken record.
pub(super) fn verdict(
    key: &AuditKey,
    rows: Vec<ChainRow>,
    heads: &HashMap<i64, (i64, Vec<u8>)>,
) -> AuditVerdict {
    let records = rows.len() as u64;
    let mut chains: HashMap<i64, Vec<ChainRow>> = HashMap::new();
    for row in rows {
        chains.entry(row.chain).or_default().push(row);
    }
    let mut first: Option<(i64, String)> = None;
    let all: BTreeSet<i64> = chains.keys().chain(heads.keys()).copied().collect();
    for chain in all {
        let rows = chains.get(&chain).map(Vec::as_slice).unwrap_or_default();
        if let Some(found) = check_chain(key, rows, heads.get(&chain))
            && first.as_ref().is_none_or(|(id, _)| found.0 < *id)
        {
            first = Some(found);
        }
    }
    AuditVerdict {
        records,
        chains: chains.len() as u64,
        problem: first.map(|(_, p)| p),
    }
}
