//! 1Password: the CSV of its logins, and the `.1pux` archive (a zip whose
//! `export.data` is JSON) of every item.

use std::io::Read;

use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::bitwarden::json_error;
use super::draft::{Common, Login, Raw, RawCard, RawIdentity, joined};
use super::{FileError, Format, MAX_IMPORT_BYTES, Parsed, Place, table};

struct CsvColumns {
    title: usize,
    url: Option<usize>,
    username: Option<usize>,
    password: usize,
    otp: Option<usize>,
    tags: Option<usize>,
    notes: Option<usize>,
    archived: Option<usize>,
}

/// 1Password 8's CSV (`Title`, `Url`, `Username`, `Password`, `OTPAuth`,
/// `Favorite`, `Archived`, `Tags`, `Notes`), and the column names older
/// versions used.
pub(super) fn csv(text: &str) -> Result<Parsed, FileError> {
    let format = Format::OnePasswordCsv;
    let mut parsed = Parsed::default();
    table::read(
        format,
        text,
        |c| {
            Ok(CsvColumns {
                title: c.require(format, &["Title", "Name"])?,
                url: c.find(&["Url", "Website", "Login URL", "URLs"]),
                username: c.find(&["Username", "Login Username"]),
                password: c.require(format, &["Password", "Login Password"])?,
                otp: c.find(&["OTPAuth", "One-time password", "OTP"]),
                tags: c.find(&["Tags"]),
                notes: c.find(&["Notes", "Notes Plain", "notesPlain"]),
                archived: c.find(&["Archived"]),
            })
        },
        |c, row, at| {
            let mut common = Common {
                name: row.get(Some(c.title)).map(str::to_owned),
                note: row.get(c.notes).map(str::to_owned),
                ..Common::default()
            };
            for tag in row.get(c.tags).unwrap_or("").split(',') {
                common.tag(tag);
            }
            if row
                .get(c.archived)
                .is_some_and(|a| a.eq_ignore_ascii_case("true"))
            {
                common.tag("archived");
            }
            let raw = Raw::Login(Login {
                common,
                urls: row.get(c.url).map(str::to_owned).into_iter().collect(),
                username: row.get(c.username).map(str::to_owned),
                password: row.get(Some(c.password)).map(super::secret),
                totp: row.get(c.otp).map(super::secret),
            });
            parsed.take(at, raw);
        },
    )?;
    Ok(parsed)
}

#[derive(Deserialize)]
struct Data {
    accounts: Vec<Account>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    vaults: Vec<Vault>,
}

#[derive(Deserialize)]
struct Vault {
    attrs: Option<VaultAttrs>,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct VaultAttrs {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    category_uuid: Option<String>,
    state: Option<String>,
    overview: Option<Overview>,
    details: Option<Details>,
}

#[derive(Deserialize)]
struct Overview {
    title: Option<String>,
    url: Option<String>,
    urls: Option<Vec<OverviewUrl>>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct OverviewUrl {
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    login_fields: Option<Vec<LoginField>>,
    notes_plain: Option<String>,
    sections: Option<Vec<Section>>,
    password: Option<Zeroizing<String>>,
}

#[derive(Deserialize)]
struct LoginField {
    value: Option<Zeroizing<String>>,
    designation: Option<String>,
    name: Option<String>,
    #[serde(rename = "fieldType")]
    field_type: Option<String>,
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    fields: Vec<SectionField>,
}

#[derive(Deserialize)]
struct SectionField {
    title: Option<String>,
    id: Option<String>,
    value: Option<Value>,
}

/// A section field's value, read from the one key that says its type.
struct FieldValue {
    text: Zeroizing<String>,
    secret: bool,
    totp: bool,
}

impl SectionField {
    fn value(&self) -> Option<FieldValue> {
        let Some(Value::Object(map)) = &self.value else {
            return None;
        };
        let (kind, value) = map.iter().next()?;
        let plain = |text: String| FieldValue {
            text: Zeroizing::new(text),
            secret: false,
            totp: false,
        };
        let secret = |text: &str, totp: bool| FieldValue {
            text: Zeroizing::new(text.to_owned()),
            secret: true,
            totp,
        };
        match (kind.as_str(), value) {
            ("concealed" | "creditCardNumber", Value::String(s)) => Some(secret(s, false)),
            ("totp", Value::String(s)) => Some(secret(s, true)),
            (
                "string" | "phone" | "url" | "menu" | "creditCardType" | "gender",
                Value::String(s),
            ) => Some(plain(s.clone())),
            ("email", Value::String(s)) => Some(plain(s.clone())),
            ("email", Value::Object(e)) => e
                .get("email_address")
                .and_then(Value::as_str)
                .map(|s| plain(s.to_owned())),
            ("monthYear", Value::Number(n)) => Some(plain(n.to_string())),
            ("date", Value::Number(n)) => {
                let date = time::OffsetDateTime::from_unix_timestamp(n.as_i64()?).ok()?;
                Some(plain(date.date().to_string()))
            }
            ("address", Value::Object(a)) => {
                let get = |k: &str| a.get(k).and_then(Value::as_str);
                let city = joined([get("city"), get("state"), get("zip")], " ");
                joined([get("street"), city.as_deref(), get("country")], "\n").map(plain)
            }
            _ => None,
        }
    }

