//! Operators' commands on the server machine: `keeper audit verify`,
//! `keeper audit list` (text, or JSON lines for a SIEM), `keeper admin
//! users|disable|enable|unlock|delete|invite`, `keeper backup` and
//! `keeper migrate`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::StoreArgs;
use crate::crypto::{AuditKey, HashPool, KdfParams};
use crate::domain::AuditFilter;
use crate::domain::{Action, Channel, Login, Outcome};
use crate::service::{Limits, Services, THROTTLE_KEY_LABEL, ThrottleKey, UserListing};
use crate::storage::{Durability, Store};
use crate::views::sanitize::{json_safe, sanitize};
use crate::views::{EventView, rfc3339};

/// `keeper audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the audit chain; name the first changed, inserted or deleted record
    Verify(VerifyArgs),
    /// Print a MAC'd summary of every chain's head, to keep elsewhere and
    /// check a later log against (`keeper audit verify --since FILE`)
    Checkpoint(StoreArgs),
    /// List audit events of every user, newest first
    List(ListArgs),
}

/// `keeper admin …`
#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// List the accounts: login, created, last login, items, disabled or locked
    Users(UsersArgs),
    /// Disable an account: it opens on no channel, its tokens and open sessions end
    Disable(LoginArgs),
    /// Enable a disabled account again
    Enable(LoginArgs),
    /// Lift a login's throttling: forget its failed attempts, from every address
    Unlock(LoginArgs),
    /// Delete an account and every item in it, for good (its audit records stay)
    Delete(DeleteArgs),
    /// Print a one-time invite code for `--registration invite` (`ssh new@`
    /// asks for it, `POST /users` takes it as `invite`)
    Invite(InviteArgs),
}

/// `keeper admin users`
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print a JSON array
    #[arg(long)]
    pub json: bool,
}

/// `keeper admin disable|enable|unlock LOGIN`
#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The account's login
    pub login: String,
}

/// `keeper admin delete LOGIN`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The account's login
    pub login: String,
    /// Do not ask for the login to be typed again first
    #[arg(long)]
    pub yes: bool,
}

/// An account as `keeper admin users --json` prints it.
#[derive(Serialize)]
struct ListedUser {
    login: String,
    created_at: String,
    last_login: Option<String>,
    items: i64,
    disabled: bool,
    disabled_at: Option<String>,
    locked: bool,
    locked_until: Option<String>,
}

impl From<&UserListing> for ListedUser {
    fn from(u: &UserListing) -> Self {
        Self {
            login: u.login.to_string(),
            created_at: rfc3339(u.created_at),
            last_login: u.last_login.map(rfc3339),
            items: u.items,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at.map(rfc3339),
            locked: u.locked_until.is_some(),
            locked_until: u.locked_until.map(rfc3339),
        }
    }
}

/// The table `keeper admin users` prints.
fn users_table(users: &[UserListing]) -> String {
    let day = |t: OffsetDateTime| rfc3339(t).chars().take(10).collect::<String>();
    let minute = |t: OffsetDateTime| {
        let text = rfc3339(t.replace_nanosecond(0).unwrap_or(t));
        text.replacen('T', " ", 1)
    };
    let mut out = format!(
        "{:<32}  {:<10}  {:<20}  {:>6}  STATE\n",
        "LOGIN", "CREATED", "LAST LOGIN", "ITEMS"
    );
    for u in users {
        let state = match (u.disabled_at, u.locked_until) {
            (Some(_), _) => "disabled".to_owned(),
            (None, Some(until)) => format!("locked until {}", minute(until)),
            (None, None) => "active".to_owned(),
        };
        out.push_str(&format!(
            "{:<32}  {:<10}  {:<20}  {:>6}  {state}\n",
            u.login.as_str(),
            day(u.created_at),
            u.last_login.map_or_else(|| "never".to_owned(), minute),
            u.items,
        ));
    }
    out
}

/// Asks for `login` to be typed again on standard input before it is
/// deleted; whether it was.
fn confirmed(login: &Login) -> bool {
    eprint!(
        "This deletes the account `{login}` and every item in it, for good. \
         Type the login again to confirm: "
    );
    let mut typed = String::new();
    match std::io::stdin().read_line(&mut typed) {
        Ok(_) => Login::parse(&typed).is_ok_and(|typed| &typed == login),
        Err(_) => false,
    }
}

