//! One-time codes: the HOTP core of RFC 4226, the time-based codes of
//! RFC 6238, and the `otpauth://totp/…` URIs authenticator apps exchange
//! (the "Key Uri Format" of Google Authenticator, which every app reads).
//!
//! A [`TotpSeed`] is valid by construction: a secret of 8 to 128 bytes, 6 to
//! 8 digits, a period of 1 to 300 seconds. The secret is zeroized on drop
//! and never printed; an error names the part of the input that is wrong,
//! never the secret.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::DomainError;

/// Shortest secret taken, in bytes (64 bits; RFC 4226 asks for at least
/// 128, but services still hand out 80-bit seeds, and a vault must keep
/// what it is given).
pub const MIN_SECRET_BYTES: usize = 8;
/// Longest secret taken, in bytes.
pub const MAX_SECRET_BYTES: usize = 128;
/// Longest period taken, in seconds.
pub const MAX_PERIOD_SECS: u32 = 300;
/// Longest issuer or account name taken, in characters.
pub const MAX_LABEL_CHARS: usize = 256;

/// The hash HMAC runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// `SHA1`, `SHA256` or `SHA512`, as URIs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Parses `SHA1`, `SHA256` or `SHA512` (case-insensitive; `SHA-256`
    /// too).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let plain: String = input
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        match plain.as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(DomainError::invalid(
                "algorithm",
                "must be SHA1, SHA256 or SHA512",
            )),
        }
    }

    fn mac(self, key: &[u8], message: &[u8]) -> Zeroizing<Vec<u8>> {
        fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Zeroizing<Vec<u8>> {
            // HMAC accepts keys of any length.
            let mut mac = <M as KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            mac.update(message);
            Zeroizing::new(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, message),
            Self::Sha256 => run::<Hmac<Sha256>>(key, message),
            Self::Sha512 => run::<Hmac<Sha512>>(key, message),
        }
    }
}

/// RFC 4226's HOTP value for `counter`: HMAC, dynamic truncation, the
/// last `digits` decimal digits.
pub fn hotp(algorithm: Algorithm, key: &[u8], counter: u64, digits: u8) -> u32 {
    let mac = algorithm.mac(key, &counter.to_be_bytes());
    // The low four bits of the last byte pick where four bytes are read;
    // every hash here is at least 20 bytes, so offset + 4 fits.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .map(|b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]))
        .unwrap_or(0);
    word % 10u32.pow(u32::from(digits))
}

/// A code and how long it stays current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The digits, zero-padded to the seed's length.
    pub code: String,
    /// Whole seconds until the next code (1 to the period).
    pub seconds_left: u32,
}

/// A TOTP seed and its parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSeed {
    secret: Zeroizing<Vec<u8>>,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    issuer: Option<String>,
    account: Option<String>,
}

impl std::fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSeed(***)")
    }
}

