//! The one command grammar, as a clap tree: what `help` shows, what Tab
//! completes, and what `cmd::parse` turns into typed commands.

use clap::{Args, Parser, Subcommand};

/// Flags whose values are secrets: a line holding one is kept out of history.
pub const SECRET_FLAGS: &[&str] = &[
    "--number",
    "--cvv",
    "--password",
    "--text",
    "--secret",
    "--uri",
    "--totp",
    "--document",
    "--secret-field",
];

/// Flags whose presence or value is never sealed at rest: a line of only
/// command words and these may be written to a history file.
const PLAIN_FLAGS: &[&str] = &[
    "--json",
    "--reveal",
    "--generate",
    "--keep",
    "--dry-run",
    "--plaintext",
    "--force",
    "-f",
    "--help",
    "-h",
];
/// Flags taking a value that is never sealed at rest (a count).
const PLAIN_VALUE_FLAGS: &[&str] = &["--limit", "--length", "--format"];

/// Whether `line` may be written to a history file on disk: it holds
/// nothing that Keeper seals at rest. Item names, notes, holders, URLs,
/// usernames and a listing's filter are all sealed, so `pass list`,
/// `log --limit 5` and `card show --help` qualify and `pass show github`
/// does not.
pub fn history_may_keep(line: &str) -> bool {
    let Ok(words) = shell_words::split(line) else {
        return false;
    };
    let path = command_path(&words).len();
    let mut rest = words.iter().skip(path);
    while let Some(word) = rest.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, _)) => (flag, true),
            None => (word.as_str(), false),
        };
        if PLAIN_FLAGS.contains(&flag) && !inline {
            continue;
        }
        if PLAIN_VALUE_FLAGS.contains(&flag) {
            if !inline {
                let _value = rest.next();
            }
            continue;
        }
        return false;
    }
    !words.is_empty()
}

/// The shell's commands as a clap tree (`card add`, `pass list` …), for
/// `keeper completions` and `keeper man`: the same commands run once as
/// `keeper pass list`.
pub fn commands() -> clap::Command {
    <Line as clap::CommandFactory>::command()
}

#[derive(Debug, Parser)]
#[command(
    name = "keeper",
    no_binary_name = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    help_expected = true
)]
pub(super) struct Line {
    #[command(subcommand)]
    pub cmd: Top,
}