    fn key(&self) -> &str {
        super::draft::given(self.title.as_deref())
            .or(self.id.as_deref())
            .unwrap_or("field")
    }
}

/// Reads `export.data` out of a `.1pux` archive, never more of it than an
/// import reads.
fn export_data(bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let format = Format::OnePux;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| FileError::malformed(format, "not a zip archive (a .1pux file is one)"))?;
    let entry = archive.by_name("export.data").map_err(|e| match e {
        zip::result::ZipError::FileNotFound => {
            FileError::malformed(format, "the archive has no export.data")
        }
        _ => FileError::malformed(format, "its export.data cannot be read"),
    })?;
    let mut data = Zeroizing::new(Vec::new());
    let limit = MAX_IMPORT_BYTES as u64;
    entry
        .take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|_| FileError::malformed(format, "its export.data cannot be unpacked"))?;
    if data.len() as u64 > limit {
        return Err(FileError::TooLarge);
    }
    Ok(data)
}

pub(super) fn pux(bytes: &[u8]) -> Result<Parsed, FileError> {
    let format = Format::OnePux;
    let data = export_data(bytes)?;
    let data: Data = serde_json::from_slice(&data).map_err(|e| json_error(format, &e))?;
    let mut parsed = Parsed::default();
    let mut number = 0;
    for account in data.accounts {
        let several = account.vaults.len() > 1;
        for vault in account.vaults {
            let vault_name = vault.attrs.and_then(|a| a.name);
            for item in vault.items {
                number += 1;
                let at = Place {
                    record: number,
                    line: None,
                };
                let vault_tag = vault_name.as_deref().filter(|_| several);
                parsed.take(at, pux_item(item, vault_tag));
            }
        }
    }
    Ok(parsed)
}

/// 1Password's categories Keeper has no kind for become notes (their
/// fields custom fields); these are named in the note's text.
fn category_name(uuid: &str) -> &'static str {
    match uuid {
        "006" => "Document",
        "100" => "Software licence",
        "101" => "Bank account",
        "102" => "Database",
        "105" => "Membership",
        "107" => "Reward program",
        "109" => "Wireless router",
        "110" => "Server",
        "111" => "Email account",
        "112" => "API credential",
        "113" => "Medical record",
        "115" => "Crypto wallet",
        _ => "Item",
    }
}

