//! Password generation from the operating system's CSPRNG.

use zeroize::Zeroizing;

use crate::crypto::random_bytes;
use crate::domain::{GenLength, Secret};

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b"!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// A uniformly random index below `n` (rejection sampling, no modulo bias).
fn below(n: usize) -> usize {
    debug_assert!(n > 0 && n <= 256);
    let limit = 256 - (256 % n);
    loop {
        let [b] = random_bytes::<1>();
        if (b as usize) < limit {
            return b as usize % n;
        }
    }
}

/// A password of `length` characters with at least one lowercase letter,
/// uppercase letter and digit, and one symbol unless `symbols` is false.
pub fn generate(length: GenLength, symbols: bool) -> Secret {
    let mut classes: Vec<&[u8]> = vec![LOWER, UPPER, DIGITS];
    if symbols {
        classes.push(SYMBOLS);
    }
    let alphabet: Vec<u8> = classes.concat();
    loop {
        let candidate = Zeroizing::new(
            (0..length.as_usize())
                .map(|_| alphabet[below(alphabet.len())] as char)
                .collect::<String>(),
        );
        let complete = classes
            .iter()
            .all(|class| candidate.bytes().any(|b| class.contains(&b)));
        if complete && let Ok(secret) = Secret::parse(&candidate) {
            return secret;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_the_length_and_every_class() {
        for len in [8u32, 20, 64] {
            let s = generate(GenLength::new(len).expect("len"), true);
            let p = s.expose();
            assert_eq!(p.chars().count(), len as usize);
            assert!(p.bytes().any(|b| LOWER.contains(&b)));
            assert!(p.bytes().any(|b| UPPER.contains(&b)));
            assert!(p.bytes().any(|b| DIGITS.contains(&b)));
            assert!(p.bytes().any(|b| SYMBOLS.contains(&b)));
        }
    }

    #[test]
    fn no_symbols_means_letters_and_digits_only() {
        let s = generate(GenLength::default(), false);
        assert!(s.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn two_generated_passwords_differ() {
        assert_ne!(
            generate(GenLength::default(), true).expose(),
            generate(GenLength::default(), true).expose()
        );
    }
}
