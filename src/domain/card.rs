//! Bank card details: [`CardNumber`] (with its [`Brand`]), [`Expiry`],
//! [`Cvv`] and the card [`Holder`] name.

use std::fmt;

use zeroize::Zeroizing;

use super::DomainError;
use super::text::{Rules, text_field};

/// Card network, detected from the number's issuer identification prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Brand {
    /// Visa (prefix 4).
    Visa,
    /// Mastercard (51–55, 2221–2720).
    Mastercard,
    /// American Express (34, 37).
    Amex,
    /// Discover (6011, 644–649, 65).
    Discover,
    /// JCB (3528–3589).
    Jcb,
    /// Diners Club (300–305, 36, 38–39).
    Diners,
    /// Mir (2200–2204).
    Mir,
    /// UnionPay (62).
    UnionPay,
    /// Any other prefix.
    Unknown,
}

impl Brand {
    /// Display name: "Visa", "Mastercard", "Amex", "Discover", "JCB",
    /// "Diners", "Mir", "UnionPay" or "Unknown".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visa => "Visa",
            Self::Mastercard => "Mastercard",
            Self::Amex => "Amex",
            Self::Discover => "Discover",
            Self::Jcb => "JCB",
            Self::Diners => "Diners",
            Self::Mir => "Mir",
            Self::UnionPay => "UnionPay",
            Self::Unknown => "Unknown",
        }
    }

    /// Detects the brand from the leading digits of a card number.
    ///
    /// Longer, more specific prefixes are checked before shorter ones.
    /// Input that does not start with enough ASCII digits yields
    /// [`Brand::Unknown`]. The 622126–622925 range (Discover co-branded)
    /// is reported as UnionPay.
    pub fn detect(digits: &str) -> Self {
        let p4 = numeric_prefix(digits, 4);
        let p3 = numeric_prefix(digits, 3);
        let p2 = numeric_prefix(digits, 2);
        let in_range = |p: Option<u32>, lo: u32, hi: u32| p.is_some_and(|v| (lo..=hi).contains(&v));

        if in_range(p4, 2200, 2204) {
            Self::Mir
        } else if in_range(p4, 2221, 2720) {
            Self::Mastercard
        } else if in_range(p4, 3528, 3589) {
            Self::Jcb
        } else if p4 == Some(6011) {
            Self::Discover
        } else if in_range(p3, 300, 305) {
            Self::Diners
        } else if in_range(p3, 644, 649) {
            Self::Discover
        } else if in_range(p2, 51, 55) {
            Self::Mastercard
        } else if matches!(p2, Some(34 | 37)) {
            Self::Amex
        } else if matches!(p2, Some(36 | 38 | 39)) {
            Self::Diners
        } else if p2 == Some(65) {
            Self::Discover
        } else if p2 == Some(62) {
            Self::UnionPay
        } else if digits.starts_with('4') {
            Self::Visa
        } else {
            Self::Unknown
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first `n` characters of `s` as a number, if they are all ASCII digits.
fn numeric_prefix(s: &str, n: usize) -> Option<u32> {
    let prefix = s.get(..n)?;
    if prefix.bytes().all(|b| b.is_ascii_digit()) {
        prefix.parse().ok()
    } else {
        None
    }
}

/// Luhn (ISO/IEC 7812-1 Annex B) check over a string of ASCII digits.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A primary account number.
///
/// Input may contain spaces and dashes anywhere; they are stripped and only
/// the digits are stored. 12–19 digits, Luhn-valid, and Amex numbers must be
/// exactly 15 digits. Held in zeroizing storage; `Debug` shows at most the
/// last four digits, e.g. `CardNumber(****1111)`.
#[derive(Clone)]
pub struct CardNumber(Zeroizing<String>);

impl CardNumber {
    /// Fewest accepted digits.
    pub const MIN_LEN: usize = 12;
    /// Most accepted digits.
    pub const MAX_LEN: usize = 19;

    /// Parses a card number, ignoring spaces and dashes.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "number";
        // Capacity up front so the buffer never reallocates and leaves an
        // un-zeroized copy of partial digits behind.
        let mut digits = Zeroizing::new(String::with_capacity(input.len()));
        for c in input.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => {
                    return Err(DomainError::invalid(
                        FIELD,
                        "may contain only digits, spaces and dashes",
                    ));
                }
            }
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&digits.len()) {
            return Err(DomainError::invalid(FIELD, "must be 12 to 19 digits"));
        }
        if Brand::detect(&digits) == Brand::Amex && digits.len() != 15 {
            return Err(DomainError::invalid(
                FIELD,
                "an Amex number must be 15 digits",
            ));
        }
        if !luhn_valid(&digits) {
            return Err(DomainError::invalid(FIELD, "fails the Luhn check"));
        }
        Ok(Self(digits))
    }

    /// The card number's digits, without separators. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The card's brand, detected from its prefix.
    pub fn brand(&self) -> Brand {
        Brand::detect(&self.0)
    }

    /// The last four digits (not secret; safe to display).
    pub fn last4(&self) -> String {
        let start = self.0.len().saturating_sub(4);
        self.0.get(start..).unwrap_or_default().to_owned()
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(****{})", self.last4())
    }
}

