//! Vault item fields: the [`ItemName`] every item carries, the fields of a
//! password item ([`Username`], [`Secret`], [`Url`], [`Note`]), a secure
//! note's [`NoteText`] and the
//! password generator's [`GenLength`].

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;
use super::text::{Rules, text_field};

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

/// Whether `c` is NUL, which no stored text may hold.
fn nul(c: char) -> bool {
    c == '\0'
}

/// `s` as `find` compares it: compatibility-decomposed, accents (combining
/// marks) dropped, case-folded: `Zoë`, `ZOE` and `zoe` are one.
pub fn search_form(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let bare: String = s.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    fold(&bare)
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
        Rules::trimmed("name", Self::MAX_LEN)
            .refusing(
                |c| matches!(c, '\0' | '\n' | '\r'),
                "must not contain NUL characters or line breaks",
            )
            .check(input)
            .map(Self)
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

text_field!(
    /// A free-form note attached to an item: up to 4096 characters, anything
    /// but NUL. May be empty; not trimmed.
    Note: Rules::verbatim("note", 4096)
        .may_be_empty()
        .refusing(nul, "must not contain NUL characters")
);

text_field!(
    /// The site a password belongs to.
    ///
    /// Trimmed, 1–2048 characters, no whitespace or control characters inside.
    /// No scheme is required: `github.com` is fine.
    Url: Rules::trimmed("url", 2048).refusing(
        |c| c.is_whitespace() || c.is_control(),
        "must not contain spaces or control characters",
    )
);

text_field!(
    /// The user name stored with a password item (not a keeper login).
    ///
    /// Trimmed, 1–256 characters, no control characters.
    Username: Rules::printable("username", 256)
);

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
        Rules::verbatim("password", Self::MAX_LEN)
            .refusing(nul, "must not contain NUL characters")
            .check(input)
            .map(|text| Self(Zeroizing::new(text)))
    }

    /// The password value. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The text of a secure note: multi-line, up to 64 KiB (65,536 bytes of
/// UTF-8), anything but NUL; not empty and not trimmed. Secret: held in
/// zeroizing storage, `Debug` prints `NoteText(***)`.
#[derive(Clone)]
pub struct NoteText(Zeroizing<String>);

impl NoteText {
    /// Longest accepted text, in bytes of UTF-8.
    pub const MAX_BYTES: usize = 64 * 1024;
    /// Why a longer text is refused.
    pub const TOO_LONG: &'static str = "must be at most 64 KiB (65536 bytes)";

    /// Parses a note's text as given.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "text";
        if input.is_empty() {
            return Err(DomainError::invalid(FIELD, "must not be empty"));
        }
        if input.contains('\0') {
            return Err(DomainError::invalid(
                FIELD,
                "must not contain NUL characters",
            ));
        }
        if input.len() > Self::MAX_BYTES {
            return Err(DomainError::invalid(
                FIELD,
                format!("{}; this is {} bytes", Self::TOO_LONG, input.len()),
            ));
        }
        Ok(Self(Zeroizing::new(input.to_owned())))
    }

    /// The text. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

redacted_debug!(ItemName, Secret, NoteText);

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
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn find_compares_text_without_case_accents_or_compatibility_forms() {
        assert_eq!(search_form("Zoë ÅNGSTRÖM"), search_form("zoe angstrom"));
        assert_eq!(search_form("Straße"), "strasse");
        assert_eq!(search_form("ｇｉｔ"), "git");
        assert_ne!(search_form("zoe"), search_form("zoa"));
    }
    use crate::domain::testing::{keeps, longest, redacted, refuses, rejected};

    // Each field's parser, giving back the text it keeps.

    fn name(s: &str) -> Result<String, DomainError> {
        ItemName::parse(s).map(|v| v.as_str().to_owned())
    }

    fn note(s: &str) -> Result<String, DomainError> {
        Note::parse(s).map(|v| v.to_string())
    }

    fn url(s: &str) -> Result<String, DomainError> {
        Url::parse(s).map(|v| v.to_string())
    }

    fn username(s: &str) -> Result<String, DomainError> {
        Username::parse(s).map(|v| v.to_string())
    }

    fn secret(s: &str) -> Result<String, DomainError> {
        Secret::parse(s).map(|v| v.expose().to_owned())
    }

    #[test]
    fn item_name_is_trimmed_and_may_hold_escapes_but_no_nul_or_line_breaks() {
        let escapes = "evil\u{1b}[2Jname\tx\u{7}";
        keeps(
            name,
            &[
                ("  GitHub Work \t", "GitHub Work"),
                ("x", "x"),
                (escapes, escapes),
            ],
        );
        refuses(name, "name: must not be empty", &["", " \t "]);
        refuses(
            name,
            "name: must not contain NUL characters or line breaks",
            &["a\0b", "a\nb", "a\rb", "a\r\nb"],
        );
    }

    #[test]
    fn note_may_be_empty_and_keeps_whitespace_but_not_nul() {
        let text = "  line one\nline two\r\n\tend ";
        keeps(note, &[("", ""), (text, text)]);
        refuses(note, "note: must not contain NUL characters", &["a\0b"]);
    }

    #[test]
    fn url_needs_no_scheme_and_is_trimmed_without_inner_whitespace() {
        let full = "https://example.org/login?next=/a%20b";
        keeps(url, &[(" github.com ", "github.com"), (full, full)]);
        refuses(url, "url: must not be empty", &[" "]);
        refuses(
            url,
            "url: must not contain spaces or control characters",
            &["exa mple.com", "a\tb", "a\u{1b}b", "a\u{a0}b", "a\nb"],
        );
    }

    #[test]
    fn username_is_trimmed_and_may_contain_spaces_but_not_control_characters() {
        keeps(
            username,
            &[
                (" alice@example.com ", "alice@example.com"),
                ("Jane Doe", "Jane Doe"),
            ],
        );
        refuses(username, "username: must not be empty", &[""]);
        refuses(
            username,
            "username: control characters are not allowed",
            &["a\u{1b}b"],
        );
    }

    #[test]
    fn secret_is_not_trimmed_and_refuses_nul_but_no_other_control_character() {
        keeps(secret, &[(" x ", " x "), ("a\tb\nc", "a\tb\nc")]);
        refuses(secret, "password: must not be empty", &[""]);
        refuses(
            secret,
            "password: must not contain NUL characters",
            &["a\0b"],
        );
    }

    #[test]
    fn text_fields_count_their_length_in_characters_not_bytes() {
        longest(name, "name", 'ж', 64);
        longest(note, "note", 'ю', 4096);
        longest(url, "url", 'a', 2048);
        longest(username, "username", 'u', 256);
        longest(secret, "password", 'ß', 1024);
    }

    #[test]
    fn item_name_displays_as_its_text() {
        let name = ItemName::parse("  GitHub Work \t").expect("valid");
        assert_eq!(name.to_string(), "GitHub Work");
    }

    #[test]
    fn a_name_stored_before_the_invisible_character_rule_still_parses_as_stored() {
        assert!(ItemName::parse("a\u{200b}b").is_err());
        let stored = ItemName::named("a\u{200b}b").expect("stored names are read leniently");
        assert_eq!(stored.as_str(), "a\u{200b}b");
        assert!(ItemName::named("").is_err() && ItemName::named("a\nb").is_err());
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
