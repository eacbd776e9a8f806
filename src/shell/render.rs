//! Rendering of command output: aligned text for people, JSON for programs.
//!
//! Every string a user stored passes through [`sanitize`] (text) or
//! [`json_safe`] (JSON) before it is printed.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::{Zeroize, Zeroizing};

use super::Output;
use crate::domain::Expiry;
use crate::views::sanitize::{json_safe, sanitize};
use crate::views::{
    CardDetail, FieldView, HealthEntry, IdentityDetail, ImportSummary, NoteDetail, PasswordDetail,
    TotpCode, TotpDetail,
};

/// Rendered output: what goes to standard output, and optionally a secret for
/// the user's clipboard (written by the front end as OSC 52, never printed).
#[derive(Default)]
pub struct Rendered {
    /// Text, lines separated by `\n`, ending in a newline when non-empty.
    pub stdout: Zeroizing<String>,
    /// A secret for `pass copy`.
    pub clipboard: Option<Zeroizing<String>>,
    /// Whether the clipboard is to keep it (`--keep`), not be cleared again.
    pub keep_clipboard: bool,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered(***)")
    }
}

fn human_time(rfc3339: &str) -> String {
    let Ok(t) = OffsetDateTime::parse(rfc3339, &Rfc3339) else {
        return sanitize(rfc3339).into_owned();
    };
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

/// Pretty JSON and a newline, written once into a buffer of its final
/// size, so that no half-grown copy of a revealed secret is left behind.
fn json<T: Serialize + ?Sized>(value: &T) -> Zeroizing<String> {
    let Ok(bytes) = crate::views::json_exact(value, true, 1) else {
        return Zeroizing::new("null\n".to_owned());
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            return Zeroizing::new("null\n".to_owned());
        }
    };
    let mut out = Zeroizing::new(json_safe(text));
    out.reserve_exact(1);
    out.push('\n');
    out
}

/// The columns `cell` takes on a terminal: wide (CJK, emoji) characters
/// take two, combining marks and joiners none.
fn display_width(cell: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(cell)
}

/// Lays out rows in aligned columns, the first row being the header.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| display_width(&r[i])).max().unwrap_or(0))
        .collect();
    // Sized first (cells may be revealed secrets): no half-grown copy is
    // freed along the way.
    let padding: usize = widths.iter().sum::<usize>() + 2 * cols + 1;
    let size = rows
        .iter()
        .map(|r| r.iter().map(String::len).sum::<usize>() + padding)
        .sum();
    let mut out = String::with_capacity(size);
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cols {
                out.extend(std::iter::repeat_n(
                    ' ',
                    widths[i] - display_width(cell) + 2,
                ));
            }
        }
        while out.ends_with(char::is_whitespace) && !out.ends_with('\n') {
            out.pop();
        }
        out.push('\n');
    }
    out
}

fn text(v: &str) -> String {
    sanitize(v).into_owned()
}

fn or_dash(v: Option<&String>) -> String {
    v.map_or_else(|| "-".to_owned(), |s| text(s))
}

/// Groups a card number for reading: 4-6-5 for 15 digits (Amex), else fours.
fn grouped(digits: &str) -> Zeroizing<String> {
    let chars: Vec<char> = digits.chars().collect();
    let sizes: &[usize] = if chars.len() == 15 {
        &[4, 6, 5]
    } else {
        &[4, 4, 4, 4, 4]
    };
    let mut out = Zeroizing::new(String::with_capacity(digits.len() + 4));
    let mut at = 0;
    for size in sizes {
        if at >= chars.len() {
            break;
        }
        if at > 0 {
            out.push(' ');
        }
        let end = (at + size).min(chars.len());
        out.extend(&chars[at..end]);
        at = end;
    }
    out
}

/// `Key:   value` lines, written into a buffer of the final size (values
/// may be revealed secrets; each is zeroized when dropped).
fn fields<K: AsRef<str>>(rows: &[(K, Zeroizing<String>)]) -> Zeroizing<String> {
    let width = rows
        .iter()
        .map(|(k, _)| k.as_ref().len())
        .max()
        .unwrap_or(0)
        + 1;
    let size = rows.iter().map(|(_, v)| width + 2 + v.len()).sum();
    let mut out = Zeroizing::new(String::with_capacity(size));
    for (k, v) in rows {
        let k = k.as_ref();
        out.push_str(k);
        out.push(':');
        out.extend(std::iter::repeat_n(' ', width - k.len() - 1));
        out.push(' ');
        out.push_str(v);
        out.push('\n');
    }
    out
}