impl TotpSeed {
    /// A seed from its base32 secret and parameters, each checked.
    pub fn new(
        secret: &str,
        algorithm: Algorithm,
        digits: u8,
        period: u32,
        issuer: Option<&str>,
        account: Option<&str>,
    ) -> Result<Self, DomainError> {
        let secret = base32_decode(secret)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(DomainError::invalid(
                "secret",
                format!(
                    "too short: at least {} base32 characters",
                    (MIN_SECRET_BYTES * 8).div_ceil(5)
                ),
            ));
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(DomainError::invalid(
                "secret",
                format!(
                    "too long: at most {} base32 characters",
                    MAX_SECRET_BYTES * 8 / 5
                ),
            ));
        }
        if !(6..=8).contains(&digits) {
            return Err(DomainError::invalid("digits", "must be 6, 7 or 8"));
        }
        if !(1..=MAX_PERIOD_SECS).contains(&period) {
            return Err(DomainError::invalid(
                "period",
                format!("must be 1 to {MAX_PERIOD_SECS} seconds"),
            ));
        }
        Ok(Self {
            secret,
            algorithm,
            digits,
            period,
            issuer: label("issuer", issuer)?,
            account: label("account", account)?,
        })
    }

    /// Parses an `otpauth://totp/LABEL?secret=…` URI. The label is
    /// `ISSUER:ACCOUNT` or `ACCOUNT`; `issuer`, `algorithm`, `digits` and
    /// `period` are optional parameters (SHA1, 6 and 30 when left out);
    /// parameters apps add for themselves (`image`, …) are ignored.
    pub fn parse_uri(input: &str) -> Result<Self, DomainError> {
        let bad = |reason: &str| DomainError::invalid("uri", reason.to_owned());
        // Taken apart by hand, not by a URL parser: a parser would resolve
        // `.` and `..` in the label as path segments.
        let input = input.trim();
        let rest = input
            .get(..10)
            .filter(|scheme| scheme.eq_ignore_ascii_case("otpauth://"))
            .and_then(|_| input.get(10..))
            .ok_or_else(|| {
                if input.contains("://") {
                    bad("must start with otpauth://")
                } else {
                    bad("not a URI; expected otpauth://totp/LABEL?secret=…")
                }
            })?;
        let (kind, rest) = rest.split_once('/').unwrap_or((rest, ""));
        if kind.eq_ignore_ascii_case("hotp") {
            return Err(bad(
                "counter-based (hotp) codes are not supported, only totp",
            ));
        }
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(bad("the type must be totp: otpauth://totp/…"));
        }
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        // `ISSUER:ACCOUNT`: a literal colon parts them, so either may hold
        // an escaped one; without a literal colon, an escaped one does.
        let parted = label.split_once(':').or_else(|| {
            let at = label.to_ascii_lowercase().find("%3a")?;
            Some((&label[..at], &label[at + 3..]))
        });
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| bad("the label has a bad %-escape or is not UTF-8"))
        };
        let (label_issuer, account) = match parted {
            Some((issuer, account)) => (Some(decode(issuer)?.trim().to_owned()), decode(account)?),
            None => (None, decode(label)?),
        };
        let account = account.trim();
        let mut secret = None;
        let mut issuer = None;
        let mut algorithm = Algorithm::default();
        let mut digits = 6;
        let mut period = 30;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(Zeroizing::new(value.into_owned())),
                "issuer" => issuer = Some(value.trim().to_owned()),
                "algorithm" => algorithm = Algorithm::parse(&value)?,
                "digits" => {
                    digits = value
                        .trim()
                        .parse()
                        .map_err(|_| DomainError::invalid("digits", "must be 6, 7 or 8"))?
                }
                "period" => {
                    period = value.trim().parse().map_err(|_| {
                        DomainError::invalid(
                            "period",
                            format!("must be 1 to {MAX_PERIOD_SECS} seconds"),
                        )
                    })?
                }
                _ => {}
            }
        }
        let secret = secret.ok_or_else(|| bad("has no secret= parameter"))?;
        let issuer = match (label_issuer.filter(|i| !i.is_empty()), issuer) {
            (Some(a), Some(b)) if a != b => {
                return Err(bad("the label's issuer and the issuer= parameter differ"));
            }
            (a, b) => b.or(a),
        };
        Self::new(
            &secret,
            algorithm,
            digits,
            period,
            issuer.as_deref().filter(|i| !i.is_empty()),
            Some(account).filter(|a| !a.is_empty()),
        )
    }

    /// [`TotpSeed::parse_uri`] for a URI given as the field `field` (a
    /// password entry's `totp`): errors name that field, and the part of
    /// the URI that is wrong in their reason.
    pub fn parse_uri_as(field: &'static str, input: &str) -> Result<Self, DomainError> {
        Self::parse_uri(input).map_err(|e| {
            let reason = match e.field() {
                "uri" => e.reason().to_owned(),
                part => format!("{part} {}", e.reason()),
            };
            DomainError::invalid(field, reason)
        })
    }

    /// The code current at `unix_secs` seconds after the epoch.
    pub fn code_at(&self, unix_secs: u64) -> Code {
        let period = u64::from(self.period);
        let value = hotp(
            self.algorithm,
            &self.secret,
            unix_secs / period,
            self.digits,
        );
        let left = period - unix_secs % period;
        Code {
            code: format!("{value:0width$}", width = usize::from(self.digits)),
            seconds_left: u32::try_from(left).unwrap_or(self.period),
        }
    }

    /// The seed as an `otpauth://` URI, which any authenticator app reads.
    pub fn to_uri(&self) -> Zeroizing<String> {
        let mut label = String::new();
        let account = self.account.as_deref().unwrap_or("");
        // A literal colon parts issuer and account, and both have theirs
        // escaped; an account with a colon and no issuer keeps it so.
        if let Some(issuer) = &self.issuer {
            label.push_str(&percent_encode(issuer));
            label.push(':');
        } else if account.contains(':') {
            label.push(':');
        }
        label.push_str(&percent_encode(account));
        let mut uri = format!(
            "otpauth://totp/{label}?secret={}",
            base32_encode(&self.secret).as_str()
        );
        if let Some(issuer) = &self.issuer {
            uri.push_str("&issuer=");
            uri.push_str(&percent_encode(issuer));
        }
        uri.push_str(&format!(
            "&algorithm={}&digits={}&period={}",
            self.algorithm.as_str(),
            self.digits,
            self.period
        ));
        Zeroizing::new(uri)
    }

    /// The secret in base32, as apps show it.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        base32_encode(&self.secret)
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn digits(&self) -> u8 {
        self.digits
    }

    pub fn period(&self) -> u32 {
        self.period
    }

    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
}

