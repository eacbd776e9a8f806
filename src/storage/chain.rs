//! The audit chain, the same on every engine: which fields a record's MAC
//! covers, how they are written down, and how a chain is checked.

use std::collections::{BTreeSet, HashMap, HashSet};

use time::OffsetDateTime;

use super::{AuditRecord, AuditVerdict, StoreError};
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

/// PostgreSQL keeps microseconds; every time is cut to them before it is
/// stored or MACed, so what is read back is what was written.
pub(super) fn micros(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
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

/// An audit record placed at the end of its chain: its id, its link and
/// MAC, and the chain's head once it is appended.
pub(super) struct Link {
    pub chain: i64,
    pub id: i64,
    pub prev_id: i64,
    pub mac: Vec<u8>,
    pub count: i64,
    pub head_mac: Vec<u8>,
}

impl Link {
    /// Places `a` as record `id` after its chain's newest record `prev_id`
    /// (0 for a new chain) with `prev_mac`, in a chain of `count` records.
    pub(super) fn after(
        key: &AuditKey,
        a: &AuditRecord,
        id: i64,
        prev_id: i64,
        prev_mac: &[u8],
        count: i64,
    ) -> Result<Self, StoreError> {
        let chain = a.user.map_or(0, |u| u.get());
        let fields = audit_fields(
            id,
            prev_id,
            &ts(a.at)?,
            a.user.map(|u| u.get()),
            a.channel.as_str(),
            a.remote_addr.as_deref(),
            a.action.as_str(),
            a.target.as_deref(),
            a.outcome.as_str(),
        );
        let mac = seal(key, prev_mac, &fields);
        let count = count + 1;
        Ok(Self {
            chain,
            id,
            prev_id,
            head_mac: head_mac(key, chain, count, id, &mac),
            mac,
            count,
        })
    }
}

/// What a chain head's MAC is made under: no record's MAC input starts so.
const HEAD: &[u8] = b"keeper/v1/audit-head";

/// A chain's head as stored: its newest record, how many records the chain
/// holds, and a MAC over those and the chain, so that a head moved back
/// over a cut tail (or a chain deleted with its head) does not verify.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct Head {
    pub last_id: i64,
    pub mac: Vec<u8>,
    pub count: i64,
    pub head_mac: Vec<u8>,
}

impl Head {
    /// Whether the head's MAC is `chain`'s, made under `key`.
    pub(super) fn authentic(&self, key: &AuditKey, chain: i64) -> bool {
        head_mac(key, chain, self.count, self.last_id, &self.mac) == self.head_mac
    }
}

/// The MAC of a chain's head.
pub(super) fn head_mac(
    key: &AuditKey,
    chain: i64,
    count: i64,
    last_id: i64,
    mac: &[u8],
) -> Vec<u8> {
    let (chain, count, last_id) = (chain.to_string(), count.to_string(), last_id.to_string());
    key.mac(
        HEAD,
        &[chain.as_bytes(), count.as_bytes(), last_id.as_bytes(), mac],
    )
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
    chain: i64,
    rows: &[ChainRow],
    head: Option<&Head>,
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
    let Some(head) = head else {
        return (!rows.is_empty())
            .then(|| (rows[0].id, "the chain's head record is missing".into()));
    };
    if !head.authentic(key, chain) {
        return Some((
            head.last_id,
            format!("the head of chain {chain} was altered (it no longer matches its MAC)"),
        ));
    }
    if head.last_id != prev_id || head.mac != prev_mac {
        return Some((
            prev_id.max(0) + 1,
            if rows.is_empty() {
                format!(
                    "chain {chain} lost all its {} records (the last was #{})",
                    head.count, head.last_id
                )
            } else {
                format!(
                    "record #{} was deleted (the chain ended at #{prev_id})",
                    head.last_id
                )
            },
        ));
    }
    let count = rows.len() as i64;
    if head.count != count {
        return Some((
            rows[0].id,
            format!(
                "chain {chain} holds {count} records where its head counts {}: records were deleted",
                head.count
            ),
        ));
    }
    None
}

