//! Account credentials: the [`Login`] a user registers under, the account
//! [`Password`] and the [`Pin`] that unlocks card details.

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;

/// A user's login name.
///
/// Surrounding whitespace is trimmed and ASCII letters are lowercased, so
/// logins are case-insensitive. After that the login is 3–32 characters of
/// `[a-z0-9._-]`. The login `new` is reserved for registration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Login(String);

impl Login {
    /// Shortest accepted login, in characters.
    pub const MIN_LEN: usize = 3;
    /// Longest accepted login, in characters.
    pub const MAX_LEN: usize = 32;
    /// Login that cannot be registered because it names the sign-up flow.
    pub const RESERVED: &'static str = "new";
    /// Login that opens the recovery dialogue (`ssh recover@HOST`); no new
    /// account takes it.
    pub const RECOVERY: &'static str = "recover";

    /// Parses and normalizes a login.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "login";
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        // Reject non-ASCII before lowercasing: Unicode case folding maps some
        // look-alikes (e.g. the Kelvin sign) onto ASCII letters.
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !trimmed.chars().all(allowed) {
            return Err(DomainError::invalid(
                FIELD,
                "may contain only letters a-z, digits, '.', '_' and '-'",
            ));
        }
        let len = trimmed.len();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(DomainError::invalid(FIELD, "must be 3 to 32 characters"));
        }
        let login = trimmed.to_ascii_lowercase();
        if login == Self::RESERVED {
            return Err(DomainError::invalid(
                FIELD,
                "login `new` is reserved for registration",
            ));
        }
        Ok(Self(login))
    }

    /// The normalized (trimmed, lowercase) login.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account password.
///
/// 8–1024 characters (Unicode scalar values, not bytes), not trimmed, and
/// not equal to the account's login (compared case-insensitively).
/// Held in zeroizing storage; `Debug` prints `Password(***)`.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

/// The spellings a typed password is checked in, the canonical one first:
/// NFC (what Keeper stores passwords as, NIST SP 800-63B §5.1.1.2), then the
/// text exactly as typed and its NFD form where those differ, for accounts
/// made before passwords were normalised. An ASCII password has one form.
pub fn password_forms(input: &str) -> Vec<Zeroizing<String>> {
    use unicode_normalization::UnicodeNormalization;
    let mut forms: Vec<Zeroizing<String>> = vec![Zeroizing::new(input.nfc().collect())];
    if input.is_ascii() {
        return forms;
    }
    for form in [
        Zeroizing::new(input.to_owned()),
        Zeroizing::new(input.nfd().collect()),
    ] {
        if !forms.iter().any(|f| f.as_str() == form.as_str()) {
            forms.push(form);
        }
    }
    forms
}

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_LEN: usize = 8;
    /// Longest accepted password, in characters.
    pub const MAX_LEN: usize = 1024;

    /// Parses a password for the account `login`.
    pub fn parse(input: &str, login: &Login) -> Result<Self, DomainError> {
        const FIELD: &str = "password";
        let len = input.chars().count();
        if len < Self::MIN_LEN {
            return Err(DomainError::invalid(FIELD, "must be at least 8 characters"));
        }
        if len > Self::MAX_LEN {
            return Err(DomainError::invalid(
                FIELD,
                "must be at most 1024 characters",
            ));
        }
        // Compare without allocating a lowercase copy of the password.
        if input
            .chars()
            .flat_map(char::to_lowercase)
            .eq(login.as_str().chars())
        {
            return Err(DomainError::invalid(
                FIELD,
                "must not be the same as the login",
            ));
        }
        // Stored, hashed and turned into a key in NFC, so that the same
        // password typed on any keyboard opens the vault.
        let mut forms = password_forms(input);
        Ok(Self(forms.swap_remove(0)))
    }

    /// The password itself (NFC). Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A PIN that guards card details.
