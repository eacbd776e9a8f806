//! Vault item fields: the [`ItemName`] every item carries, the fields of a
//! password item ([`Username`], [`Secret`], [`Url`], [`Note`]) and the
//! password generator's [`GenLength`].

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;
use super::text::{Rules, text_field};

text_field!(Note, Url, Username);

/// The user-chosen name of a vault item.
///
/// Trimmed of surrounding whitespace and put in Unicode NFC, 1–64
/// characters. Control characters are allowed (the terminal renderer
/// escapes them), except NUL, `\n` and `\r`; characters that show as
/// nothing (zero-width spaces and joiners, direction marks, a BOM, soft
/// hyphens) are refused, but for the joiners and variation selectors inside
/// an emoji. Names are unique up to case and look-alike spelling: compare
/// [`ItemName::normalized`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ItemName(String);

/// Characters that render as nothing or only steer rendering: in a name
/// they would make two identical-looking names different.
pub fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The invisible characters that some text needs: the zero-width joiner,
/// variation selectors and tags inside an emoji (`👩‍💻`, `❤️`, a
/// subdivision flag), a variation selector after a keycap base (`1️⃣`), and
/// the zero-width non-joiner after a letter of a non-Latin script (Persian).
pub fn emoji_glue(c: char, before: Option<char>) -> bool {
    let Some(b) = before else {
        return false;
    };
    let after_symbol = !b.is_ascii() && !b.is_alphanumeric();
    match c {
        '\u{200D}' | '\u{E0020}'..='\u{E007F}' => after_symbol,
        '\u{FE0E}' | '\u{FE0F}' => after_symbol || matches!(b, '0'..='9' | '#' | '*'),
        '\u{200C}' => !b.is_ascii() && b.is_alphabetic(),
        _ => false,
    }
}

/// Case-folds `s` (lowercase, with the folds lowercasing misses).
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .flat_map(|c| match c {
            'ß' | 'ẞ' => ['s', 's'].into_iter().take(2),
            'ς' => ['σ', '\0'].into_iter().take(1),
            c => [c, '\0'].into_iter().take(1),
        })
        .collect()
}

impl ItemName {
    /// Longest accepted name, in characters.
    pub const MAX_LEN: usize = 64;

    /// Parses a new item name (what a create or a rename stores).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        use unicode_normalization::UnicodeNormalization;
        const FIELD: &str = "name";
        let nfc: String = input.trim().nfc().collect();
        let trimmed = Self::named(&nfc)?.0;
        let mut before = None;
        for c in trimmed.chars() {
            if invisible(c) && !emoji_glue(c, before) {
                return Err(DomainError::invalid(
                    FIELD,
                    format!(
                        "must not contain invisible characters (U+{:04X} here)",
                        u32::from(c)
                    ),
                ));
            }
            before = Some(c);
        }
        Ok(Self(trimmed))
    }

    /// A name that refers to an item, or was stored with one: held to the
    /// rules every version kept (not empty, no NUL or line break, at most
    /// 64 characters) but not to the newer ones for new names, so that an
    /// item stored before them still opens, lists and can be named.
    pub fn named(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "name";
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if trimmed.contains(['\0', '\n', '\r']) {
            return Err(DomainError::invalid(
                FIELD,
                "must not contain NUL characters or line breaks",
            ));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(DomainError::invalid(FIELD, "must be at most 64 characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as entered (trimmed, NFC).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two names are the same in, which the blind index is made
    /// of: compatibility-normalised (NFKC: `ｇｉｔ` and `git`, `ﬁ` and
    /// `fi`) and case-folded (`Straße` and `STRASSE`).
    pub fn normalized(&self) -> String {
        use unicode_normalization::UnicodeNormalization;
        let compatible: String = self.0.nfkc().collect();
        fold(&compatible).nfkc().collect()
    }

    /// The forms earlier versions indexed this name under (trimmed and
    /// lowercased, as typed in NFC or NFD), where they differ from
    /// [`ItemName::normalized`]: lookups fall back to them, so items stored
    /// before keep being found (and move to the new index when next saved).
    pub fn legacy_forms(&self) -> Vec<String> {
        use unicode_normalization::UnicodeNormalization;
        let current = self.normalized();
        let mut forms = Vec::new();
        for form in [
            self.0.to_lowercase(),
            self.0.nfd().collect::<String>().to_lowercase(),
        ] {
            if form != current && !forms.contains(&form) {
                forms.push(form);
            }
        }
        forms
    }
}

impl fmt::Display for ItemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A free-form note attached to an item: up to 4096 characters, anything
/// but NUL. May be empty; not trimmed.
#[derive(Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    /// Longest accepted note, in characters.
    pub const MAX_LEN: usize = 4096;

    /// Parses a note.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Rules {
            field: "note",
            trimmed: false,
            max_chars: Self::MAX_LEN,
            refuse: |c| c == '\0',
            refused: "must not contain NUL characters",
        }
        .check(input)
        .map(Self)
    }
}

/// The site a password belongs to.
///
/// Trimmed, 1–2048 characters, no whitespace or control characters inside.
/// No scheme is required: `github.com` is fine.
#[derive(Clone, PartialEq, Eq)]
pub struct Url(String);