/// What `keeper admin` does to one account.
#[derive(Debug, Clone, Copy)]
enum AccountOp {
    Disable,
    Enable,
    Unlock,
    /// `yes`: without asking first.
    Delete {
        yes: bool,
    },
}

/// Runs one account command against the database; its exit status.
async fn account_command(store: &StoreArgs, login: &str, op: AccountOp) -> ExitCode {
    let login = match Login::parse(login) {
        Ok(login) => login,
        Err(e) => return fail(&e.to_string()),
    };
    if let AccountOp::Delete { yes: false } = op
        && !confirmed(&login)
    {
        return fail("the login typed does not match; nothing was deleted");
    }
    let services = match open(store).await {
        Ok(s) => s,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let done = match op {
        AccountOp::Disable => services.set_disabled(&login, true).await.map(|changed| {
            if changed {
                format!("{login} is disabled: it opens on no channel, and its tokens and sessions ended.")
            } else {
                format!("{login} was already disabled.")
            }
        }),
        AccountOp::Enable => services.set_disabled(&login, false).await.map(|changed| {
            if changed {
                format!("{login} is enabled again.")
            } else {
                format!("{login} was not disabled.")
            }
        }),
        AccountOp::Unlock => services.unlock_login(&login).await.map(|until| match until {
            Some(until) => format!(
                "{login} was locked until {}; its failed attempts are forgotten.",
                rfc3339(until)
            ),
            None => format!("{login} was not locked; its failed attempts are forgotten."),
        }),
        AccountOp::Delete { .. } => services
            .delete_user(&login)
            .await
            .map(|()| format!("{login} is deleted with every item in it; its audit records stay.")),
    };
    services.close().await;
    match done {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// `keeper admin users`
async fn users(args: &UsersArgs) -> ExitCode {
    let services = match open(&args.store).await {
        Ok(s) => s,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let listed = services.list_users().await;
    services.close().await;
    let users = match listed {
        Ok(users) => users,
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        let listed: Vec<ListedUser> = users.iter().map(ListedUser::from).collect();
        match serde_json::to_string_pretty(&listed) {
            Ok(json) => println!("{json}"),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        print!("{}", users_table(&users));
    }
    ExitCode::SUCCESS
}

/// `keeper admin invite`
#[derive(Debug, Args)]
pub struct InviteArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// How long the code may be used: `7d`, `12h`, `30m` or `90s`, at most 90 days
    #[arg(long, default_value = "7d", value_parser = parse_validity)]
    pub expires: time::Duration,
}

/// `7d`, `12h`, `30m`, `90s` (or a bare number of seconds), from a second
/// to 90 days.
fn parse_validity(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text, 's'),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is no duration: give e.g. 7d, 12h, 30m or 90s"))?;
    let secs = match unit {
        'd' => n.checked_mul(86_400),
        'h' => n.checked_mul(3_600),
        'm' => n.checked_mul(60),
        's' => Some(n),
        _ => None,
    }
    .ok_or_else(|| format!("`{text}` is no duration: give e.g. 7d, 12h, 30m or 90s"))?;
    if !(1..=90 * 86_400).contains(&secs) {
        return Err("an invite is valid from 1 second to 90 days".into());
    }
    Ok(time::Duration::seconds(secs))
}

/// Runs an admin command; returns the exit status.
pub fn admin(cmd: AdminCmd) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    rt.block_on(async {
        match cmd {
            AdminCmd::Users(args) => users(&args).await,
            AdminCmd::Disable(a) => account_command(&a.store, &a.login, AccountOp::Disable).await,
            AdminCmd::Enable(a) => account_command(&a.store, &a.login, AccountOp::Enable).await,
            AdminCmd::Unlock(a) => account_command(&a.store, &a.login, AccountOp::Unlock).await,
            AdminCmd::Delete(a) => {
                account_command(&a.store, &a.login, AccountOp::Delete { yes: a.yes }).await
            }
            AdminCmd::Invite(args) => {
                let services = match open(&args.store).await {
                    Ok(s) => s,
                    Err(e) => return fail(&format!("{e:#}")),
                };
                let made = services.create_invite(args.expires).await;
                services.close().await;
                match made {
                    Ok(code) => {
                        println!("{}", code.display());
                        let days = args.expires.whole_seconds() as f64 / 86_400.0;
                        eprintln!(
                            "One registration may use it (ssh new@HOST asks for it) within {}.",
                            if days >= 1.0 {
                                format!("{days:.0} days")
                            } else {
                                format!("{} seconds", args.expires.whole_seconds())
                            }
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e.to_string()),
                }
            }
        }
    })
}

/// `keeper audit verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Also prove that the log extends this checkpoint (from `keeper audit
    /// checkpoint`); the server's own, beside the audit key, is always checked
    #[arg(long, value_name = "FILE")]
    pub since: Option<std::path::PathBuf>,
}

/// Filters of `keeper audit list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this user's events
    #[arg(long)]
    pub user: Option<String>,
    /// Only this action (e.g. card.reveal, user.login)
    #[arg(long)]
    pub action: Option<String>,
    /// Only ok or failed
    #[arg(long)]
    pub outcome: Option<String>,
    /// Only ssh or http
    #[arg(long)]
    pub channel: Option<String>,
    /// From this time on (RFC 3339, e.g. 2026-11-25T00:00:00Z)
    #[arg(long)]
    pub since: Option<String>,
    /// Before this time (RFC 3339)
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many events
    #[arg(long, default_value_t = 1000)]
    pub limit: i64,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

/// `keeper backup`
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The file to write: a copy of the SQLite database, or for PostgreSQL
    /// an archive in pg_dump's custom format (restore with pg_restore)
    pub dest: std::path::PathBuf,
}

/// `keeper migrate`
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite vault to copy (by --data-dir or --db) and its audit key
    #[command(flatten)]
    pub store: StoreArgs,
    /// The empty PostgreSQL database to copy it into (postgres://…)
    #[arg(long)]
    pub to: String,
}

