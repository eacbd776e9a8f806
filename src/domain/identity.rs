//! The fields of an identity: [`FullName`], [`Email`], [`Phone`],
//! [`Address`] and the secret [`DocumentNumber`].

use zeroize::Zeroizing;

use super::DomainError;
use super::text::{Rules, text_field};

text_field!(
    /// A person's full name: trimmed, 1–256 printable characters.
    FullName: Rules::printable("full_name", 256)
);

text_field!(
    /// A postal address: up to 1024 characters, lines kept, no NUL;
    /// trimmed of surrounding whitespace.
    Address: Rules::trimmed("address", 1024)
        .refusing(|c| c == '\0', "must not contain NUL characters")
);

text_field!(
    /// A phone number as written: trimmed, 1–64 characters of digits,
    /// spaces and `+ - ( ) . /`, with at least one digit (checked in
    /// [`Phone::parse_number`]).
    Phone: Rules::trimmed("phone", 64).refusing(
        |c| !(c.is_ascii_digit() || " +-()./".contains(c)),
        "may hold only digits, spaces and + - ( ) . /",
    )
);

impl Phone {
    /// A phone number: [`Phone::parse`], and at least one digit.
    pub fn parse_number(input: &str) -> Result<Self, DomainError> {
        let phone = Self::parse(input)?;
        if !phone.as_str().bytes().any(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid("phone", "must hold a digit"));
        }
        Ok(phone)
    }
}

text_field!(
    /// An email address: trimmed, at most 254 characters, one `@` with
    /// something on each side, no spaces or control characters (checked in
    /// [`Email::parse_address`]).
    Email: Rules::trimmed("email", 254).refusing(
        |c| c.is_whitespace() || c.is_control(),
        "must not contain spaces or control characters",
    )
);

impl Email {
    /// An email address: [`Email::parse`], and the shape `local@domain`.
    pub fn parse_address(input: &str) -> Result<Self, DomainError> {
        let email = Self::parse(input)?;
        match email.as_str().split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(email)
            }
            _ => Err(DomainError::invalid(
                "email",
                "must look like name@example.com",
            )),
        }
    }
}

/// A document's number (passport, ID card, driving licence): secret,
/// trimmed, 1–64 printable characters. Held in zeroizing storage; `Debug`
/// prints `DocumentNumber(***)`.
#[derive(Clone)]
pub struct DocumentNumber(Zeroizing<String>);

impl DocumentNumber {
    /// Parses a document number.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Rules::printable("document", 64)
            .check(input)
            .map(|text| Self(Zeroizing::new(text)))
    }

    /// The number. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

redacted_debug!(DocumentNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_needs_one_at_with_text_on_both_sides() {
        assert!(Email::parse_address(" ada@example.test ").is_ok());
        for bad in ["ada", "@example.test", "ada@", "a@b@c", "ada @x.test", ""] {
            assert!(Email::parse_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_phone_holds_digits_and_the_usual_punctuation() {
        assert!(Phone::parse_number("+44 (0)20 7946-0958").is_ok());
        for bad in ["call me", "+--", "12\u{202e}34", ""] {
            assert!(Phone::parse_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_keeps_its_lines_and_a_document_number_is_redacted() {
        let address = Address::parse("1 Main St\nSpringfield\n").expect("address");
        assert_eq!(address.as_str(), "1 Main St\nSpringfield");
        let document = DocumentNumber::parse(" X1234567 ").expect("document");
        assert_eq!(document.expose(), "X1234567");
        assert_eq!(format!("{document:?}"), "DocumentNumber(***)");
        assert!(DocumentNumber::parse("a\u{7}b").is_err());
    }
}