impl Url {
    /// Longest accepted URL, in characters.
    pub const MAX_LEN: usize = 2048;

    /// Parses a URL.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Rules {
            field: "url",
            trimmed: true,
            max_chars: Self::MAX_LEN,
            refuse: |c| c.is_whitespace() || c.is_control(),
            refused: "must not contain spaces or control characters",
        }
        .check(input)
        .map(Self)
    }
}

/// The user name stored with a password item (not a keeper login).
///
/// Trimmed, 1–256 characters, no control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Longest accepted user name, in characters.
    pub const MAX_LEN: usize = 256;

    /// Parses a user name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Rules::printable("username", Self::MAX_LEN)
            .check(input)
            .map(Self)
    }
}

/// The password value stored in a password item.
///
/// 1–1024 characters, anything but NUL, not trimmed. Errors use the field
/// name `password`. Held in zeroizing storage; `Debug` prints `Secret(***)`.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Longest accepted secret, in characters.
    pub const MAX_LEN: usize = 1024;

    /// Parses a stored password value.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "password";
        if input.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if input.contains('\0') {
            return Err(DomainError::invalid(
                FIELD,
                "must not contain NUL characters",
            ));
        }
        if input.chars().count() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                FIELD,
                "must be at most 1024 characters",
            ));
        }
        Ok(Self(Zeroizing::new(input.to_owned())))
    }

    /// The password value. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

redacted_debug!(ItemName, Note, Url, Username);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Length of a generated password: 8–128 characters, 20 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenLength(u32);

impl GenLength {
    /// Shortest generated password.
    pub const MIN: u32 = 8;
    /// Longest generated password.
    pub const MAX: u32 = 128;
    /// Length used when none is given.
    pub const DEFAULT: u32 = 20;

    const FIELD: &'static str = "length";
    const REASON: &'static str = "must be a whole number from 8 to 128";

    /// Checks a numeric length.
    pub fn new(len: u32) -> Result<Self, DomainError> {
        if (Self::MIN..=Self::MAX).contains(&len) {
            Ok(Self(len))
        } else {
            Err(DomainError::invalid(Self::FIELD, Self::REASON))
        }
    }

    /// Parses a decimal length such as `"32"`; surrounding whitespace is
    /// ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(Self::FIELD, Self::REASON));
        }
        let len = trimmed
            .parse::<u32>()
            .map_err(|_| DomainError::invalid(Self::FIELD, Self::REASON))?;
        Self::new(len)
    }

    /// The length in characters.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The length as a `usize`, convenient for indexing and allocation.
    pub fn as_usize(self) -> usize {
        // 8..=128 always fits.
        self.0 as usize
    }
}

impl Default for GenLength {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

impl fmt::Display for GenLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{redacted, rejected};

    #[test]
    fn a_name_stored_before_the_invisible_character_rule_still_parses_as_stored() {
        assert!(ItemName::parse("a\u{200b}b").is_err());
        let stored = ItemName::named("a\u{200b}b").expect("stored names are read leniently");
        assert_eq!(stored.as_str(), "a\u{200b}b");
        assert!(ItemName::named("").is_err() && ItemName::named("a\nb").is_err());
    }
    use proptest::prelude::*;