/// A card's expiry month.
///
/// Parsed from `MM/YY` or `MM/YYYY` (two-digit month 01–12; `YY` means
/// `20YY`; `YYYY` must be 2000–2099). Displayed as `MM/YY`. A card is valid
/// through the end of its expiry month.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    month: u8,
    year: u16,
}

impl Expiry {
    const FIELD: &'static str = "expiry";

    /// Parses `MM/YY` or `MM/YYYY`; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let format_err = || DomainError::invalid(Self::FIELD, "must be MM/YY or MM/YYYY");
        let (mm, yy) = input.trim().split_once('/').ok_or_else(format_err)?;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if mm.len() != 2 || !all_digits(mm) || !matches!(yy.len(), 2 | 4) || !all_digits(yy) {
            return Err(format_err());
        }
        let month: u8 = mm.parse().map_err(|_| format_err())?;
        let year: u16 = yy.parse().map_err(|_| format_err())?;
        let year = if yy.len() == 2 { 2000 + year } else { year };
        Self::from_parts(month, year)
    }

    /// Builds an expiry from a month (1–12) and a full year (2000–2099),
    /// e.g. when loading from storage.
    pub fn from_parts(month: u8, year: u16) -> Result<Self, DomainError> {
        if !(1..=12).contains(&month) {
            return Err(DomainError::invalid(Self::FIELD, "month must be 01 to 12"));
        }
        if !(2000..=2099).contains(&year) {
            return Err(DomainError::invalid(
                Self::FIELD,
                "year must be 2000 to 2099",
            ));
        }
        Ok(Self { month, year })
    }

    /// Expiry month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// Full expiry year, 2000–2099.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// Whether the card has expired on `date`: it is valid through the last
    /// day of its expiry month, so `11/26` expires on 2026-12-01.
    pub fn is_expired_at(&self, date: time::Date) -> bool {
        (date.year(), u8::from(date.month())) > (i32::from(self.year), self.month)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.month, self.year % 100)
    }
}

/// A card verification value (CVV/CVC/CID).
///
/// 3–4 ASCII digits; use [`Cvv::check_for`] to check it against the card's
/// brand. Held in zeroizing storage; `Debug` prints `Cvv(***)`.
#[derive(Clone)]
pub struct Cvv(Zeroizing<String>);

impl Cvv {
    const FIELD: &'static str = "cvv";

    /// Parses a CVV.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        if !matches!(input.len(), 3 | 4) || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid(Self::FIELD, "must be 3 or 4 digits"));
        }
        Ok(Self(Zeroizing::new(input.to_owned())))
    }

    /// Checks the length against `brand`: Amex needs 4 digits, every other
    /// known brand 3; [`Brand::Unknown`] accepts either.
    pub fn check_for(&self, brand: Brand) -> Result<(), DomainError> {
        let len = self.0.len();
        match brand {
            Brand::Unknown => Ok(()),
            Brand::Amex if len == 4 => Ok(()),
            Brand::Amex => Err(DomainError::invalid(
                Self::FIELD,
                "an Amex card needs a 4-digit CVV",
            )),
            _ if len == 3 => Ok(()),
            other => Err(DomainError::invalid(
                Self::FIELD,
                format!("a {other} card needs a 3-digit CVV"),
            )),
        }
    }

    /// The CVV digits. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

