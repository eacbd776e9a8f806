//! Searching files as raw bytes for secrets, in every encoding a leak could
//! take: UTF-8 and UTF-16LE, JSON and Rust `Debug` escaping, percent and form
//! encoding, hex, and base64 (standard and URL-safe) at any byte alignment.
//!
//! A [`Needle`] is one secret with its plain spellings (as given, lowercase,
//! grouped digits, …) and the byte patterns those spellings become under each
//! encoding. A [`Scanner`] finds every pattern of every needle in a set of
//! files; [`assert_scanner_finds_every_form`] is the positive control that
//! proves it, so a scan cannot pass by searching for nothing.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};

/// Shortest pattern the scanner accepts; shorter ones would match by chance.
const MIN_PATTERN: usize = 4;

/// One secret and the byte strings it would leave behind in a file.
#[derive(Debug, Clone)]
pub struct Needle {
    pub what: String,
    /// The spellings a program could hold the secret in, as text.
    pub plain: Vec<String>,
    /// `(description, bytes)` of every pattern searched for.
    pub forms: Vec<(String, Vec<u8>)>,
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `s` inside a JSON string: `"` `\` and control characters escaped.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).expect("a string serialises");
    quoted[1..quoted.len() - 1].to_owned()
}

/// `s` inside a JSON string written by an ASCII-only encoder (`\uXXXX`).
fn json_ascii_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in json_escaped(s).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// `s` as Rust's `{:?}` prints it, without the quotes.
fn debug_escaped(s: &str) -> String {
    let quoted = format!("{s:?}");
    quoted[1..quoted.len() - 1].to_owned()
}

/// Percent-encoding of every byte outside RFC 3986's unreserved set; with
/// `plus`, a space becomes `+` (HTML forms).
fn percent_encoded(bytes: &[u8], plus: bool) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else if plus && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

/// The base64 characters that encode `bytes` whatever surrounds them, when
/// `bytes` starts `offset` (0, 1 or 2) bytes into a 3-byte group: the
/// characters that also depend on neighbouring bytes are left out.
fn base64_core(engine: &impl Engine, bytes: &[u8], offset: usize) -> String {
    let mut shifted = vec![0u8; offset];
    shifted.extend_from_slice(bytes);
    let encoded = engine.encode(&shifted);
    let skip = [0, 2, 3][offset];
    let full_groups = shifted.len() / 3;
    encoded
        .get(skip..4 * full_groups)
        .unwrap_or_default()
        .to_owned()
}

/// Every pattern `bytes` (already text-encoded or binary) becomes under the
/// byte-level encodings: as is, hex, and base64 at each alignment.
fn byte_forms(spelling: &str, bytes: &[u8], raw: bool) -> Vec<(String, Vec<u8>)> {
    let mut forms = Vec::new();
    if raw {
        forms.push((spelling.to_owned(), bytes.to_vec()));
    }
    forms.push((format!("{spelling}, hex"), hex(bytes, false).into_bytes()));
    forms.push((format!("{spelling}, HEX"), hex(bytes, true).into_bytes()));
    for offset in 0..3 {
        forms.push((
            format!("{spelling}, base64 at offset {offset}"),
            base64_core(&STANDARD, bytes, offset).into_bytes(),
        ));
        forms.push((
            format!("{spelling}, URL-safe base64 at offset {offset}"),
            base64_core(&URL_SAFE, bytes, offset).into_bytes(),
        ));
    }
    forms
}

/// Every pattern the text `s` becomes under each encoding.
pub fn encodings(s: &str, spelling: &str) -> Vec<(String, Vec<u8>)> {
    let mut forms = byte_forms(&format!("{spelling}, UTF-8"), s.as_bytes(), true);
    forms.push((format!("{spelling}, UTF-16LE"), utf16le(s)));
    forms.push((
        format!("{spelling}, JSON-escaped"),
        json_escaped(s).into_bytes(),
    ));
    forms.push((
        format!("{spelling}, JSON \\u-escaped"),
        json_ascii_escaped(s).into_bytes(),
    ));
    forms.push((
        format!("{spelling}, Debug-escaped"),
        debug_escaped(s).into_bytes(),
    ));
    forms.push((
        format!("{spelling}, percent-encoded"),
        percent_encoded(s.as_bytes(), false).into_bytes(),
    ));
    forms.push((
        format!("{spelling}, form-encoded"),
        percent_encoded(s.as_bytes(), true).into_bytes(),
    ));
    forms
}

impl Needle {
    fn build(what: String, spellings: Vec<(String, String)>) -> Self {
        let mut forms = Vec::new();
        for (spelling, text) in &spellings {
            forms.extend(encodings(text, spelling));
        }
        let mut needle = Self {
            what,
            plain: spellings.into_iter().map(|(_, text)| text).collect(),
            forms: Vec::new(),
        };
        needle.add_forms(forms);
        needle
    }

    /// Adds patterns, skipping any already searched for; panics on one too
    /// short to search for without false alarms.
    fn add_forms(&mut self, forms: Vec<(String, Vec<u8>)>) {
        for (form, bytes) in forms {
            assert!(
                bytes.len() >= MIN_PATTERN,
                "{} ({form}) is too short to search for",
                self.what
            );
            if !self.forms.iter().any(|(_, b)| *b == bytes) {
                self.forms.push((form, bytes));
            }
        }
    }

    /// A password, PIN, note, holder, URL or username: as given.
    pub fn secret(what: &str, value: &str) -> Self {
        Self::build(
            format!("{what} `{value}`"),
            vec![("as given".into(), value.into())],
        )
    }

    /// An item name: as given, lowercase and uppercase (names are
    /// case-insensitive, and a normalised copy would be lowercase).
    pub fn name(what: &str, value: &str) -> Self {
        Self::build(
            format!("{what} `{value}`"),
            vec![
                ("as given".into(), value.into()),
                ("lowercase".into(), value.to_lowercase()),
                ("uppercase".into(), value.to_uppercase()),
            ],
        )
    }

    /// A card number: bare digits and in groups separated by spaces or dashes
    /// (4-4-4-4, and 4-6-5 for 15 digits), plus its first twelve digits
    /// (not even a prefix may be readable).
    pub fn card_number(what: &str, digits: &str) -> Self {
        assert!(digits.len() >= 15 && digits.bytes().all(|b| b.is_ascii_digit()));
        let fours: Vec<&str> = digits
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("digits"))
            .collect();
        let mut groupings = vec![fours];
        if digits.len() == 15 {
            groupings.push(vec![&digits[..4], &digits[4..10], &digits[10..]]);
        }
        let mut spellings = vec![("digits".to_owned(), digits.to_owned())];
        for groups in &groupings {
            spellings.push(("with spaces".into(), groups.join(" ")));
            spellings.push(("with dashes".into(), groups.join("-")));
        }
        let mut needle = Self::build(format!("{what} `{digits}`"), spellings);
        let prefix = &digits[..12];
        needle.add_forms(vec![
            (
                "first twelve digits, UTF-8".into(),
                prefix.as_bytes().to_vec(),
            ),
            ("first twelve digits, UTF-16LE".into(), utf16le(prefix)),
        ]);
        needle
    }

    /// A short value (CVV, expiry) that occurs by chance in timestamps, ids
    /// and ciphertext: searched for in the contexts a leak would write it in
    /// (a JSON field, `key=value`, a command-line flag, a prompt's answer).
    pub fn in_context(what: &str, field: &str, value: &str) -> Self {
        let upper = field.to_uppercase();
        let mut title = field.to_owned();
        if let Some(first) = title.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let contexts = [
            format!("\"{field}\":\"{value}\""),
            format!("\"{field}\": \"{value}\""),
            format!("{field}={value}"),
            format!("{field}=\"{value}\""),
            format!("{field}: {value}"),
            format!("--{field} {value}"),
            format!("--{field}={value}"),
            format!("--{field} '{value}'"),
            format!("{upper}: {value}"),
            format!("{title}: {value}"),
        ];
        Self::build(
            format!("{what} `{value}` in context"),
            contexts.into_iter().map(|c| (c.clone(), c)).collect(),
        )
    }

    /// An API token `kpr_<base64url of 32 bytes>`: the whole token, its body
    /// without the prefix, and its 32 raw bytes (as bytes, hex and base64).
    pub fn token(what: &str, token: &str) -> Self {
        let mut needle = Self::build(
            format!("{what} `{token}`"),
            vec![("as given".into(), token.into())],
        );
        let body = token.strip_prefix("kpr_").unwrap_or(token);
        needle.add_forms(encodings(body, "body without prefix"));
        if let Ok(raw) = URL_SAFE_NO_PAD.decode(body) {
            needle.add_forms(byte_forms("raw token bytes", &raw, true));
        }
        needle
    }
}

/// Where one pattern was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub needle: usize,
    pub form: usize,
    pub place: String,
}

/// Finds many patterns in one pass over each file: a table of the first two
/// bytes of every pattern filters positions, a map of the first four bytes
/// names the candidates.
pub struct Scanner<'a> {
    needles: &'a [Needle],
    first_two: Vec<bool>,
    by_prefix: HashMap<[u8; MIN_PATTERN], Vec<(usize, usize)>>,
}

impl<'a> Scanner<'a> {
    pub fn new(needles: &'a [Needle]) -> Self {
        let mut first_two = vec![false; 1 << 16];
        let mut by_prefix: HashMap<[u8; MIN_PATTERN], Vec<(usize, usize)>> = HashMap::new();
        for (n, needle) in needles.iter().enumerate() {
            for (f, (_, bytes)) in needle.forms.iter().enumerate() {
                let prefix: [u8; MIN_PATTERN] = bytes[..MIN_PATTERN]
                    .try_into()
                    .expect("patterns are long enough");
                first_two[usize::from(prefix[0]) << 8 | usize::from(prefix[1])] = true;
                by_prefix.entry(prefix).or_default().push((n, f));
            }
        }
        Self {
            needles,
            first_two,
            by_prefix,
        }
    }

    /// Every `(needle, form)` that occurs in `haystack`.
    pub fn find(&self, haystack: &[u8]) -> BTreeSet<(usize, usize)> {
        let mut found = BTreeSet::new();
        if haystack.len() < MIN_PATTERN {
            return found;
        }
        for i in 0..=haystack.len() - MIN_PATTERN {
            if !self.first_two[usize::from(haystack[i]) << 8 | usize::from(haystack[i + 1])] {
                continue;
            }
            let prefix: [u8; MIN_PATTERN] =
                haystack[i..i + MIN_PATTERN].try_into().expect("four bytes");
            if let Some(candidates) = self.by_prefix.get(&prefix) {
                for &(n, f) in candidates {
                    if haystack[i..].starts_with(&self.needles[n].forms[f].1) {
                        found.insert((n, f));
                    }
                }
            }
        }
        found
    }

    /// Every pattern found in `haystack`, labelled with `place`.
    pub fn scan_bytes(&self, place: &str, haystack: &[u8]) -> Vec<Finding> {
        self.find(haystack)
            .into_iter()
            .map(|(needle, form)| Finding {
                needle,
                form,
                place: place.to_owned(),
            })
            .collect()
    }

    /// Every pattern found in any of `files`.
    pub fn scan_files(&self, files: &[PathBuf]) -> Vec<Finding> {
        let mut found = Vec::new();
        for file in files {
            let bytes = std::fs::read(file)
                .unwrap_or_else(|e| panic!("read scanned file {}: {e}", file.display()));
            found.extend(self.scan_bytes(&file.display().to_string(), &bytes));
        }
        found
    }

    /// A finding as a line: what, in which form, where.
    pub fn describe(&self, finding: &Finding) -> String {
        let needle = &self.needles[finding.needle];
        format!(
            "{} ({}) in {}",
            needle.what, needle.forms[finding.form].0, finding.place
        )
    }

    /// Panics, listing every finding, unless there are none.
    pub fn assert_nothing_found(&self, findings: &[Finding], scanned: &str) {
        assert!(
            findings.is_empty(),
            "secrets readable in {scanned}:\n  {}",
            findings
                .iter()
                .map(|f| self.describe(f))
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
}

/// A whole document put through one encoding, as a program writing it out
/// would: the secret inside it is not aligned with anything.
fn encode_document(encoding: &str, text: &str) -> Vec<u8> {
    match encoding {
        "UTF-8" => text.as_bytes().to_vec(),
        "UTF-16LE" => utf16le(text),
        "JSON string" => serde_json::to_string(text)
            .expect("a string serialises")
            .into_bytes(),
        "ASCII JSON string" => json_ascii_escaped(text).into_bytes(),
        "Debug" => format!("{text:?}").into_bytes(),
        "percent-encoded" => percent_encoded(text.as_bytes(), false).into_bytes(),
        "form-encoded" => percent_encoded(text.as_bytes(), true).into_bytes(),
        "hex" => hex(text.as_bytes(), false).into_bytes(),
        "HEX" => hex(text.as_bytes(), true).into_bytes(),
        "base64" => STANDARD.encode(text).into_bytes(),
        "base64 without padding" => URL_SAFE_NO_PAD.encode(text).into_bytes(),
        "URL-safe base64" => URL_SAFE.encode(text).into_bytes(),
        other => panic!("unknown encoding {other}"),
    }
}

const DOCUMENT_ENCODINGS: [&str; 12] = [
    "UTF-8",
    "UTF-16LE",
    "JSON string",
    "ASCII JSON string",
    "Debug",
    "percent-encoded",
    "form-encoded",
    "hex",
    "HEX",
    "base64",
    "base64 without padding",
    "URL-safe base64",
];

/// The positive control. First, every pattern of every needle, planted in a
/// file among other bytes, is found there. Second, every plain spelling of
/// every needle, written inside a longer text that is then encoded as a whole
/// (with 0, 1 or 2 bytes before it, so base64 meets it at every alignment),
/// is found in each encoded document.
pub fn assert_scanner_finds_every_form(needles: &[Needle]) {
    let scanner = Scanner::new(needles);

    let scratch = tempfile::tempdir().expect("tempdir");
    let file = scratch.path().join("planted.bin");
    let mut planted = Vec::new();
    for needle in needles {
        for (_, pattern) in &needle.forms {
            planted.extend_from_slice(b"\x00\xffSQLite filler\x00");
            planted.extend_from_slice(pattern);
        }
    }
    std::fs::write(&file, &planted).expect("write scratch file");
    let found = scanner.find(&std::fs::read(&file).expect("read scratch file"));
    for (n, needle) in needles.iter().enumerate() {
        for (f, (form, _)) in needle.forms.iter().enumerate() {
            assert!(
                found.contains(&(n, f)),
                "the scanner misses {} ({form}) planted in a file",
                needle.what
            );
        }
    }

    for (n, needle) in needles.iter().enumerate() {
        for plain in &needle.plain {
            for lead in ["", "k", "ke"] {
                let text = format!("{lead}level=DEBUG msg=\"stored {plain} for later\" id=42");
                for encoding in DOCUMENT_ENCODINGS {
                    let document = encode_document(encoding, &text);
                    assert!(
                        scanner.find(&document).iter().any(|&(m, _)| m == n),
                        "the scanner misses {} written as `{plain}` in a {encoding} \
                         document after {} leading bytes",
                        needle.what,
                        lead.len()
                    );
                }
            }
        }
    }

    assert!(scanner.scan_files(&[]).is_empty());
    assert!(scanner.find(b"").is_empty());
}