/// Checks every chain of `rows` (in id order) against `heads`, and that
/// every user in `users` has a chain; reports the first broken record.
pub(super) fn verdict(
    key: &AuditKey,
    rows: Vec<ChainRow>,
    heads: &HashMap<i64, Head>,
    users: &[i64],
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
        if let Some(found) = check_chain(key, chain, rows, heads.get(&chain))
            && first.as_ref().is_none_or(|(id, _)| found.0 < *id)
        {
            first = Some(found);
        }
    }
    if first.is_none()
        && let Some(user) = users.iter().find(|u| !heads.contains_key(u))
    {
        first = Some((
            0,
            format!("user {user} has no audit chain: its records and head were deleted"),
        ));
    }
    AuditVerdict {
        records,
        chains: chains.len() as u64,
        problem: first.map(|(_, p)| p),
    }
}

/// A summary of every chain's head at one moment, MAC'd under the audit
/// key: kept outside the database, it shows a later copy of the log to
/// extend it, or to have been rolled back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub format: u32,
    pub created_at: String,
    pub chains: Vec<CheckpointChain>,
    /// Base64 HMAC over everything above.
    pub mac: String,
}

/// One chain in a [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointChain {
    pub chain: i64,
    pub count: i64,
    pub last_id: i64,
    /// Base64 MAC of the chain's last record.
    pub last_mac: String,
}

const CHECKPOINT: &[u8] = b"keeper/v1/audit-checkpoint";

fn checkpoint_mac(key: &AuditKey, created_at: &str, chains: &[CheckpointChain]) -> String {
    use base64::Engine;
    let mut parts: Vec<Vec<u8>> = vec![b"1".to_vec(), created_at.as_bytes().to_vec()];
    for c in chains {
        parts.push(format!("{}:{}:{}:{}", c.chain, c.count, c.last_id, c.last_mac).into_bytes());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    base64::engine::general_purpose::STANDARD.encode(key.mac(CHECKPOINT, &refs))
}

impl Checkpoint {
    /// A checkpoint of `heads` (chain, head), made now.
    pub(super) fn of(key: &AuditKey, heads: &[(i64, Head)]) -> Result<Self, StoreError> {
        use base64::Engine;
        let created_at = ts(crate::domain::now())?;
        let chains: Vec<CheckpointChain> = heads
            .iter()
            .map(|(chain, h)| CheckpointChain {
                chain: *chain,
                count: h.count,
                last_id: h.last_id,
                last_mac: base64::engine::general_purpose::STANDARD.encode(&h.mac),
            })
            .collect();
        let mac = checkpoint_mac(key, &created_at, &chains);
        Ok(Self {
            format: 1,
            created_at,
            chains,
            mac,
        })
    }

    /// Whether the checkpoint was made under `key` and not altered since.
    pub(super) fn authentic(&self, key: &AuditKey) -> bool {
        self.format == 1 && checkpoint_mac(key, &self.created_at, &self.chains) == self.mac
    }

    /// What in the log as it is now (`heads`, and `record_mac` giving a
    /// record's chain and MAC by id) fails to extend this checkpoint.
    pub(super) fn missing_from(
        &self,
        heads: &HashMap<i64, Head>,
        record_mac: &HashMap<i64, (i64, Vec<u8>)>,
    ) -> Option<String> {
        use base64::Engine;
        for c in &self.chains {
            let Some(head) = heads.get(&c.chain) else {
                return Some(format!(
                    "chain {} (with {} records at the checkpoint) is gone",
                    c.chain, c.count
                ));
            };
            if head.count < c.count {
                return Some(format!(
                    "chain {} holds {} records, fewer than the {} at the checkpoint",
                    c.chain, head.count, c.count
                ));
            }
            let expected = base64::engine::general_purpose::STANDARD
                .decode(&c.last_mac)
                .unwrap_or_default();
            match record_mac.get(&c.last_id) {
                Some((chain, mac)) if *chain == c.chain && *mac == expected => {}
                _ => {
                    return Some(format!(
                        "record #{} of chain {}, the newest at the checkpoint, is gone or changed",
                        c.last_id, c.chain
                    ));
                }
            }
        }
        None
    }

    /// The ids of the records a later log must still hold.
    pub(super) fn last_ids(&self) -> Vec<i64> {
        self.chains.iter().map(|c| c.last_id).collect()
    }
}