text_field!(
    /// The cardholder's name as printed on the card.
    ///
    /// Trimmed, 1–64 characters, any printable characters (letters of any
    /// script, spaces, apostrophes, …) but no control characters.
    Holder: Rules::printable("holder", 64)
);

redacted_debug!(Expiry, Cvv);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{keeps, longest, redacted, refuses, rejected};
    use proptest::prelude::*;
    use time::macros::date;

    fn number(s: &str) -> CardNumber {
        CardNumber::parse(s).expect("valid card number in test")
    }

    /// Appends the Luhn check digit to `body`.
    fn with_check_digit(body: &str) -> String {
        for d in 0..10 {
            let candidate = format!("{body}{d}");
            if luhn_valid(&candidate) {
                return candidate;
            }
        }
        panic!("no check digit found");
    }

    // ---- Brand ----

    #[test]
    fn brand_detection_covers_every_iin_range() {
        let cases = [
            ("4111", Brand::Visa),
            ("5100", Brand::Mastercard),
            ("5599", Brand::Mastercard),
            ("2221", Brand::Mastercard),
            ("2720", Brand::Mastercard),
            ("2721", Brand::Unknown),
            ("2220", Brand::Unknown),
            ("3400", Brand::Amex),
            ("3700", Brand::Amex),
            ("6011", Brand::Discover),
            ("6440", Brand::Discover),
            ("6499", Brand::Discover),
            ("6500", Brand::Discover),
            ("6012", Brand::Unknown),
            ("3528", Brand::Jcb),
            ("3589", Brand::Jcb),
            ("3527", Brand::Unknown),
            ("3590", Brand::Unknown),
            ("3000", Brand::Diners),
            ("3059", Brand::Diners),
            ("3060", Brand::Unknown),
            ("3600", Brand::Diners),
            ("3800", Brand::Diners),
            ("3900", Brand::Diners),
            ("2200", Brand::Mir),
            ("2204", Brand::Mir),
            ("2205", Brand::Unknown),
            ("6200", Brand::UnionPay),
            ("6221", Brand::UnionPay),
            ("5000", Brand::Unknown),
            ("5600", Brand::Unknown),
            ("1234", Brand::Unknown),
            ("", Brand::Unknown),
            ("4", Brand::Visa),
            ("x411", Brand::Unknown),
        ];
        for (digits, brand) in cases {
            assert_eq!(Brand::detect(digits), brand, "{digits}");
        }
    }

    #[test]
    fn brand_names_display_as_expected() {
        let names: Vec<String> = [
            Brand::Visa,
            Brand::Mastercard,
            Brand::Amex,
            Brand::Discover,
            Brand::Jcb,
            Brand::Diners,
            Brand::Mir,
            Brand::UnionPay,
            Brand::Unknown,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            names,
            [
                "Visa",
                "Mastercard",
                "Amex",
                "Discover",
                "JCB",
                "Diners",
                "Mir",
                "UnionPay",
                "Unknown"
            ]
        );
    }

    // ---- CardNumber ----

    #[test]
    fn well_known_test_numbers_parse_with_their_brands() {
        let cases = [
            ("4111 1111 1111 1111", "4111111111111111", Brand::Visa),
            ("5555-5555-5555-4444", "5555555555554444", Brand::Mastercard),
            ("378282246310005", "378282246310005", Brand::Amex),
            ("6011111111111117", "6011111111111117", Brand::Discover),
            ("3530111333300000", "3530111333300000", Brand::Jcb),
            ("30569309025904", "30569309025904", Brand::Diners),
            ("2200 0000 0000 0004", "2200000000000004", Brand::Mir),
            ("6200000000000005", "6200000000000005", Brand::UnionPay),
        ];
        for (input, digits, brand) in cases {
            let n = number(input);
            assert_eq!(n.expose(), digits);
            assert_eq!(n.brand(), brand, "{input}");
        }
    }

    #[test]
    fn card_number_drops_spaces_and_dashes_anywhere_and_refuses_other_characters() {
        let digits = |s: &str| CardNumber::parse(s).map(|v| v.expose().to_owned());
        keeps(digits, &[(" 4-1 11--1111 1111-111 1 ", "4111111111111111")]);
        refuses(
            digits,
            "number: may contain only digits, spaces and dashes",
            &[
                "4111.1111.1111.1111",
                "4111\t1111111111111",
                "4111a111111111111",
                "４111111111111111",
            ],
        );
        refuses(digits, "number: must be 12 to 19 digits", &["", " - "]);
        refuses(
            digits,
            "number: fails the Luhn check",
            &["4111 1111 1111 1112"],
        );
    }

    #[test]
    fn card_number_must_be_twelve_to_nineteen_digits() {
        let eleven = with_check_digit("4000000000");
        let twelve = with_check_digit("40000000000");
        let nineteen = with_check_digit(&"4".repeat(18));
        let twenty = with_check_digit(&"4".repeat(19));
        assert!(CardNumber::parse(&eleven).is_err());
        assert!(CardNumber::parse(&twelve).is_ok());
        assert!(CardNumber::parse(&nineteen).is_ok());
        rejected(
            CardNumber::parse(&twenty),
            "number: must be 12 to 19 digits",
        );
    }

    #[test]
    fn amex_requires_fifteen_digits() {
        let sixteen = with_check_digit("378282246310005");
        assert!(luhn_valid(&sixteen));
        rejected(
            CardNumber::parse(&sixteen),
            "number: an Amex number must be 15 digits",
        );
        assert!(CardNumber::parse("378282246310005").is_ok());
    }

    #[test]
    fn last4_returns_the_final_four_digits() {
        assert_eq!(number("5555-5555-5555-4444").last4(), "4444");
    }

    #[test]
    fn card_number_debug_shows_at_most_the_last_four_digits() {
        let n = number("4111 1111 1111 1111");
        let dbg = format!("{n:?}");
        assert_eq!(dbg, "CardNumber(****1111)");
        assert!(!dbg.contains("41111111"));
        let n = number("378282246310005");
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("378282246310005"));
        assert!(!dbg.contains("3782"));
    }

    #[test]
    fn card_number_errors_never_contain_the_rejected_value() {
        for bad in [
            "4111111111111112",
            "411111111111111111111",
            "3782822463100050",
        ] {
            let err = CardNumber::parse(bad).expect_err("refused");
            assert!(!err.to_string().contains(bad), "{bad}");
        }
    }

    #[test]
    fn luhn_matches_iso_7812_reference_values() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(luhn_valid("0"));
    }

    // ---- Expiry ----

    #[test]
    fn expiry_accepts_two_and_four_digit_years() {
        let e = Expiry::parse("11/26").expect("valid");
        assert_eq!((e.month(), e.year()), (11, 2026));
        let e = Expiry::parse("03/2031").expect("valid");
        assert_eq!((e.month(), e.year()), (3, 2031));
        assert_eq!(Expiry::parse(" 03/31 "), Expiry::parse("03/2031"));
    }

    #[test]
    fn expiry_is_a_two_digit_month_and_a_year_2000_to_2099_shown_as_mm_slash_yy() {
        let expiry = |s: &str| Expiry::parse(s).map(|v| v.to_string());
        keeps(
            expiry,
            &[
                ("01/26", "01/26"),
                ("12/26", "12/26"),
                ("03/2031", "03/31"),
                ("01/2000", "01/00"),
                ("12/2099", "12/99"),
            ],
        );
        refuses(
            expiry,
            "expiry: month must be 01 to 12",
            &["00/26", "13/26"],
        );
        refuses(
            expiry,
            "expiry: year must be 2000 to 2099",
            &["12/1999", "01/2100"],
        );
        refuses(
            expiry,
            "expiry: must be MM/YY or MM/YYYY",
            &[
                "1/26",
                "001/26",
                "1/2026",
                "",
                "/",
                "11",
                "11-26",
                "11/2",
                "11/202",
                "11/20266",
                "ab/cd",
                "1a/26",
                "+1/26",
                "11/+6",
                "11 /26",
                "１１/26",
            ],
        );
    }

    #[test]
    fn expiry_year_bounds_are_2000_and_2099() {
        assert_eq!(Expiry::parse("01/00").expect("valid").year(), 2000);
        assert_eq!(Expiry::parse("12/99").expect("valid").year(), 2099);
    }

    #[test]
    fn expiry_from_parts_displays_as_mm_slash_yy() {
        assert_eq!(
            Expiry::from_parts(1, 2000).expect("valid").to_string(),
            "01/00"
        );
    }

    #[test]
    fn expiry_from_parts_checks_ranges() {
        assert!(Expiry::from_parts(0, 2026).is_err());
        assert!(Expiry::from_parts(13, 2026).is_err());
        assert!(Expiry::from_parts(12, 1999).is_err());
        assert!(Expiry::from_parts(12, 2100).is_err());
        assert_eq!(Expiry::from_parts(11, 2026), Expiry::parse("11/26"));
    }

    #[test]
    fn card_is_valid_through_the_end_of_its_expiry_month() {
        let e = Expiry::parse("11/26").expect("valid");
        assert!(!e.is_expired_at(date!(2020 - 01 - 01)));
        assert!(!e.is_expired_at(date!(2026 - 11 - 01)));
        assert!(!e.is_expired_at(date!(2026 - 11 - 30)));
        assert!(e.is_expired_at(date!(2026 - 12 - 01)));
        assert!(e.is_expired_at(date!(2027 - 01 - 01)));
        let dec = Expiry::parse("12/26").expect("valid");
        assert!(!dec.is_expired_at(date!(2026 - 12 - 31)));
        assert!(dec.is_expired_at(date!(2027 - 01 - 01)));
    }

    // ---- Cvv ----

    #[test]
    fn cvv_is_three_or_four_ascii_digits() {
        let cvv = |s: &str| Cvv::parse(s).map(|v| v.expose().to_owned());
        keeps(cvv, &[("123", "123"), ("1234", "1234")]);
        refuses(
            cvv,
            "cvv: must be 3 or 4 digits",
            &["12", "12345", "12a", " 123", "", "١٢٣"],
        );
    }

    #[test]
    fn amex_cvv_needs_four_digits_and_others_three() {
        let three = Cvv::parse("123").expect("valid");
        let four = Cvv::parse("1234").expect("valid");
        assert!(four.check_for(Brand::Amex).is_ok());
        rejected(
            three.check_for(Brand::Amex),
            "cvv: an Amex card needs a 4-digit CVV",
        );
        for brand in [
            Brand::Visa,
            Brand::Mastercard,
            Brand::Discover,
            Brand::Jcb,
            Brand::Diners,
            Brand::Mir,
            Brand::UnionPay,
        ] {
            assert!(three.check_for(brand).is_ok());
            rejected(
                four.check_for(brand),
                &format!("cvv: a {brand} card needs a 3-digit CVV"),
            );
        }
    }

    #[test]
    fn unknown_brand_accepts_either_cvv_length() {
        assert!(
            Cvv::parse("123")
                .expect("valid")
                .check_for(Brand::Unknown)
                .is_ok()
        );
        assert!(
            Cvv::parse("1234")
                .expect("valid")
                .check_for(Brand::Unknown)
                .is_ok()
        );
    }

    #[test]
    fn cvv_debug_does_not_reveal_the_secret() {
        redacted(Cvv::parse("987").expect("valid"), "Cvv(***)", "987");
    }

    // ---- Holder ----

    #[test]
    fn holder_is_trimmed_and_may_be_any_script_but_not_control_characters() {
        let holder = |s: &str| Holder::parse(s).map(|v| v.as_str().to_owned());
        keeps(
            holder,
            &[
                ("  Jane Doe \t", "Jane Doe"),
                ("JOHN O'NEIL", "JOHN O'NEIL"),
                ("Иван Петров", "Иван Петров"),
                ("山田 太郎", "山田 太郎"),
                ("A", "A"),
                ("Zoë-Ana d'Arc", "Zoë-Ana d'Arc"),
            ],
        );
        refuses(holder, "holder: must not be empty", &[" "]);
        refuses(
            holder,
            "holder: control characters are not allowed",
            &[
                "Jane\u{1b}[31m",
                "Ja\nne",
                "Ja\0ne",
                "Jane\u{7f}Doe",
                "Jane\u{85}Doe",
            ],
        );
        longest(holder, "holder", 'я', 64);
        let holder = Holder::parse("  Jane Doe \t").expect("valid");
        assert_eq!(holder.to_string(), "Jane Doe");
    }

    // ---- properties ----

    fn separators() -> impl Strategy<Value = Vec<&'static str>> {
        prop::collection::vec(
            prop::sample::select(vec!["", "", " ", "-", " - ", "--"]),
            20,
        )
    }

    fn interleave(digits: &str, seps: &[&str]) -> String {
        let mut out = String::new();
        for (c, sep) in digits.chars().zip(seps.iter().cycle()) {
            out.push_str(sep);
            out.push(c);
        }
        out.push_str(seps.last().copied().unwrap_or_default());
        out
    }

    proptest! {
        #[test]
        fn card_parsers_never_panic_on_near_miss_input(s in "[0-9 /-]{0,25}") {
            let _ = CardNumber::parse(&s);
            let _ = Expiry::parse(&s);
            let _ = Cvv::parse(&s);
        }

        #[test]
        fn any_luhn_completed_number_parses_and_survives_reformatting(
            body in "[0-9]{11,18}",
            seps in separators(),
        ) {
            let digits = with_check_digit(&body);
            let parsed = CardNumber::parse(&digits);
            if Brand::detect(&digits) == Brand::Amex && digits.len() != 15 {
                prop_assert!(parsed.is_err());
            } else {
                let parsed = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(parsed.expose(), digits.as_str());
                let formatted = interleave(parsed.expose(), &seps);
                let reparsed = CardNumber::parse(&formatted)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(reparsed.expose(), digits.as_str());
            }
        }

        #[test]
        fn changing_one_digit_of_a_valid_number_fails(
            body in "[0-9]{11,18}",
            pos in any::<prop::sample::Index>(),
            bump in 1u32..10,
        ) {
            let digits = with_check_digit(&body);
            let i = pos.index(digits.len());
            let old = digits.as_bytes()[i] - b'0';
            let new = (u32::from(old) + bump) % 10;
            let mut changed = digits.clone();
            changed.replace_range(i..=i, &new.to_string());
            prop_assert_ne!(&changed, &digits);
            prop_assert!(CardNumber::parse(&changed).is_err());
        }

        #[test]
        fn card_number_errors_never_echo_the_input(s in "[0-9]{5,25}") {
            if let Err(e) = CardNumber::parse(&s) {
                prop_assert!(!e.to_string().contains(&s));
            }
        }

        #[test]
        fn expiry_display_round_trips_through_parse(month in 1u8..=12, year in 2000u16..=2099) {
            let e = Expiry::from_parts(month, year).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Expiry::parse(&e.to_string()), Ok(e));
            prop_assert_eq!(Expiry::parse(&format!("{month:02}/{year}")), Ok(e));
        }

        #[test]
        fn expiry_is_expired_exactly_after_its_month(
            month in 1u8..=12,
            year in 2000u16..=2099,
            day_year in 1999i32..=2101,
            day_month in 1u8..=12,
            day in 1u8..=28,
        ) {
            let e = Expiry::from_parts(month, year).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let m = time::Month::try_from(day_month).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let d = time::Date::from_calendar_date(day_year, m, day)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let after = day_year > i32::from(year) || (day_year == i32::from(year) && day_month > month);
            prop_assert_eq!(e.is_expired_at(d), after);
        }
    }
}
