//! Writing the vault out: Keeper's own archive (every item in the form it
//! is sealed in, in an age file encrypted with a passphrase), and
//! Bitwarden's JSON and CSV, unencrypted, for moving to another manager.

use std::fmt;
use std::io::{Read, Write};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Draft, Entry, FileError, MAX_IMPORT_BYTES, Parsed, Place, Problem};
use crate::domain::kind::{Card, Identity, Password, SecureNote, Totp};
use crate::domain::{DomainError, Extras, ItemName, Kind};

formats! {
    /// The formats an export writes.
    ExportFormat {
        /// Keeper's archive, encrypted.
        Keeper => "keeper",
        BitwardenJson => "bitwarden-json",
        BitwardenCsv => "bitwarden-csv",
    }
}

impl ExportFormat {
    /// Whether the file holds the secrets unencrypted.
    pub fn is_plaintext(self) -> bool {
        self != Self::Keeper
    }

    /// The media type of the file.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Keeper => "application/vnd.age",
            Self::BitwardenJson => "application/json",
            Self::BitwardenCsv => "text/csv; charset=utf-8",
        }
    }
}

/// Shortest passphrase an archive is encrypted with.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// scrypt's work factor for an archive: N = 2^17, 128 MiB and about half
/// a second to open.
const WORK_FACTOR: u8 = 17;
/// The most an archive being opened may ask for: what Keeper writes.
const MAX_WORK_FACTOR: u8 = WORK_FACTOR;

/// A passphrase to encrypt an archive with: at least 8 characters.
pub fn check_passphrase(passphrase: &str) -> Result<(), DomainError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(DomainError::invalid(
            "passphrase",
            format!("must be at least {MIN_PASSPHRASE_CHARS} characters"),
        ));
    }
    Ok(())
}

/// An export that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing the {format} file failed: {reason}")]
pub struct ExportError {
    format: &'static str,
    reason: String,
}

fn failed(format: ExportFormat, e: impl fmt::Display) -> ExportError {
    ExportError {
        format: format.as_str(),
        reason: e.to_string(),
    }
}

/// One item in an archive: its kind and its fields as they are sealed.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "item", rename_all = "lowercase")]
enum Archived {
    Card(<Card as Kind>::Stored),
    Password(<Password as Kind>::Stored),
    Note(<SecureNote as Kind>::Stored),
    Totp(<Totp as Kind>::Stored),
    Identity(<Identity as Kind>::Stored),
}

/// What an archive's encrypted payload holds.
#[derive(Serialize, Deserialize)]
struct Archive {
    /// The version of this layout.
    keeper_archive: u32,
    items: Vec<Archived>,
}

/// Keeper's archive of `items`, encrypted with `passphrase` (age, scrypt)
/// and ASCII-armored: `-----BEGIN AGE ENCRYPTED FILE-----`.
pub fn keeper(items: &[Draft], passphrase: &str) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let format = ExportFormat::Keeper;
    let archive = Archive {
        keeper_archive: 1,
        items: items
            .iter()
            .map(|d| match d {
                Draft::Card(f) => Archived::Card(Card::stored(f)),
                Draft::Password(f) => Archived::Password(Password::stored(f)),
                Draft::Note(f) => Archived::Note(SecureNote::stored(f)),
                Draft::Totp(f) => Archived::Totp(Totp::stored(f)),
                Draft::Identity(f) => Archived::Identity(Identity::stored(f)),
            })
            .collect(),
    };
    let plain = Zeroizing::new(serde_json::to_vec(&archive).map_err(|e| failed(format, e))?);
    drop(archive);
    let mut recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_owned()));
    recipient.set_work_factor(WORK_FACTOR);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| failed(format, e))?;
    let mut out = Zeroizing::new(Vec::with_capacity(plain.len() * 4 / 3 + 1024));
    let armored = age::armor::ArmoredWriter::wrap_output(&mut *out, age::armor::Format::AsciiArmor)
        .map_err(|e| failed(format, e))?;
    let mut writer = encryptor
        .wrap_output(armored)
        .map_err(|e| failed(format, e))?;
    writer.write_all(&plain).map_err(|e| failed(format, e))?;
    writer
        .finish()
        .and_then(|armored| armored.finish())
        .map_err(|e| failed(format, e))?;
    Ok(out)
}