/// An issuer or account name: trimmed, no control characters, at most
/// [`MAX_LABEL_CHARS`]; empty means none.
fn label(field: &'static str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    if value.chars().count() > MAX_LABEL_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Decodes RFC 4648 base32: either case, spaces and dashes (as apps group
/// it) ignored, `=` padding only at the end.
pub fn base32_decode(input: &str) -> Result<Zeroizing<Vec<u8>>, DomainError> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() * 5 / 8));
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    let mut padded = false;
    for c in input.chars() {
        if c == ' ' || c == '-' {
            continue;
        }
        if c == '=' {
            padded = true;
            continue;
        }
        if padded {
            return Err(DomainError::invalid(
                "secret",
                "base32 padding (=) may only come at the end",
            ));
        }
        let upper = c.to_ascii_uppercase();
        let Some(value) = BASE32.iter().position(|&b| char::from(b) == upper) else {
            return Err(DomainError::invalid(
                "secret",
                "must be base32: the letters A–Z and the digits 2–7",
            ));
        };
        buffer = (buffer << 5) | value as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    buffer.zeroize();
    if out.is_empty() {
        return Err(DomainError::invalid("secret", "must not be empty"));
    }
    Ok(out)
}

/// Encodes RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(5) * 8));
    let mut buffer: u64 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u64::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    buffer.zeroize();
    out
}

