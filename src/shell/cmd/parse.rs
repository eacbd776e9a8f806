//! From the grammar's parse tree to typed [`Command`]s. Values are parsed
//! into domain types here, so a command that reaches a service holds only
//! valid data.

use clap::Parser;

use super::{Command, card, find, help, identity, item, log, note, pass, totp, transfer, trash};
use crate::domain::kind::{Card, Identity, Password};
use crate::domain::totp::Algorithm;
use crate::domain::{
    Address, CardNumber, CustomField, Cvv, DocumentNumber, DomainError, Email, Expiry, Extras,
    ExtrasChanges, FieldKey, FullName, GenLength, Holder, ItemName, Note, NoteText, Phone, Secret,
    Tag, TotpSeed, Url, Username,
};
use crate::shell::ShellError;
use crate::shell::generate::{Passphrase, generate};
use crate::shell::grammar::{
    AccountCmd, CardCmd, CardFlags, ExtraFlags, HistoryArgs, IdCmd, IdFlags, Line, NoteCmd,
    NoteFlags, PassCmd, PassFlags, ShowArgs, Top, TotpCmd, TotpFlags, TrashCmd, clap_message,
    command_path,
};
use zeroize::Zeroizing;

/// `Some(parsed)` for a given value.
fn given<T>(
    v: Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    v.as_deref().map(parse).transpose()
}

