//! Argon2id on a bounded pool.
//!
//! Every hash costs about 19 MiB and tens of milliseconds, so they run on
//! blocking threads behind a semaphore (at most `workers` at once) with a
//! bounded number of callers allowed to wait; beyond that the pool answers
//! [`CryptoError::Busy`] at once instead of queueing without limit. A flood of
//! logins therefore neither exhausts memory nor starves unlocked sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{CryptoError, Kek, random_bytes};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// OWASP's minimum recommendation for Argon2id: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            m_cost: 19_456,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| CryptoError::Internal(format!("argon2 params: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The bounded Argon2 pool shared by every front end.
#[derive(Clone)]
pub struct HashPool {
    params: KdfParams,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    workers: usize,
    max_waiting: usize,
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool")
            .field("params", &self.params)
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

/// Decrements the waiting count however the wait ends (including cancellation).
struct WaitGuard(Arc<AtomicUsize>);
impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    /// A pool running at most `workers` hashes at once with at most
    /// `max_waiting` callers queued behind them.
    pub fn new(params: KdfParams, workers: usize, max_waiting: usize) -> Self {
        Self {
            params,
            permits: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            workers: workers.max(1),
            max_waiting,
        }
    }

    /// The cost parameters in use.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    async fn run<T, F>(&self, work: F) -> Result<T, CryptoError>
    where
        T: Send + 'static,
        F: FnOnce(Argon2<'static>) -> Result<T, CryptoError> + Send + 'static,
    {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting + self.workers {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(CryptoError::Busy);
        }
        let guard = WaitGuard(self.waiting.clone());
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CryptoError::Busy)?;
        let argon2 = self.params.argon2()?;
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(argon2)
        })
        .await
        .map_err(|e| CryptoError::Internal(format!("hash task: {e}")))?;
        drop(guard);
        result
    }

    /// Hashes a login password into a PHC string with a fresh salt.
    pub async fn hash_password(&self, password: Zeroizing<Vec<u8>>) -> Result<String, CryptoError> {
        self.run(move |argon2| {
            let salt: [u8; 16] = random_bytes();
            argon2
                .hash_password_with_salt(&password, &salt)
                .map(|h| h.to_string())
                .map_err(|e| CryptoError::Internal(format!("argon2: {e}")))
        })
        .await
    }

    /// Checks a login password against a stored PHC string.
    pub async fn verify_password(
        &self,
        password: Zeroizing<Vec<u8>>,
        phc: String,
    ) -> Result<bool, CryptoError> {
        self.run(move |argon2| {
            let hash =
                PasswordHash::new(&phc).map_err(|_| CryptoError::Malformed("password hash"))?;
            Ok(argon2.verify_password(&password, &hash).is_ok())
        })
        .await
    }

    /// Derives a key-encryption key from secret material and a per-user salt.
    pub async fn derive_kek(
        &self,
        secret: Zeroizing<Vec<u8>>,
        salt: Vec<u8>,
    ) -> Result<Kek, CryptoError> {
        self.run(move |argon2| {
            let mut out = Zeroizing::new([0u8; 32]);
            argon2
                .hash_password_into(&secret, &salt, out.as_mut())
                .map_err(|e| CryptoError::Internal(format!("argon2: {e}")))?;
            Ok(Kek::from_bytes(*out))
        })
        .await
    }
}

/// The secret input of a user's KEK: the password and PIN, length-prefixed so
/// that no two (password, PIN) pairs give the same input.
pub fn kek_input(password: &str, pin: &str) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(password.len() + pin.len() + 4));
    v.extend_from_slice(&(password.len() as u32).to_be_bytes());
    v.extend_from_slice(password.as_bytes());
    v.extend_from_slice(pin.as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> HashPool {
        HashPool::new(
            KdfParams {
                m_cost: 64,
                t_cost: 1,
                p_cost: 1,
            },
            2,
            8,
        )
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let pool = cheap();
        let phc = pool
            .hash_password(Zeroizing::new(b"correct horse".to_vec()))
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            pool.verify_password(Zeroizing::new(b"correct horse".to_vec()), phc.clone())
                .await
                .expect("verify")
        );
        assert!(
            !pool
                .verify_password(Zeroizing::new(b"wrong horse".to_vec()), phc)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn default_parameters_meet_the_owasp_minimum() {
        let p = KdfParams::default();
        assert!(p.m_cost >= 19_456 && p.t_cost >= 2 && p.p_cost >= 1);
    }

    #[tokio::test]
    async fn kek_depends_on_password_pin_and_salt() {
        let pool = cheap();
        let salt = vec![1u8; 16];
        let a = pool
            .derive_kek(kek_input("password1", "2580"), salt.clone())
            .await
            .expect("kek");
        let b = pool
            .derive_kek(kek_input("password1", "2581"), salt.clone())
            .await
            .expect("kek");
        let c = pool
            .derive_kek(kek_input("password1", "2580"), vec![2u8; 16])
            .await
            .expect("kek");
        let again = pool
            .derive_kek(kek_input("password1", "2580"), salt)
            .await
            .expect("kek");
        assert_eq!(a.0, again.0);
        assert_ne!(a.0, b.0);
        assert_ne!(a.0, c.0);
    }

    #[test]
    fn kek_input_is_unambiguous() {
        assert_ne!(*kek_input("ab", "1234"), *kek_input("a", "b1234"));
    }

    #[tokio::test]
    async fn a_saturated_pool_refuses_instead_of_queueing_forever() {
        let pool = HashPool::new(
            KdfParams {
                m_cost: 2048,
                t_cost: 3,
                p_cost: 1,
            },
            1,
            0,
        );
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let p = pool.clone();
            tasks.push(tokio::spawn(async move {
                p.hash_password(Zeroizing::new(b"password".to_vec())).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            if let Err(CryptoError::Busy) = t.await.expect("join") {
                busy += 1;
            }
        }
        assert!(busy > 0, "expected some requests to be refused");
    }
}