/// An item shown: its own `rows`, its tags, when it was created and
/// updated, then its custom fields under `Fields:`, each secret one
/// hidden unless revealed.
fn item_text(
    mut rows: Vec<(&str, Zeroizing<String>)>,
    tags: &[String],
    custom: &[FieldView],
    (created, updated): (&str, &str),
) -> Zeroizing<String> {
    if !tags.is_empty() {
        let tags: Vec<_> = tags.iter().map(|t| text(t)).collect();
        rows.push(("Tags", secret(tags.join(", "))));
    }
    rows.push(("Created", secret(human_time(created))));
    rows.push(("Updated", secret(human_time(updated))));
    let own = fields(&rows);
    if custom.is_empty() {
        return own;
    }
    let custom: Vec<_> = custom
        .iter()
        .map(|f| {
            let value = match &f.value {
                Some(v) => secret(text(v.expose())),
                None => secret("********  (--reveal shows it)".to_owned()),
            };
            (format!("  {}", text(&f.key)), value)
        })
        .collect();
    let custom = fields(&custom);
    const HEADER: &str = "Fields:\n";
    let mut out = Zeroizing::new(String::with_capacity(
        own.len() + HEADER.len() + custom.len(),
    ));
    out.push_str(&own);
    out.push_str(HEADER);
    out.push_str(&custom);
    out
}

fn secret(v: String) -> Zeroizing<String> {
    Zeroizing::new(v)
}

fn card_text(c: &CardDetail) -> Zeroizing<String> {
    let s = &c.summary;
    let today = OffsetDateTime::now_utc().date();
    let expired = Expiry::parse(&s.expiry).is_ok_and(|e| e.is_expired_at(today));
    let number = match &c.number {
        Some(n) => grouped(n.expose()),
        None => secret(format!("**** {}", text(&s.last4))),
    };
    let cvv = match &c.cvv {
        Some(Some(v)) => secret(text(v.expose())),
        Some(None) => secret("-".to_owned()),
        None => secret("***".to_owned()),
    };
    let rows = vec![
        ("Name", secret(text(&s.name))),
        ("Brand", secret(text(&s.brand))),
        ("Number", number),
        ("Holder", secret(or_dash(s.holder.as_ref()))),
        (
            "Expiry",
            secret(format!(
                "{}{}",
                text(&s.expiry),
                if expired { " (expired)" } else { "" }
            )),
        ),
        ("CVV", cvv),
        ("Note", secret(or_dash(c.note.as_ref()))),
    ];
    item_text(rows, &s.tags, &c.fields, (&c.created_at, &c.updated_at))
}

fn password_text(e: &PasswordDetail) -> Zeroizing<String> {
    let s = &e.summary;
    let password = match &e.password {
        Some(p) => secret(text(p.expose())),
        None => secret("********  (--reveal shows it)".to_owned()),
    };
    let rows = vec![
        ("Name", secret(text(&s.name))),
        ("URL", secret(or_dash(s.url.as_ref()))),
        ("Username", secret(or_dash(s.username.as_ref()))),
        ("Password", password),
        ("Note", secret(or_dash(e.note.as_ref()))),
    ];
    item_text(rows, &s.tags, &e.fields, (&e.created_at, &e.updated_at))
}

/// A note's text for the terminal: each line escaped on its own (a line
/// break is the only control character kept), the lines after the first
/// indented by `indent` columns to sit under it.
fn text_lines(text: &str, indent: usize) -> Zeroizing<String> {
    let pad = " ".repeat(indent);
    let lines: Vec<_> = text
        .split('\n')
        .map(|l| sanitize(l.strip_suffix('\r').unwrap_or(l)))
        .collect();
    // Sized first, so no half-grown copy of the text is freed.
    let size: usize = lines.iter().map(|l| indent + 1 + l.len()).sum();
    let mut out = Zeroizing::new(String::with_capacity(size));
    for (i, line) in lines.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
        }
        out.push_str(&line);
        if let std::borrow::Cow::Owned(escaped) = line {
            drop(Zeroizing::new(escaped));
        }
    }
    out
}

