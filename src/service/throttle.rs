//! Throttling of login, PIN and registration attempts.
//!
//! An attempt is counted before any Argon2 work is done for it, in one
//! atomic step on the database, so concurrency cannot multiply the guesses
//! a limit allows: of 60 guesses sent at once against a limit of 5, five are
//! checked and the rest refused. A success gives its count back.
//!
//! Each login attempt counts against three keys:
//! - the login from this address (`per_login` attempts),
//! - the address, across logins (`per_address`),
//! - the login from anywhere (`per_login`), so that many addresses together
//!   get no more guesses than one.
//!
//! When the login is locked from anywhere, an address that has no failures
//! for it may still try, against a second budget of its own size (the
//! "fresh" key): a burst from an attacker's address locks that address at
//! once, while the owner, coming from elsewhere, still gets in. Past each
//! limit a key is locked for `first_lock`, twice as long with each further
//! failure, up to `max_lock`. A login's failures are forgotten a day and
//! `max_lock` past the last one, longer than the longest lock, so
//! that a lock running out never hands back a whole budget: past the burst,
//! one attempt at a time is checked, and a login gets one guess per
//! `max_lock`. An address's failures are forgotten after `max_lock`.
//!
//! Locks live in the database, so every node enforces them. Keys are stored
//! as HMACs under a server key, so the table holds neither logins nor
//! addresses nor anything typed into the login field, and rows are deleted
//! once their window has passed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use super::{Origin, ServiceError, Services};
use crate::domain::{Action, Login, Outcome, UserId};
use crate::storage::{RowChange, ThrottleDecision, ThrottleRow};

/// When failures lock a key.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures of one login (or one login's PIN) before it locks.
    pub per_login: i64,
    /// Failures from one address, across logins, before it locks.
    pub per_address: i64,
    /// The first lock's length; each further failure doubles it.
    pub first_lock: Duration,
    /// The longest lock. Failures are forgotten relative to it: see
    /// [`ThrottlePolicy::forget_after`].
    pub max_lock: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_login: 5,
            per_address: 20,
            first_lock: Duration::seconds(30),
            max_lock: Duration::minutes(15),
        }
    }
}

impl ThrottlePolicy {
    /// How long after the last failure (and with no lock running) a key of
    /// `role` forgets its failures. A login's password or PIN: a day more
    /// than the longest lock; were it no longer, each lock running out would
    /// forget the failures behind it and give a fresh burst of guesses. An
    /// address's and registration's: the longest lock, since their limits
    /// share out one address's attempts while a login's own stay in force.
    fn forget_after(&self, role: Role) -> Duration {
        match role.secret() {
            Some(_) => self.max_lock + Duration::days(1),
            None => self.max_lock,
        }
    }

    /// How long the `failures`-th failure locks for, if at all.
    fn lock_for(&self, failures: i64, threshold: i64) -> Option<Duration> {
        let beyond = failures - threshold;
        if beyond < 0 {
            return None;
        }
        let factor = 1i64 << beyond.min(20);
        Some((self.first_lock * factor as f64).min(self.max_lock))
    }
}

/// How long an attempt waits for others in flight before it is refused.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often a waiting attempt looks again.
const WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(25);
/// How long a counted attempt may take before it counts as abandoned.
const PENDING_TTL: Duration = Duration::seconds(30);

/// What the throttle key is derived for from the server's audit key.
pub const THROTTLE_KEY_LABEL: &str = "throttle";

/// The key a server keeps throttle rows under (HMAC-SHA-256).
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct ThrottleKey([u8; 32]);

impl ThrottleKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn hash(&self, name: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"keeper/v1/throttle\0");
        mac.update(name.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for ThrottleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThrottleKey(***)")
    }
}

/// The part of a source address that is throttled together: an IPv4
/// address (IPv4-mapped IPv6 counted as IPv4), or an IPv6 /64.
pub(crate) fn address_group(remote: &str) -> Option<String> {
    let ip = remote
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| remote.parse::<std::net::IpAddr>())
        .ok()?;
    Some(match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    })
}