/// An event as exported: the user's event plus whose it is.
#[derive(Serialize)]
struct ExportedEvent {
    user: Option<String>,
    #[serde(flatten)]
    event: EventView,
}

async fn open(store: &StoreArgs) -> anyhow::Result<Services> {
    let key = AuditKey::load(&store.audit_key)?;
    let throttle_key = ThrottleKey::new(key.derive(THROTTLE_KEY_LABEL));
    let url = store.database_url();
    let store = Store::connect(&url, key, Durability::PowerLoss)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
    Ok(Services::new(
        store,
        HashPool::new(KdfParams::default(), 1, 0),
        Limits::default(),
        throttle_key,
    ))
}

fn time(flag: &str, v: Option<&str>) -> anyhow::Result<Option<OffsetDateTime>> {
    v.map(|s| {
        OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|_| anyhow::anyhow!("--{flag}: expected an RFC 3339 time"))
    })
    .transpose()
}

fn filter(args: &ListArgs) -> anyhow::Result<AuditFilter> {
    Ok(AuditFilter {
        login: args.user.as_deref().map(Login::parse).transpose()?,
        action: args
            .action
            .as_deref()
            .map(str::parse::<Action>)
            .transpose()?,
        outcome: args
            .outcome
            .as_deref()
            .map(str::parse::<Outcome>)
            .transpose()?,
        channel: args
            .channel
            .as_deref()
            .map(str::parse::<Channel>)
            .transpose()?,
        since: time("since", args.since.as_deref())?,
        until: time("until", args.until.as_deref())?,
        limit: args.limit.clamp(1, 1_000_000),
    })
}

/// Runs an audit command; returns the exit status.
pub fn run(cmd: AuditCmd) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start: {e}")),
    };
    rt.block_on(async {
        match cmd {
            AuditCmd::Verify(args) => verify(&args).await,
            AuditCmd::Checkpoint(store) => {
                let services = match open(&store).await {
                    Ok(s) => s,
                    Err(e) => return fail(&format!("{e:#}")),
                };
                let checkpoint = services.audit_checkpoint().await;
                services.close().await;
                match checkpoint.map(|c| serde_json::to_string_pretty(&c)) {
                    Ok(Ok(json)) => {
                        println!("{json}");
                        ExitCode::SUCCESS
                    }
                    Ok(Err(e)) => fail(&e.to_string()),
                    Err(e) => fail(&e.to_string()),
                }
            }
            AuditCmd::List(args) => {
                let result = async {
                    let filter = filter(&args)?;
                    let services = open(&args.store).await?;
                    let events = services
                        .list_audit(&filter)
                        .await
                        .map_err(anyhow::Error::from);
                    services.close().await;
                    events
                }
                .await;
                let events = match result {
                    Ok(events) => events,
                    Err(e) => return fail(&format!("{e:#}")),
                };
                for (record, login) in &events {
                    let event = EventView::of(record);
                    // A deleted account's records keep its id, not its login.
                    let login = login
                        .clone()
                        .or_else(|| record.user.map(|id| format!("#{id}")));
                    if args.json {
                        let line = ExportedEvent { user: login, event };
                        // The record's text is as stored, and a database writer
                        // may have put anything there: escaped like the shell's.
                        println!(
                            "{}",
                            json_safe(serde_json::to_string(&line).unwrap_or_default())
                        );
                    } else {
                        println!(
                            "{}  {:<10} {:<22} {:<7} {:<5} {:<22} {}",
                            event.at,
                            sanitize(login.as_deref().unwrap_or("-")),
                            event.action,
                            event.outcome,
                            event.channel,
                            sanitize(event.remote_addr.as_deref().unwrap_or("-")),
                            sanitize(event.target.as_deref().unwrap_or("-")),
                        );
                    }
                }
                ExitCode::SUCCESS
            }
        }
    })
}