fn note_text(n: &NoteDetail) -> Zeroizing<String> {
    // The keys below are at most 7 characters: values start at column 9.
    const VALUE_COLUMN: usize = "Created: ".len();
    let body = match &n.text {
        Some(t) => text_lines(t.expose(), VALUE_COLUMN),
        None => secret("********  (--reveal shows it)".to_owned()),
    };
    let rows = vec![("Name", secret(text(&n.summary.name))), ("Text", body)];
    item_text(
        rows,
        &n.summary.tags,
        &n.fields,
        (&n.created_at, &n.updated_at),
    )
}

fn totp_text(t: &TotpDetail, code: Option<&TotpCode>) -> Zeroizing<String> {
    let s = &t.summary;
    let mut rows = vec![("Name", secret(text(&s.name)))];
    if let Some(code) = code {
        rows.push(("Code", secret(code_line(code))));
    }
    rows.extend([
        ("Issuer", secret(or_dash(s.issuer.as_ref()))),
        ("Account", secret(or_dash(s.account.as_ref()))),
        (
            "Algorithm",
            secret(format!(
                "{}, {} digits, every {} s",
                text(&t.algorithm),
                t.digits,
                t.period
            )),
        ),
        (
            "Secret",
            match &t.secret {
                Some(v) => secret(text(v.expose())),
                None => secret("********  (--reveal shows it)".to_owned()),
            },
        ),
    ]);
    item_text(rows, &s.tags, &t.fields, (&t.created_at, &t.updated_at))
}

/// `import`: what came in, by kind; what was renamed and skipped, with
/// where each record is.
fn import_text(s: &ImportSummary) -> String {
    let total: usize = s.counts().iter().map(|(_, n)| n).sum();
    let kinds: Vec<String> = s
        .counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| {
            let noun = match (*kind, *n) {
                ("identity", 1) => "identity".to_owned(),
                ("identity", _) => "identities".to_owned(),
                ("totp", 1) => "one-time password".to_owned(),
                ("totp", _) => "one-time passwords".to_owned(),
                (kind, 1) => kind.to_owned(),
                (kind, _) => format!("{kind}s"),
            };
            format!("{n} {noun}")
        })
        .collect();
    let items = if total == 1 { "item" } else { "items" };
    let mut out = match (s.dry_run, kinds.is_empty()) {
        (false, true) => format!("Imported nothing from {}.\n", s.format),
        (false, false) => format!(
            "Imported {total} {items} from {}: {}.\n",
            s.format,
            kinds.join(", ")
        ),
        (true, true) => format!(
            "Would import nothing from {} (dry run: nothing was stored).\n",
            s.format
        ),
        (true, false) => format!(
            "Would import {total} {items} from {}: {} (dry run: nothing was stored).\n",
            s.format,
            kinds.join(", ")
        ),
    };
    if !s.renamed.is_empty() {
        out.push_str(&format!(
            "Renamed {} (the name was taken):\n",
            s.renamed.len()
        ));
        for r in &s.renamed {
            out.push_str(&format!(
                "  {}: {} `{}` as `{}`\n",
                r.at,
                r.kind,
                text(&r.from),
                text(&r.to)
            ));
        }
    }
    if !s.skipped.is_empty() {
        out.push_str(&format!("Skipped {}:\n", s.skipped.len()));
        for p in &s.skipped {
            out.push_str(&format!("  {}: {}\n", p.at, text(&p.reason)));
        }
    }
    out
}

