//! Operators' commands on the server machine: `keeper audit verify` and
//! `keeper audit list` (text, or JSON lines for a SIEM).

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

fn fail(message: &str) -> ExitCode {
    eprintln!("keeper: error: {message}");
    ExitCode::from(2)
}