/// What is guessed: the password, or the PIN (with a known password).
/// Each has its own budget per login, so that wrong PINs do not lock the
/// password step and the other way round; the address budget is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Secret {
    Password,
    Pin,
    /// A recovery key (`recover@`, `POST /recovery`).
    Recovery,
}

impl Secret {
    fn tag(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Pin => "pin",
            Self::Recovery => "recovery",
        }
    }
}

/// What an attempt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt<'a> {
    /// One secret of a login (the SSH password step, the PIN step, a
    /// credential change's check).
    One(&'a Login, Secret),
    /// Password and PIN together (the HTTP API): refused while either is
    /// locked, whichever of them is right.
    Both(&'a Login),
    Register,
}

/// The role of one key in an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// This login's secret from this address.
    Pair(Secret),
    /// This address, across logins.
    Address,
    /// This login's secret from anywhere.
    Login(Secret),
    /// This login's secret from addresses without failures for it, while
    /// `Login` is locked.
    Fresh(Secret),
    /// Every registration, from anywhere.
    Everyone,
}

impl Role {
    fn secret(self) -> Option<Secret> {
        match self {
            Self::Pair(s) | Self::Login(s) | Self::Fresh(s) => Some(s),
            Self::Address | Self::Everyone => None,
        }
    }
}

/// A counted attempt: what it counted against, to settle when it ends.
#[must_use = "settle the reservation"]
pub(super) struct Reservation {
    keys: Vec<(Vec<u8>, Role, i64)>,
    /// Which login each key counts for.
    owners: Vec<Option<Vec<u8>>>,
    /// The keys (by position) this attempt counted against.
    counted: Vec<usize>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Not a failure: every count goes back.
    Passed,
    /// The login's counts are forgotten; the address's goes back.
    Succeeded,
    /// This secret was wrong: its counts (and the address's) stay; any
    /// other secret's go back.
    Failed(Option<Secret>),
}

impl Services {
    fn throttle_keys(&self, attempt: Attempt<'_>, origin: &Origin) -> Vec<(Vec<u8>, Role, i64)> {
        let policy = &self.inner.limits.throttle;
        let key = &self.inner.throttle_key;
        let addr = origin.remote_addr.as_deref().and_then(address_group);
        let mut keys = Vec::new();
        let secret_keys = |login: &Login, secret: Secret, keys: &mut Vec<_>| {
            let (login, tag) = (login.as_str(), secret.tag());
            if let Some(addr) = &addr {
                keys.push((
                    key.hash(&format!("pair\0{tag}\0{login}\0{addr}")),
                    Role::Pair(secret),
                    policy.per_login,
                ));
            }
            keys.push((
                key.hash(&format!("login\0{tag}\0{login}")),
                Role::Login(secret),
                policy.per_login,
            ));
            keys.push((
                key.hash(&format!("fresh\0{tag}\0{login}")),
                Role::Fresh(secret),
                policy.per_login,
            ));
        };
        match attempt {
            Attempt::One(login, secret) => secret_keys(login, secret, &mut keys),
            Attempt::Both(login) => {
                secret_keys(login, Secret::Password, &mut keys);
                secret_keys(login, Secret::Pin, &mut keys);
            }
            Attempt::Register => {
                keys.push((
                    key.hash("register\0everyone"),
                    Role::Everyone,
                    policy.per_address * 5,
                ));
            }
        }
        if let Some(addr) = &addr {
            let name = match attempt {
                Attempt::Register => format!("register\0{addr}"),
                _ => format!("addr\0{addr}"),
            };
            keys.push((key.hash(&name), Role::Address, policy.per_address));
        }
        keys
    }

    /// The tag a login's throttle rows carry, so that an operator's
    /// `unlock` finds every one of them (whatever address they are for).
    pub(super) fn throttle_owner(&self, login: &Login) -> Vec<u8> {
        self.inner
            .throttle_key
            .hash(&format!("owner\0{}", login.as_str()))
    }

