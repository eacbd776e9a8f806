//! Password and passphrase generation from the operating system's CSPRNG.
//!
//! Passphrases draw from the EFF's large wordlist for dice-generated
//! passphrases (7,776 words, <https://www.eff.org/dice>, by Joseph
//! Bonneau for the Electronic Frontier Foundation, CC BY 3.0 US), embedded
//! as `eff_large_wordlist.txt`, one word a line.

use zeroize::Zeroizing;

use crate::crypto::random_bytes;
use crate::domain::{DomainError, GenLength, Secret};

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const SYMBOLS: &[u8] = b"!#$%&()*+,-./:;<=>?@[]^_{|}~";

/// A uniformly random index below `n`, for `0 < n ≤ 2³²` (rejection
/// sampling, no modulo bias).
fn below(n: usize) -> usize {
    let n = n as u64;
    debug_assert!(n > 0 && n <= 1 << 32);
    let space = 1u64 << 32;
    let limit = space - space % n;
    loop {
        let draw = u64::from(u32::from_be_bytes(random_bytes::<4>()));
        if draw < limit {
            return (draw % n) as usize;
        }
    }
}

/// The bits of entropy of a password of `length` drawn from `classes`
/// with at least one character of each: log₂ of how many such passwords
/// there are (inclusion–exclusion over the classes left out).
pub fn password_entropy(length: GenLength, symbols: bool) -> f64 {
    let mut sizes = vec![LOWER.len(), UPPER.len(), DIGITS.len()];
    if symbols {
        sizes.push(SYMBOLS.len());
    }
    let all = sizes.iter().sum::<usize>() as f64;
    let length = length.as_usize() as i32;
    // The share of all strings over the alphabet that hold every class.
    let mut share = 0.0;
    for left_out in 0u32..(1 << sizes.len()) {
        let missing: usize = (0..sizes.len())
            .filter(|i| left_out & (1 << i) != 0)
            .map(|i| sizes[i])
            .sum();
        let sign = if left_out.count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        share += sign * ((all - missing as f64) / all).powi(length);
    }
    f64::from(length) * all.log2() + share.log2()
}

/// The EFF's large wordlist.
const WORDS: &str = include_str!("eff_large_wordlist.txt");

/// The words of [`WORDS`], split once.
static WORD_LIST: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| WORDS.lines().collect());

fn words() -> &'static [&'static str] {
    &WORD_LIST
}

/// How a passphrase is made: `count` words joined by `separator`, each
/// capitalised with `capitalize`, and with `number` a random digit after
/// one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passphrase {
    count: usize,
    separator: String,
    pub capitalize: bool,
    pub number: bool,
}

impl Passphrase {
    /// Fewest words taken.
    pub const MIN_WORDS: usize = 3;
    /// Most words taken.
    pub const MAX_WORDS: usize = 20;
    /// Longest separator taken, in characters.
    pub const MAX_SEPARATOR: usize = 8;

