//! The rules plain-text fields share, written once: a field's newtype
//! names its rules in [`text_field!`], which writes the rest.

use super::DomainError;

/// What a text field allows.
pub(super) struct Rules {
    /// The field's name in errors.
    pub field: &'static str,
    /// Surrounding whitespace is dropped.
    pub trimmed: bool,
    /// Nothing (or nothing left once trimmed) is accepted.
    pub may_be_empty: bool,
    /// Most characters (Unicode scalar values).
    pub max_chars: usize,
    /// Characters refused anywhere, and how the refusal reads.
    pub refuse: fn(char) -> bool,
    pub refused: &'static str,
}

impl Rules {
    /// Trimmed and not empty; at most `max_chars` characters.
    pub(super) const fn trimmed(field: &'static str, max_chars: usize) -> Self {
        Self {
            field,
            trimmed: true,
            may_be_empty: false,
            max_chars,
            refuse: |_| false,
            refused: "",
        }
    }

    /// Kept as typed, not empty; at most `max_chars` characters.
    pub(super) const fn verbatim(field: &'static str, max_chars: usize) -> Self {
        Self {
            trimmed: false,
            ..Self::trimmed(field, max_chars)
        }
    }

    /// Trimmed, not empty, any printable character: names of people and
    /// accounts.
    pub(super) const fn printable(field: &'static str, max_chars: usize) -> Self {
        Self::trimmed(field, max_chars)
            .refusing(char::is_control, "control characters are not allowed")
    }

    /// These rules, and nothing at all is accepted too.
    pub(super) const fn may_be_empty(self) -> Self {
        Self {
            may_be_empty: true,
            ..self
        }
    }

    /// These rules, refusing the characters `refuse` picks with the error
    /// `refused`.
    pub(super) const fn refusing(self, refuse: fn(char) -> bool, refused: &'static str) -> Self {
        Self {
            refuse,
            refused,
            ..self
        }
    }

    /// The value `input` stands for, or why it is refused: emptiness first,
    /// then a refused character, then the length.
    pub(super) fn check(&self, input: &str) -> Result<String, DomainError> {
        let text = if self.trimmed { input.trim() } else { input };
        if !self.may_be_empty && text.is_empty() {
            return Err(DomainError::invalid(self.field, "must not be empty"));
        }
        if text.chars().any(self.refuse) {
            return Err(DomainError::invalid(self.field, self.refused));
        }
        if text.chars().count() > self.max_chars {
            return Err(DomainError::invalid(
                self.field,
                format!("must be at most {} characters", self.max_chars),
            ));
        }
        Ok(text.to_owned())
    }
}

/// A newtype over a `String` that `Rules` checked: the struct, its
/// `MAX_LEN`, `parse`, `as_str`, `Display` and a redacted `Debug`.
macro_rules! text_field {
    ($(#[$meta:meta])* $ty:ident: $rules:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $ty(String);

        impl $ty {
            const RULES: $crate::domain::text::Rules = $rules;

            /// Longest accepted text, in characters.
            pub const MAX_LEN: usize = Self::RULES.max_chars;

            /// Parses the field from what the user typed.
            pub fn parse(input: &str) -> Result<Self, $crate::domain::DomainError> {
                Self::RULES.check(input).map(Self)
            }

            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        redacted_debug!($ty);
    };
}
pub(super) use text_field;

/// `%XX` escapes decoded (RFC 3986); `None` if the result is not UTF-8.
/// What it decodes may be a secret: every copy is wiped on drop.
pub fn percent_decode(text: &str) -> Option<zeroize::Zeroizing<String>> {
    let bytes = text.as_bytes();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    match String::from_utf8(std::mem::take(&mut *out)) {
        Ok(text) => Some(zeroize::Zeroizing::new(text)),
        Err(e) => {
            drop(zeroize::Zeroizing::new(e.into_bytes()));
            None
        }
    }
}

/// `text` with every byte but RFC 3986's unreserved characters written as
/// `%XX`, for a header value that must be ASCII (RFC 8187's ext-value).
pub fn percent_encode(text: &str) -> zeroize::Zeroizing<String> {
    let mut out = zeroize::Zeroizing::new(String::with_capacity(text.len() * 3));
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod percent_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoding_is_ascii_and_decodes_back(text in "\\PC*") {
            let encoded = percent_encode(&text);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic()));
            let decoded = percent_decode(&encoded);
            prop_assert_eq!(decoded.as_deref().map(String::as_str), Some(text.as_str()));
        }
    }

    #[test]
    fn bad_escapes_stay_as_they_are_and_non_utf8_is_refused() {
        assert_eq!(
            percent_decode("100%").as_deref().map(String::as_str),
            Some("100%")
        );
        assert_eq!(
            percent_decode("%zz").as_deref().map(String::as_str),
            Some("%zz")
        );
        assert_eq!(
            percent_decode("%+A").as_deref().map(String::as_str),
            Some("%+A")
        );
        assert!(percent_decode("%FF%FE").is_none());
    }
}