    /// Which login each of an attempt's keys counts for: the login's own
    /// keys are tagged with it, the address's are not.
    fn owners(&self, attempt: Attempt<'_>, keys: &[(Vec<u8>, Role, i64)]) -> Vec<Option<Vec<u8>>> {
        let owner = match attempt {
            Attempt::One(login, _) | Attempt::Both(login) => Some(self.throttle_owner(login)),
            Attempt::Register => None,
        };
        keys.iter()
            .map(|(_, role, _)| role.secret().and(owner.clone()))
            .collect()
    }

    /// Whether `secret` of `login` is locked for this address now (nothing
    /// is counted): the SSH password step asks this of the PIN, so that a
    /// PIN lock answers the same whether the password was right.
    pub(super) async fn locked(
        &self,
        login: &Login,
        secret: Secret,
        origin: &Origin,
    ) -> Result<Option<u64>, ServiceError> {
        let attempt = Attempt::One(login, secret);
        let keys = self.throttle_keys(attempt, origin);
        let owners = self.owners(attempt, &keys);
        let policy = self.inner.limits.throttle.clone();
        let now = OffsetDateTime::now_utc();
        let names: Vec<Vec<u8>> = keys.iter().map(|(k, _, _)| k.clone()).collect();
        let roles: Vec<(Role, i64)> = keys.iter().map(|(_, r, l)| (*r, *l)).collect();
        let check = |rows: &[Option<ThrottleRow>]| match decide(&policy, &roles, rows, now) {
            refused @ ThrottleDecision::Refuse { .. } => refused,
            _ => ThrottleDecision::Write(vec![RowChange::Keep; rows.len()]),
        };
        Ok(
            match self
                .store()
                .throttle_apply(&names, &owners, now, &check)
                .await?
            {
                ThrottleDecision::Refuse { until } => {
                    Some((until - now).whole_seconds().max(1) as u64)
                }
                _ => None,
            },
        )
    }

    /// Counts an attempt before its work is done; refuses while it is
    /// locked. While attempts already being checked fill the budget, it
    /// waits for them to end (a burst of right passwords just queues).
    pub(super) async fn reserve(
        &self,
        attempt: Attempt<'_>,
        origin: &Origin,
    ) -> Result<Reservation, ServiceError> {
        let keys = self.throttle_keys(attempt, origin);
        let owners = self.owners(attempt, &keys);
        let policy = self.inner.limits.throttle.clone();
        let names: Vec<Vec<u8>> = keys.iter().map(|(k, _, _)| k.clone()).collect();
        let roles: Vec<(Role, i64)> = keys.iter().map(|(_, r, l)| (*r, *l)).collect();
        let give_up = tokio::time::Instant::now() + MAX_WAIT;
        loop {
            let now = OffsetDateTime::now_utc();
            let decide = |rows: &[Option<ThrottleRow>]| decide(&policy, &roles, rows, now);
            match self
                .store()
                .throttle_apply(&names, &owners, now, &decide)
                .await?
            {
                ThrottleDecision::Refuse { until } => {
                    let retry_after = (until - now).whole_seconds().max(1) as u64;
                    return Err(ServiceError::Throttled { retry_after });
                }
                ThrottleDecision::Wait if tokio::time::Instant::now() < give_up => {
                    tokio::time::sleep(WAIT_STEP).await;
                }
                ThrottleDecision::Wait => return Err(ServiceError::Throttled { retry_after: 1 }),
                ThrottleDecision::Write(rows) => {
                    let counted = rows
                        .iter()
                        .enumerate()
                        .filter(|(_, change)| matches!(change, RowChange::Set(_)))
                        .map(|(i, _)| i)
                        .collect();
                    return Ok(Reservation {
                        keys,
                        owners,
                        counted,
                    });
                }
            }
        }
    }

    /// The attempt failed (for `secret`, when it tried more than one): it
    /// counts as a failure; a key it locked is audited.
    pub(super) async fn failed(
        &self,
        reservation: Reservation,
        secret: Option<Secret>,
        origin: &Origin,
        user: Option<UserId>,
    ) -> Result<(), ServiceError> {
        if self.settle(reservation, Ending::Failed(secret)).await? {
            tracing::warn!("failed attempts locked a login or an address");
            self.record(origin, user, Action::Lockout, Outcome::Ok)
                .await?;
        }
        Ok(())
    }