fn pux_item(item: Item, vault: Option<&str>) -> Raw {
    if item.state.as_deref() == Some("deleted") {
        return Raw::Skip("deleted in 1Password".to_owned());
    }
    let overview = item.overview.unwrap_or(Overview {
        title: None,
        url: None,
        urls: None,
        tags: None,
    });
    let details = item.details.unwrap_or(Details {
        login_fields: None,
        notes_plain: None,
        sections: None,
        password: None,
    });
    let mut common = Common {
        name: overview.title,
        note: details.notes_plain,
        ..Common::default()
    };
    for tag in overview.tags.unwrap_or_default() {
        common.tag(&tag);
    }
    if let Some(vault) = vault {
        common.tag(vault);
    }
    if item.state.as_deref() == Some("archived") {
        common.tag("archived");
    }
    let fields: Vec<SectionField> = details
        .sections
        .unwrap_or_default()
        .into_iter()
        .flat_map(|s| s.fields)
        .collect();
    let category = item.category_uuid.unwrap_or_default();
    match category.as_str() {
        "001" | "005" => {
            let mut login = Login {
                password: details.password,
                ..Login::default()
            };
            login
                .urls
                .extend(overview.url.filter(|u| !u.trim().is_empty()));
            for u in overview.urls.unwrap_or_default() {
                if let Some(url) = u.url.filter(|u| !u.trim().is_empty())
                    && !login.urls.contains(&url)
                {
                    login.urls.push(url);
                }
            }
            for field in details.login_fields.unwrap_or_default() {
                let Some(value) = field.value else { continue };
                match field.designation.as_deref() {
                    Some("username") => login.username = Some(value.to_string()),
                    Some("password") => login.password = Some(value),
                    _ => {
                        let key = field.name.as_deref().unwrap_or("field");
                        let secret = field.field_type.as_deref() == Some("P");
                        common.field(key, &value, secret);
                    }
                }
            }
            for field in &fields {
                let Some(v) = field.value() else { continue };
                if v.totp && login.totp.is_none() {
                    login.totp = Some(v.text);
                } else {
                    common.field(field.key(), &v.text, v.secret);
                }
            }
            login.common = common;
            Raw::Login(login)
        }
        "002" => {
            let mut card = RawCard::default();
            for field in &fields {
                let Some(v) = field.value() else { continue };
                match field.id.as_deref() {
                    Some("ccnum") => card.number = Some(v.text),
                    Some("cvv") => card.cvv = Some(v.text),
                    Some("cardholder") => card.holder = Some(v.text.to_string()),
                    Some("expiry") => card.expiry = Some(v.text.to_string()),
                    // The brand follows from the number.
                    Some("type") => {}
                    _ => common.field(field.key(), &v.text, v.secret),
                }
            }
            card.common = common;
            Raw::Card(card)
        }
        "003" => Raw::Note(common),
        "004" | "103" | "106" | "108" => {
            let mut id = RawIdentity::default();
            let (mut first, mut initial, mut last) = (None, None, None);
            let document = match category.as_str() {
                "103" => "licence",
                "106" => "passport",
                "108" => "ssn",
                _ => "document",
            };
            for field in &fields {
                let Some(v) = field.value() else { continue };
                let text = v.text.to_string();
                match field.id.as_deref() {
                    Some("firstname") => first = Some(text),
                    Some("initial") => initial = Some(text),
                    Some("lastname") => last = Some(text),
                    Some("fullname" | "name") if id.full_name.is_none() => {
                        id.full_name = Some(text);
                    }
                    Some("email") if id.email.is_none() => id.email = Some(text),
                    Some("defphone" | "cellphone" | "homephone" | "busphone")
                        if id.phone.is_none() =>
                    {
                        id.phone = Some(text);
                    }
                    Some("address") if id.address.is_none() => id.address = Some(text),
                    Some("number") => id.documents.push((document, v.text)),
                    _ => common.field(field.key(), &v.text, v.secret),
                }
            }
            if id.full_name.is_none() {
                id.full_name = joined([first.as_deref(), initial.as_deref(), last.as_deref()], " ");
            }
            id.common = common;
            Raw::Identity(id)
        }
        "114" => Raw::Skip("an SSH key: Keeper keeps no SSH keys".to_owned()),
        other => {
            for field in &fields {
                if let Some(v) = field.value() {
                    common.field(field.key(), &v.text, v.secret);
                }
            }
            if super::draft::given(common.note.as_deref()).is_none() {
                common.note = Some(format!("{} (from 1Password)", category_name(other)));
            }
            Raw::Note(common)
        }
    }
}
