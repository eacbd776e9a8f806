//! The `keeper` binary: a thin clap shim over the library.

#![warn(clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use keeper::app::App;
use keeper::client::{self, ClientArgs};
use keeper::config::ServeArgs;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "keeper",
    version,
    disable_help_subcommand = true,
    about = "A self-hosted vault for bank cards and service passwords",
    after_help = "Any shell command runs once against the server, e.g. `keeper pass list --json` \
                  (with KEEPER_TOKEN from `keeper login`)."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server (SSH shell and HTTP API)
    Serve(ServeArgs),
    /// Interactive shell over the HTTP API
    Shell(ClientArgs),
    /// Log in over the HTTP API and print a token for KEEPER_TOKEN
    Login(ClientArgs),
    /// Operators: verify or list the audit log on the server machine
    #[command(subcommand)]
    Audit(keeper::admin::AuditCmd),
    /// Operators: manage registration and accounts on the server machine
    #[command(subcommand)]
    Admin(keeper::admin::AdminCmd),
    /// Operators: write a consistent copy of the database while it is in use
    Backup(keeper::admin::BackupArgs),
    /// Operators: copy an SQLite vault into an empty PostgreSQL database
    Migrate(keeper::admin::MigrateArgs),
    /// Print a completion script for your shell: keeper's own commands and
    /// the shell commands it runs once
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print keeper's manual page (roff), or write one page per command
    /// into a directory (`keeper man --out /usr/local/share/man/man1`)
    Man {
        /// Write keeper.1, keeper-serve.1, keeper-pass-add.1 … here
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
    /// A shell command, run once (`keeper pass list --json`)
    #[command(external_subcommand)]
    Command(Vec<String>),
}

/// Shell commands that mean nothing run once.
const SESSION_ONLY: &[&str] = &["exit", "lock", "help"];

/// keeper's commands with the shell commands a one-shot runs, as one tree.
fn documented() -> clap::Command {
    let shell = keeper::shell::commands();
    let once = shell
        .get_subcommands()
        .filter(|c| !SESSION_ONLY.contains(&c.get_name()))
        .cloned();
    Cli::command().subcommands(once)
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut cmd = documented();
    clap_complete::generate(shell, &mut cmd, "keeper", &mut std::io::stdout());
    Ok(())
}

fn man(out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let cmd = documented();
    match out {
        Some(dir) => clap_mangen::generate_to(cmd, dir)
            .map_err(|e| anyhow::anyhow!("cannot write manual pages into {}: {e}", dir.display())),
        None => clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .map_err(|e| anyhow::anyhow!("cannot print the manual page: {e}")),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    keeper::telemetry::init(args.log_format);
    let rt = tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start: {e}"))?;
    rt.block_on(async {
        let app = App::build(&args).await?;
        // Handlers are installed before the server says it is ready, so a
        // signal that follows the ready line is never the default (fatal) one.
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| anyhow::anyhow!("cannot handle SIGTERM: {e}"))?;
        let mut int = signal(SignalKind::interrupt())
            .map_err(|e| anyhow::anyhow!("cannot handle SIGINT: {e}"))?;
        let shutdown = CancellationToken::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            trigger.cancel();
            tracing::info!("shutdown requested");
        });
        app.run_until_stopped(shutdown).await;
        Ok(())
    })
}

/// Splits `--server URL` / `--server=URL` (and `--ca-cert`) out of a one-shot
/// command line, so they may stand anywhere in it.
fn client_flags(words: Vec<String>) -> (ClientArgs, Vec<String>) {
    let mut server =
        std::env::var("KEEPER_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let mut ca_cert = std::env::var_os("KEEPER_CA_CERT").map(Into::into);
    let mut rest = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if let Some(v) = w.strip_prefix("--server=") {
            server = v.to_owned();
        } else if w == "--server" {
            server = it.next().unwrap_or(server);
        } else if let Some(v) = w.strip_prefix("--ca-cert=") {
            ca_cert = Some(v.into());
        } else if w == "--ca-cert" {
            ca_cert = it.next().map(Into::into).or(ca_cert);
        } else {
            rest.push(w);
        }
    }
    (ClientArgs { server, ca_cert }, rest)
}

/// Parses the command line; for `serve`, a `--config` file fills in what
/// neither a flag nor an environment variable gave.
fn parse() -> anyhow::Result<Cli> {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Cmd::Serve(args), Some(sub)) = (&mut cli.command, matches.subcommand_matches("serve"))
        && let Some(path) = args.config.clone()
    {
        let given =
            |id: &str| !matches!(sub.value_source(id), None | Some(ValueSource::DefaultValue));
        keeper::config::apply_config_file(args, &path, given)?;
    }
    Ok(cli)
}

fn main() -> ExitCode {
    // Every file Keeper writes (database, WAL, keys, backups, checkpoints)
    // is its owner's alone, whatever the caller's umask.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("keeper: error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Cmd::Serve(args) => serve(args),
        Cmd::Shell(args) => client::shell(&args),
        Cmd::Login(args) => client::login(&args),
        Cmd::Audit(cmd) => return keeper::admin::run(cmd),
        Cmd::Admin(cmd) => return keeper::admin::admin(cmd),
        Cmd::Backup(args) => return keeper::admin::backup(args),
        Cmd::Migrate(args) => return keeper::admin::migrate(args),
        Cmd::Completions { shell } => completions(shell),
        Cmd::Man { out } => man(out.as_deref()),
        Cmd::Command(words) => {
            let (args, words) = client_flags(words);
            return client::one_shot(&args, &words);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keeper: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