/// Opens Keeper's archive with `passphrase` into drafts.
pub(super) fn open_keeper(bytes: &[u8], passphrase: &str) -> Result<Parsed, FileError> {
    let format = super::Format::Keeper;
    let reader = age::armor::ArmoredReader::new(bytes);
    let decryptor = age::Decryptor::new_buffered(reader).map_err(|_| {
        FileError::malformed(
            format,
            "not an age-encrypted file (`keeper export` writes one)",
        )
    })?;
    if !decryptor.is_scrypt() {
        return Err(FileError::malformed(
            format,
            "it is encrypted to a key, not with a passphrase",
        ));
    }
    let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                FileError::WrongPassphrase
            }
            age::DecryptError::ExcessiveWork { .. } => FileError::malformed(
                format,
                "its passphrase takes more work to try than the server allows",
            ),
            _ => FileError::malformed(format, "its header cannot be read"),
        })?;
    let mut plain = Zeroizing::new(Vec::new());
    (&mut reader)
        .take(MAX_IMPORT_BYTES as u64 * 2)
        .read_to_end(&mut plain)
        .map_err(|_| FileError::malformed(format, "it is cut short or was altered"))?;
    let archive: Archive =
        serde_json::from_slice(&plain).map_err(|e| super::bitwarden::json_error(format, &e))?;
    drop(plain);
    let mut parsed = Parsed::default();
    for (n, item) in archive.items.into_iter().enumerate() {
        let at = Place {
            record: n + 1,
            line: None,
        };
        let draft = match &item {
            Archived::Card(s) => opened::<Card>(s).map(Draft::Card),
            Archived::Password(s) => opened::<Password>(s).map(Draft::Password),
            Archived::Note(s) => opened::<SecureNote>(s).map(Draft::Note),
            Archived::Totp(s) => opened::<Totp>(s).map(Draft::Totp),
            Archived::Identity(s) => opened::<Identity>(s).map(Draft::Identity),
        };
        match draft {
            Ok(draft) => parsed.entries.push(Entry { at, draft }),
            Err(e) => parsed.errors.push(Problem {
                at,
                reason: e.to_string(),
            }),
        }
    }
    Ok(parsed)
}

/// An archived item's fields, held to every rule `add` keeps: an archive
/// may have been made by hand.
fn opened<K: Kind>(stored: &K::Stored) -> Result<K::Fields, DomainError> {
    let fields = K::fields(stored)?;
    K::checked(&fields)?;
    ItemName::parse(K::name(&fields).as_str())?;
    Ok(fields)
}

#[derive(Serialize)]
struct BwExport<'a> {
    encrypted: bool,
    folders: Vec<BwFolder>,
    items: Vec<BwItem<'a>>,
}

#[derive(Serialize)]
struct BwFolder {
    id: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BwItem<'a> {
    #[serde(rename = "type")]
    kind: u8,
    name: &'a str,
    notes: Option<&'a str>,
    favorite: bool,
    folder_id: Option<String>,
    fields: Vec<BwField<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<BwLogin<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_note: Option<BwNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<BwCard<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<BwIdentity<'a>>,
}

#[derive(Serialize)]
struct BwField<'a> {
    name: &'a str,
    value: &'a str,
    #[serde(rename = "type")]
    kind: u8,
}

#[derive(Serialize)]
struct BwLogin<'a> {
    uris: Vec<BwUri<'a>>,
    username: Option<&'a str>,
    password: Option<&'a str>,
    totp: Option<Zeroizing<String>>,
}

#[derive(Serialize)]
struct BwUri<'a> {
    #[serde(rename = "match")]
    matching: Option<u8>,
    uri: &'a str,
}

#[derive(Serialize)]
struct BwNote {
    #[serde(rename = "type")]
    kind: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BwCard<'a> {
    cardholder_name: Option<&'a str>,
    brand: &'static str,
    number: &'a str,
    exp_month: String,
    exp_year: String,
    code: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BwIdentity<'a> {
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    address1: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    passport_number: Option<&'a str>,
}

fn bw_fields(extras: &Extras) -> Vec<BwField<'_>> {
    extras
        .fields()
        .iter()
        .map(|f| BwField {
            name: f.key().as_str(),
            value: f.expose(),
            kind: u8::from(f.is_secret()),
        })
        .collect()
}

