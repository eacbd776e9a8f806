//! Rendering of command output: aligned text for people, JSON for programs.
//!
//! Every string a user stored passes through [`sanitize`] (text) or
//! [`json_safe`] (JSON) before it is printed.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use super::Output;
use super::sanitize::{json_safe, sanitize};
use crate::domain::CardNumber;
use crate::service::{Card, PasswordEntry};
use crate::storage::AuditRecord;

/// Rendered output: what goes to standard output, and optionally a secret for
/// the user's clipboard (written by the front end as OSC 52, never printed).
#[derive(Default)]
pub struct Rendered {
    /// Text, lines separated by `\n`, ending in a newline when non-empty.
    pub stdout: Zeroizing<String>,
    /// A secret for `pass copy`.
    pub clipboard: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered(***)")
    }
}

/// A secret on its way into JSON output: serialised as a string, zeroized on
/// drop, redacted in `Debug`.
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    fn new(s: &str) -> Self {
        Self(Zeroizing::new(s.to_owned()))
    }
}

impl Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(***)")
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn human_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

// ---- JSON shapes (also used by the HTTP API) ----

/// A card as listed: no number, no CVV.
#[derive(Debug, Serialize)]
pub struct CardSummary {
    pub id: String,
    pub name: String,
    pub brand: String,
    pub last4: String,
    pub holder: Option<String>,
    pub expiry: String,
}

/// A card shown in full; `number` and `cvv` only when revealed.
#[derive(Debug, Serialize)]
pub struct CardDetail {
    #[serde(flatten)]
    pub summary: CardSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<SecretText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvv: Option<Option<SecretText>>,
    pub note: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A password entry as listed: never the password.
#[derive(Debug, Serialize)]
pub struct PasswordSummary {
    pub id: String,
    pub name: String,
    pub url: Option<String>,
    pub username: Option<String>,
}

/// A password entry shown in full; `password` only when revealed.
#[derive(Debug, Serialize)]
pub struct PasswordDetail {
    #[serde(flatten)]
    pub summary: PasswordSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretText>,
    pub note: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// An audit event.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub at: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub channel: &'static str,
    pub remote_addr: Option<String>,
    pub target: Option<String>,
}

impl CardSummary {
    pub fn of(c: &Card) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.fields.name.as_str().to_owned(),
            brand: c.brand().to_string(),
            last4: c.last4(),
            holder: c.fields.holder.as_ref().map(|h| h.as_str().to_owned()),
            expiry: c.fields.expiry.to_string(),
        }
    }
}

impl CardDetail {
    pub fn of(c: &Card, reveal: bool) -> Self {
        Self {
            summary: CardSummary::of(c),
            number: reveal.then(|| SecretText::new(c.fields.number.expose())),
            cvv: reveal.then(|| c.fields.cvv.as_ref().map(|v| SecretText::new(v.expose()))),
            note: c.fields.note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            version: c.version,
        }
    }
}

impl PasswordSummary {
    pub fn of(e: &PasswordEntry) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.fields.name.as_str().to_owned(),
            url: e.fields.url.as_ref().map(|u| u.as_str().to_owned()),
            username: e.fields.username.as_ref().map(|u| u.as_str().to_owned()),
        }
    }
}

impl PasswordDetail {
    pub fn of(e: &PasswordEntry, reveal: bool) -> Self {
        Self {
            summary: PasswordSummary::of(e),
            password: reveal.then(|| SecretText::new(e.fields.password.expose())),
            note: e.fields.note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            version: e.version,
        }
    }
}