#[derive(Debug, Subcommand)]
pub(super) enum Top {
    /// Manage bank cards
    #[command(subcommand)]
    Card(CardCmd),
    /// Manage service passwords
    #[command(subcommand)]
    Pass(PassCmd),
    /// Keep secure notes: multi-line text, hidden until revealed
    #[command(subcommand)]
    Note(NoteCmd),
    /// Keep one-time password seeds (TOTP) and show their codes
    #[command(subcommand)]
    Totp(TotpCmd),
    /// Keep identities: names, contact details, a document number
    #[command(subcommand)]
    Id(IdCmd),
    /// Items deleted in the last 30 days (or as the server keeps them): list, restore, empty
    #[command(subcommand)]
    Trash(TrashCmd),
    /// Find items by name, URL, username and every field shown without --reveal (case and accents ignored)
    Find {
        /// The text to look for
        text: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Check your passwords: weak, reused, unchanged for a year, breached (with the server's breach file)
    Health {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Import another password manager's export: over SSH the file is standard input after the PIN line
    Import(ImportArgs),
    /// Write every item out: an encrypted Keeper archive, or Bitwarden's JSON or CSV with --plaintext
    Export(ExportArgs),
    /// Show your own audit events, newest first
    Log {
        /// How many events to show
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show who you are logged in as
    Whoami,
    /// Lock the vault now (the PIN unlocks it again)
    Lock,
    /// Change your login password
    Passwd,
    /// Change your PIN
    Pin,
    /// Show a new recovery key (asks your password); the old one stops working
    RecoveryKey,
    /// Your account: `account delete` deletes it and every item in it
    #[command(subcommand)]
    Account(AccountCmd),
    /// Leave the shell
    #[command(alias = "quit")]
    Exit,
    /// List commands, or show one command's usage
    Help {
        /// A command, e.g. `card add`
        command: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// What wrote the file
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::interchange::Format::NAMES))]
    pub format: String,
    /// Read the file and say what would be imported; store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
    /// The file (the local client only; `-` or nothing reads standard input)
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    /// `keeper` (encrypted with a passphrase you choose) or Bitwarden's `bitwarden-json`, `bitwarden-csv`
    #[arg(long, default_value = "keeper", value_parser = clap::builder::PossibleValuesParser::new(crate::interchange::export::ExportFormat::NAMES))]
    pub format: String,
    /// Write Bitwarden's formats, which hold every secret unencrypted
    #[arg(long)]
    pub plaintext: bool,
    /// Do not ask before writing secrets unencrypted
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub(super) enum AccountCmd {
    /// Delete your account and every item in it, for good (asks your password and PIN, then your login to confirm)
    Delete,
}

#[derive(Debug, Subcommand)]
pub(super) enum TrashCmd {
    /// List what is in the trash: kind, name, when it was deleted
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Put an item back in the vault (the one of that name deleted last)
    Restore(NameArg),
    /// Delete everything in the trash for good
    Empty {
        /// Do not ask first
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum CardCmd {
    /// Add a card; prompts for what is missing
    Add(CardFlags),
    /// List cards: name, brand, last four digits, holder, expiry
    List(ListArgs),
    /// Show one card; number and CVV only with --reveal
    Show(ShowArgs),
    /// Change a card's fields
    Edit {
        /// The card's name
        #[arg(value_name = "NAME")]
        item: String,
        #[command(flatten)]
        flags: CardFlags,
    },
    /// Delete a card
    Rm(RmArgs),
    /// Earlier values of its secret fields, newest first (the last 10); the values only with --reveal
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub(super) struct CardFlags {
    /// Name to file the card under
    #[arg(long)]
    pub name: Option<String>,
    /// Card number (spaces and dashes allowed)
    #[arg(long)]
    pub number: Option<String>,
    /// Cardholder name
    #[arg(long)]
    pub holder: Option<String>,
    /// Expiry, MM/YY or MM/YYYY
    #[arg(long)]
    pub expiry: Option<String>,
    /// Security code (prompting keeps it out of history)
    #[arg(long)]
    pub cvv: Option<String>,
    /// Free-text note
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub extras: ExtraFlags,
}

#[derive(Debug, Subcommand)]
pub(super) enum PassCmd {
    /// Add a password; prompts for what is missing
    Add(PassFlags),
    /// List passwords: name, URL, username (never the password)
    List(ListArgs),
    /// Show one entry; the password only with --reveal
    Show(ShowArgs),
    /// Change an entry's fields
    Edit {
        /// The entry's name
        #[arg(value_name = "NAME")]
        item: String,
        #[command(flatten)]
        flags: PassFlags,
    },
    /// Delete an entry
    Rm(RmArgs),
    /// Earlier values of its secret fields, newest first (the last 10); the values only with --reveal
    History(HistoryArgs),
    /// Print a generated password or passphrase; stores nothing
    Gen {
        /// Length, 8 to 128
        #[arg(long, conflicts_with = "words")]
        length: Option<String>,
        /// Letters and digits only
        #[arg(long, conflicts_with = "words")]
        no_symbols: bool,
        /// A passphrase of this many words (3 to 20) from the EFF's list of 7,776
        #[arg(long)]
        words: Option<String>,
        /// Between the words (default `-`, at most 8 characters)
        #[arg(long, requires = "words", allow_hyphen_values = true)]
        separator: Option<String>,
        /// Each word with a capital letter
        #[arg(long, requires = "words")]
        capitalize: bool,
        /// A random digit after one of the words
        #[arg(long, requires = "words")]
        number: bool,
        /// The password and its entropy in bits, as JSON
        #[arg(long)]
        json: bool,
    },
    /// Put a password on your local clipboard (OSC 52), cleared again after 45 s; prints nothing secret
    Copy(CopyArgs),
    /// Print the current one-time code of an entry's seed (`pass add --totp`)
    Totp {
        /// The entry's name
        name: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(super) struct PassFlags {
    /// Name to file the entry under
    #[arg(long)]
    pub name: Option<String>,
    /// Where the password is used
    #[arg(long)]
    pub url: Option<String>,
    /// Login at that service
    #[arg(long)]
    pub username: Option<String>,
    /// The password (prompting keeps it out of history)
    #[arg(long, conflicts_with = "generate")]
    pub password: Option<String>,
    /// Generate the password instead
    #[arg(long)]
    pub generate: bool,
    /// Length of a generated password, 8 to 128
    #[arg(long, requires = "generate")]
    pub length: Option<String>,
    /// Free-text note
    #[arg(long)]
    pub note: Option<String>,
    /// A one-time password seed kept with it, as an otpauth://totp/… URI
    #[arg(long, value_name = "URI")]
    pub totp: Option<String>,
    #[command(flatten)]
    pub extras: ExtraFlags,
}

#[derive(Debug, Subcommand)]
pub(super) enum NoteCmd {
    /// Add a note; its text is typed after the command (end with a line of `.`)
    /// or, through SSH exec, read from standard input after the PIN line
    Add(NoteFlags),
    /// List notes by name (never their text)
    List(ListArgs),
    /// Show one note; its text only with --reveal
    Show(ShowArgs),
    /// Rename a note or replace its text
    Edit {
        /// The note's name
        #[arg(value_name = "NAME")]
        item: String,
        #[command(flatten)]
        flags: NoteFlags,
    },
    /// Delete a note
    Rm(RmArgs),
    /// Earlier values of its secret fields, newest first (the last 10); the values only with --reveal
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub(super) struct NoteFlags {
    /// Name to file the note under
    #[arg(long)]
    pub name: Option<String>,
    /// The text, up to 64 KiB; `-` reads it as when it is left out
    #[arg(long, allow_hyphen_values = true)]
    pub text: Option<String>,
    #[command(flatten)]
    pub extras: ExtraFlags,
}

#[derive(Debug, Subcommand)]
pub(super) enum TotpCmd {
    /// Add a one-time password seed; prompts for what is missing
    Add(TotpFlags),
    /// List one-time passwords: name, issuer, account (never the secret)
    List(ListArgs),
    /// Show the current code and the seed; the secret only with --reveal
    Show(ShowArgs),
    /// Put the current code on your local clipboard (OSC 52), cleared again after 45 s; prints nothing secret
    Copy(CopyArgs),
    /// Change an item's name or seed
    Edit {
        /// The item's name
        #[arg(value_name = "NAME")]
        item: String,
        #[command(flatten)]
        flags: TotpFlags,
    },
    /// Delete a one-time password
    Rm(RmArgs),
    /// Earlier values of its secret fields, newest first (the last 10); the values only with --reveal
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub(super) struct TotpFlags {
    /// Name to file it under (default: the URI's issuer or account)
    #[arg(long)]
    pub name: Option<String>,
    /// The whole seed as an otpauth://totp/… URI (prompting keeps it out of history)
    #[arg(long, conflicts_with_all = ["secret", "issuer", "account", "algorithm", "digits", "period"])]
    pub uri: Option<String>,
    /// The shared secret in base32 (prompting keeps it out of history)
    #[arg(long)]
    pub secret: Option<String>,
    /// Who issued it (a service's name)
    #[arg(long)]
    pub issuer: Option<String>,
    /// The account at that service
    #[arg(long)]
    pub account: Option<String>,
    /// SHA1 (default), SHA256 or SHA512
    #[arg(long)]
    pub algorithm: Option<String>,
    /// Digits of a code: 6 (default), 7 or 8
    #[arg(long)]
    pub digits: Option<String>,
    /// Seconds a code lasts: 1 to 300, 30 by default
    #[arg(long)]
    pub period: Option<String>,
    #[command(flatten)]
    pub extras: ExtraFlags,
}

#[derive(Debug, Subcommand)]
pub(super) enum IdCmd {
    /// Add an identity; asks for what is missing
    Add(IdFlags),
    /// List identities: name, full name, email (never the document number)
    List(ListArgs),
    /// Show one identity; the document number only with --reveal
    Show(ShowArgs),
    /// Change an identity's fields
    Edit {
        /// The identity's name
        #[arg(value_name = "NAME")]
        item: String,
        #[command(flatten)]
        flags: IdFlags,
    },
    /// Delete an identity
    Rm(RmArgs),
    /// Earlier values of its secret fields, newest first (the last 10); the values only with --reveal
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub(super) struct IdFlags {
    /// Name to file the identity under
    #[arg(long)]
    pub name: Option<String>,
    /// The person's full name
    #[arg(long)]
    pub full_name: Option<String>,
    /// Email address
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number
    #[arg(long)]
    pub phone: Option<String>,
    /// Postal address
    #[arg(long)]
    pub address: Option<String>,
    /// A document's number: passport, ID card (prompting keeps it out of history)
    #[arg(long)]
    pub document: Option<String>,
    /// Free-text note
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub extras: ExtraFlags,
}

/// Tags and custom fields, which every kind's `add` and `edit` take.
#[derive(Debug, Args)]
pub(super) struct ExtraFlags {
    /// A tag to file it under (repeatable); `edit` replaces the tags with those given, `--tag ''` removes them
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// A custom field, shown with the item (repeatable); `edit --field KEY=` removes it
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// A custom field hidden unless revealed (repeatable; keeps the line out of history)
    #[arg(long = "secret-field", value_name = "KEY=VALUE")]
    pub secret_fields: Vec<String>,
}

/// `list [FILTER] [--tag T] [--json]`, for every kind.
#[derive(Debug, Args)]
pub(super) struct ListArgs {
    /// Only items whose name (or URL, username, issuer, account, full name,
    /// email: what the list shows) contains this, ignoring case
    pub filter: Option<String>,
    /// Only items with this tag (case and accents ignored)
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `history NAME [--reveal] [--json]`, for every kind.
#[derive(Debug, Args)]
pub(super) struct HistoryArgs {
    /// The item's name
    pub name: String,
    /// Show the earlier values too
    #[arg(long)]
    pub reveal: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `show NAME [--reveal] [--json] [--field F]`, for every kind.
#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// The item's name
    pub name: String,
    /// Show its secrets too
    #[arg(long)]
    pub reveal: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print only this field's raw value and a newline (for scripts; audited as a reveal)
    #[arg(long, value_name = "FIELD", conflicts_with_all = ["json", "reveal"])]
    pub field: Option<String>,
}

/// `copy NAME [--keep]`, for every kind that copies.
#[derive(Debug, Args)]
pub(super) struct CopyArgs {
    /// The item's name
    pub name: String,
    /// Leave it on the clipboard (it is cleared again after 45 s otherwise)
    #[arg(long)]
    pub keep: bool,
}

/// `rm NAME [-f]`, for every kind.
#[derive(Debug, Args)]
pub(super) struct RmArgs {
    /// The item's name
    pub name: String,
    /// Do not ask first (needed where nothing can ask: SSH exec, scripts)
    #[arg(short, long)]
    pub force: bool,
}

/// The one item a command acts on.
#[derive(Debug, Args)]
pub(super) struct NameArg {
    /// The item's name
    pub name: String,
}

/// The leading words of `words` that name a command (`card add`), never a
/// flag's value: `card add --number … --help` asks for help on `card add`.
pub(super) fn command_path(words: &[String]) -> Vec<String> {
    let mut cmd = tree();
    let mut path = Vec::new();
    for word in words.iter().filter(|w| !w.starts_with('-')) {
        match cmd.find_subcommand(word) {
            Some(sub) => {
                path.push(word.clone());
                cmd = sub.clone();
            }
            None => break,
        }
    }
    path
}

/// A clap error as one or two plain lines: the error and a hint.
pub(super) fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines();
    let mut first = lines
        .next()
        .unwrap_or("error: invalid command")
        .trim()
        .to_owned();
    // "…were not provided:" lists what is missing on the lines below.
    if first.ends_with(':') {
        let listed: Vec<&str> = lines
            .take_while(|l| l.starts_with(char::is_whitespace) && !l.trim().is_empty())
            .map(str::trim)
            .collect();
        if !listed.is_empty() {
            first = format!("{first} {}", listed.join(", "));
        }
    }
    // A value not among those allowed: name them.
    if let Some(values) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("[possible values: "))
        .and_then(|v| v.strip_suffix(']'))
    {
        first = format!("{first}; one of {values}");
    }
    let first = first.replace("unrecognized subcommand", "unknown command");
    format!("{first} (try `help`)")
}

/// The clap tree, for help texts and completion.
pub(super) fn tree() -> clap::Command {
    <Line as clap::CommandFactory>::command()
}