/// `health`: a row per entry, then what was found.
fn health_text(entries: &[HealthEntry]) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let checked = entries.iter().any(|e| e.breached.is_some());
    let mut rows = vec![
        ["NAME", "WEAK", "REUSED WITH", "OLD", "BREACHED"]
            .map(String::from)
            .to_vec(),
    ];
    rows.extend(entries.iter().map(|e| {
        let reused: Vec<_> = e.reused_with.iter().map(|n| text(n)).collect();
        vec![
            text(&e.name),
            yes(e.weak),
            if reused.is_empty() {
                "-".to_owned()
            } else {
                reused.join(", ")
            },
            yes(e.old),
            e.breached.map_or_else(|| "-".to_owned(), yes),
        ]
    }));
    let count = |f: fn(&HealthEntry) -> bool| entries.iter().filter(|e| f(e)).count();
    let breached = if checked {
        format!(", {} breached", count(|e| e.breached == Some(true)))
    } else {
        " (breaches not checked: the server has no --breach-file)".to_owned()
    };
    format!(
        "{}{} of {} passwords weak, {} reused, {} unchanged for a year{breached}.\n",
        table(&rows),
        count(|e| e.weak),
        entries.len(),
        count(|e| !e.reused_with.is_empty()),
        count(|e| e.old),
    )
}

/// `492039  (17 s left)`.
fn code_line(code: &TotpCode) -> String {
    format!("{}  ({} s left)", text(&code.code), code.seconds_left)
}

fn identity_text(i: &IdentityDetail) -> Zeroizing<String> {
    // The keys below are at most 9 characters: values start at column 11.
    const VALUE_COLUMN: usize = "Full name: ".len();
    let s = &i.summary;
    let document = match &i.document {
        Some(Some(d)) => secret(text(d.expose())),
        Some(None) => secret("-".to_owned()),
        None => secret("********  (--reveal shows it)".to_owned()),
    };
    let address = match &i.address {
        Some(a) => text_lines(a, VALUE_COLUMN),
        None => secret("-".to_owned()),
    };
    let rows = vec![
        ("Name", secret(text(&s.name))),
        ("Full name", secret(or_dash(s.full_name.as_ref()))),
        ("Email", secret(or_dash(s.email.as_ref()))),
        ("Phone", secret(or_dash(i.phone.as_ref()))),
        ("Address", address),
        ("Document", document),
        ("Note", secret(or_dash(i.note.as_ref()))),
    ];
    item_text(rows, &s.tags, &i.fields, (&i.created_at, &i.updated_at))
}

fn line(s: impl Into<String>) -> Zeroizing<String> {
    let mut s = s.into();
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    Zeroizing::new(s)
}