    fn err_text<T>(r: Result<T, DomainError>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    // ---- ItemName ----

    #[test]
    fn item_name_is_trimmed() {
        let n = ItemName::parse("  GitHub Work \t").expect("valid");
        assert_eq!(n.as_str(), "GitHub Work");
        assert_eq!(n.to_string(), "GitHub Work");
    }

    #[test]
    fn item_name_must_not_be_blank() {
        rejected(ItemName::parse(""), "name: must not be empty");
        rejected(ItemName::parse(" \t "), "name: must not be empty");
    }

    #[test]
    fn item_name_is_one_to_sixty_four_characters_not_bytes() {
        assert!(ItemName::parse("x").is_ok());
        assert!(ItemName::parse(&"ж".repeat(64)).is_ok());
        rejected(
            ItemName::parse(&"ж".repeat(65)),
            "name: must be at most 64 characters",
        );
    }

    #[test]
    fn item_name_may_hold_escape_sequences_and_tabs() {
        let n = ItemName::parse("evil\u{1b}[2Jname\tx\u{7}").expect("valid");
        assert_eq!(n.as_str(), "evil\u{1b}[2Jname\tx\u{7}");
    }

    #[test]
    fn item_name_rejects_nul_and_line_breaks_inside() {
        for bad in ["a\0b", "a\nb", "a\rb", "a\r\nb"] {
            assert_eq!(
                err_text(ItemName::parse(bad)),
                "name: must not contain NUL characters or line breaks",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn item_name_normalized_is_trimmed_unicode_lowercase() {
        let a = ItemName::parse(" GitHub ").expect("valid");
        let b = ItemName::parse("github").expect("valid");
        assert_ne!(a, b);
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(
            ItemName::parse("ПОЧТА").expect("valid").normalized(),
            "почта"
        );
    }

    // ---- Note ----

    #[test]
    fn note_may_be_empty_and_up_to_4096_characters() {
        assert_eq!(Note::parse("").expect("valid").as_str(), "");
        assert!(Note::parse(&"ю".repeat(4096)).is_ok());
        rejected(
            Note::parse(&"ю".repeat(4097)),
            "note: must be at most 4096 characters",
        );
    }

    #[test]
    fn note_keeps_newlines_and_whitespace_but_rejects_nul() {
        let text = "  line one\nline two\r\n\tend ";
        assert_eq!(Note::parse(text).expect("valid").as_str(), text);
        rejected(Note::parse("a\0b"), "note: must not contain NUL characters");
    }

    // ---- Url ----

    #[test]
    fn url_needs_no_scheme_and_is_trimmed() {
        assert_eq!(
            Url::parse(" github.com ").expect("valid").as_str(),
            "github.com"
        );
        assert!(Url::parse("https://example.org/login?next=/a%20b").is_ok());
    }

    #[test]
    fn url_is_one_to_2048_characters() {
        rejected(Url::parse(" "), "url: must not be empty");
        assert!(Url::parse(&"a".repeat(2048)).is_ok());
        rejected(
            Url::parse(&"a".repeat(2049)),
            "url: must be at most 2048 characters",
        );
    }

    #[test]
    fn url_rejects_inner_whitespace_and_control_characters() {
        for bad in ["exa mple.com", "a\tb", "a\u{1b}b", "a\u{a0}b", "a\nb"] {
            assert_eq!(
                err_text(Url::parse(bad)),
                "url: must not contain spaces or control characters",
                "{bad:?}"
            );
        }
    }

    // ---- Username ----

    #[test]
    fn username_is_trimmed_and_one_to_256_characters() {
        assert_eq!(
            Username::parse(" alice@example.com ")
                .expect("valid")
                .as_str(),
            "alice@example.com"
        );
        rejected(Username::parse(""), "username: must not be empty");
        assert!(Username::parse(&"u".repeat(256)).is_ok());
        rejected(
            Username::parse(&"u".repeat(257)),
            "username: must be at most 256 characters",
        );
    }

    #[test]
    fn username_may_contain_spaces_but_not_control_characters() {
        assert!(Username::parse("Jane Doe").is_ok());
        rejected(
            Username::parse("a\u{1b}b"),
            "username: control characters are not allowed",
        );
    }

    // ---- Secret ----

    #[test]
    fn secret_is_one_to_1024_characters_and_not_trimmed() {
        assert_eq!(Secret::parse(" x ").expect("valid").expose(), " x ");
        rejected(Secret::parse(""), "password: must not be empty");
        assert!(Secret::parse(&"ß".repeat(1024)).is_ok());
        rejected(
            Secret::parse(&"ß".repeat(1025)),
            "password: must be at most 1024 characters",
        );
    }

    #[test]
    fn secret_rejects_nul_but_allows_other_control_characters() {
        assert!(Secret::parse("a\tb\nc").is_ok());
        rejected(
            Secret::parse("a\0b"),
            "password: must not contain NUL characters",
        );
    }

    #[test]
    fn secret_debug_does_not_reveal_the_secret() {
        redacted(
            Secret::parse("correct horse battery staple").expect("valid"),
            "Secret(***)",
            "horse",
        );
    }

    // ---- GenLength ----

    #[test]
    fn gen_length_defaults_to_twenty() {
        assert_eq!(GenLength::default().get(), 20);
    }

    #[test]
    fn gen_length_is_eight_to_128() {
        assert!(GenLength::new(7).is_err());
        assert_eq!(GenLength::new(8).expect("valid").get(), 8);
        assert_eq!(GenLength::new(128).expect("valid").as_usize(), 128);
        rejected(
            GenLength::new(129),
            "length: must be a whole number from 8 to 128",
        );
    }

    #[test]
    fn gen_length_parses_decimal_text() {
        assert_eq!(GenLength::parse(" 32 ").expect("valid").get(), 32);
        for bad in [
            "",
            "abc",
            "-8",
            "+8",
            "8.0",
            "99999999999999999999",
            "7",
            "129",
        ] {
            assert!(GenLength::parse(bad).is_err(), "{bad:?}");
        }
    }

    // ---- properties ----

    proptest! {
        #[test]
        fn item_parsers_never_panic(s in any::<String>()) {
            let _ = ItemName::parse(&s).map(|n| n.normalized());
            let _ = Note::parse(&s);
            let _ = Url::parse(&s);
            let _ = Username::parse(&s);
            let _ = Secret::parse(&s);
            let _ = GenLength::parse(&s);
        }

        #[test]
        fn item_name_parse_is_idempotent(s in "\\PC{0,70}") {
            if let Ok(n) = ItemName::parse(&s) {
                prop_assert_eq!(ItemName::parse(n.as_str()), Ok(n.clone()));
            }
        }

        #[test]
        fn gen_length_parse_agrees_with_new(n in 0u32..300) {
            prop_assert_eq!(GenLength::parse(&n.to_string()), GenLength::new(n));
        }
    }
}
