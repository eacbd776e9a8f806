//! Randomness from the operating system's CSPRNG.

/// `N` bytes from the OS CSPRNG.
///
/// # Panics
/// Only if the operating system cannot provide randomness at all, in which case
/// no key or nonce could be made safely and stopping is the only right answer.
#[allow(clippy::expect_used)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the OS random number generator failed");
    out
}

/// A random positive 63-bit row id.
///
/// Ids are chosen before a row is written so that a sealed value can be bound to
/// its own row, and they reveal neither creation order nor the number of rows.
pub fn random_id() -> i64 {
    loop {
        let id = (u64::from_le_bytes(random_bytes::<8>()) >> 1) as i64;
        if id != 0 {
            return id;
        }
    }
}
