//! Command-line flags and environment variables of `keeper serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// Format of the operational log on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `keeper serve` settings; every flag has an environment fallback.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Directory for the embedded database
    #[arg(long, env = "KEEPER_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL [default: sqlite://<data-dir>/keeper.db]
    #[arg(long, env = "KEEPER_DB")]
    pub db: Option<String>,
    /// SSH listen address (`:0` picks a free port)
    #[arg(long, env = "KEEPER_SSH_ADDR", default_value = "127.0.0.1:2222", value_parser = parse_addr)]
    pub ssh_addr: SocketAddr,
    /// HTTP API listen address (`:0` picks a free port)
    #[arg(long, env = "KEEPER_HTTP_ADDR", default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    pub http_addr: SocketAddr,
    /// TLS certificate chain (PEM) for the HTTP API
    #[arg(long, env = "KEEPER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for the HTTP API
    #[arg(long, env = "KEEPER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy)
    #[arg(long, env = "KEEPER_ALLOW_PLAIN_HTTP")]
    pub allow_plain_http: bool,
    /// SSH host key, generated on first start (mode 0600)
    #[arg(
        long,
        env = "KEEPER_HOST_KEY",
        default_value = "keys/ssh_host_ed25519_key"
    )]
    pub host_key: PathBuf,
    /// Operational log format on stderr
    #[arg(long, env = "KEEPER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds without input before an SSH session locks
    #[arg(long, env = "KEEPER_IDLE_LOCK_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_lock_secs: u64,
}

/// Accepts `HOST:PORT` and the short form `:PORT` (loopback).
fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("127.0.0.1{s}")
    } else {
        s.to_owned()
    };
    full.parse()
        .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:2222 or :0"))
}

impl ServeArgs {
    /// The database URL, defaulting to a file in the data dir.
    pub fn database_url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("keeper.db").display()))
    }

    pub fn idle_lock(&self) -> Duration {
        Duration::from_secs(self.idle_lock_secs)
    }
}