/// `keeper audit verify`: the chains, then every checkpoint they must extend.
async fn verify(args: &VerifyArgs) -> ExitCode {
    let services = match open(&args.store).await {
        Ok(s) => s,
        Err(e) => return fail(&format!("{e:#}")),
    };
    let verdict = services.verify_audit().await;
    let v = match verdict {
        Ok(v) => v,
        Err(e) => {
            services.close().await;
            return fail(&e.to_string());
        }
    };
    if let Some(problem) = v.problem {
        services.close().await;
        println!("audit log TAMPERED: {problem}");
        return ExitCode::from(1);
    }
    let kept = crate::checkpoint::kept_path(&args.store.audit_key);
    let mut checked = Vec::new();
    for path in args.since.iter().chain(std::iter::once(&kept)) {
        let checkpoint = match crate::checkpoint::read(path) {
            Ok(Some(c)) => c,
            Ok(None) if Some(path) == args.since.as_ref() => {
                services.close().await;
                return fail(&format!("no checkpoint at {}", path.display()));
            }
            Ok(None) => continue,
            Err(e) => {
                services.close().await;
                return fail(&format!("{e:#}"));
            }
        };
        match services.audit_extends(&checkpoint).await {
            Ok(None) => checked.push(format!("{} ({})", path.display(), checkpoint.created_at)),
            Ok(Some(problem)) => {
                services.close().await;
                println!(
                    "audit log TAMPERED: it does not extend the checkpoint {} made at {}: {problem}",
                    path.display(),
                    checkpoint.created_at
                );
                return ExitCode::from(1);
            }
            Err(e) => {
                services.close().await;
                return fail(&e.to_string());
            }
        }
    }
    services.close().await;
    let since = if checked.is_empty() {
        String::new()
    } else {
        format!("; it extends {}", checked.join(" and "))
    };
    println!(
        "audit log intact: {} records in {} chains{since}",
        v.records, v.chains
    );
    ExitCode::SUCCESS
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start: {e}"))
}

/// `keeper backup DEST`: an online, consistent copy of the database.
pub fn backup(args: BackupArgs) -> ExitCode {
    let url = args.store.database_url();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return pg_dump(&url, &args.dest);
    }
    let result =
        runtime().and_then(|rt| Ok(rt.block_on(crate::storage::backup_sqlite(&url, &args.dest))?));
    match result {
        Ok(report) => {
            println!(
                "backup written to {}: {} bytes, {} users, {} items (integrity check ok)",
                args.dest.display(),
                report.bytes,
                report.users,
                report.items
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("backup failed: {e}")),
    }
}

/// PostgreSQL's own tool makes the consistent copy (one snapshot).
/// The schema a PostgreSQL URL's `options` put first on the search path.
fn search_path(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "options")
        .find_map(|(_, options)| {
            let (_, rest) = options.split_once("search_path=")?;
            let first = rest.split([',', ' ']).next()?.trim_matches('"');
            (!first.is_empty()).then(|| first.to_owned())
        })
}