    /// The attempt was no failure (a right password, with the PIN still to
    /// come; a registration): it leaves no count; earlier failures stay.
    pub(super) async fn passed(&self, reservation: Reservation) -> Result<(), ServiceError> {
        self.settle(reservation, Ending::Passed).await.map(drop)
    }

    /// Login and PIN were right: the login's failures are forgotten; the
    /// address keeps its earlier ones.
    pub(super) async fn succeeded(&self, reservation: Reservation) -> Result<(), ServiceError> {
        self.settle(reservation, Ending::Succeeded).await.map(drop)
    }

    /// Ends a reservation; true if a failure just locked one of its keys.
    async fn settle(&self, reservation: Reservation, ending: Ending) -> Result<bool, ServiceError> {
        let Reservation {
            keys,
            owners,
            counted,
        } = reservation;
        let policy = self.inner.limits.throttle.clone();
        let now = OffsetDateTime::now_utc();
        let names: Vec<Vec<u8>> = keys.iter().map(|(k, _, _)| k.clone()).collect();
        let decide = |rows: &[Option<ThrottleRow>]| {
            let rows = rows
                .iter()
                .zip(&keys)
                .enumerate()
                .map(|(i, (row, &(_, role, limit)))| {
                    let was_counted = counted.contains(&i);
                    settle_row(&policy, row.as_ref(), role, limit, was_counted, ending, now)
                })
                .collect();
            ThrottleDecision::Write(rows)
        };
        let decided = self
            .store()
            .throttle_apply(&names, &owners, now, &decide)
            .await?;
        let ThrottleDecision::Write(rows) = decided else {
            return Ok(false);
        };
        Ok(matches!(ending, Ending::Failed(_))
            && rows.iter().zip(&keys).any(|(change, (_, _, limit))| {
                matches!(change, RowChange::Set(r) if r.failures == *limit && r.locked_until.is_some())
            }))
    }
}

/// What one key's row becomes when an attempt ends.
fn settle_row(
    policy: &ThrottlePolicy,
    row: Option<&ThrottleRow>,
    role: Role,
    limit: i64,
    was_counted: bool,
    ending: Ending,
    now: OffsetDateTime,
) -> RowChange {
    let secret = role.secret();
    let forget = ending == Ending::Succeeded && secret.is_some();
    if !was_counted && !forget {
        return RowChange::Keep;
    }
    let mut row = current(policy, role, row, now);
    if was_counted {
        row.pending = (row.pending - 1).max(0);
    }
    let failed = match ending {
        Ending::Failed(failed) => {
            was_counted && (secret.is_none() || failed.is_none_or(|f| Some(f) == secret))
        }
        _ => false,
    };
    if failed {
        row.failures += 1;
        row.last_failure = now;
        row.locked_until = policy.lock_for(row.failures, limit).map(|d| now + d);
    }
    if forget {
        row.failures = 0;
        row.locked_until = None;
    }
    if row.failures == 0 && row.pending == 0 && row.locked_until.is_none() {
        RowChange::Delete
    } else {
        RowChange::Set(row)
    }
}

/// A row as it stands now: failures past their window are forgotten
/// (unless a lock still runs), pending attempts past theirs abandoned.
fn current(
    policy: &ThrottlePolicy,
    role: Role,
    row: Option<&ThrottleRow>,
    now: OffsetDateTime,
) -> ThrottleRow {
    let Some(row) = row else {
        return ThrottleRow {
            failures: 0,
            last_failure: now,
            locked_until: None,
            pending: 0,
            pending_until: None,
        };
    };
    let mut row = row.clone();
    if row.locked_until.is_some_and(|t| t <= now) {
        row.locked_until = None;
    }
    if row.locked_until.is_none() && now - row.last_failure >= policy.forget_after(role) {
        row.failures = 0;
    }
    if row.pending_until.is_none_or(|t| t <= now) {
        row.pending = 0;
        row.pending_until = None;
    }
    row
}