fn percent_decode(input: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(input.len());
    let mut rest = input.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = tail.get(..2)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            bytes.push(value);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 4226, appendix D: the secret "12345678901234567890" and the
    /// HOTP values for counters 0 to 9.
    #[test]
    fn hotp_gives_rfc_4226s_values() {
        let key = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(hotp(Algorithm::Sha1, key, counter as u64, 6), want);
        }
    }

    /// RFC 6238, appendix B: eight digits, a 30-second period, one seed per
    /// hash (the SHA-1 seed repeated to the hash's block size).
    #[test]
    fn totp_gives_rfc_6238s_values() {
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let vectors: [(u64, &str, Algorithm, &[u8]); 18] = [
            (59, "94287082", Algorithm::Sha1, sha1),
            (59, "46119246", Algorithm::Sha256, sha256),
            (59, "90693936", Algorithm::Sha512, sha512),
            (1111111109, "07081804", Algorithm::Sha1, sha1),
            (1111111109, "68084774", Algorithm::Sha256, sha256),
            (1111111109, "25091201", Algorithm::Sha512, sha512),
            (1111111111, "14050471", Algorithm::Sha1, sha1),
            (1111111111, "67062674", Algorithm::Sha256, sha256),
            (1111111111, "99943326", Algorithm::Sha512, sha512),
            (1234567890, "89005924", Algorithm::Sha1, sha1),
            (1234567890, "91819424", Algorithm::Sha256, sha256),
            (1234567890, "93441116", Algorithm::Sha512, sha512),
            (2000000000, "69279037", Algorithm::Sha1, sha1),
            (2000000000, "90698825", Algorithm::Sha256, sha256),
            (2000000000, "38618901", Algorithm::Sha512, sha512),
            (20000000000, "65353130", Algorithm::Sha1, sha1),
            (20000000000, "77737706", Algorithm::Sha256, sha256),
            (20000000000, "47863826", Algorithm::Sha512, sha512),
        ];
        for (time, want, algorithm, key) in vectors {
            let seed =
                TotpSeed::new(&base32_encode(key), algorithm, 8, 30, None, None).expect("RFC seed");
            assert_eq!(seed.code_at(time).code, want, "{algorithm:?} at {time}");
        }
    }

    #[test]
    fn seconds_left_count_down_to_the_next_period() {
        let seed =
            TotpSeed::new("JBSWY3DPEHPK3PXP", Algorithm::Sha1, 6, 30, None, None).expect("seed");
        assert_eq!(seed.code_at(60).seconds_left, 30);
        assert_eq!(seed.code_at(61).seconds_left, 29);
        assert_eq!(seed.code_at(89).seconds_left, 1);
        assert_eq!(seed.code_at(89).code.len(), 6);
        assert_ne!(seed.code_at(89).code, seed.code_at(90).code);
    }

    #[test]
    fn a_full_uri_parses_with_every_parameter() {
        let seed = TotpSeed::parse_uri(
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ\
             &issuer=ACME%20Co&algorithm=SHA256&digits=7&period=60&image=https://x/y.png",
        )
        .expect("parses");
        assert_eq!(seed.issuer(), Some("ACME Co"));
        assert_eq!(seed.account(), Some("john.doe@email.com"));
        assert_eq!(seed.algorithm(), Algorithm::Sha256);
        assert_eq!(seed.digits(), 7);
        assert_eq!(seed.period(), 60);
        assert_eq!(
            seed.expose_secret().as_str(),
            "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
        );
    }

    #[test]
    fn a_bare_uri_takes_the_defaults() {
        let seed =
            TotpSeed::parse_uri("otpauth://totp/alice?secret=jbsw y3dp-ehpk3pxp").expect("parses");
        assert_eq!(seed.issuer(), None);
        assert_eq!(seed.account(), Some("alice"));
        assert_eq!(
            (seed.algorithm(), seed.digits(), seed.period()),
            (Algorithm::Sha1, 6, 30)
        );
    }

    #[test]
    fn every_bad_part_of_a_uri_is_named() {
        let cases = [
            ("not a uri", "uri", "not a URI"),
            (
                "https://totp/a?secret=JBSWY3DPEHPK3PXP",
                "uri",
                "otpauth://",
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=1",
                "uri",
                "hotp",
            ),
            (
                "otpauth://xotp/a?secret=JBSWY3DPEHPK3PXP",
                "uri",
                "type must be totp",
            ),
            ("otpauth://totp/a?issuer=x", "uri", "no secret"),
            (
                "otpauth://totp/a?secret=JBSWY3DP!HPK3PXP",
                "secret",
                "base32",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PX1",
                "secret",
                "base32",
            ),
            ("otpauth://totp/a?secret=JBSW", "secret", "too short"),
            ("otpauth://totp/a?secret=", "secret", "empty"),
            (
                "otpauth://totp/a?secret=JBSWY3DP=EHPK3PXP",
                "secret",
                "padding",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
                "algorithm",
                "SHA1",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=9",
                "digits",
                "6, 7 or 8",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six",
                "digits",
                "6, 7 or 8",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0",
                "period",
                "1 to 300",
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-5",
                "period",
                "1 to 300",
            ),
            (
                "otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=B",
                "uri",
                "differ",
            ),
            (
                "otpauth://totp/a%FF?secret=JBSWY3DPEHPK3PXP",
                "uri",
                "UTF-8",
            ),
            (
                "otpauth://totp/a%G1?secret=JBSWY3DPEHPK3PXP",
                "uri",
                "%-escape",
            ),
            (
                "otpauth://totp/a%0Ab?secret=JBSWY3DPEHPK3PXP",
                "account",
                "control",
            ),
            (
                "otpauth://totp/a%1Bb:c?secret=JBSWY3DPEHPK3PXP",
                "issuer",
                "control",
            ),
        ];
        for (uri, field, reason) in cases {
            match TotpSeed::parse_uri(uri) {
                Ok(_) => panic!("{uri} parsed"),
                Err(e) => {
                    assert_eq!(e.field(), field, "{uri}: {e}");
                    assert!(e.to_string().contains(reason), "{uri}: {e}");
                }
            }
        }
    }

    #[test]
    fn an_error_never_carries_the_secret() {
        let e =
            TotpSeed::parse_uri("otpauth://totp/a?secret=SECRETSECRET1SECRET").expect_err("bad");
        assert!(!e.to_string().contains("SECRETSECRET"), "{e}");
        let seed =
            TotpSeed::new("JBSWY3DPEHPK3PXP", Algorithm::Sha1, 6, 30, None, None).expect("seed");
        assert!(!format!("{seed:?}").contains("JBSW"));
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..200)) {
            let encoded = base32_encode(&bytes);
            let upper = base32_decode(&encoded).expect("decodes");
            let lower = base32_decode(&encoded.to_lowercase()).expect("decodes");
            prop_assert_eq!(upper.as_slice(), bytes.as_slice());
            prop_assert_eq!(lower.as_slice(), bytes.as_slice());
        }

        #[test]
        fn a_seed_round_trips_through_its_uri(
            bytes in proptest::collection::vec(any::<u8>(), MIN_SECRET_BYTES..64),
            issuer in proptest::option::of("[A-Za-z0-9 :&?%=#/]{0,20}"),
            account in proptest::option::of("[A-Za-z0-9 :@.&?%=#/]{0,20}"),
            digits in 6u8..=8,
            period in 1u32..=300,
        ) {
            let seed = TotpSeed::new(
                &base32_encode(&bytes), Algorithm::Sha512, digits, period,
                issuer.as_deref(), account.as_deref(),
            ).expect("seed");
            let back = TotpSeed::parse_uri(&seed.to_uri()).expect("its own URI parses");
            prop_assert_eq!(back, seed);
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(input in "\\PC{0,120}") {
            let _ = TotpSeed::parse_uri(&input);
            let _ = TotpSeed::parse_uri(&format!("otpauth://totp/{input}"));
            let _ = base32_decode(&input);
        }
    }
}