///
/// 4–12 ASCII digits; a single repeated digit (`1111`) and straight runs
/// stepping by +1 or −1 without wrap-around (`1234`, `9876`) are rejected.
/// `7890` is not a run (9→0 would be a wrap). Held in zeroizing storage;
/// `Debug` prints `Pin(***)`.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Fewest accepted digits.
    pub const MIN_LEN: usize = 4;
    /// Most accepted digits.
    pub const MAX_LEN: usize = 12;

    /// `input` as a PIN is checked and stored: in NFKC (NIST SP 800-63B),
    /// so full-width digits typed on some keyboards are the ASCII digits
    /// they look like. Every stored PIN is ASCII digits, which NFKC leaves
    /// as they are.
    pub fn normalized(input: &str) -> Zeroizing<String> {
        use unicode_normalization::UnicodeNormalization;
        if input.is_ascii() {
            Zeroizing::new(input.to_owned())
        } else {
            Zeroizing::new(input.nfkc().collect())
        }
    }

    /// Whether `input` has the shape of a PIN (4 to 12 ASCII digits),
    /// whatever its strength: what an unlock checks before it counts a
    /// guess, so that a mistyped space is a typo, not a wrong PIN.
    pub fn check_shape(input: &str) -> Result<(), DomainError> {
        let bytes = input.as_bytes();
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_digit)
        {
            return Ok(());
        }
        let reason = if input.trim() != input {
            "must be 4 to 12 digits, without spaces"
        } else {
            "must be 4 to 12 digits"
        };
        Err(DomainError::invalid("pin", reason))
    }

    /// Parses a PIN (after [`Pin::normalized`]).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "pin";
        let normalized = Self::normalized(input);
        let input = normalized.as_str();
        let bytes = input.as_bytes();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len())
            || !bytes.iter().all(u8::is_ascii_digit)
        {
            return Err(DomainError::invalid(FIELD, "must be 4 to 12 digits"));
        }
        let step = |delta: i16| {
            bytes
                .windows(2)
                .all(|w| i16::from(w[1]) - i16::from(w[0]) == delta)
        };
        if step(0) {
            return Err(DomainError::invalid(
                FIELD,
                "must not be a single repeated digit",
            ));
        }
        if step(1) || step(-1) {
            return Err(DomainError::invalid(
                FIELD,
                "must not be a straight run of consecutive digits",
            ));
        }
        Ok(Self(Zeroizing::new(input.to_owned())))
    }

    /// The PIN digits. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A recovery key: 200 random bits, shown once as 8 groups of 5 base32
/// characters (`ABCDE-FGHIJ-…`). It opens the vault as the password and
/// PIN together do, so that a forgotten one of them does not lose it.
/// Held in zeroizing storage; `Debug` prints `RecoveryKey(***)`.
#[derive(Clone)]
pub struct RecoveryKey(Zeroizing<Vec<u8>>);

impl RecoveryKey {
    /// Its length in bytes: 40 base32 characters.
    pub const BYTES: usize = 25;

    /// A key of fresh random bytes.
    pub fn from_bytes(bytes: [u8; Self::BYTES]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// Parses a key as shown, in any case, with or without its dashes and
    /// spaces.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let refused = || {
            DomainError::invalid(
                "recovery_key",
                "must be 40 letters and digits 2-7, as shown: 8 groups of 5 (ABCDE-FGHIJ-…)",
            )
        };
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.len() != 40 || !compact.is_ascii() {
            return Err(refused());
        }
        let bytes = super::totp::base32_decode(&compact).map_err(|_| refused())?;
        if bytes.len() != Self::BYTES {
            return Err(refused());
        }
        Ok(Self(bytes))
    }

    /// The key's bytes. Handle with care.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The key as it is shown: `ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345-67ABC-DEFGH`.
    pub fn display(&self) -> Zeroizing<String> {
        let encoded = super::totp::base32_encode(&self.0);
        let groups: Vec<&str> = (0..encoded.len())
            .step_by(5)
            .filter_map(|at| encoded.get(at..at + 5))
            .collect();
        Zeroizing::new(groups.join("-"))
    }
}

/// A one-time invite code (`keeper admin invite`): 120 random bits shown
/// as 4 groups of 6 base32 characters. Only its SHA-256 is stored.
#[derive(Clone)]
pub struct InviteCode(Zeroizing<String>);

impl InviteCode {
    /// Its length in bytes: 24 base32 characters.
    pub const BYTES: usize = 15;

    pub fn from_bytes(bytes: [u8; Self::BYTES]) -> Self {
        Self(super::totp::base32_encode(&bytes))
    }

    /// Parses a code as shown, in any case, with or without its dashes.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = compact.len() == 24
            && compact
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c));
        if !valid {
            return Err(DomainError::invalid(
                "invite",
                "must be 24 letters and digits 2-7, as given: 4 groups of 6 (ABCDEF-GHIJKL-…)",
            ));
        }
        Ok(Self(Zeroizing::new(compact)))
    }

    /// The code's canonical form (upper case, no dashes), which is hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code as it is shown: `ABCDEF-GHIJKL-MNOPQR-STUVWX`.
    pub fn display(&self) -> String {
        let groups: Vec<&str> = (0..self.0.len())
            .step_by(6)
            .filter_map(|at| self.0.get(at..at + 6))
            .collect();
        groups.join("-")
    }
}

