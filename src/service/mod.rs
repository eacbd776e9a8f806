//! Services: business rules, authorisation, audit and crypto orchestration.
//!
//! Front ends (SSH, HTTP, the shell commands) call these with domain types and
//! get domain types or a [`ServiceError`] back. Every change is stored with its
//! audit record in one transaction; every read of a secret is audited.

mod accounts;
pub mod breach;
mod error;
mod operators;
mod throttle;
mod tokens;
mod transfer;
mod vault;

use std::sync::Arc;

use crate::crypto::HashPool;
use crate::domain::{Action, Channel, Outcome, UserId};
use crate::domain::{AuditFilter, AuditRecord};
use crate::storage::{AuditVerdict, Checkpoint, Heard, Store};

pub use accounts::{Authenticated, RecoveryProof, Registered, Unlocked};
pub use error::ServiceError;
pub use operators::{AccountState, UserListing};
pub use throttle::{THROTTLE_KEY_LABEL, ThrottleKey, ThrottlePolicy};
pub use tokens::{IssuedToken, TokenSession};
pub use transfer::{ImportReport, Renamed};

pub use crate::domain::{Access, CardChanges, CardFields, PasswordChanges, PasswordFields};
pub use vault::{
    CardItem, Edit, Health, IdentityItem, Item, ItemLabels, ItemRef, NoteItem, PasswordItem,
    TotpItem, TrashRef, Trashed,
};

/// Tunable limits of the services.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most cards, and separately most passwords, one user may store.
    pub items_per_kind: i64,
    /// An API token unused for this long expires.
    pub token_idle: time::Duration,
    /// An API token expires this long after it was issued, used or not.
    pub token_lifetime: time::Duration,
    /// When failed logins and PINs lock a login or an address.
    pub throttle: throttle::ThrottlePolicy,
    /// Most unexpired API tokens one user may hold.
    pub tokens_per_user: i64,
    /// How long a deleted item stays in the trash.
    pub trash_retention: time::Duration,
    /// Who may register.
    pub registration: Registration,
}

/// Who may make an account (`--registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Registration {
    /// Anyone who reaches the server.
    #[default]
    Open,
    /// Only with a one-time invite code.
    Invite,
    /// Nobody.
    Closed,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            items_per_kind: 100_000,
            token_idle: time::Duration::minutes(30),
            token_lifetime: time::Duration::hours(12),
            throttle: throttle::ThrottlePolicy::default(),
            tokens_per_user: 50,
            trash_retention: time::Duration::days(30),
            registration: Registration::Open,
        }
    }
}

pub(crate) use crate::domain::now;

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub channel: Channel,
    pub remote_addr: Option<String>,
    /// The SSH session a request came from, if any (to tell a session apart
    /// from the others of the same user).
    pub session: Option<u64>,
}

/// The latest change of one user's password or PIN: their other sessions
/// must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CredentialChange {
    /// How many changes this process has seen for the user.
    pub generation: u64,
    /// The session that made the latest change (it stays open).
    pub by_session: Option<u64>,
}

impl Origin {
    /// A request over HTTP from `remote_addr`.
    pub fn http(remote_addr: Option<std::net::SocketAddr>) -> Self {
        Self {
            channel: Channel::Http,
            remote_addr: remote_addr.map(|a| a.to_string()),
            session: None,
        }
    }

    /// A request over SSH from `remote_addr`.
    pub fn ssh(remote_addr: Option<std::net::SocketAddr>) -> Self {
        Self {
            channel: Channel::Ssh,
            remote_addr: remote_addr.map(|a| a.to_string()),
            session: None,
        }
    }

    /// An operator's command on the server machine (`keeper admin`).
    pub fn operator() -> Self {
        Self {
            channel: Channel::Operator,
            remote_addr: None,
            session: None,
        }
    }

    /// The same origin, tagged as coming from one session.
    pub fn in_session(mut self, session: u64) -> Self {
        self.session = Some(session);
        self
    }

    fn audit(
        &self,
        user: Option<UserId>,
        action: Action,
        target: Option<i64>,
        outcome: Outcome,
    ) -> AuditRecord {
        AuditRecord {
            at: now(),
            user,
            channel: self.channel,
            remote_addr: self.remote_addr.clone(),
            action,
            target: target.map(|t| t.to_string()),
            outcome,
        }
    }
}

/// The services, cheap to clone and shared by every front end.
#[derive(Debug, Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    hasher: HashPool,
    limits: Limits,
    throttle_key: ThrottleKey,
    /// The operator's copy of the Pwned Passwords list, if given.
    breach: Option<Arc<breach::BreachFile>>,
    /// A PHC string of a password nobody has, so that an unknown login
    /// costs the same Argon2 work as a known one.
    dummy_hash: tokio::sync::OnceCell<String>,
    /// One watch per user with sessions open: a watch holds only the latest
    /// value, so a session never misses a change however many happen.
    changes: std::sync::Mutex<
        std::collections::HashMap<UserId, tokio::sync::watch::Sender<CredentialChange>>,
    >,
    /// Imports running: each holds its file and what it becomes.
    imports: Arc<tokio::sync::Semaphore>,
}

