//! Who may hold a connection before their vault is open.
//!
//! A connection counts as pending from `accept` until a channel on it has an
//! unlocked vault (the PIN was right, or registration finished). At most
//! `max` connections are pending at once (OpenSSH's MaxStartups); when one
//! more arrives, a pending connection is shed to make room: a registration
//! dialogue first (it needs no credentials, so it is the cheapest slot for a
//! stranger to hold), then the connection that has made the least progress,
//! the oldest of those. So neither silent sockets nor idle `new@` dialogues
//! can lock real users out. Each pending connection also has a deadline (see
//! `ssh::connection`), so none holds its slot for long.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// How far a pending connection has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Progress {
    /// Accepted; no authentication request yet (version exchange, key exchange).
    Connected = 0,
    /// The client asked to authenticate.
    Authenticating = 1,
    /// Let in as `new@` to register: the dialogue is still to come.
    Registering = 2,
    /// Authenticated; the PIN is still to come.
    Authenticated = 3,
}

impl Progress {
    fn from_raw(raw: u8) -> Self {
        match raw {
            0 => Progress::Connected,
            1 => Progress::Authenticating,
            2 => Progress::Registering,
            _ => Progress::Authenticated,
        }
    }

    /// Which pending connection is shed first: the lowest rank, then the
    /// oldest. A registration dialogue ranks below a connection still in
    /// its key exchange, which may be a user with credentials.
    fn shed_rank(self) -> u8 {
        match self {
            Progress::Registering => 0,
            Progress::Connected => 1,
            Progress::Authenticating => 2,
            Progress::Authenticated => 3,
        }
    }
}

/// The set of pending connections.
#[derive(Debug)]
pub struct Admission {
    max: usize,
    pending: Mutex<Pending>,
    /// When shedding was last logged (at most once every 10 s).
    logged: Mutex<Option<std::time::Instant>>,
}

#[derive(Debug, Default)]
struct Pending {
    next: u64,
    entries: BTreeMap<u64, (Arc<AtomicU8>, CancellationToken)>,
}

impl Admission {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            pending: Mutex::default(),
            logged: Mutex::default(),
        })
    }

    /// Admits a new connection, shedding a registration dialogue or else
    /// the least advanced (and, among equals, the oldest) pending one if all
    /// slots are taken.
    pub fn admit(self: &Arc<Self>) -> Conn {
        let progress = Arc::new(AtomicU8::new(Progress::Connected as u8));
        let shed = CancellationToken::new();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.entries.len() >= self.max {
            let victim = pending
                .entries
                .iter()
                .min_by_key(|(seq, (p, _))| {
                    (
                        Progress::from_raw(p.load(Ordering::Acquire)).shed_rank(),
                        **seq,
                    )
                })
                .map(|(seq, _)| *seq);
            if let Some((_, token)) = victim.and_then(|seq| pending.entries.remove(&seq)) {
                token.cancel();
                let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
                if logged.is_none_or(|t| t.elapsed() > std::time::Duration::from_secs(10)) {
                    tracing::warn!(
                        max = self.max,
                        "too many SSH connections still logging in; shedding the least advanced"
                    );
                    *logged = Some(std::time::Instant::now());
                }
            }
        }
        let seq = pending.next;
        pending.next += 1;
        pending
            .entries
            .insert(seq, (progress.clone(), shed.clone()));
        drop(pending);
        Conn {
            ticket: Mutex::new(Some(Ticket {
                admission: self.clone(),
                seq,
            })),
            progress,
            shed,
            unlocked: AtomicBool::new(false),
            kill: CancellationToken::new(),
        }
    }

    /// Connections pending now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }
}

/// A pending connection's place in the set; leaving it frees the slot.
#[derive(Debug)]
struct Ticket {
    admission: Arc<Admission>,
    seq: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .remove(&self.seq);
    }
}

/// One connection's standing, shared by its handler and channel tasks.
#[derive(Debug)]
pub struct Conn {
    ticket: Mutex<Option<Ticket>>,
    progress: Arc<AtomicU8>,
    shed: CancellationToken,
    unlocked: AtomicBool,
    kill: CancellationToken,
}

impl Conn {
    /// Records progress (never goes back).
    pub fn advance(&self, to: Progress) {
        self.progress.fetch_max(to as u8, Ordering::AcqRel);
    }

    pub fn progress(&self) -> Progress {
        Progress::from_raw(self.progress.load(Ordering::Acquire))
    }

    /// A vault is open on this connection: it leaves the pending set and
    /// its deadline.
    pub fn unlocked(&self) {
        self.unlocked.store(true, Ordering::Release);
        self.ticket
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    pub fn is_unlocked(&self) -> bool {
        self.unlocked.load(Ordering::Acquire)
    }

    /// Resolves when a newer connection took this one's slot.
    pub async fn shed(&self) {
        self.shed.cancelled().await;
    }

    /// Asks for the connection to be dropped (a client that stopped reading).
    pub fn kill(&self) {
        self.kill.cancel();
    }

    pub async fn killed(&self) {
        self.kill.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_set_sheds_the_least_advanced_oldest_connection() {
        let admission = Admission::new(3);
        let first = admission.admit();
        let second = admission.admit();
        let third = admission.admit();
        first.advance(Progress::Authenticated);
        third.advance(Progress::Authenticating);

        let fourth = admission.admit();

        assert!(second.shed.is_cancelled(), "the silent one goes first");
        assert!(!first.shed.is_cancelled() && !third.shed.is_cancelled());
        assert_eq!(admission.len(), 3);
        let _fifth = admission.admit();
        assert!(fourth.shed.is_cancelled(), "then the oldest silent one");
        assert!(!third.shed.is_cancelled());
    }

    #[test]
    fn a_registration_dialogue_is_shed_before_a_connection_in_key_exchange() {
        let admission = Admission::new(2);
        let registering = admission.admit();
        registering.advance(Progress::Authenticating);
        registering.advance(Progress::Registering);
        let in_key_exchange = admission.admit();

        let _newer = admission.admit();

        assert!(registering.shed.is_cancelled());
        assert!(!in_key_exchange.shed.is_cancelled());
    }

    #[test]
    fn an_unlocked_or_dropped_connection_frees_its_slot() {
        let admission = Admission::new(2);
        let a = admission.admit();
        let b = admission.admit();
        a.unlocked();
        assert_eq!(admission.len(), 1);
        drop(b);
        assert_eq!(admission.len(), 0);
        let _c = admission.admit();
        let _d = admission.admit();
        assert!(
            !a.shed.is_cancelled(),
            "an unlocked connection is never shed"
        );
    }
}
