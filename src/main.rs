//! The `keeper` binary: a thin clap shim over the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keeper::app::App;
use keeper::config::ServeArgs;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "keeper",
    version,
    about = "A self-hosted vault for bank cards and service passwords"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server (SSH shell)
    Serve(ServeArgs),
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    keeper::telemetry::init(args.log_format);
    let app = App::build(&args).await.map_err(|e| e.to_string())?;
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    app.run_until_stopped(shutdown).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Serve(args) => serve(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keeper: error: {e}");
            ExitCode::FAILURE
        }
    }
}