/// Bitwarden's unencrypted JSON of `items`. A Bitwarden item has one
/// folder: an item's first tag is it, the others are left out.
pub fn bitwarden_json(items: &[Draft]) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut folders: Vec<BwFolder> = Vec::new();
    let mut folder_of = |extras: &Extras| {
        let tag = extras.tags().first()?.as_str();
        if let Some(f) = folders.iter().find(|f| f.name == tag) {
            return Some(f.id.clone());
        }
        let id = format!("00000000-0000-4000-8000-{:012}", folders.len() + 1);
        folders.push(BwFolder {
            id: id.clone(),
            name: tag.to_owned(),
        });
        Some(id)
    };
    let mut out = Vec::with_capacity(items.len());
    for draft in items {
        let item = match draft {
            Draft::Password(f) => BwItem {
                kind: 1,
                name: f.name.as_str(),
                notes: f.note.as_ref().map(|n| n.as_str()),
                favorite: false,
                folder_id: folder_of(&f.extras),
                fields: bw_fields(&f.extras),
                login: Some(BwLogin {
                    uris: f
                        .url
                        .iter()
                        .map(|u| BwUri {
                            matching: None,
                            uri: u.as_str(),
                        })
                        .collect(),
                    username: f.username.as_ref().map(|u| u.as_str()),
                    password: Some(f.password.expose()),
                    totp: f.totp.as_ref().map(|t| t.to_uri()),
                }),
                secure_note: None,
                card: None,
                identity: None,
            },
            Draft::Totp(f) => BwItem {
                kind: 1,
                name: f.name.as_str(),
                notes: None,
                favorite: false,
                folder_id: folder_of(&f.extras),
                fields: bw_fields(&f.extras),
                login: Some(BwLogin {
                    uris: Vec::new(),
                    username: None,
                    password: None,
                    totp: Some(f.seed.to_uri()),
                }),
                secure_note: None,
                card: None,
                identity: None,
            },
            Draft::Note(f) => BwItem {
                kind: 2,
                name: f.name.as_str(),
                notes: Some(f.text.expose()),
                favorite: false,
                folder_id: folder_of(&f.extras),
                fields: bw_fields(&f.extras),
                login: None,
                secure_note: Some(BwNote { kind: 0 }),
                card: None,
                identity: None,
            },
            Draft::Card(f) => BwItem {
                kind: 3,
                name: f.name.as_str(),
                notes: f.note.as_ref().map(|n| n.as_str()),
                favorite: false,
                folder_id: folder_of(&f.extras),
                fields: bw_fields(&f.extras),
                login: None,
                secure_note: None,
                card: Some(BwCard {
                    cardholder_name: f.holder.as_ref().map(|h| h.as_str()),
                    brand: f.number.brand().as_str(),
                    number: f.number.expose(),
                    exp_month: f.expiry.month().to_string(),
                    exp_year: f.expiry.year().to_string(),
                    code: f.cvv.as_ref().map(|c| c.expose()),
                }),
                identity: None,
            },
            Draft::Identity(f) => {
                let full = f.full_name.as_ref().map(|n| n.as_str());
                let (first, last) = match full.map(|n| n.rsplit_once(' ')) {
                    Some(Some((first, last))) => (Some(first), Some(last)),
                    Some(None) => (full, None),
                    None => (None, None),
                };
                BwItem {
                    kind: 4,
                    name: f.name.as_str(),
                    notes: f.note.as_ref().map(|n| n.as_str()),
                    favorite: false,
                    folder_id: folder_of(&f.extras),
                    fields: bw_fields(&f.extras),
                    login: None,
                    secure_note: None,
                    card: None,
                    identity: Some(BwIdentity {
                        first_name: first,
                        last_name: last,
                        address1: f.address.as_ref().map(|a| a.as_str()),
                        email: f.email.as_ref().map(|e| e.as_str()),
                        phone: f.phone.as_ref().map(|p| p.as_str()),
                        passport_number: f.document.as_ref().map(|d| d.expose()),
                    }),
                }
            }
        };
        out.push(item);
    }
    let export = BwExport {
        encrypted: false,
        folders,
        items: out,
    };
    let mut bytes = Zeroizing::new(Vec::new());
    serde_json::to_writer_pretty(&mut *bytes, &export)
        .map_err(|e| failed(ExportFormat::BitwardenJson, e))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Bitwarden's CSV of `items`. It has logins and notes only: a card or an
