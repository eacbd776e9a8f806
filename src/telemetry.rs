//! Operational logging (tracing) to stderr, as text or JSON lines.
//!
//! Nothing secret is ever passed to a tracing macro: secrets live in types
//! whose `Debug` prints a redaction.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,russh=warn,sqlx=warn"));
    // Colours only for a person at a terminal, never in a log file.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // If stderr goes away (a closed pipe), logging must not panic the
        // task that logged: tracing-subscriber would report the failed write
        // with `eprintln!`, which panics on a closed stderr.
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
