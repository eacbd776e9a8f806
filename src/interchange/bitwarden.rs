//! Bitwarden's unencrypted exports: JSON (every kind, folders, custom
//! fields) and CSV (logins and notes).

use serde::Deserialize;
use zeroize::Zeroizing;

use super::draft::{Common, Login, Raw, RawCard, RawIdentity, joined};
use super::{FileError, Format, Parsed, Place, table};

#[derive(Deserialize)]
struct Export {
    #[serde(default)]
    encrypted: bool,
    #[serde(default)]
    folders: Option<Vec<Folder>>,
    items: Option<Vec<Item>>,
}

#[derive(Deserialize)]
struct Folder {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    #[serde(rename = "type")]
    kind: Option<u8>,
    name: Option<String>,
    notes: Option<String>,
    folder_id: Option<String>,
    fields: Option<Vec<Field>>,
    login: Option<ItemLogin>,
    card: Option<ItemCard>,
    identity: Option<ItemIdentity>,
}

#[derive(Deserialize)]
struct Field {
    name: Option<String>,
    value: Option<Zeroizing<String>>,
    #[serde(rename = "type")]
    kind: Option<u8>,
}

#[derive(Deserialize)]
struct ItemLogin {
    uris: Option<Vec<Uri>>,
    username: Option<String>,
    password: Option<Zeroizing<String>>,
    totp: Option<Zeroizing<String>>,
}

#[derive(Deserialize)]
struct Uri {
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemCard {
    cardholder_name: Option<String>,
    number: Option<Zeroizing<String>>,
    exp_month: Option<String>,
    exp_year: Option<String>,
    code: Option<Zeroizing<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemIdentity {
    title: Option<String>,
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    address3: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    ssn: Option<Zeroizing<String>>,
    username: Option<String>,
    passport_number: Option<Zeroizing<String>>,
    license_number: Option<Zeroizing<String>>,
}

/// A JSON error, in words that never quote the file (serde's own messages
/// may hold a value).
pub(super) fn json_error(format: Format, e: &serde_json::Error) -> FileError {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "the JSON ends early (the file is cut short)",
        Category::Syntax => "not valid JSON",
        Category::Data => "a value of the wrong type or shape",
        Category::Io => "unreadable",
    };
    FileError::malformed(
        format,
        format!("{what} at line {} column {}", e.line(), e.column()),
    )
}

pub(super) fn json(text: &str) -> Result<Parsed, FileError> {
    let format = Format::BitwardenJson;
    let export: Export = serde_json::from_str(text).map_err(|e| json_error(format, &e))?;
    if export.encrypted {
        return Err(FileError::malformed(
            format,
            "it is encrypted; export again from Bitwarden as `.json` without a password",
        ));
    }
    let Some(items) = export.items else {
        return Err(FileError::malformed(format, "it has no `items`"));
    };
    let folders: std::collections::HashMap<String, String> = export
        .folders
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| Some((f.id?, f.name?)))
        .collect();
    let folder = |id: &Option<String>| id.as_ref().and_then(|id| folders.get(id)).cloned();
    let mut parsed = Parsed::default();
    for (n, item) in items.into_iter().enumerate() {
        let at = Place {
            record: n + 1,
            line: None,
        };
        let mut common = Common {
            name: item.name,
            note: item.notes,
            ..Common::default()
        };
        if let Some(folder) = folder(&item.folder_id) {
            common.tag(&folder);
        }
        for field in item.fields.unwrap_or_default() {
            let (Some(key), Some(value)) = (field.name, field.value) else {
                continue;
            };
            match field.kind {
                // A linked field only points at another of the item's.
                Some(3) => {}
                kind => common.field(&key, &value, kind == Some(1)),
            }
        }
        let raw = match (item.kind, item.login, item.card, item.identity) {
            (Some(1), login, _, _) => {
                let login = login.unwrap_or(ItemLogin {
                    uris: None,
                    username: None,
                    password: None,
                    totp: None,
                });
                Raw::Login(Login {
                    common,
                    urls: login
                        .uris
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|u| u.uri)
                        .filter(|u| !u.trim().is_empty())
                        .collect(),
                    username: login.username,
                    password: login.password,
                    totp: login.totp,
                })
            }
            (Some(2), _, _, _) => Raw::Note(common),
            (Some(3), _, Some(card), _) => Raw::Card(RawCard {
                common,
                number: card.number,
                holder: card.cardholder_name,
                expiry: None,
                month: card.exp_month,
                year: card.exp_year,
                cvv: card.code,
            }),
            (Some(4), _, _, Some(id)) => identity(common, id),
            (Some(5), ..) => Raw::Skip("an SSH key: Keeper keeps no SSH keys".to_owned()),
            (Some(3 | 4), ..) => Raw::Skip("a card or identity with no details".to_owned()),
            (kind, ..) => Raw::Skip(match kind {
                Some(k) => format!("an item of unknown type {k}"),
                None => "an item without a type".to_owned(),
            }),
        };
        parsed.take(at, raw);
    }
    Ok(parsed)
}