/// For edits of optional fields: an empty value clears the field.
fn clearable<T>(
    v: Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<Option<T>>, DomainError> {
    match v.as_deref() {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(Some(None)),
        Some(s) => parse(s).map(|t| Some(Some(t))),
    }
}

/// `KEY=VALUE` of `--field` and `--secret-field`, split at the first `=`.
fn split_field(given: &str) -> Result<(&str, &str), DomainError> {
    given
        .split_once('=')
        .ok_or_else(|| DomainError::invalid("field", "give a custom field as KEY=VALUE"))
}

fn key_value(given: &str) -> Result<(FieldKey, &str), DomainError> {
    let (key, value) = split_field(given)?;
    Ok((FieldKey::parse(key)?, value))
}

impl ExtraFlags {
    fn given_fields(&self) -> impl Iterator<Item = (&str, bool)> {
        let plain = self.fields.iter().map(|f| (f.as_str(), false));
        plain.chain(self.secret_fields.iter().map(|f| (f.as_str(), true)))
    }

    /// The tags and fields of a new item.
    fn into_extras(self) -> Result<Extras, DomainError> {
        let fields = self
            .given_fields()
            .map(|(given, secret)| {
                let (key, value) = split_field(given)?;
                Ok((key, value, secret))
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Extras::parse(self.tags.iter().map(String::as_str), fields)
    }

    /// An edit: the tags given replace the item's (one empty `--tag`
    /// removes them all); `--field KEY=` removes a field.
    fn into_changes(self) -> Result<ExtrasChanges, DomainError> {
        let tags = match self.tags.as_slice() {
            [] => None,
            [only] if only.trim().is_empty() => Some(Vec::new()),
            tags => Some(
                tags.iter()
                    .map(|t| Tag::parse(t))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let mut changes = ExtrasChanges {
            tags,
            ..ExtrasChanges::default()
        };
        for (given, secret) in self.given_fields() {
            let (key, value) = key_value(given)?;
            if value.is_empty() {
                changes.remove.push(key);
            } else {
                changes.set.push(CustomField::new(key, value, secret)?);
            }
        }
        Ok(changes)
    }
}

impl CardFlags {
    fn into_add(self) -> Result<card::Add, DomainError> {
        Ok(card::Add {
            name: given(self.name, ItemName::parse)?,
            number: given(self.number, CardNumber::parse)?,
            holder: given(self.holder, Holder::parse)?,
            expiry: given(self.expiry, Expiry::parse)?,
            cvv: given(self.cvv, Cvv::parse)?,
            note: given(self.note, Note::parse)?,
            extras: self.extras.into_extras()?,
        })
    }

    fn into_edit(self, name: ItemName) -> Result<item::Edit<Card>, DomainError> {
        Ok(item::Edit {
            name,
            changes: crate::service::CardChanges {
                name: given(self.name, ItemName::parse)?,
                number: given(self.number, CardNumber::parse)?,
                holder: clearable(self.holder, Holder::parse)?,
                expiry: given(self.expiry, Expiry::parse)?,
                cvv: clearable(self.cvv, Cvv::parse)?,
                note: clearable(self.note, Note::parse)?,
                extras: self.extras.into_changes()?,
            },
        })
    }
}

/// A password entry's `--totp` seed.
fn totp_uri(uri: &str) -> Result<TotpSeed, DomainError> {
    TotpSeed::parse_uri_as("totp", uri)
}

impl PassFlags {
    fn length(&self) -> Result<GenLength, DomainError> {
        self.length
            .as_deref()
            .map_or(Ok(GenLength::default()), GenLength::parse)
    }

    fn into_add(self) -> Result<pass::Add, DomainError> {
        let length = self.length()?;
        Ok(pass::Add {
            name: given(self.name, ItemName::parse)?,
            url: given(self.url, Url::parse)?,
            username: given(self.username, Username::parse)?,
            password: given(self.password, Secret::parse)?,
            generate: self.generate.then_some(length),
            note: given(self.note, Note::parse)?,
            totp: given(self.totp, totp_uri)?,
            extras: self.extras.into_extras()?,
        })
    }

    /// With `--generate`, the new password is generated here.
    fn into_edit(self, name: ItemName) -> Result<item::Edit<Password>, DomainError> {
        let length = self.length()?;
        let password = if self.generate {
            Some(generate(length, true))
        } else {
            given(self.password, Secret::parse)?
        };
        Ok(item::Edit {
            name,
            changes: crate::service::PasswordChanges {
                name: given(self.name, ItemName::parse)?,
                url: clearable(self.url, Url::parse)?,
                username: clearable(self.username, Username::parse)?,
                password,
                note: clearable(self.note, Note::parse)?,
                totp: clearable(self.totp, totp_uri)?,
                extras: self.extras.into_changes()?,
            },
        })
    }
}

impl NoteFlags {
    /// The text given, or `None` for `-`, which reads it.
    fn text(&self) -> Result<Option<note::Text>, DomainError> {
        match self.text.as_deref() {
            None => Ok(None),
            Some("-") => Ok(Some(note::Text::Read)),
            Some(text) => NoteText::parse(text).map(|t| Some(note::Text::Given(t))),
        }
    }

    fn into_add(self) -> Result<note::Add, DomainError> {
        Ok(note::Add {
            text: self.text()?.unwrap_or(note::Text::Read),
            name: given(self.name, ItemName::parse)?,
            extras: self.extras.into_extras()?,
        })
    }

    fn into_edit(self, name: ItemName) -> Result<note::Edit, DomainError> {
        Ok(note::Edit {
            text: self.text()?,
            new_name: given(self.name, ItemName::parse)?,
            extras: self.extras.into_changes()?,
            name,
        })
    }
}

/// A whole number given as a flag, or why it is refused.
fn number<T: std::str::FromStr>(
    v: Option<String>,
    field: &'static str,
    reason: &'static str,
) -> Result<Option<T>, DomainError> {
    v.map(|v| {
        v.trim()
            .parse()
            .map_err(|_| DomainError::invalid(field, reason))
    })
    .transpose()
}

impl TotpFlags {
    fn seed(self) -> Result<(Option<String>, totp::SeedInput, ExtraFlags), DomainError> {
        if let Some(uri) = self.uri {
            let seed = TotpSeed::parse_uri(&Zeroizing::new(uri))?;
            return Ok((self.name, totp::SeedInput::Uri(seed), self.extras));
        }

        let parts = totp::SeedParts {
            secret: self.secret.map(Zeroizing::new),
            issuer: self.issuer,
            account: self.account,
            algorithm: given(self.algorithm, Algorithm::parse)?,
            digits: number(self.digits, "digits", "must be 6, 7 or 8")?,
            period: number(self.period, "period", "must be 1 to 300 seconds")?,
        };
        Ok((self.name, totp::SeedInput::Parts(parts), self.extras))
    }

    fn into_add(self) -> Result<totp::Add, DomainError> {
        let (name, seed, extras) = self.seed()?;
        Ok(totp::Add {
            name: given(name, ItemName::parse)?,
            seed,
            extras: extras.into_extras()?,
        })
    }

    fn into_edit(self, name: ItemName) -> Result<totp::Edit, DomainError> {
        let (new_name, seed, extras) = self.seed()?;
        Ok(totp::Edit {
            name,
            new_name: given(new_name, ItemName::parse)?,
            seed,
            extras: extras.into_changes()?,
        })
    }
}

impl IdFlags {
    fn into_add(self) -> Result<identity::Add, DomainError> {
        Ok(identity::Add {
            name: given(self.name, ItemName::parse)?,
            full_name: given(self.full_name, FullName::parse)?,
            email: given(self.email, Email::parse_address)?,
            phone: given(self.phone, Phone::parse_number)?,
            address: given(self.address, Address::parse)?,
            document: given(self.document, DocumentNumber::parse)?,
            note: given(self.note, Note::parse)?,
            extras: self.extras.into_extras()?,
        })
    }

    fn into_edit(self, name: ItemName) -> Result<item::Edit<Identity>, DomainError> {
        Ok(item::Edit {
            name,
            changes: crate::domain::IdentityChanges {
                name: given(self.name, ItemName::parse)?,
                full_name: clearable(self.full_name, FullName::parse)?,
                email: clearable(self.email, Email::parse_address)?,
                phone: clearable(self.phone, Phone::parse_number)?,
                address: clearable(self.address, Address::parse)?,
                document: clearable(self.document, DocumentNumber::parse)?,
                note: clearable(self.note, Note::parse)?,
                extras: self.extras.into_changes()?,
            },
        })
    }
}

impl HistoryArgs {
    fn history<K: item::Shelled>(self) -> Result<item::History<K>, DomainError> {
        item::History::new(&self.name, self.reveal, self.json)
    }
}

impl ShowArgs {
    fn show<K: item::Shelled>(self) -> Result<item::Show<K>, DomainError> {
        item::Show::new(&self.name, self.reveal, self.json, self.field.as_deref())
    }
}

fn name(s: String) -> Result<ItemName, DomainError> {
    ItemName::named(&s)
}

impl TryFrom<Top> for Command {
    type Error = DomainError;

    fn try_from(top: Top) -> Result<Self, DomainError> {
        Ok(match top {
            Top::Card(c) => match c {
                CardCmd::Add(f) => Command::CardAdd(f.into_add()?),
                CardCmd::List(l) => Command::CardList(item::List::new(l.filter, l.tag, l.json)?),
                CardCmd::Show(s) => Command::CardShow(s.show()?),
                CardCmd::Edit { item: n, flags } => Command::CardEdit(flags.into_edit(name(n)?)?),
                CardCmd::Rm(n) => Command::CardRm(item::Rm::new(&n.name, n.force)?),
                CardCmd::History(h) => Command::CardHistory(h.history()?),
            },
            Top::Pass(p) => match p {
                PassCmd::Add(f) => Command::PassAdd(f.into_add()?),
                PassCmd::List(l) => Command::PassList(item::List::new(l.filter, l.tag, l.json)?),
                PassCmd::Show(s) => Command::PassShow(s.show()?),
                PassCmd::Edit { item: n, flags } => Command::PassEdit(flags.into_edit(name(n)?)?),
                PassCmd::Rm(n) => Command::PassRm(item::Rm::new(&n.name, n.force)?),
                PassCmd::History(h) => Command::PassHistory(h.history()?),
                PassCmd::Gen {
                    length,
                    no_symbols,
                    words,
                    separator,
                    capitalize,
                    number,
                    json,
                } => {
                    let shape = match words {
                        Some(words) => {
                            let mut phrase = Passphrase::new(&words, separator.as_deref())?;
                            phrase.capitalize = capitalize;
                            phrase.number = number;
                            pass::GenShape::Passphrase(phrase)
                        }
                        None => pass::GenShape::Password {
                            length: length
                                .as_deref()
                                .map_or(Ok(GenLength::default()), GenLength::parse)?,
                            symbols: !no_symbols,
                        },
                    };
                    Command::PassGen(pass::Gen { shape, json })
                }
                PassCmd::Copy(c) => Command::PassCopy(pass::Copy {
                    name: name(c.name)?,
                    keep: c.keep,
                }),
                PassCmd::Totp { name: n, json } => Command::PassTotp(pass::Code {
                    name: name(n)?,
                    json,
                }),
            },
            Top::Note(n) => match n {
                NoteCmd::Add(f) => Command::NoteAdd(f.into_add()?),
                NoteCmd::List(l) => Command::NoteList(item::List::new(l.filter, l.tag, l.json)?),
                NoteCmd::Show(s) => Command::NoteShow(s.show()?),
                NoteCmd::Edit { item: n, flags } => Command::NoteEdit(flags.into_edit(name(n)?)?),
                NoteCmd::Rm(n) => Command::NoteRm(item::Rm::new(&n.name, n.force)?),
                NoteCmd::History(h) => Command::NoteHistory(h.history()?),
            },
            Top::Totp(t) => match t {
                TotpCmd::Add(f) => Command::TotpAdd(f.into_add()?),
                TotpCmd::List(l) => Command::TotpList(item::List::new(l.filter, l.tag, l.json)?),
                TotpCmd::Show(s) => Command::TotpShow(totp::Show(s.show()?)),
                TotpCmd::Copy(c) => Command::TotpCopy(totp::Copy {
                    name: name(c.name)?,
                    keep: c.keep,
                }),
                TotpCmd::Edit { item: n, flags } => Command::TotpEdit(flags.into_edit(name(n)?)?),
                TotpCmd::Rm(n) => Command::TotpRm(item::Rm::new(&n.name, n.force)?),
                TotpCmd::History(h) => Command::TotpHistory(h.history()?),
            },
            Top::Id(i) => match i {
                IdCmd::Add(f) => Command::IdAdd(f.into_add()?),
                IdCmd::List(l) => Command::IdList(item::List::new(l.filter, l.tag, l.json)?),
                IdCmd::Show(s) => Command::IdShow(s.show()?),
                IdCmd::Edit { item: n, flags } => Command::IdEdit(flags.into_edit(name(n)?)?),
                IdCmd::Rm(n) => Command::IdRm(item::Rm::new(&n.name, n.force)?),
                IdCmd::History(h) => Command::IdHistory(h.history()?),
            },
            Top::Trash(t) => match t {
                TrashCmd::List { json } => Command::TrashList(trash::List { json }),
                TrashCmd::Restore(n) => Command::TrashRestore(trash::Restore {
                    name: name(n.name)?,
                }),
                TrashCmd::Empty { force } => Command::TrashEmpty(trash::Empty { force }),
            },
            Top::Find { text, json } => {
                if text.trim().is_empty() {
                    return Err(DomainError::invalid("text", "give the text to look for"));
                }
                Command::Find(find::Find { text, json })
            }
            Top::Health { json } => Command::Health(find::Health { json }),
            Top::Export(e) => Command::Export(transfer::Export {
                format: e.format.parse()?,
                plaintext: e.plaintext,
                force: e.force,
            }),
            Top::Import(i) => Command::Import(transfer::Import {
                format: i.format.parse()?,
                dry_run: i.dry_run,
                json: i.json,
                file: i.file,
            }),
            Top::Log { limit, json } => Command::Log(log::Log { limit, json }),
            Top::Whoami => Command::Whoami,
            Top::Lock => Command::Lock,
            Top::Passwd => Command::Passwd,
            Top::Pin => Command::Pin,
            Top::RecoveryKey => Command::RecoveryKey,
            Top::Account(AccountCmd::Delete) => Command::AccountDelete,
            Top::Exit => Command::Exit,
            Top::Help { command } => Command::Help(help::Help { topic: command }),
        })
    }
}

/// Splits a line like a POSIX shell (quotes, backslashes) and parses it.
/// `Ok(None)` for a blank line. Help requested with `--help` is an
/// `Ok(Some(Command::Help))`.
pub fn parse_line(line: &str) -> Result<Option<Command>, ShellError> {
    let words = shell_words::split(line).map_err(|e| ShellError::Usage(format!("error: {e}")))?;
    parse_words(&words)
}

/// Parses an already split command line (SSH exec, the local client's argv).
pub fn parse_words(words: &[String]) -> Result<Option<Command>, ShellError> {
    if words.is_empty() {
        return Ok(None);
    }
    match Line::try_parse_from(words) {
        Ok(line) => Ok(Some(Command::try_from(line.cmd)?)),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Ok(Some(Command::Help(help::Help {
                    topic: command_path(words),
                })))
            }
            _ => Err(ShellError::Usage(clap_message(&e))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::grammar::{history_may_keep, tree};

    fn parse(s: &str) -> Result<Option<Command>, ShellError> {
        parse_line(s)
    }

    #[test]
    fn the_grammar_is_consistent() {
        tree().debug_assert();
    }

    #[test]
    fn a_blank_line_is_no_command() {
        assert!(matches!(parse("   "), Ok(None)));
    }

    #[test]
    fn quoted_names_are_one_word() {
        match parse("card show 'my visa' --reveal") {
            Ok(Some(Command::CardShow(s))) => {
                assert_eq!(s.name.as_str(), "my visa");
                assert!(s.reveal);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_unknown_command_is_a_usage_error() {
        let Err(ShellError::Usage(m)) = parse("frobnicate") else {
            panic!("expected usage error")
        };
        assert!(m.contains("frobnicate"), "{m}");
    }

    #[test]
    fn a_bad_card_number_is_refused_at_parse_time() {
        let Err(ShellError::Service(e)) = parse("card add --number 4111111111111112") else {
            panic!("expected invalid")
        };
        assert!(e.to_string().starts_with("number:"), "{e}");
    }

    #[test]
    fn leftover_arguments_are_an_error() {
        assert!(parse("whoami extra").is_err());
        assert!(parse("card list now later").is_err());
    }

    #[test]
    fn unbalanced_quotes_are_an_error() {
        assert!(matches!(
            parse("card show 'oops"),
            Err(ShellError::Usage(_))
        ));
    }

    #[test]
    fn only_lines_without_sealed_values_may_reach_a_history_file() {
        for kept in [
            "pass list",
            "card list --json",
            "log --limit 5",
            "log --limit=5 --json",
            "pass gen --length 24",
            "card show --help",
            "whoami",
        ] {
            assert!(history_may_keep(kept), "{kept}");
        }
        for left_out in [
            "pass show github",
            "card add --name visa",
            "card add --holder 'Alice Smith'",
            "pass add --note 'door code'",
            "pass list git",
            "pass edit github --url https://x.test",
            "card rm visa",
            "pass show 'unbalanced",
            "",
        ] {
            assert!(!history_may_keep(left_out), "{left_out}");
        }
    }

    #[test]
    fn help_flag_becomes_the_help_command() {
        match parse("card add --number 4111111111111111 --help") {
            Ok(Some(Command::Help(h))) => assert_eq!(h.topic, vec!["card", "add"]),
            other => panic!("{other:?}"),
        }
        match parse("card add --help") {
            Ok(Some(Command::Help(h))) => assert_eq!(h.topic, vec!["card", "add"]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_missing_argument_is_named_in_the_one_line_error() {
        for (line, named) in [
            ("pass show", "<NAME>"),
            ("card rm", "<NAME>"),
            ("pass gen --number", "--words"),
        ] {
            let message = parse(line).expect_err(line).to_string();
            assert!(message.contains("not provided"), "{line}: {message}");
            assert!(message.contains(named), "{line}: {message}");
            assert_eq!(message.lines().count(), 1, "{line}: {message}");
        }
    }

    #[test]
    fn password_and_generate_conflict() {
        assert!(parse("pass add --password x --generate").is_err());
    }

    #[test]
    fn edit_takes_the_item_name_and_a_new_name() {
        match parse("card edit visa --name 'old visa'") {
            Ok(Some(Command::CardEdit(e))) => {
                assert_eq!(e.name.as_str(), "visa");
                assert_eq!(
                    e.changes.name.map(|n| n.as_str().to_owned()).as_deref(),
                    Some("old visa")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_empty_value_clears_an_optional_field_on_edit() {
        match parse("pass edit github --note ''") {
            Ok(Some(Command::PassEdit(e))) => assert!(matches!(e.changes.note, Some(None))),
            other => panic!("unexpected {other:?}"),
        }
    }
}