/// Renders an output for a terminal (`terminal`) or a pipe. Stored text
/// is escaped in both, except the one raw value of `show --field`, which a
/// pipe gets as stored and a terminal escaped: stored text never drives the
/// user's terminal.
pub fn render(output: &Output, terminal: bool) -> Rendered {
    let stdout = match output {
        Output::Nothing | Output::Lock | Output::Exit => Zeroizing::new(String::new()),
        Output::Done(msg) | Output::Help(msg) | Output::Deleted(msg) => line(msg.clone()),
        Output::Whoami(login) => line(login.to_string()),
        Output::Cards { cards, json: true } => json(cards),
        Output::Cards { cards, .. } if cards.is_empty() => {
            line("No cards yet. Add one with `card add`.")
        }
        Output::Cards { cards, .. } => {
            let mut rows = vec![
                ["NAME", "BRAND", "NUMBER", "HOLDER", "EXPIRY"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(cards.iter().map(|c| {
                vec![
                    text(&c.name),
                    text(&c.brand),
                    format!("**** {}", text(&c.last4)),
                    or_dash(c.holder.as_ref()),
                    text(&c.expiry),
                ]
            }));
            line(table(&rows))
        }
        Output::Card { card, json: true } => json(card),
        Output::Card { card, .. } => card_text(card),
        Output::Passwords {
            entries,
            json: true,
        } => json(entries),
        Output::Passwords { entries, .. } if entries.is_empty() => {
            line("No passwords found. Add one with `pass add`.")
        }
        Output::Passwords { entries, .. } => {
            let mut rows = vec![["NAME", "URL", "USERNAME"].map(String::from).to_vec()];
            rows.extend(entries.iter().map(|e| {
                vec![
                    text(&e.name),
                    or_dash(e.url.as_ref()),
                    or_dash(e.username.as_ref()),
                ]
            }));
            line(table(&rows))
        }
        Output::Password { entry, json: true } => json(entry),
        Output::Password { entry, .. } => password_text(entry),
        Output::Notes { notes, json: true } => json(notes),
        Output::Notes { notes, .. } if notes.is_empty() => {
            line("No notes found. Add one with `note add`.")
        }
        Output::Notes { notes, .. } => {
            let mut rows = vec![vec!["NAME".to_owned()]];
            rows.extend(notes.iter().map(|n| vec![text(&n.name)]));
            line(table(&rows))
        }
        Output::Note { note, json: true } => json(note),
        Output::Note { note, .. } => note_text(note),
        Output::Totps { items, json: true } => json(items),
        Output::Totps { items, .. } if items.is_empty() => {
            line("No one-time passwords found. Add one with `totp add`.")
        }
        Output::Totps { items, .. } => {
            let mut rows = vec![["NAME", "ISSUER", "ACCOUNT"].map(String::from).to_vec()];
            rows.extend(items.iter().map(|t| {
                vec![
                    text(&t.name),
                    or_dash(t.issuer.as_ref()),
                    or_dash(t.account.as_ref()),
                ]
            }));
            line(table(&rows))
        }
        // Revealed, the item as the API gives it; else the code.
        Output::Totp {
            totp,
            code: Some(code),
            json: true,
        } if totp.secret.is_none() => json(code),
        Output::Totp {
            totp, json: true, ..
        } => json(totp),
        Output::Totp { totp, code, .. } => totp_text(totp, code.as_ref()),
        Output::Identities { items, json: true } => json(items),
        Output::Identities { items, .. } if items.is_empty() => {
            line("No identities found. Add one with `id add`.")
        }
        Output::Identities { items, .. } => {
            let mut rows = vec![["NAME", "FULL NAME", "EMAIL"].map(String::from).to_vec()];
            rows.extend(items.iter().map(|i| {
                vec![
                    text(&i.name),
                    or_dash(i.full_name.as_ref()),
                    or_dash(i.email.as_ref()),
                ]
            }));
            line(table(&rows))
        }
        Output::Identity {
            identity,
            json: true,
        } => json(identity),
        Output::Identity { identity, .. } => identity_text(identity),
        Output::Code { code, json: true } => json(code),
        Output::Code { code, .. } => line(code_line(code)),
        Output::Generated {
            secret,
            entropy_bits,
            json: true,
        } => json(&crate::views::Generated {
            password: secret.expose(),
            entropy_bits: (entropy_bits * 10.0).round() / 10.0,
        }),
        Output::Generated { secret, .. } => line(secret.expose().to_owned()),
        Output::Field(value) => {
            // A terminal gets a note's lines as lines, each escaped.
            let escaped = terminal.then(|| text_lines(value, 0));
            let shown = escaped.as_deref().map_or(value.as_str(), String::as_str);
            // Written once at its final size, like JSON: no half-grown copy.
            let mut out = Zeroizing::new(String::with_capacity(shown.len() + 1));
            out.push_str(shown);
            out.push('\n');
            out
        }
        Output::Copy { what, name, .. } => line(format!(
            "Copied the {what} of `{}` to your clipboard.",
            text(name)
        )),
        Output::Found { items, json: true } => json(items),
        Output::Found { items, .. } if items.is_empty() => line("Nothing found."),
        Output::Found { items, .. } => {
            let mut rows = vec![["KIND", "NAME"].map(String::from).to_vec()];
            rows.extend(items.iter().map(|f| vec![text(&f.kind), text(&f.name)]));
            line(table(&rows))
        }
        Output::Health {
            entries,
            json: true,
        } => json(entries),
        Output::Health { entries, .. } if entries.is_empty() => line("No passwords to check yet."),
        Output::Health { entries, .. } => line(health_text(entries)),
        Output::Imported {
            summary,
            json: true,
        } => json(summary),
        Output::Imported { summary, .. } => line(import_text(summary)),
        // A terminal shows the file through the sanitiser; anything else
        // gets it byte for byte.
        Output::File(text) if terminal => Zeroizing::new(
            text.split('\n')
                .map(sanitize)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Output::File(text) => text.clone(),
        Output::Trash { items, json: true } => json(items),
        Output::Trash { items, .. } if items.is_empty() => line("The trash is empty."),
        Output::Trash { items, .. } => {
            let mut rows = vec![["KIND", "NAME", "DELETED"].map(String::from).to_vec()];
            rows.extend(
                items
                    .iter()
                    .map(|t| vec![text(&t.kind), text(&t.name), human_time(&t.deleted_at)]),
            );
            line(table(&rows))
        }
        Output::History {
            entries,
            json: true,
        } => json(entries),
        Output::History { entries, .. } if entries.is_empty() => {
            line("No earlier values: its secrets have not changed.")
        }
        Output::History { entries, .. } => {
            let mut rows = vec![["CHANGED", "FIELD", "VALUE"].map(String::from).to_vec()];
            rows.extend(entries.iter().map(|e| {
                let value = match &e.value {
                    Some(v) => text(v.expose()),
                    None => "********".to_owned(),
                };
                vec![human_time(&e.changed_at), text(&e.field), value]
            }));
            let out = line(table(&rows));
            rows.zeroize();
            out
        }
        Output::Events { events, json: true } => json(events),
        Output::Events { events, .. } if events.is_empty() => line("No events."),
        Output::Events { events, .. } => {
            let mut rows = vec![
                [
                    "WHEN", "ACTION", "OUTCOME", "CHANNEL", "FROM", "TARGET", "ITEM",
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(events.iter().map(|e| {
                vec![
                    human_time(&e.at),
                    text(&e.action),
                    text(&e.outcome),
                    text(&e.channel),
                    or_dash(e.remote_addr.as_ref()),
                    or_dash(e.target.as_ref()),
                    or_dash(e.item.as_ref()),
                ]
            }));
            line(table(&rows))
        }
    };
    let (clipboard, keep_clipboard) = match output {
        Output::Copy { secret, keep, .. } => {
            (Some(Zeroizing::new(secret.expose().to_owned())), *keep)
        }
        _ => (None, false),
    };
    Rendered {
        stdout,
        clipboard,
        keep_clipboard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fields_raw_value_goes_raw_to_a_pipe_and_escaped_to_a_terminal() {
        let value = || Output::Field(Zeroizing::new("pw\u{1b}]52;c;eA==\u{7}\tx".to_owned()));
        let piped = render(&value(), false).stdout;
        let shown = render(&value(), true).stdout;
        assert_eq!(piped.as_str(), "pw\u{1b}]52;c;eA==\u{7}\tx\n");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(
            shown.starts_with("pw") && shown.ends_with("x\n"),
            "{shown:?}"
        );
    }

    #[test]
    fn a_revealed_notes_lines_sit_under_each_other_each_escaped() {
        let note = NoteDetail {
            summary: crate::views::NoteSummary {
                id: "1".into(),
                name: "door".into(),
                tags: vec![],
            },
            text: Some(crate::views::SecretText::new(
                "front 1234\r\nback \u{1b}[2J\n\nend",
            )),
            fields: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            version: 1,
        };
        let shown = note_text(&note);
        assert!(
            shown.contains("Text:    front 1234\n         back \\x1b[2J\n\n         end\n"),
            "{shown:?}"
        );
        let hidden = note_text(&NoteDetail { text: None, ..note });
        assert!(hidden.contains("Text:    ********"), "{hidden:?}");
        assert!(!hidden.contains("1234"), "{hidden:?}");
    }

    #[test]
    fn card_numbers_are_grouped_by_brand_layout() {
        assert_eq!(grouped("4111111111111111").as_str(), "4111 1111 1111 1111");
        assert_eq!(grouped("378282246310005").as_str(), "3782 822463 10005");
        assert_eq!(
            grouped("6011000990139424123").as_str(),
            "6011 0009 9013 9424 123"
        );
    }

    #[test]
    fn tables_align_columns_by_display_width() {
        let rows = vec![
            vec!["A".to_owned(), "B".to_owned()],
            vec!["Zoë".to_owned(), "x".to_owned()],
            // e + combining acute: one column.
            vec!["Zoe\u{301}".to_owned(), "y".to_owned()],
            // Two wide characters: four columns.
            vec!["銀行".to_owned(), "z".to_owned()],
            vec!["🏦".to_owned(), "w".to_owned()],
        ];
        assert_eq!(
            table(&rows),
            "A     B\nZoë   x\nZoe\u{301}   y\n銀行  z\n🏦    w\n"
        );
    }
}