fn pg_dump(url: &str, dest: &std::path::Path) -> ExitCode {
    if dest.exists() {
        return fail(&format!(
            "{} exists; a backup never overwrites a file",
            dest.display()
        ));
    }
    // The password goes to pg_dump through its environment, never on its
    // command line, where any user of the machine could read it.
    let (url, password) = match split_password(url) {
        Ok(parts) => parts,
        Err(e) => return fail(&format!("{e:#}")),
    };
    // pg_dump truncates the file it is given and keeps its mode: private
    // from the first byte.
    if let Err(e) = crate::storage::create_private(dest) {
        return fail(&format!("backup failed: {e}"));
    }
    let mut command = std::process::Command::new("pg_dump");
    command
        .arg("--format=custom")
        .arg("--file")
        .arg(dest)
        .arg("--dbname")
        .arg(&url);
    // A vault kept in one schema of a shared database (`options=-c
    // search_path=…`) is backed up alone, never its neighbours.
    if let Some(schema) = search_path(&url) {
        command.arg("--schema").arg(schema);
    }
    if let Some(password) = &password {
        command.env("PGPASSWORD", password.as_str());
    }
    let status = command.status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        let _ = std::fs::remove_file(dest);
    }
    match status {
        Ok(s) if s.success() => {
            println!(
                "backup written to {} by pg_dump (restore with pg_restore)",
                dest.display()
            );
            ExitCode::SUCCESS
        }
        Ok(s) => fail(&format!("pg_dump failed ({s})")),
        Err(e) => fail(&format!(
            "cannot run pg_dump ({e}); install PostgreSQL's client tools, or back up \
             the database with your usual PostgreSQL tooling"
        )),
    }
}

/// A database URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> anyhow::Result<(String, Option<zeroize::Zeroizing<String>>)> {
    let mut parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("bad database URL: {e}"))?;
    let Some(encoded) = parsed.password().map(str::to_owned) else {
        return Ok((url.to_owned(), None));
    };
    let encoded = zeroize::Zeroizing::new(encoded);
    let decoded = crate::domain::percent_decode(&encoded)
        .ok_or_else(|| anyhow::anyhow!("bad database URL: the password is not valid UTF-8"))?;
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("bad database URL: cannot remove its password"))?;
    Ok((parsed.into(), Some(decoded)))
}

/// `keeper migrate --to postgres://…`: moves an SQLite vault into PostgreSQL.
pub fn migrate(args: MigrateArgs) -> ExitCode {
    let from = args.store.database_url();
    if !from.starts_with("sqlite:") {
        return fail("the vault to copy must be SQLite (--data-dir or --db sqlite://…)");
    }
    if !(args.to.starts_with("postgres:") || args.to.starts_with("postgresql:")) {
        return fail("--to must be a PostgreSQL URL (postgres://…)");
    }
    let result = AuditKey::load(&args.store.audit_key).and_then(|key| {
        let rt = runtime()?;
        Ok(rt.block_on(crate::storage::migrate_sqlite_to_postgres(
            &from, &args.to, &key,
        ))?)
    });
    match result {
        Ok(report) => {
            for (table, rows) in &report.tables {
                println!("{table:<13} {rows:>9} rows copied and compared");
            }
            println!(
                "audit log intact in the copy: {} records",
                report.audit_records
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("migration failed, nothing was committed: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keeper: error: {message}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_search_path_names_the_schema_a_backup_dumps() {
        assert_eq!(
            search_path("postgres://u@h/db?options=-c%20search_path%3Dvault_a").as_deref(),
            Some("vault_a")
        );
        assert_eq!(
            search_path("postgres://u@h/db?sslmode=disable&options=-csearch_path%3Dv%2Cpublic")
                .as_deref(),
            Some("v")
        );
        assert_eq!(search_path("postgres://u@h/db"), None);
        assert_eq!(search_path("postgres://u@h/db?sslmode=require"), None);
    }

    #[test]
    fn a_database_password_is_taken_out_of_the_url_and_decoded() {
        let (url, password) = split_password(
            "postgres://keeper:p%40ss%2Fw0rd@db.internal:5432/keeper?sslmode=require",
        )
        .expect("valid");
        assert_eq!(
            url,
            "postgres://keeper@db.internal:5432/keeper?sslmode=require"
        );
        assert_eq!(password.as_deref().map(String::as_str), Some("p@ss/w0rd"));

        let (url, password) =
            split_password("postgres://postgres@127.0.0.1/keeper").expect("valid");
        assert_eq!(url, "postgres://postgres@127.0.0.1/keeper");
        assert!(password.is_none());
        assert!(split_password("not a url").is_err());
    }
}
