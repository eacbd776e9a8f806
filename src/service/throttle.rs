//! Throttling of failed logins and PINs, per login and per source address.
//!
//! After a few failures a key is locked for a while, twice as long with each
//! further failure, up to a ceiling; failures are forgotten after a quiet
//! spell. Locks live in the database, so every node enforces them, and they
//! are keyed by the login as typed, so a lock says nothing about whether
//! the login exists.

use time::{Duration, OffsetDateTime};

use super::{Origin, ServiceError, Services};
use crate::domain::{Action, Login, Outcome, UserId};

/// When failures lock a key.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures of one login (or one login's PIN) before it locks.
    pub per_login: i64,
    /// Failures from one address, across logins, before it locks.
    pub per_address: i64,
    /// The first lock's length; each further failure doubles it.
    pub first_lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
    /// Failures older than this are forgotten.
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_login: 5,
            per_address: 20,
            first_lock: Duration::seconds(30),
            max_lock: Duration::minutes(15),
            forget_after: Duration::minutes(15),
        }
    }
}

impl ThrottlePolicy {
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

/// The keys one attempt counts against: the login (for `what`) and the address.
pub(super) fn keys(what: &str, login: &Login, origin: &Origin) -> Vec<(String, bool)> {
    let mut keys = vec![(format!("{what}:{}", login.as_str()), true)];
    if let Some(ip) = origin
        .remote_addr
        .as_deref()
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.ip())
    {
        keys.push((format!("addr:{ip}"), false));
    }
    keys
}

impl Services {
    /// Refuses at once while any of the keys is locked.
    pub(super) async fn check_throttle(&self, keys: &[(String, bool)]) -> Result<(), ServiceError> {
        let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let now = OffsetDateTime::now_utc();
        if let Some(until) = self.store().throttle_locked(&names, now).await? {
            let retry_after = (until - now).whole_seconds().max(1) as u64;
            return Err(ServiceError::Throttled { retry_after });
        }
        Ok(())
    }

    /// Counts a failure against every key; a key that becomes locked is audited.
    pub(super) async fn count_failure(
        &self,
        origin: &Origin,
        user: Option<UserId>,
        keys: &[(String, bool)],
    ) -> Result<(), ServiceError> {
        let policy = &self.inner.limits.throttle;
        let now = OffsetDateTime::now_utc();
        for (key, per_login) in keys {
            let threshold = if *per_login {
                policy.per_login
            } else {
                policy.per_address
            };
            let lock = |failures: i64| policy.lock_for(failures, threshold).map(|d| now + d);
            let (failures, locked) = self
                .store()
                .throttle_fail(key, now, policy.forget_after, &lock)
                .await?;
            if locked.is_some() && failures == threshold {
                tracing::warn!(
                    kind = key.split(':').next().unwrap_or("?"),
                    "failed attempts locked a key"
                );
                self.record(origin, user, Action::Lockout, Outcome::Ok)
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets the failures of the per-login key after a success.
    pub(super) async fn clear_failures(&self, keys: &[(String, bool)]) -> Result<(), ServiceError> {
        for (key, per_login) in keys {
            if *per_login {
                self.store().throttle_reset(key).await?;
            }
        }
        Ok(())
    }
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
    fn an_attempt_counts_against_the_login_and_the_address() {
        let login = Login::parse("alice").expect("login");
        let origin = Origin::ssh(Some("192.0.2.7:50000".parse().expect("addr")));
        let k = keys("login", &login, &origin);
        assert_eq!(
            k,
            vec![
                ("login:alice".to_owned(), true),
                ("addr:192.0.2.7".to_owned(), false)
            ]
        );
    }
}