    /// `words` words (3 to 20) joined by `separator` (at most 8
    /// characters, none of them control characters; `-` when none is
    /// given).
    pub fn new(words: &str, separator: Option<&str>) -> Result<Self, DomainError> {
        let count = words
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (Self::MIN_WORDS..=Self::MAX_WORDS).contains(n))
            .ok_or_else(|| {
                DomainError::invalid(
                    "words",
                    format!(
                        "must be a whole number from {} to {}",
                        Self::MIN_WORDS,
                        Self::MAX_WORDS
                    ),
                )
            })?;
        let separator = separator.unwrap_or("-");
        if separator.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "separator",
                "must not contain control characters",
            ));
        }
        if separator.chars().count() > Self::MAX_SEPARATOR {
            return Err(DomainError::invalid(
                "separator",
                format!("must be at most {} characters", Self::MAX_SEPARATOR),
            ));
        }
        Ok(Self {
            count,
            separator: separator.to_owned(),
            capitalize: false,
            number: false,
        })
    }

    /// A new passphrase.
    pub fn generate(&self) -> Secret {
        let list = words();
        let with_digit = self.number.then(|| (below(self.count), below(10)));
        let mut phrase = Zeroizing::new(String::new());
        for i in 0..self.count {
            if i > 0 {
                phrase.push_str(&self.separator);
            }
            let word = list[below(list.len())];
            let mut chars = word.chars();
            if self.capitalize
                && let Some(first) = chars.next()
            {
                phrase.extend(first.to_uppercase());
                phrase.push_str(chars.as_str());
            } else {
                phrase.push_str(word);
            }
            if let Some((at, digit)) = with_digit
                && at == i
            {
                phrase.push(char::from(b'0' + digit as u8));
            }
        }
        // At most 20 words of at most 9 letters, 19 separators of at most 8
        // characters and a digit: far below a secret's 1,024 characters.
        Secret::parse(&phrase).unwrap_or_else(|_| unreachable!("a passphrase is a valid secret"))
    }

    /// Bits of entropy: log₂ 7,776 a word, and log₂ (10 × words) for the
    /// digit and where it goes. Capitals and the separator add none: they
    /// are the same for every phrase.
    pub fn entropy(&self) -> f64 {
        let mut bits = self.count as f64 * (words().len() as f64).log2();
        if self.number {
            bits += (10.0 * self.count as f64).log2();
        }
        bits
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
    fn the_wordlist_is_the_effs_7776_distinct_words() {
        let list = words();
        assert_eq!(list.len(), 7776);
        assert_eq!(
            list.iter().collect::<std::collections::HashSet<_>>().len(),
            7776
        );
        assert_eq!((list[0], list[7775]), ("abacus", "zoom"));
        assert!(
            list.iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }

    #[test]
    fn a_passphrase_has_its_words_separator_capitals_and_digit() {
        let list: std::collections::HashSet<&str> = words().iter().copied().collect();
        let mut shape = Passphrase::new("6", Some(" + ")).expect("shape");
        let plain = shape.generate();
        let parts: Vec<&str> = plain.expose().split(" + ").collect();
        assert_eq!(parts.len(), 6);
        assert!(parts.iter().all(|w| list.contains(w)), "{parts:?}");
        shape.capitalize = true;
        shape.number = true;
        let dressed = shape.generate();
        let parts: Vec<&str> = dressed.expose().split(" + ").collect();
        assert_eq!(parts.len(), 6);
        let digits = dressed
            .expose()
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        assert_eq!(digits, 1);
        for part in parts {
            let word = part
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_lowercase();
            assert!(list.contains(word.as_str()), "{part}");
            assert!(part.starts_with(|c: char| c.is_ascii_uppercase()), "{part}");
        }
    }

    #[test]
    fn passphrase_shapes_out_of_range_are_refused_with_the_range() {
        for words in ["2", "21", "0", "-1", "six", ""] {
            let e = Passphrase::new(words, None).expect_err(words);
            assert!(e.to_string().contains("3 to 20"), "{words}: {e}");
        }
        assert!(Passphrase::new("4", Some("\u{1b}[31m")).is_err());
        assert!(Passphrase::new("4", Some("123456789")).is_err());
        assert!(Passphrase::new("4", Some("")).is_ok());
    }

    #[test]
    fn entropy_is_counted_from_the_choices_made() {
        let mut shape = Passphrase::new("6", None).expect("shape");
        assert!((shape.entropy() - 6.0 * 7776f64.log2()).abs() < 1e-9);
        shape.number = true;
        assert!((shape.entropy() - (6.0 * 7776f64.log2() + 60f64.log2())).abs() < 1e-9);
        // Letters and digits, 8 long, every class present: counted by hand
        // as 62^8 − (2·36^8 + 52^8) + (10^8 + 2·26^8) − 0.
        let exact = 62f64.powi(8) - (2.0 * 36f64.powi(8) + 52f64.powi(8))
            + (10f64.powi(8) + 2.0 * 26f64.powi(8));
        let length = GenLength::new(8).expect("len");
        assert!((password_entropy(length, false) - exact.log2()).abs() < 1e-6);
        assert!(password_entropy(GenLength::default(), true) < 20.0 * 90f64.log2());
        assert!(password_entropy(GenLength::default(), true) > 20.0 * 90f64.log2() - 1.0);
    }

    #[test]
    fn two_generated_passwords_differ() {
        assert_ne!(
            generate(GenLength::default(), true).expose(),
            generate(GenLength::default(), true).expose()
        );
    }
}
