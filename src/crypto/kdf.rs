//! Argon2id on a bounded pool.
//!
//! Every hash costs about 19 MiB and tens of milliseconds, so they run on
//! blocking threads behind a semaphore (at most `workers` at once) with a
//! bounded number of callers allowed to wait; beyond that the pool answers
//! [`CryptoError::Busy`] at once instead of queueing without limit. A flood of
//! logins therefore neither exhausts memory nor starves unlocked sessions.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;
use zeroize::{Zeroize, Zeroizing};

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
    /// These parameters with a key id (of the pepper used).
    fn with_keyid(&self, id: &[u8]) -> Result<Params, CryptoError> {
        let internal = |e: argon2::Error| CryptoError::Internal(format!("argon2 params: {e}"));
        argon2::ParamsBuilder::new()
            .m_cost(self.m_cost)
            .t_cost(self.t_cost)
            .p_cost(self.p_cost)
            .output_len(32)
            .keyid(argon2::KeyId::new(id).map_err(internal)?)
            .build()
            .map_err(internal)
    }

    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| CryptoError::Internal(format!("argon2 params: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// A server secret mixed into every login password hash (Argon2's secret
/// input), kept outside the database: a copy of the database alone then
/// cannot test a password guess against its hash. `id` names it in the
/// PHC string (`keyid=`), so hashes made before it (or under another)
/// are told apart.
pub struct Pepper {
    key: Zeroizing<[u8; 32]>,
    id: [u8; 6],
}

impl Pepper {
    pub fn new(key: [u8; 32], id: [u8; 6]) -> Self {
        Self {
            key: Zeroizing::new(key),
            id,
        }
    }
}

/// Whether a password matched, and whether its stored hash should be made
/// again (it predates the pepper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    pub outdated: bool,
}

/// The bounded Argon2 pool shared by every front end.
#[derive(Clone)]
pub struct HashPool {
    params: KdfParams,
    pepper: Option<Arc<Pepper>>,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    workers: usize,
    max_waiting: usize,
    warm: Arc<WarmMemory>,
    /// Evaluations run so far (for `/metrics`).
    evaluations: Arc<AtomicU64>,
}

/// How long an evaluation's working memory stays mapped after it is done,
/// for the next evaluation to reuse.
const KEEP_WARM: Duration = Duration::from_secs(2);

/// Working memory kept between evaluations (at most one per worker).
///
/// Mapping 19 MiB afresh costs about as much again as the page faults of
/// touching it, over half the cost of the hash itself; under a run of
/// logins each worker reuses its memory instead. Memory left unused for
/// [`KEEP_WARM`] is unmapped, so an idle server holds none. Between uses the
/// memory holds zeros only.
#[derive(Default)]
struct WarmMemory(Mutex<Warm>);

#[derive(Default)]
struct Warm {
    idle: Vec<(Vec<Block>, Instant)>,
    /// Whether a sweeper task is running (it runs while anything is kept).
    sweeping: bool,
}

impl WarmMemory {
    fn take(&self) -> Option<Vec<Block>> {
        self.0.lock().ok()?.idle.pop().map(|(blocks, _)| blocks)
    }

    /// Keeps `blocks` (up to `limit` buffers); true if a sweeper must start.
    fn put(&self, blocks: Vec<Block>, limit: usize) -> bool {
        let Ok(mut warm) = self.0.lock() else {
            return false;
        };
        if warm.idle.len() < limit {
            warm.idle.push((blocks, Instant::now()));
        }
        !std::mem::replace(&mut warm.sweeping, true)
    }

    /// Unmaps what has been idle for `KEEP_WARM`, every `KEEP_WARM`, until
    /// nothing is kept.
    async fn sweep(warm: std::sync::Weak<Self>) {
        loop {
            tokio::time::sleep(KEEP_WARM).await;
            let Some(warm) = warm.upgrade() else { return };
            let Ok(mut kept) = warm.0.lock() else { return };
            kept.idle.retain(|(_, since)| since.elapsed() < KEEP_WARM);
            if kept.idle.is_empty() {
                kept.sweeping = false;
                return;
            }
        }
    }
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
            pepper: None,
            permits: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            workers: workers.max(1),
            max_waiting,
            warm: Arc::default(),
            evaluations: Arc::default(),
        }
    }

    /// How many Argon2 evaluations this pool (and its clones) has run.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(Ordering::Relaxed)
    }

    /// The same pool, hashing login passwords with `pepper`.
    pub fn with_pepper(mut self, pepper: Pepper) -> Self {
        self.pepper = Some(Arc::new(pepper));
        self
    }

    /// The cost parameters in use.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    async fn run<T, F>(&self, work: F) -> Result<T, CryptoError>
    where
        T: Send + 'static,
        F: FnOnce(Argon2<'static>, &mut Memory) -> Result<T, CryptoError> + Send + 'static,
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
        self.evaluations.fetch_add(1, Ordering::Relaxed);
        let (warm, workers) = (self.warm.clone(), self.workers);
        let (result, start_sweeper) = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = Memory(warm.take());
            let result = work(argon2, &mut memory);
            let start_sweeper = memory.0.is_some_and(|blocks| warm.put(blocks, workers));
            (result, start_sweeper)
        })
        .await
        .map_err(|e| CryptoError::Internal(format!("hash task: {e}")))?;
        if start_sweeper {
            tokio::spawn(WarmMemory::sweep(Arc::downgrade(&self.warm)));
        }
        drop(guard);
        result
    }

    /// Hashes a login password into a PHC string with a fresh salt (and
    /// the pepper, when the pool has one).
    pub async fn hash_password(&self, password: Zeroizing<Vec<u8>>) -> Result<String, CryptoError> {
        let (pepper, kdf) = (self.pepper.clone(), self.params);
        self.run(move |argon2, memory| {
            let internal = |e: argon2::Error| CryptoError::Internal(format!("password hash: {e}"));
            let peppered;
            let argon2 = match &pepper {
                None => argon2,
                Some(p) => {
                    peppered = Argon2::new_with_secret(
                        &p.key[..],
                        Algorithm::Argon2id,
                        Version::V0x13,
                        kdf.with_keyid(&p.id)?,
                    )
                    .map_err(internal)?;
                    peppered
                }
            };
            let salt: [u8; 16] = random_bytes();
            let mut out = Zeroizing::new([0u8; 32]);
            evaluate(&argon2, memory, &password, &salt, out.as_mut())?;
            let internal = |e: argon2::password_hash::phc::Error| {
                CryptoError::Internal(format!("password hash: {e}"))
            };
            let params = ParamsString::try_from(argon2.params())
                .map_err(|e| CryptoError::Internal(format!("password hash: {e}")))?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params,
                salt: Some(Salt::new(&salt).map_err(internal)?),
                hash: Some(Output::new(out.as_ref()).map_err(internal)?),
            };
            Ok(phc.to_string())
        })
        .await
    }

    /// Checks a login password against a stored PHC string. Only the cost
    /// parameters this server hashes with are accepted: the string comes
    /// from the database, and a database writer must not be able to make
    /// the next login allocate gigabytes or run for minutes. A hash without
    /// a key id predates the pepper: it still verifies, and is `outdated`.
    pub async fn verify_password(
        &self,
        password: Zeroizing<Vec<u8>>,
        phc: String,
    ) -> Result<Verified, CryptoError> {
        let (accepted, pepper) = (self.params, self.pepper.clone());
        self.run(move |_, memory| {
            let malformed = |_| CryptoError::Malformed("password hash");
            let hash = PasswordHash::new(&phc).map_err(malformed)?;
            let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
                return Err(CryptoError::Malformed("password hash"));
            };
            if hash.algorithm != Algorithm::Argon2id.ident() {
                return Err(CryptoError::Malformed("password hash"));
            }
            let params =
                Params::try_from(&hash).map_err(|_| CryptoError::Malformed("password hash"))?;
            let ours = params.m_cost() == accepted.m_cost
                && params.t_cost() == accepted.t_cost
                && params.p_cost() == accepted.p_cost
                && expected.len() == 32
                && params.data().is_empty();
            if !ours {
                return Err(CryptoError::Malformed("password hash cost parameters"));
            }
            let version = hash
                .version
                .map(Version::try_from)
                .transpose()
                .map_err(|_| CryptoError::Malformed("password hash"))?
                .unwrap_or_default();
            let outdated = params.keyid().is_empty();
            let argon2 = match &pepper {
                _ if outdated => Argon2::new(Algorithm::Argon2id, version, params),
                Some(p) if params.keyid() == p.id => {
                    Argon2::new_with_secret(&p.key[..], Algorithm::Argon2id, version, params)
                        .map_err(|_| CryptoError::Malformed("password hash"))?
                }
                _ => return Err(CryptoError::Malformed("password hash of another pepper")),
            };
            let mut out = Zeroizing::new(vec![0u8; expected.len()]);
            evaluate(&argon2, memory, &password, salt.as_ref(), &mut out)?;
            let computed = Output::new(&out).map_err(malformed)?;
            // `Output` compares in constant time.
            Ok(Verified {
                matches: &computed == expected,
                outdated: outdated && pepper.is_some(),
            })
        })
        .await
    }

    /// Derives a key-encryption key from secret material and a per-user salt.
    pub async fn derive_kek(
        &self,
        secret: Zeroizing<Vec<u8>>,
        salt: Vec<u8>,
    ) -> Result<Kek, CryptoError> {
        self.run(move |argon2, memory| {
            let mut out = Zeroizing::new([0u8; 32]);
            evaluate(&argon2, memory, &secret, &salt, out.as_mut())?;
            Ok(Kek::from_bytes(*out))
        })
        .await
    }
}

