//! The passwords browsers export as CSV: Chrome's (and every Chromium
//! browser's: `name,url,username,password,note`) and Firefox's
//! (`url,username,password,httpRealm,formActionOrigin,guid,…`).

use super::draft::{Common, Login, Raw};
use super::{FileError, Format, Parsed, table};

struct Columns {
    name: Option<usize>,
    url: usize,
    username: Option<usize>,
    password: usize,
    note: Option<usize>,
}

fn read(format: Format, text: &str, name: &[&str]) -> Result<Parsed, FileError> {
    let mut parsed = Parsed::default();
    table::read(
        format,
        text,
        |c| {
            Ok(Columns {
                name: c.find(name),
                url: c.require(format, &["url"])?,
                username: c.find(&["username"]),
                password: c.require(format, &["password"])?,
                note: c.find(&["note", "notes"]),
            })
        },
        |c, row, at| {
            let raw = Raw::Login(Login {
                common: Common {
                    name: row.get(c.name).map(str::to_owned),
                    note: row.get(c.note).map(str::to_owned),
                    ..Common::default()
                },
                urls: row
                    .get(Some(c.url))
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                username: row.get(c.username).map(str::to_owned),
                password: row.get(Some(c.password)).map(super::secret),
                totp: None,
            });
            parsed.take(at, raw);
        },
    )?;
    Ok(parsed)
}

pub(super) fn chrome(text: &str) -> Result<Parsed, FileError> {
    read(Format::ChromeCsv, text, &["name"])
}

/// Firefox names no entry: each is named after its site's host.
pub(super) fn firefox(text: &str) -> Result<Parsed, FileError> {
    read(Format::FirefoxCsv, text, &[])
}