impl EventView {
    pub fn of(a: &AuditRecord) -> Self {
        Self {
            at: rfc3339(a.at),
            action: a.action.as_str(),
            outcome: a.outcome.as_str(),
            channel: a.channel.as_str(),
            remote_addr: a.remote_addr.clone(),
            target: a.target.clone(),
        }
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Zeroizing<String> {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = Zeroizing::new(json_safe(text));
    out.push('\n');
    out
}

// ---- text ----

/// Lays out rows in aligned columns, the first row being the header.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == cols {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn or_dash(v: Option<&str>) -> String {
    v.map_or_else(|| "-".to_owned(), |s| sanitize(s).into_owned())
}

/// Groups a card number for reading: 4-6-5 for 15-digit Amex, else fours.
fn grouped(number: &CardNumber) -> Zeroizing<String> {
    let d = number.expose();
    let groups: Vec<&str> = if d.len() == 15 {
        vec![&d[..4], &d[4..10], &d[10..]]
    } else {
        d.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect()
    };
    Zeroizing::new(groups.join(" "))
}

fn fields(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    rows.iter()
        .map(|(k, v)| format!("{:width$} {v}\n", format!("{k}:")))
        .collect()
}

fn card_text(c: &Card, reveal: bool) -> String {
    let f = &c.fields;
    let today = OffsetDateTime::now_utc().date();
    let expired = if f.expiry.is_expired_at(today) {
        " (expired)"
    } else {
        ""
    };
    let number = if reveal {
        grouped(&f.number).to_string()
    } else {
        format!("**** {}", c.last4())
    };
    let cvv = match (&f.cvv, reveal) {
        (None, _) => "-".to_owned(),
        (Some(v), true) => v.expose().to_owned(),
        (Some(_), false) => "***".to_owned(),
    };
    fields(&[
        ("Name", sanitize(f.name.as_str()).into_owned()),
        ("Brand", c.brand().to_string()),
        ("Number", number),
        ("Holder", or_dash(f.holder.as_ref().map(|h| h.as_str()))),
        ("Expiry", format!("{}{expired}", f.expiry)),
        ("CVV", cvv),
        ("Note", or_dash(f.note.as_ref().map(|n| n.as_str()))),
        ("Created", human_time(c.created_at)),
        ("Updated", human_time(c.updated_at)),
    ])
}

fn password_text(e: &PasswordEntry, reveal: bool) -> String {
    let f = &e.fields;
    let password = if reveal {
        sanitize(f.password.expose()).into_owned()
    } else {
        "********  (--reveal shows it)".to_owned()
    };
    fields(&[
        ("Name", sanitize(f.name.as_str()).into_owned()),
        ("URL", or_dash(f.url.as_ref().map(|u| u.as_str()))),
        ("Username", or_dash(f.username.as_ref().map(|u| u.as_str()))),
        ("Password", password),
        ("Note", or_dash(f.note.as_ref().map(|n| n.as_str()))),
        ("Created", human_time(e.created_at)),
        ("Updated", human_time(e.updated_at)),
    ])
}

fn line(s: impl Into<String>) -> Zeroizing<String> {
    let mut s = s.into();
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    Zeroizing::new(s)
}

/// Renders an output for a terminal or a pipe.
pub fn render(output: &Output) -> Rendered {
    let stdout = match output {
        Output::Nothing | Output::Lock | Output::Exit => Zeroizing::new(String::new()),
        Output::Done(msg) | Output::Help(msg) => line(msg.clone()),
        Output::Whoami(login) => line(login.to_string()),
        Output::Cards { cards, json: true } => {
            json(&cards.iter().map(CardSummary::of).collect::<Vec<_>>())
        }
        Output::Cards { cards, json: false } if cards.is_empty() => {
            line("No cards yet. Add one with `card add`.")
        }
        Output::Cards { cards, json: false } => {
            let mut rows = vec![
                ["NAME", "BRAND", "NUMBER", "HOLDER", "EXPIRY"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(cards.iter().map(|c| {
                vec![
                    sanitize(c.fields.name.as_str()).into_owned(),
                    c.brand().to_string(),
                    format!("**** {}", c.last4()),
                    or_dash(c.fields.holder.as_ref().map(|h| h.as_str())),
                    c.fields.expiry.to_string(),
                ]
            }));
            line(table(&rows))
        }
        Output::Card {
            card,
            reveal,
            json: true,
        } => json(&CardDetail::of(card, *reveal)),
        Output::Card {
            card,
            reveal,
            json: false,
        } => line(card_text(card, *reveal)),
        Output::Passwords {
            entries,
            json: true,
        } => json(&entries.iter().map(PasswordSummary::of).collect::<Vec<_>>()),
        Output::Passwords {
            entries,
            json: false,
        } if entries.is_empty() => line("No passwords found. Add one with `pass add`."),
        Output::Passwords {
            entries,
            json: false,
        } => {
            let mut rows = vec![["NAME", "URL", "USERNAME"].map(String::from).to_vec()];
            rows.extend(entries.iter().map(|e| {
                vec![
                    sanitize(e.fields.name.as_str()).into_owned(),
                    or_dash(e.fields.url.as_ref().map(|u| u.as_str())),
                    or_dash(e.fields.username.as_ref().map(|u| u.as_str())),
                ]
            }));
            line(table(&rows))
        }
        Output::Password {
            entry,
            reveal,
            json: true,
        } => json(&PasswordDetail::of(entry, *reveal)),
        Output::Password {
            entry,
            reveal,
            json: false,
        } => line(password_text(entry, *reveal)),
        Output::Generated(secret) => line(secret.expose().to_owned()),
        Output::Copy { name, .. } => line(format!(
            "Copied the password of `{}` to your clipboard.",
            sanitize(name.as_str())
        )),
        Output::Events { events, json: true } => {
            json(&events.iter().map(EventView::of).collect::<Vec<_>>())
        }
        Output::Events {
            events,
            json: false,
        } if events.is_empty() => line("No events."),
        Output::Events {
            events,
            json: false,
        } => {
            let mut rows = vec![
                ["WHEN", "ACTION", "OUTCOME", "CHANNEL", "FROM", "TARGET"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(events.iter().map(|e| {
                vec![
                    human_time(e.at),
                    e.action.to_string(),
                    e.outcome.to_string(),
                    e.channel.to_string(),
                    or_dash(e.remote_addr.as_deref()),
                    or_dash(e.target.as_deref()),
                ]
            }));
            line(table(&rows))
        }
    };
    let clipboard = match output {
        Output::Copy { secret, .. } => Some(Zeroizing::new(secret.expose().to_owned())),
        _ => None,
    };
    Rendered { stdout, clipboard }
}