/// Most imports that run at once; another is told the server is busy.
const IMPORTS_AT_ONCE: usize = 2;

/// Tells the sessions on `watch` of a credential change, made by
/// `by_session` (which goes on), or elsewhere.
fn announce(watch: &tokio::sync::watch::Sender<CredentialChange>, by_session: Option<u64>) {
    watch.send_modify(|c| {
        c.generation += 1;
        c.by_session = by_session;
    });
}

impl Inner {
    /// Tells every session on this node to end: a change may have been
    /// missed, and ending a session is safe where continuing may not be.
    fn every_credential_changed(&self) {
        let watches = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        watches.values().for_each(|watch| announce(watch, None));
    }

    fn credentials_changed(&self, user: UserId, by_session: Option<u64>) {
        let watches = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(watch) = watches.get(&user) {
            announce(watch, by_session);
        }
    }
}

impl Services {
    /// Builds the services over a store and an Argon2 pool; throttle rows
    /// are keyed under `throttle_key`.
    pub fn new(store: Store, hasher: HashPool, limits: Limits, throttle_key: ThrottleKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                hasher,
                limits,
                throttle_key,
                breach: None,
                dummy_hash: tokio::sync::OnceCell::new(),
                changes: Default::default(),
                imports: Arc::new(tokio::sync::Semaphore::new(IMPORTS_AT_ONCE)),
            }),
        }
    }

    /// The services checking `health` against `file` too. Call it before
    /// the services are shared.
    pub fn with_breach_file(mut self, file: breach::BreachFile) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.breach = Some(Arc::new(file)),
            None => tracing::error!("the breach file was given after the services were shared"),
        }
        self
    }

    /// The limits the services hold to.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Changes of `user`'s password or PIN made in this process from now on.
    pub fn credential_changes(
        &self,
        user: UserId,
    ) -> tokio::sync::watch::Receiver<CredentialChange> {
        let mut watches = self
            .inner
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        watches.retain(|_, w| w.receiver_count() > 0);
        watches
            .entry(user)
            .or_insert_with(|| tokio::sync::watch::channel(CredentialChange::default()).0)
            .subscribe()
    }

    /// Tells `user`'s sessions that their credentials changed.
    fn credentials_changed(&self, user: UserId, by_session: Option<u64>) {
        self.inner.credentials_changed(user, by_session);
    }

    /// Passes on what other processes on the database do to accounts
    /// (another node's password change, an operator disabling or deleting
    /// one), so that it ends this node's sessions of the user too.
    pub async fn follow_other_nodes(&self) -> Result<(), ServiceError> {
        let mut changes = self.store().credential_changes().await?;
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some(heard) = changes.recv().await {
                let Some(inner) = inner.upgrade() else {
                    return;
                };
                match heard {
                    Heard::Changed(user) => inner.credentials_changed(user, None),
                    Heard::Missed => inner.every_credential_changed(),
                }
            }
        });
        Ok(())
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn hasher(&self) -> &HashPool {
        &self.inner.hasher
    }

    /// The store, for shutdown.
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    /// A user's own audit events, newest first.
    pub async fn audit_log(
        &self,
        session: &Unlocked,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        Ok(self
            .store()
            .audit_for_user(session.user(), limit.clamp(1, 10_000))
            .await?)
    }

    /// Checks the whole audit chain (operators only: `keeper audit verify`).
    pub async fn verify_audit(&self) -> Result<AuditVerdict, ServiceError> {
        Ok(self.store().verify_audit().await?)
    }

    /// A MAC'd summary of every audit chain's head now.
    pub async fn audit_checkpoint(&self) -> Result<Checkpoint, ServiceError> {
        Ok(self.store().audit_checkpoint().await?)
    }

    /// What keeps the audit log from extending `checkpoint`, if anything.
    pub async fn audit_extends(
        &self,
        checkpoint: &Checkpoint,
    ) -> Result<Option<String>, ServiceError> {
        Ok(self.store().audit_extends(checkpoint).await?)
    }

    /// Every user's events, filtered (operators only: `keeper audit list`).
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<(AuditRecord, Option<String>)>, ServiceError> {
        Ok(self.store().list_audit(filter).await?)
    }

    /// Records an event that changes nothing (session start, end, lock).
    pub async fn record(
        &self,
        origin: &Origin,
        user: Option<UserId>,
        action: Action,
        outcome: Outcome,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store()
            .record(&origin.audit(user, action, None, outcome))
            .await?)
    }
}