/// Bytes requested for one evaluation's working memory: more than glibc's
/// largest dynamic mmap threshold (32 MiB), so that the allocator maps it on
/// its own and unmaps it when it is dropped, instead of keeping 19 MiB per
/// thread in its arenas. Pages beyond the blocks in use are never touched
/// and cost nothing.
const WORKING_MEMORY_RESERVE: usize = 33 << 20;

/// Argon2 working memory for one worker: reused when warm, else mapped anew.
struct Memory(Option<Vec<Block>>);

/// One Argon2 evaluation into `out`; its working memory is wiped before
/// returning, and kept in `memory` for reuse.
fn evaluate(
    argon2: &Argon2<'_>,
    memory: &mut Memory,
    secret: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let count = argon2.params().block_count();
    let mut blocks = match memory.0.take() {
        Some(blocks) if blocks.capacity() >= count => blocks,
        _ => Vec::with_capacity(count.max(WORKING_MEMORY_RESERVE / Block::SIZE)),
    };
    blocks.resize(count, Block::default());
    let result = argon2
        .hash_password_into_with_memory(secret, salt, out, &mut blocks[..])
        .map_err(|e| CryptoError::Internal(format!("argon2: {e}")));
    blocks.iter_mut().for_each(Zeroize::zeroize);
    memory.0 = Some(blocks);
    result
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

    /// A password or other secret as the pool takes it.
    fn secret(text: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(text.as_bytes().to_vec())
    }

    /// `pool`'s hash of `password`.
    async fn hashed(pool: &HashPool, password: &str) -> String {
        pool.hash_password(secret(password)).await.expect("hash")
    }

    /// What `pool` makes of `password` against the stored hash `phc`.
    async fn verified(pool: &HashPool, password: &str, phc: &str) -> Verified {
        pool.verify_password(secret(password), phc.to_owned())
            .await
            .expect("verify")
    }

    fn kept(pool: &HashPool) -> Vec<bool> {
        let warm = pool.warm.0.lock().expect("lock");
        warm.idle
            .iter()
            .map(|(blocks, _)| blocks.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)))
            .collect()
    }

    #[tokio::test]
    async fn working_memory_is_kept_wiped_for_reuse_and_released_when_idle() {
        let pool = cheap();
        pool.derive_kek(secret("secret"), vec![7; 16])
            .await
            .expect("derive");
        assert_eq!(kept(&pool), vec![true], "one buffer kept, all zeros");

        tokio::time::sleep(KEEP_WARM * 2 + Duration::from_millis(500)).await;

        assert!(kept(&pool).is_empty(), "released after {KEEP_WARM:?} idle");
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let pool = cheap();
        let phc = hashed(&pool, "correct horse").await;
        assert!(phc.starts_with("$argon2id$"));
        assert!(verified(&pool, "correct horse", &phc).await.matches);
        assert!(!verified(&pool, "wrong horse", &phc).await.matches);
    }

    #[tokio::test]
    async fn a_stored_hash_with_other_cost_parameters_is_refused_unrun() {
        let pool = cheap();
        let phc = hashed(&pool, "correct horse").await;
        for edited in [
            phc.replace("m=64", "m=4194304"),
            phc.replace("t=1", "t=100000"),
            phc.replace("p=1", "p=8"),
        ] {
            assert_ne!(edited, phc);
            let verified = pool.verify_password(secret("correct horse"), edited).await;
            assert!(
                matches!(verified, Err(CryptoError::Malformed(_))),
                "{verified:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_peppered_hash_verifies_only_with_its_pepper_and_an_old_one_is_outdated() {
        const PASSWORD: &str = "correct horse";
        let plain = cheap();
        let peppered = cheap().with_pepper(Pepper::new([9; 32], *b"pepr01"));
        let other = cheap().with_pepper(Pepper::new([8; 32], *b"pepr02"));

        let old = hashed(&plain, PASSWORD).await;
        let new = hashed(&peppered, PASSWORD).await;

        assert!(new.contains("keyid="), "{new}");
        let v = verified(&peppered, PASSWORD, &new).await;
        assert_eq!((v.matches, v.outdated), (true, false));
        let v = verified(&peppered, PASSWORD, &old).await;
        assert_eq!(
            (v.matches, v.outdated),
            (true, true),
            "an old hash still logs in"
        );
        assert!(matches!(
            other.verify_password(secret(PASSWORD), new.clone()).await,
            Err(CryptoError::Malformed(_))
        ));
        assert!(
            plain.verify_password(secret(PASSWORD), new).await.is_err(),
            "no pepper, no check"
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
        let kek = |pin, salt| pool.derive_kek(kek_input("password1", pin), vec![salt; 16]);
        let a = kek("2580", 1).await.expect("kek");
        let b = kek("2581", 1).await.expect("kek");
        let c = kek("2580", 2).await.expect("kek");
        let again = kek("2580", 1).await.expect("kek");
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
                p.hash_password(secret("password")).await
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
