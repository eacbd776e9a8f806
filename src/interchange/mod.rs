//! Other password managers' files. An import reads one of their exports
//! into Keeper's items ([`parse`]); an export writes Keeper's items out as
//! an encrypted archive or, asked plainly, in Bitwarden's format
//! ([`export`]). Only translation lives here: no storage, no keys.

/// A set of file formats known by name: the enum, `ALL`, `NAMES`,
/// `as_str`, `Display`, and `FromStr`, which refuses an unknown name as a
/// `format` error listing the known ones.
macro_rules! formats {
    (
        $(#[$meta:meta])* $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every format, in the order `help` lists them.
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];
            /// Every format's name, as `--format` takes it.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|f| f.as_str() == s).ok_or_else(|| {
                    $crate::domain::DomainError::invalid(
                        "format",
                        format!("must be one of {}", Self::NAMES.join(", ")),
                    )
                })
            }
        }
    };
}

mod bitwarden;
mod browsers;
mod draft;
pub mod export;
mod keepass;
mod onepassword;
mod table;

use std::fmt;

use zeroize::Zeroizing;

pub use draft::{Draft, Entry};

/// The largest file an import reads: some 50,000 typical entries.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

formats! {
    /// The formats an import reads.
    Format {
        BitwardenJson => "bitwarden-json",
        BitwardenCsv => "bitwarden-csv",
        KeepassXml => "keepass-xml",
        KeepassCsv => "keepass-csv",
        OnePasswordCsv => "1password-csv",
        OnePux => "1pux",
        ChromeCsv => "chrome-csv",
        FirefoxCsv => "firefox-csv",
        /// Keeper's own archive (`export --format keeper`): it needs its
        /// passphrase.
        Keeper => "keeper",
    }
}

/// Where a record is in its file: its number among the file's records and,
/// for text formats, the line it starts on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Place {
    /// 1 for the file's first record.
    pub record: usize,
    /// The line the record starts on, where the format has lines.
    pub line: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "record {} (line {line})", self.record),
            None => write!(f, "record {}", self.record),
        }
    }
}

/// A record left out (`skipped`) or refused (`errors`), and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = RecordReason)]
pub struct Problem {
    #[serde(flatten)]
    pub at: Place,
    pub reason: String,
}

/// A file read: the items it holds, the records that are not items Keeper
/// keeps, and those that break Keeper's rules.
#[derive(Debug, Default)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Problem>,
    pub errors: Vec<Problem>,
}

impl Parsed {
    fn take(&mut self, at: Place, record: draft::Raw) {
        match record.draft() {
            Ok(draft) => self.entries.push(Entry { at, draft }),
            Err(draft::Refused::Skip(reason)) => self.skipped.push(Problem { at, reason }),
            Err(draft::Refused::Error(reason)) => self.errors.push(Problem { at, reason }),
        }
    }
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than {} MiB, the most an import reads", MAX_IMPORT_BYTES >> 20)]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error("the file is not valid UTF-8 text (at byte {0})")]
    NotUtf8(usize),
    #[error("the passphrase does not open this archive")]
    WrongPassphrase,
    #[error("a keeper archive is opened with its passphrase: give it")]
    NoPassphrase,
    #[error("not a {format} file: {reason}")]
    Malformed {
        format: &'static str,
        reason: String,
    },
}

impl FileError {
    fn malformed(format: Format, reason: impl Into<String>) -> Self {
        Self::Malformed {
            format: format.as_str(),
            reason: reason.into(),
        }
    }
}

/// Reads `bytes` as a file of `format`; Keeper's archive opens with
/// `passphrase`.
pub fn parse(format: Format, bytes: &[u8], passphrase: Option<&str>) -> Result<Parsed, FileError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(FileError::TooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    match format {
        Format::OnePux => return onepassword::pux(bytes),
        Format::Keeper => {
            let passphrase = passphrase.ok_or(FileError::NoPassphrase)?;
            return export::open_keeper(bytes, passphrase);
        }
        _ => {}
    }
    let text = text(bytes)?;
    match format {
        Format::BitwardenJson => bitwarden::json(text),
        Format::BitwardenCsv => bitwarden::csv(text),
        Format::KeepassXml => keepass::xml(text),
        Format::KeepassCsv => keepass::csv(text),
        Format::OnePasswordCsv => onepassword::csv(text),
        Format::ChromeCsv => browsers::chrome(text),
        Format::FirefoxCsv => browsers::firefox(text),
        Format::OnePux => onepassword::pux(bytes),
        Format::Keeper => export::open_keeper(bytes, passphrase.unwrap_or_default()),
    }
}

/// The text of a file: UTF-8, a byte order mark dropped.
fn text(bytes: &[u8]) -> Result<&str, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| FileError::NotUtf8(e.valid_up_to()))
}

/// A secret string out of a parser's own buffer.
fn secret(s: &str) -> Zeroizing<String> {
    Zeroizing::new(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever a file holds, reading it ends in items or an error,
        /// never a panic.
        #[test]
        fn no_file_makes_a_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            for format in Format::ALL {
                let _ = parse(*format, &bytes, Some("passphrase"));
            }
        }

        /// Text shaped like each format's, cut anywhere, is read or refused.
        #[test]
        fn a_file_cut_anywhere_is_read_or_refused(cut in 0usize..2000) {
            let samples: [(Format, &str); 4] = [
                (Format::BitwardenJson, r#"{"items":[{"type":1,"name":"a","login":{"password":"p","uris":[{"uri":"https://a.example"}]}},{"type":3,"name":"c","card":{"number":"4111111111111111","expMonth":"1","expYear":"2030"}}]}"#),
                (Format::ChromeCsv, "name,url,username,password\na,https://a.example,u,\"p,\n2\"\nb,https://b.example,u,q\n"),
                (Format::KeepassXml, "<KeePassFile><Root><Group><Name>R</Name><Entry><String><Key>Title</Key><Value>t</Value></String><String><Key>Password</Key><Value>p</Value></String></Entry></Group></Root></KeePassFile>"),
                (Format::OnePasswordCsv, "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\nx,https://x.example,u,p,,false,false,\"a,b\",n\n"),
            ];
            for (format, text) in samples {
                let end = text.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut).last().unwrap_or(0);
                let _ = parse(format, &text.as_bytes()[..end], None);
            }
        }
    }

    #[test]
    fn a_file_past_the_limit_is_refused_before_it_is_read() {
        let big = vec![b'a'; MAX_IMPORT_BYTES + 1];
        assert_eq!(
            parse(Format::ChromeCsv, &big, None).map(|_| ()),
            Err(FileError::TooLarge)
        );
    }

    #[test]
    fn every_format_name_reads_back() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(*format));
        }
        assert!("lastpass".parse::<Format>().is_err());
    }
}