/// identity is written as a note whose text lists its fields, so nothing
/// is left out.
pub fn bitwarden_csv(items: &[Draft]) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let format = ExportFormat::BitwardenCsv;
    let mut bytes = Zeroizing::new(Vec::new());
    {
        let mut w = csv::Writer::from_writer(&mut *bytes);
        w.write_record([
            "folder",
            "favorite",
            "type",
            "name",
            "notes",
            "fields",
            "reprompt",
            "login_uri",
            "login_username",
            "login_password",
            "login_totp",
        ])
        .map_err(|e| failed(format, e))?;
        for draft in items {
            let extras = match draft {
                Draft::Card(f) => &f.extras,
                Draft::Password(f) => &f.extras,
                Draft::Note(f) => &f.extras,
                Draft::Totp(f) => &f.extras,
                Draft::Identity(f) => &f.extras,
            };
            let folder = extras.tags().first().map_or("", |t| t.as_str());
            let fields = Zeroizing::new(
                extras
                    .fields()
                    .iter()
                    .map(|f| format!("{}: {}", f.key().as_str(), f.expose()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            let name = draft.name().as_str();
            let row: [Zeroizing<String>; 6] = match draft {
                Draft::Password(f) => [
                    Zeroizing::new("login".to_owned()),
                    Zeroizing::new(f.note.as_ref().map_or("", |n| n.as_str()).to_owned()),
                    Zeroizing::new(f.url.as_ref().map_or("", |u| u.as_str()).to_owned()),
                    Zeroizing::new(f.username.as_ref().map_or("", |u| u.as_str()).to_owned()),
                    Zeroizing::new(f.password.expose().to_owned()),
                    f.totp
                        .as_ref()
                        .map_or_else(|| Zeroizing::new(String::new()), |t| t.to_uri()),
                ],
                Draft::Totp(f) => [
                    Zeroizing::new("login".to_owned()),
                    Zeroizing::new(String::new()),
                    Zeroizing::new(String::new()),
                    Zeroizing::new(String::new()),
                    Zeroizing::new(String::new()),
                    f.seed.to_uri(),
                ],
                Draft::Note(f) => note_row(f.text.expose().to_owned()),
                Draft::Card(f) => {
                    let mut text = format!(
                        "Number: {}\nExpiry: {:02}/{}",
                        f.number.expose(),
                        f.expiry.month(),
                        f.expiry.year()
                    );
                    if let Some(h) = &f.holder {
                        text.push_str(&format!("\nHolder: {}", h.as_str()));
                    }
                    if let Some(c) = &f.cvv {
                        text.push_str(&format!("\nCVV: {}", c.expose()));
                    }
                    if let Some(n) = &f.note {
                        text.push_str(&format!("\n\n{}", n.as_str()));
                    }
                    note_row(text)
                }
                Draft::Identity(f) => {
                    let mut lines = Vec::new();
                    for (label, value) in [
                        ("Full name", f.full_name.as_ref().map(|v| v.as_str())),
                        ("Email", f.email.as_ref().map(|v| v.as_str())),
                        ("Phone", f.phone.as_ref().map(|v| v.as_str())),
                        ("Address", f.address.as_ref().map(|v| v.as_str())),
                        ("Document", f.document.as_ref().map(|v| v.expose())),
                        ("Note", f.note.as_ref().map(|v| v.as_str())),
                    ] {
                        if let Some(value) = value {
                            lines.push(format!("{label}: {value}"));
                        }
                    }
                    note_row(lines.join("\n"))
                }
            };
            let [kind, notes, uri, username, password, totp] = &row;
            w.write_record([
                folder,
                "",
                kind.as_str(),
                name,
                notes.as_str(),
                fields.as_str(),
                "0",
                uri.as_str(),
                username.as_str(),
                password.as_str(),
                totp.as_str(),
            ])
            .map_err(|e| failed(format, e))?;
        }
        w.flush().map_err(|e| failed(format, e))?;
    }
    Ok(bytes)
}

fn note_row(text: String) -> [Zeroizing<String>; 6] {
    [
        Zeroizing::new("note".to_owned()),
        Zeroizing::new(text),
        Zeroizing::new(String::new()),
        Zeroizing::new(String::new()),
        Zeroizing::new(String::new()),
        Zeroizing::new(String::new()),
    ]
}
