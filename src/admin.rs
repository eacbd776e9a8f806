//! Operators' commands on the server machine: `keeper audit verify`,
//! `keeper audit list` (text, or JSON lines for a SIEM), `keeper backup` and
//! `keeper migrate`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::StoreArgs;
use crate::crypto::{AuditKey, HashPool, KdfParams};
use crate::domain::{Action, Channel, Login, Outcome};
use crate::service::{Limits, Services};
use crate::shell::sanitize::sanitize;
use crate::shell::views::EventView;
use crate::storage::{AuditFilter, Durability, Store};

/// `keeper audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the audit chain; name the first changed, inserted or deleted record
    Verify(StoreArgs),
    /// List audit events of every user, newest first
    List(ListArgs),
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

async fn open(store: &StoreArgs) -> Result<Services, String> {
    let key = AuditKey::load(&store.audit_key)?;
    let url = store.database_url();
    let store = Store::connect(&url, key, Durability::PowerLoss)
        .await
        .map_err(|e| format!("cannot open database: {e}"))?;
    Ok(Services::new(
        store,
        HashPool::new(KdfParams::default(), 1, 0),
        Limits::default(),
    ))
}

fn time(flag: &str, v: Option<&str>) -> Result<Option<OffsetDateTime>, String> {
    v.map(|s| {
        OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|_| format!("--{flag}: expected an RFC 3339 time"))
    })
    .transpose()
}

fn filter(args: &ListArgs) -> Result<AuditFilter, String> {
    Ok(AuditFilter {
        login: args
            .user
            .as_deref()
            .map(Login::parse)
            .transpose()
            .map_err(|e| e.to_string())?,
        action: args
            .action
            .as_deref()
            .map(str::parse::<Action>)
            .transpose()
            .map_err(|e| e.to_string())?,
        outcome: args
            .outcome
            .as_deref()
            .map(str::parse::<Outcome>)
            .transpose()
            .map_err(|e| e.to_string())?,
        channel: args
            .channel
            .as_deref()
            .map(str::parse::<Channel>)
            .transpose()
            .map_err(|e| e.to_string())?,
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
            AuditCmd::Verify(store) => {
                let services = match open(&store).await {
                    Ok(s) => s,
                    Err(e) => return fail(&e),
                };
                let verdict = services.verify_audit().await;
                services.close().await;
                match verdict {
                    Ok(v) => match v.problem {
                        None => {
                            println!(
                                "audit log intact: {} records in {} chains",
                                v.records, v.chains
                            );
                            ExitCode::SUCCESS
                        }
                        Some(problem) => {
                            println!("audit log TAMPERED: {problem}");
                            ExitCode::from(1)
                        }
                    },
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
                        .map_err(|e| e.to_string());
                    services.close().await;
                    events
                }
                .await;
                let events = match result {
                    Ok(events) => events,
                    Err(e) => return fail(&e),
                };
                for (record, login) in &events {
                    let event = EventView::of(record);
                    if args.json {
                        let line = ExportedEvent {
                            user: login.clone(),
                            event,
                        };
                        println!("{}", serde_json::to_string(&line).unwrap_or_default());
                    } else {
                        println!(
                            "{}  {:<10} {:<22} {:<7} {:<5} {:<22} {}",
                            event.at,
                            sanitize(login.as_deref().unwrap_or("-")),
                            event.action,
                            event.outcome,
                            event.channel,
                            event.remote_addr.as_deref().unwrap_or("-"),
                            event.target.as_deref().unwrap_or("-"),
                        );
                    }
                }
                ExitCode::SUCCESS
            }
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))
}

/// `keeper backup DEST`: an online, consistent copy of the database.
pub fn backup(args: BackupArgs) -> ExitCode {
    let url = args.store.database_url();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return pg_dump(&url, &args.dest);
    }
    let result = runtime().and_then(|rt| {
        rt.block_on(crate::storage::backup_sqlite(&url, &args.dest))
            .map_err(|e| e.to_string())
    });
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
fn pg_dump(url: &str, dest: &std::path::Path) -> ExitCode {
    if dest.exists() {
        return fail(&format!(
            "{} exists; a backup never overwrites a file",
            dest.display()
        ));
    }
    let status = std::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg("--file")
        .arg(dest)
        .arg("--dbname")
        .arg(url)
        .status();
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
        rt.block_on(crate::storage::migrate_sqlite_to_postgres(
            &from, &args.to, &key,
        ))
        .map_err(|e| e.to_string())
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
