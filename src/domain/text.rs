//! The rules plain-text fields share, written once: a field's newtype
//! names its rules and gets `as_str` and `Display` from [`text_field!`].

use super::DomainError;

/// What a text field allows.
pub(super) struct Rules {
    /// The field's name in errors.
    pub field: &'static str,
    /// Surrounding whitespace is dropped, and nothing left is refused.
    pub trimmed: bool,
    /// Most characters (Unicode scalar values).
    pub max_chars: usize,
    /// Characters refused anywhere, and how the refusal reads.
    pub refuse: fn(char) -> bool,
    pub refused: &'static str,
}

impl Rules {
    /// Trimmed, not empty, any printable character: names of people and
    /// accounts.
    pub(super) const fn printable(field: &'static str, max_chars: usize) -> Self {
        Self {
            field,
            trimmed: true,
            max_chars,
            refuse: char::is_control,
            refused: "control characters are not allowed",
        }
    }

    /// The value `input` stands for, or why it is refused: emptiness first,
    /// then a refused character, then the length.
    pub(super) fn check(&self, input: &str) -> Result<String, DomainError> {
        let text = if self.trimmed { input.trim() } else { input };
        if self.trimmed && text.is_empty() {
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

/// `as_str` and `Display` for newtypes over a checked `String`.
macro_rules! text_field {
    ($($ty:ident),+ $(,)?) => {$(
        impl $ty {
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
    )+};
}
pub(super) use text_field;