/// The throttle rule itself, over the rows of an attempt's keys (in the
/// order `roles` gives them): refuse, or count the attempt.
fn decide(
    policy: &ThrottlePolicy,
    roles: &[(Role, i64)],
    rows: &[Option<ThrottleRow>],
    now: OffsetDateTime,
) -> ThrottleDecision {
    let current: Vec<ThrottleRow> = rows
        .iter()
        .zip(roles)
        .map(|(row, (role, _))| current(policy, *role, row.as_ref(), now))
        .collect();
    let locked = |i: usize| current[i].locked_until.filter(|t| *t > now);
    let find = |role: Role| roles.iter().position(|(r, _)| *r == role);
    let refusal = |keys: &[Option<usize>]| {
        keys.iter()
            .flatten()
            .filter_map(|&i| locked(i))
            .max()
            .map(|until| ThrottleDecision::Refuse { until })
    };
    if let Some(refused) = refusal(&[find(Role::Address), find(Role::Everyone)]) {
        return refused;
    }
    let mut counts = vec![find(Role::Address), find(Role::Everyone)];
    for secret in [Secret::Password, Secret::Pin, Secret::Recovery] {
        let (pair, login, fresh) = (
            find(Role::Pair(secret)),
            find(Role::Login(secret)),
            find(Role::Fresh(secret)),
        );
        if login.is_none() {
            continue;
        }
        if let Some(refused) = refusal(&[pair]) {
            return refused;
        }
        // While the login is locked, only an address without failures for
        // it may try, against the fresh budget.
        let counted = if login.is_some_and(|i| locked(i).is_some()) {
            let clean = pair.is_some_and(|i| current[i].failures == 0);
            if !clean {
                return refusal(&[login]).unwrap_or(ThrottleDecision::Refuse { until: now });
            }
            if let Some(refused) = refusal(&[fresh]) {
                return refused;
            }
            fresh
        } else {
            login
        };
        counts.extend([pair, counted]);
    }
    // Attempts being checked count against the limit, so no more than the
    // limit are ever checked at once; a further one waits for them. Past
    // the limit (a lock ran out, its failures still remembered) one attempt
    // at a time is checked, and its failure locks again, twice as long.
    let full = counts.iter().flatten().any(|&i| {
        let (row, limit) = (&current[i], roles[i].1);
        if row.failures >= limit {
            row.pending > 0
        } else {
            row.failures + row.pending >= limit
        }
    });
    if full {
        return ThrottleDecision::Wait;
    }
    let rows = current
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            if !counts.contains(&Some(i)) {
                return RowChange::Keep;
            }
            RowChange::Set(ThrottleRow {
                pending: row.pending + 1,
                pending_until: Some(now + PENDING_TTL),
                ..row
            })
        })
        .collect();
    ThrottleDecision::Write(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_threshold_double_and_stop_at_the_ceiling() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.lock_for(4, 5), None);
        assert_eq!(p.lock_for(5, 5), Some(Duration::seconds(30)));
        assert_eq!(p.lock_for(6, 5), Some(Duration::seconds(60)));
        assert_eq!(p.lock_for(7, 5), Some(Duration::seconds(120)));
        assert_eq!(p.lock_for(60, 5), Some(Duration::minutes(15)));
    }

    #[test]
    fn addresses_group_by_ipv4_and_ipv6_slash_64() {
        assert_eq!(
            address_group("192.0.2.7:50000").as_deref(),
            Some("192.0.2.7")
        );
        assert_eq!(
            address_group("[::ffff:192.0.2.7]:22").as_deref(),
            Some("192.0.2.7"),
            "IPv4-mapped counts as IPv4"
        );
        assert_eq!(
            address_group("[2001:db8:1:2::1]:22"),
            address_group("[2001:db8:1:2:ffff:ffff:ffff:ffff]:22"),
            "one /64 is one address"
        );
        assert_ne!(
            address_group("[2001:db8:1:2::1]:22"),
            address_group("[2001:db8:1:3::1]:22")
        );
        assert_eq!(address_group("nonsense"), None);
    }

    /// Reserves against `rows`; if allowed, fails it at once. Whether the
    /// attempt was allowed.
    fn run(
        policy: &ThrottlePolicy,
        roles: &[(Role, i64)],
        rows: &mut [Option<ThrottleRow>],
        now: OffsetDateTime,
    ) -> bool {
        let ThrottleDecision::Write(changes) = decide(policy, roles, rows, now) else {
            return false;
        };
        for (i, change) in changes.into_iter().enumerate() {
            if let RowChange::Set(reserved) = change {
                let (role, limit) = roles[i];
                let ending = Ending::Failed(role.secret());
                rows[i] = match settle_row(policy, Some(&reserved), role, limit, true, ending, now)
                {
                    RowChange::Set(r) => Some(r),
                    _ => None,
                };
            }
        }
        true
    }

    #[test]
    fn a_lock_running_out_gives_one_guess_not_a_fresh_burst() {
        // One guess tried every five seconds for a day against one login.
        let policy = ThrottlePolicy::default();
        let roles = [(Role::Login(Secret::Password), 5)];
        let start = OffsetDateTime::now_utc();
        let mut rows = vec![None];
        let mut per_hour = [0usize; 24];
        for step in 0..(24 * 3600 / 5) {
            let now = start + Duration::seconds(step * 5);
            if run(&policy, &roles, &mut rows, now) {
                per_hour[usize::try_from(step * 5 / 3600).unwrap_or(23)] += 1;
            }
        }
        // 5, then one after each lock of 30 s, 1, 2, 4, 8 and 15 min.
        assert_eq!(per_hour[0], 12, "{per_hour:?}");
        assert!(
            per_hour[1..].iter().all(|&n| n <= 5),
            "one guess per 15-minute lock after the first hour: {per_hour:?}"
        );
        assert_eq!(per_hour[1..].iter().sum::<usize>(), 92, "{per_hour:?}");
    }

    #[test]
    fn attempts_in_flight_fill_the_budget_and_further_ones_wait() {
        let policy = ThrottlePolicy::default();
        let roles = [(Role::Login(Secret::Password), 5)];
        let now = OffsetDateTime::now_utc();
        let mut rows = vec![None];
        for _ in 0..5 {
            let ThrottleDecision::Write(changes) = decide(&policy, &roles, &rows, now) else {
                panic!("the first five may go");
            };
            if let RowChange::Set(r) = &changes[0] {
                rows[0] = Some(r.clone());
            }
        }
        assert_eq!(decide(&policy, &roles, &rows, now), ThrottleDecision::Wait);
        // Abandoned attempts stop counting after a while.
        let later = now + PENDING_TTL + Duration::seconds(1);
        assert!(matches!(
            decide(&policy, &roles, &rows, later),
            ThrottleDecision::Write(_)
        ));
    }

    #[test]
    fn an_attackers_burst_locks_their_address_but_the_owner_still_gets_in_from_elsewhere() {
        let policy = ThrottlePolicy::default();
        let pin = Secret::Pin;
        let roles = [
            (Role::Pair(pin), 5),
            (Role::Address, 20),
            (Role::Login(pin), 5),
            (Role::Fresh(pin), 5),
        ];
        let now = OffsetDateTime::now_utc();
        let mut attacker: Vec<Option<ThrottleRow>> = vec![None; 4];
        let allowed = (0..60)
            .filter(|_| run(&policy, &roles, &mut attacker, now))
            .count();
        assert_eq!(allowed, 5, "five guesses from the attacker's address");

        // The owner's address: its own pair and address rows are empty; the
        // login and fresh rows are the ones the attacker left.
        let mut owner = vec![None, None, attacker[2].clone(), attacker[3].clone()];
        assert!(run(&policy, &roles, &mut owner, now), "the owner may try");
        assert!(owner[3].as_ref().is_some_and(|r| r.failures == 1));
    }
}