fn identity(mut common: Common, id: ItemIdentity) -> Raw {
    for (key, value) in [
        ("title", &id.title),
        ("company", &id.company),
        ("username", &id.username),
    ] {
        if let Some(value) = value {
            common.field(key, value, false);
        }
    }
    let city_line = joined(
        [
            id.city.as_deref(),
            id.state.as_deref(),
            id.postal_code.as_deref(),
        ],
        " ",
    );
    let mut documents = Vec::new();
    for (what, number) in [
        ("passport", id.passport_number),
        ("licence", id.license_number),
        ("ssn", id.ssn),
    ] {
        if let Some(number) = number.filter(|n| !n.trim().is_empty()) {
            documents.push((what, number));
        }
    }
    Raw::Identity(RawIdentity {
        common,
        full_name: joined(
            [
                id.first_name.as_deref(),
                id.middle_name.as_deref(),
                id.last_name.as_deref(),
            ],
            " ",
        ),
        email: id.email,
        phone: id.phone,
        address: joined(
            [
                id.address1.as_deref(),
                id.address2.as_deref(),
                id.address3.as_deref(),
                city_line.as_deref(),
                id.country.as_deref(),
            ],
            "\n",
        ),
        documents,
    })
}

struct CsvColumns {
    folder: Option<usize>,
    kind: usize,
    name: usize,
    notes: Option<usize>,
    fields: Option<usize>,
    uri: Option<usize>,
    username: Option<usize>,
    password: Option<usize>,
    totp: Option<usize>,
}

pub(super) fn csv(text: &str) -> Result<Parsed, FileError> {
    let format = Format::BitwardenCsv;
    let mut parsed = Parsed::default();
    table::read(
        format,
        text,
        |c| {
            Ok(CsvColumns {
                folder: c.find(&["folder"]),
                kind: c.require(format, &["type"])?,
                name: c.require(format, &["name"])?,
                notes: c.find(&["notes"]),
                fields: c.find(&["fields"]),
                uri: c.find(&["login_uri"]),
                username: c.find(&["login_username"]),
                password: c.find(&["login_password"]),
                totp: c.find(&["login_totp"]),
            })
        },
        |c, row, at| {
            let mut common = Common {
                name: row.get(Some(c.name)).map(str::to_owned),
                note: row.get(c.notes).map(str::to_owned),
                ..Common::default()
            };
            if let Some(folder) = row.get(c.folder) {
                common.tag(folder);
            }
            // `name: value`, one a line.
            for line in row.get(c.fields).unwrap_or("").lines() {
                if let Some((key, value)) = line.split_once(": ") {
                    common.field(key, value, false);
                }
            }
            let raw = match row.get(Some(c.kind)).map(str::trim) {
                Some("login") => Raw::Login(Login {
                    common,
                    urls: row
                        .get(c.uri)
                        .unwrap_or("")
                        .split(',')
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    username: row.get(c.username).map(str::to_owned),
                    password: row.get(c.password).map(super::secret),
                    totp: row.get(c.totp).map(super::secret),
                }),
                Some("note") => Raw::Note(common),
                Some(other) => {
                    let shown: String = other.chars().take(20).collect();
                    Raw::Skip(format!("an item of type `{}`", shown.escape_debug()))
                }
                None => Raw::Skip("an item without a type".to_owned()),
            };
            parsed.take(at, raw);
        },
    )?;
    Ok(parsed)
}