redacted_debug!(Password, Pin, RecoveryKey, InviteCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_key_reads_back_as_shown_in_any_case_and_spacing() {
        let key = RecoveryKey::from_bytes([0xA5; RecoveryKey::BYTES]);
        let shown = key.display();
        assert_eq!(shown.len(), 47, "{}", shown.as_str());
        assert_eq!(shown.split('-').count(), 8);
        for typed in [
            shown.to_string(),
            shown.to_lowercase(),
            shown.replace('-', " "),
            shown.replace('-', ""),
        ] {
            let parsed = RecoveryKey::parse(&typed).expect("parses");
            assert_eq!(parsed.expose(), key.expose(), "{typed}");
        }
        for bad in ["", "ABCDE", &shown[..46], &format!("{}1", &shown[..46])] {
            assert!(RecoveryKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{key:?}"), "RecoveryKey(***)");
    }
    use crate::domain::testing::{keeps, redacted, refuses};
    use proptest::prelude::*;

    #[test]
    fn a_password_is_kept_in_nfc_and_checked_in_its_older_spellings_too() {
        let nfd = "cafe\u{301} au lait";
        let nfc = "caf\u{e9} au lait";
        let login = Login::parse("zoe").expect("login");
        assert_eq!(Password::parse(nfd, &login).expect("valid").expose(), nfc);
        let forms: Vec<String> = password_forms(nfd).iter().map(|f| f.to_string()).collect();
        assert_eq!(forms, vec![nfc.to_owned(), nfd.to_owned()]);
        let typed_nfc: Vec<String> = password_forms(nfc).iter().map(|f| f.to_string()).collect();
        assert_eq!(typed_nfc, vec![nfc.to_owned(), nfd.to_owned()]);
        assert_eq!(password_forms("plain ascii").len(), 1);
    }

    fn login(s: &str) -> Login {
        Login::parse(s).expect("valid login in test")
    }

    // ---- Login ----

    #[test]
    fn login_is_trimmed_lowercased_and_three_to_thirty_two_of_a_z_0_9_dot_underscore_dash() {
        let parse = |s: &str| Login::parse(s).map(|v| v.as_str().to_owned());
        let longest = "a".repeat(32);
        keeps(
            parse,
            &[
                ("alice.b_c-9", "alice.b_c-9"),
                ("  Alice \t", "alice"),
                ("BOB", "bob"),
                ("abc", "abc"),
                (&longest, &longest),
                ("news", "news"),
            ],
        );
        refuses(parse, "login: must not be empty", &[" "]);
        refuses(
            parse,
            "login: must be 3 to 32 characters",
            &["ab", &"a".repeat(33)],
        );
        // The Kelvin sign is refused, not folded onto the letter k.
        refuses(
            parse,
            "login: may contain only letters a-z, digits, '.', '_' and '-'",
            &[
                "al ice",
                "alice!",
                "al@ice",
                "alice/x",
                "ålice",
                "ali\u{212A}e",
                "\u{212A}im",
            ],
        );
        refuses(
            parse,
            "login: login `new` is reserved for registration",
            &["new", "NEW", " New "],
        );
    }

    #[test]
    fn logins_compare_and_display_as_their_normalized_text() {
        assert_eq!(login("BOB"), login("bob"));
        assert_eq!(login(" Carol ").to_string(), "carol");
    }

    // ---- Password ----

    #[test]
    fn password_is_eight_to_1024_characters_as_typed_and_not_the_login() {
        let alice = login("alice.smith");
        let parse = |s: &str| Password::parse(s, &alice).map(|v| v.expose().to_owned());
        let longest = "x".repeat(1024);
        // Lengths count characters: "é" is two bytes.
        let longest_accented = "é".repeat(1024);
        keeps(
            parse,
            &[
                ("12345678", "12345678"),
                ("éééééééé", "éééééééé"),
                (&longest, &longest),
                (&longest_accented, &longest_accented),
                ("  secret  ", "  secret  "),
                ("alice.smith1", "alice.smith1"),
            ],
        );
        refuses(
            parse,
            "password: must be at least 8 characters",
            &["1234567", "ééééééé"],
        );
        refuses(
            parse,
            "password: must be at most 1024 characters",
            &[&"x".repeat(1025)],
        );
        refuses(
            parse,
            "password: must not be the same as the login",
            &["alice.smith", "Alice.Smith", "ALICE.SMITH"],
        );
    }

    #[test]
    fn password_debug_does_not_reveal_the_secret() {
        redacted(
            Password::parse("hunter2hunter2", &login("alice")).expect("valid"),
            "Password(***)",
            "hunter2",
        );
    }

    // ---- Pin ----

    #[test]
    fn pin_is_four_to_twelve_digits_that_are_not_one_repeated_or_a_straight_run() {
        let parse = |s: &str| Pin::parse(s).map(|v| v.expose().to_owned());
        keeps(
            parse,
            &[
                ("1357", "1357"),
                ("135790246813", "135790246813"),
                // Runs that would need wrap-around, partial runs and near
                // repeats.
                ("7890", "7890"),
                ("8901", "8901"),
                ("1098", "1098"),
                ("1235", "1235"),
                ("12345670", "12345670"),
                ("1112", "1112"),
                ("2468", "2468"),
                ("1212", "1212"),
            ],
        );
        refuses(
            parse,
            "pin: must be 4 to 12 digits",
            &[
                "135",
                "1357902468135",
                "12a4",
                "12 45",
                " 1357",
                "1357\n",
                "١٢٣٥",
                "",
                "+1357",
            ],
        );
        refuses(
            parse,
            "pin: must not be a single repeated digit",
            &["1111", "0000", "999999999999"],
        );
        refuses(
            parse,
            "pin: must not be a straight run of consecutive digits",
            &[
                "1234",
                "9876",
                "0123",
                "3210",
                "23456789",
                "0123456789",
                "6543210",
            ],
        );
    }

    #[test]
    fn pin_debug_does_not_reveal_the_secret() {
        redacted(Pin::parse("4821").expect("valid"), "Pin(***)", "4821");
    }

    #[test]
    fn pin_errors_never_contain_the_rejected_value() {
        for bad in ["1234", "1111", "12a45", "1234567890123"] {
            let err = Pin::parse(bad).expect_err("should be rejected");
            assert!(!err.to_string().contains(bad), "{bad}");
        }
    }

    // ---- properties ----

    /// Independent statement of the PIN rule, used as an oracle.
    fn reference_pin_ok(s: &str) -> bool {
        let digits: Vec<i32> = s
            .chars()
            .filter_map(|c| c.to_digit(10).map(|d| d as i32))
            .collect();
        let all_ascii_digits = s.chars().all(|c| c.is_ascii_digit());
        if !all_ascii_digits || digits.len() < 4 || digits.len() > 12 {
            return false;
        }
        let first = digits[0];
        let same = digits.iter().all(|&d| d == first);
        let asc = digits
            .iter()
            .enumerate()
            .all(|(i, &d)| d == first + i as i32);
        let desc = digits
            .iter()
            .enumerate()
            .all(|(i, &d)| d == first - i as i32);
        !(same || asc || desc)
    }

    fn pin_candidates() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{0,14}",
            // repeated digit
            (0u8..10, 1usize..14).prop_map(|(d, n)| char::from(b'0' + d).to_string().repeat(n)),
            // ascending / descending runs, possibly wrapping or overflowing
            (0i32..10, 1usize..14, prop::bool::ANY).prop_map(|(start, n, up)| {
                (0..n)
                    .map(|i| {
                        let v = if up {
                            start + i as i32
                        } else {
                            start - i as i32
                        };
                        char::from(b'0' + v.rem_euclid(10) as u8)
                    })
                    .collect()
            }),
            "[0-9a ]{3,13}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn login_parse_is_idempotent_on_its_own_output(s in "[ \tA-Za-z0-9._!-]{0,40}") {
            if let Ok(l) = Login::parse(&s) {
                prop_assert_eq!(Login::parse(l.as_str()), Ok(l.clone()));
                prop_assert_eq!(l.as_str(), s.trim().to_ascii_lowercase());
            }
        }

        #[test]
        fn pin_accepts_exactly_what_the_reference_rule_accepts(s in pin_candidates()) {
            prop_assert_eq!(Pin::parse(&s).is_ok(), reference_pin_ok(&s), "{:?}", s);
        }

        #[test]
        fn pin_and_password_errors_never_echo_the_input(s in "[0-9]{4,20}|[#%&]{1,20}") {
            if let Err(e) = Pin::parse(&s) {
                prop_assert!(!e.to_string().contains(&s));
            }
            if let Err(e) = Password::parse(&s, &login("alice")) {
                prop_assert!(!e.to_string().contains(&s));
            }
        }
    }
}
