//! The rows the shared statements read, decoded by `#[derive(FromRow)]`.

use sqlx::FromRow;

use super::{Stamp, TimeText};
use crate::crypto::WrappedKey;
use crate::domain::{DomainError, Login, UserId};
use crate::storage::chain::{ChainRow, Head, audit_fields};
use crate::storage::{AuditRecord, StoreError, ThrottleRow, TokenRecord, UserRecord, UserSummary};

/// A token and the login of the user it belongs to, read together.
#[derive(FromRow)]
pub(in crate::storage) struct TokenLoginRow {
    #[sqlx(flatten)]
    pub(super) token: TokenRecord,
    pub(super) login: String,
}

impl TryFrom<TokenLoginRow> for (TokenRecord, Login) {
    type Error = StoreError;

    fn try_from(row: TokenLoginRow) -> Result<Self, StoreError> {
        Ok((row.token, stored_login(&row.login)?))
    }
}

fn stored_login(login: &str) -> Result<Login, StoreError> {
    Login::parse(login).map_err(|e| StoreError::Unexpected(format!("stored login: {e}")))
}

#[derive(FromRow)]
pub(in crate::storage) struct UserRow {
    pub(super) id: i64,
    pub(super) login: String,
    pub(super) password_hash: String,
    pub(super) kek_salt: Vec<u8>,
    pub(super) wrapped_dek: Vec<u8>,
    pub(super) recovery_wrapped: Option<Vec<u8>>,
    pub(super) disabled_at: Option<Stamp>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: UserId::new(row.id),
            login: stored_login(&row.login)?,
            password_hash: row.password_hash,
            kek_salt: row.kek_salt,
            wrapped_dek: WrappedKey(row.wrapped_dek),
            recovery_wrapped: row.recovery_wrapped.map(WrappedKey),
            disabled: row.disabled_at.is_some(),
        })
    }
}

/// The columns of an audit record besides its time and its place in the
/// chain.
#[derive(FromRow)]
pub(in crate::storage) struct EventColumns {
    pub(super) user_id: Option<i64>,
    pub(super) channel: String,
    pub(super) remote_addr: Option<String>,
    pub(super) action: String,
    pub(super) target: Option<String>,
    pub(super) outcome: String,
}

#[derive(FromRow)]
pub(in crate::storage) struct AuditRow {
    pub(super) at: Stamp,
    #[sqlx(flatten)]
    pub(super) event: EventColumns,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let bad = |e: DomainError| StoreError::Unexpected(format!("stored audit event: {e}"));
        let e = row.event;
        Ok(Self {
            at: row.at.0,
            user: e.user_id.map(UserId::new),
            channel: e.channel.parse().map_err(bad)?,
            remote_addr: e.remote_addr,
            action: e.action.parse().map_err(bad)?,
            target: e.target,
            outcome: e.outcome.parse().map_err(bad)?,
        })
    }
}

/// An audit record with the login of its user, for `keeper audit list`.
#[derive(FromRow)]
pub(in crate::storage) struct ListedAuditRow {
    #[sqlx(flatten)]
    pub(super) audit: AuditRow,
    pub(super) login: Option<String>,
}

/// An audit record as its chain's MAC covers it, for verification.
#[derive(FromRow)]
pub(in crate::storage) struct ChainedAuditRow {
    pub(super) id: i64,
    pub(super) prev_id: i64,
    pub(super) at: TimeText,
    pub(super) mac: Vec<u8>,
    #[sqlx(flatten)]
    pub(super) event: EventColumns,
}

impl From<ChainedAuditRow> for ChainRow {
    fn from(row: ChainedAuditRow) -> Self {
        let e = row.event;
        Self {
            chain: e.user_id.unwrap_or(0),
            id: row.id,
            prev_id: row.prev_id,
            fields: audit_fields(
                row.id,
                row.prev_id,
                &row.at.0,
                e.user_id,
                &e.channel,
                e.remote_addr.as_deref(),
                &e.action,
                e.target.as_deref(),
                &e.outcome,
            ),
            mac: row.mac,
        }
    }
}

/// A chain's head row.
#[derive(FromRow)]
pub(in crate::storage) struct HeadRow {
    pub(super) chain: i64,
    #[sqlx(flatten)]
    pub(super) head: Head,
}

/// A throttle row, as the engines select it.
#[derive(FromRow)]
pub(in crate::storage) struct ThrottleColumns {
    pub(super) failures: i64,
    pub(super) last_failure: Stamp,
    pub(super) locked_until: Option<Stamp>,
    pub(super) pending: i64,
    pub(super) pending_until: Option<Stamp>,
}

impl From<ThrottleColumns> for ThrottleRow {
    fn from(row: ThrottleColumns) -> Self {
        Self {
            failures: row.failures,
            last_failure: row.last_failure.0,
            locked_until: row.locked_until.map(|t| t.0),
            pending: row.pending,
            pending_until: row.pending_until.map(|t| t.0),
        }
    }
}

/// One user as `keeper admin users` lists them.
#[derive(FromRow)]
pub(in crate::storage) struct UserSummaryRow {
    pub(super) id: i64,
    pub(super) login: String,
    pub(super) created_at: Stamp,
    pub(super) disabled_at: Option<Stamp>,
    pub(super) last_login: Option<Stamp>,
    pub(super) items: i64,
}

impl TryFrom<UserSummaryRow> for UserSummary {
    type Error = StoreError;

    fn try_from(row: UserSummaryRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: UserId::new(row.id),
            login: stored_login(&row.login)?,
            created_at: row.created_at.into(),
            disabled_at: row.disabled_at.map(Into::into),
            last_login: row.last_login.map(Into::into),
            items: row.items,
        })
    }
}
