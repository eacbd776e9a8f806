//! Command-line flags and environment variables of `keeper serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::storage::Durability;

/// `--registration`: who may make an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegistrationArg {
    /// Anyone who reaches the server (`ssh new@`, `POST /users`).
    Open,
    /// Only with a one-time code from `keeper admin invite`.
    Invite,
    /// Nobody: accounts exist already or not at all.
    Closed,
}

/// `--durability`: what an acknowledged write must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DurabilityArg {
    /// The server process crashing or being killed (the default): a commit
    /// reaches the operating system before it is acknowledged.
    #[default]
    Crash,
    /// The machine losing power as well: every commit is synced to disk
    /// before it is acknowledged, at the cost of write throughput.
    Power,
}

impl From<DurabilityArg> for Durability {
    fn from(arg: DurabilityArg) -> Self {
        match arg {
            DurabilityArg::Crash => Self::ProcessCrash,
            DurabilityArg::Power => Self::PowerLoss,
        }
    }
}

/// The longest idle lock: a day. Longer would keep keys in memory for no
/// one, and a time that far ahead may not be representable.
pub const MAX_IDLE_LOCK_SECS: u64 = 86_400;
/// Ten years, in seconds.
const MAX_TRASH_RETENTION_SECS: u32 = 10 * 365 * 86_400;
/// The longest a throttle lock may be set to: a day.
pub const MAX_LOCK_SECS: u32 = 86_400;

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
    /// Audit chain key, generated on first start (mode 0600)
    #[arg(long, env = "KEEPER_AUDIT_KEY", default_value = "keys/audit_key")]
    pub audit_key: PathBuf,
    /// Operational log format on stderr
    #[arg(long, env = "KEEPER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Settings file: TOML with the flags' names as keys, unknown keys
    /// refused (flags and environment variables take precedence over it)
    #[arg(long, env = "KEEPER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Seconds without input before an SSH session locks (1 to 86400)
    #[arg(long, env = "KEEPER_IDLE_LOCK_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=MAX_IDLE_LOCK_SECS))]
    pub idle_lock_secs: u64,
    /// What an acknowledged write survives: `crash` (the process dying) or
    /// `power` (the machine losing power; every commit synced, slower)
    #[arg(long, env = "KEEPER_DURABILITY", value_enum, default_value_t = DurabilityArg::Crash)]
    pub durability: DurabilityArg,
    /// Bearer token that `/metrics` requires; without one, `/metrics` is
    /// served to loopback clients only
    #[arg(long, env = "KEEPER_METRICS_TOKEN")]
    pub metrics_token: Option<MetricsToken>,
    /// A local copy of the "Pwned Passwords" SHA-1 list (sorted by hash,
    /// `HASH:COUNT` lines) that `health` checks passwords against, searched
    /// in place; nothing leaves the server
    #[arg(long, env = "KEEPER_BREACH_FILE")]
    pub breach_file: Option<PathBuf>,
    /// Who may register: `open`, `invite` (a code from `keeper admin
    /// invite`) or `closed` [default: open when both listen addresses are
    /// loopback; on any other address the server refuses to start until
    /// one is chosen]
    #[arg(long, env = "KEEPER_REGISTRATION", value_enum)]
    pub registration: Option<RegistrationArg>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ServeArgs {
    /// The registration policy: as given, else open on a server only
    /// loopback clients reach; on another address none is assumed.
    pub fn registration_policy(&self) -> anyhow::Result<crate::service::Registration> {
        use crate::service::Registration;
        Ok(match self.registration {
            Some(RegistrationArg::Open) => Registration::Open,
            Some(RegistrationArg::Invite) => Registration::Invite,
            Some(RegistrationArg::Closed) => Registration::Closed,
            None if self.ssh_addr.ip().is_loopback() && self.http_addr.ip().is_loopback() => {
                Registration::Open
            }
            None => anyhow::bail!(
                "refusing to start with registration open to anyone who reaches {} or {}: \
                 give --registration open, invite (codes from `keeper admin invite`) or closed",
                self.ssh_addr,
                self.http_addr
            ),
        })
    }
}

/// The token `/metrics` asks for; prints as a redaction.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub zeroize::Zeroizing<String>);

impl std::str::FromStr for MetricsToken {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() < 16 {
            return Err("a metrics token needs at least 16 characters".into());
        }
        Ok(Self(zeroize::Zeroizing::new(s.to_owned())))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// Abuse limits of `keeper serve` (SPEC §8). The defaults suit one machine
/// with a few hundred users; each can be changed without a rebuild.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Failed logins (or PINs) of one login before it locks
    #[arg(long, env = "KEEPER_LOGIN_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_failures: u32,
    /// Failed logins and PINs from one address, across logins, before it locks
    #[arg(long, env = "KEEPER_ADDRESS_FAILURES", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub address_failures: u32,
    /// Length of the first lock; each further failure doubles it
    #[arg(long, env = "KEEPER_LOCK_SECS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub lock_secs: u32,
    /// Longest lock (at most a day)
    #[arg(long, env = "KEEPER_MAX_LOCK_SECS", default_value_t = 900, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LOCK_SECS)))]
    pub max_lock_secs: u32,
    /// Argon2 evaluations run at once [default: the number of cores]
    #[arg(long, env = "KEEPER_KDF_WORKERS", value_parser = clap::value_parser!(u16).range(1..))]
    pub kdf_workers: Option<u16>,
    /// Logins that may wait for an Argon2 worker; more are refused at once
    #[arg(long, env = "KEEPER_KDF_QUEUE", default_value_t = 64)]
    pub kdf_queue: u16,
    /// SSH connections that have not authenticated yet, at most
    #[arg(long, env = "KEEPER_MAX_STARTUPS", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_startups: u16,
    /// Seconds an SSH connection has from connecting to an open vault
    /// (authentication, then the PIN or the registration dialogue)
    #[arg(long, env = "KEEPER_LOGIN_GRACE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub login_grace_secs: u32,
    /// Unlocked SSH sessions one user may have open at once
    #[arg(long, env = "KEEPER_SESSIONS_PER_USER", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub sessions_per_user: u16,
    /// Unexpired API tokens one user may hold
    #[arg(long, env = "KEEPER_TOKENS_PER_USER", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub tokens_per_user: u32,
    /// Seconds after which the SSH shell clears a copy (`pass copy`, `totp
    /// copy`) from the user's clipboard again, if the session is still open
    #[arg(long, env = "KEEPER_CLIPBOARD_CLEAR_SECS", default_value_t = 45, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub clipboard_clear_secs: u32,
    /// Seconds a deleted item stays in the trash before the server purges
    /// it (default 30 days; at most 10 years)
    #[arg(long, env = "KEEPER_TRASH_RETENTION_SECS", default_value_t = 30 * 86_400, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_TRASH_RETENTION_SECS)))]
    pub trash_retention_secs: u32,
    /// Cards, and separately passwords, one user may store
    #[arg(long, env = "KEEPER_ITEMS_PER_KIND", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub items_per_kind: u32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            login_failures: 5,
            address_failures: 20,
            lock_secs: 30,
            max_lock_secs: 900,
            kdf_workers: None,
            kdf_queue: 64,
            max_startups: 64,
            login_grace_secs: 60,
            sessions_per_user: 16,
            tokens_per_user: 50,
            items_per_kind: 100_000,
            clipboard_clear_secs: 45,
            trash_retention_secs: 30 * 86_400,
        }
    }
}

/// The database URL: the one given, or SQLite in the data dir.
fn database_url(db: Option<&str>, data_dir: &std::path::Path) -> String {
    db.map_or_else(
        || format!("sqlite://{}", data_dir.join("keeper.db").display()),
        str::to_owned,
    )
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
        database_url(self.db.as_deref(), &self.data_dir)
    }

    pub fn idle_lock(&self) -> Duration {
        Duration::from_secs(self.idle_lock_secs)
    }
}

/// A config file: TOML, keys being the long flags' names (with `_`, or
/// `-` as in the flags). A key Keeper does not know is refused, naming it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(alias = "data-dir")]
    data_dir: Option<PathBuf>,
    db: Option<String>,
    #[serde(alias = "ssh-addr")]
    ssh_addr: Option<String>,
    #[serde(alias = "http-addr")]
    http_addr: Option<String>,
    #[serde(alias = "host-key")]
    host_key: Option<PathBuf>,
    #[serde(alias = "audit-key")]
    audit_key: Option<PathBuf>,
    #[serde(alias = "tls-cert")]
    tls_cert: Option<PathBuf>,
    #[serde(alias = "tls-key")]
    tls_key: Option<PathBuf>,
    #[serde(alias = "allow-plain-http")]
    allow_plain_http: Option<bool>,
    #[serde(alias = "log-format")]
    log_format: Option<String>,
    #[serde(alias = "metrics-token")]
    metrics_token: Option<String>,
    #[serde(alias = "breach-file")]
    breach_file: Option<PathBuf>,
    registration: Option<String>,
    durability: Option<String>,
    #[serde(alias = "idle-lock-secs")]
    idle_lock_secs: Option<u64>,
    #[serde(alias = "login-failures")]
    login_failures: Option<u32>,
    #[serde(alias = "address-failures")]
    address_failures: Option<u32>,
    #[serde(alias = "lock-secs")]
    lock_secs: Option<u32>,
    #[serde(alias = "max-lock-secs")]
    max_lock_secs: Option<u32>,
    #[serde(alias = "kdf-workers")]
    kdf_workers: Option<u16>,
    #[serde(alias = "kdf-queue")]
    kdf_queue: Option<u16>,
    #[serde(alias = "max-startups")]
    max_startups: Option<u16>,
    #[serde(alias = "login-grace-secs")]
    login_grace_secs: Option<u32>,
    #[serde(alias = "sessions-per-user")]
    sessions_per_user: Option<u16>,
    #[serde(alias = "tokens-per-user")]
    tokens_per_user: Option<u32>,
    #[serde(alias = "items-per-kind")]
    items_per_kind: Option<u32>,
    #[serde(alias = "clipboard-clear-secs")]
    clipboard_clear_secs: Option<u32>,
    #[serde(alias = "trash-retention-secs")]
    trash_retention_secs: Option<u32>,
}

/// `value` if it is above zero.
fn positive<T: PartialOrd + Default>(key: &str, value: T) -> anyhow::Result<T> {
    if value > T::default() {
        Ok(value)
    } else {
        anyhow::bail!("`{key}` must be a positive number")
    }
}

/// Applies the TOML config file at `path` to `args`. A setting applies only
/// where `given(key)` says the flag was not given on the command line or in
/// the environment.
pub fn apply_config_file(
    args: &mut ServeArgs,
    path: &std::path::Path,
    given: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let file: ConfigFile =
        toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
    apply(args, file, &given).with_context(|| format!("config {}", path.display()))?;
    if args.tls_cert.is_some() != args.tls_key.is_some() {
        anyhow::bail!("give both tls_cert and tls_key, or neither");
    }
    Ok(())
}

fn apply(args: &mut ServeArgs, f: ConfigFile, given: &dyn Fn(&str) -> bool) -> anyhow::Result<()> {
    // Each setting: the field (named as its key), and what it sets unless
    // the flag was given.
    macro_rules! set {
        ($key:ident, |$v:ident| $apply:expr) => {
            if let Some($v) = f.$key
                && !given(stringify!($key))
            {
                $apply;
            }
        };
    }
    // A limit: a positive number, set on the field of the same name.
    macro_rules! limit {
        ($($key:ident),*) => {$(
            set!($key, |v| args.limits.$key = positive(stringify!($key), v)?);
        )*};
    }
    let bad = |key: &str, what: &str| anyhow::anyhow!("`{key}` {what}");
    let addr = |key: &str, v: String| parse_addr(&v).map_err(|e| bad(key, &e));
    set!(data_dir, |v| args.data_dir = v);
    set!(db, |v| args.db = Some(v));
    set!(ssh_addr, |v| args.ssh_addr = addr("ssh_addr", v)?);
    set!(http_addr, |v| args.http_addr = addr("http_addr", v)?);
    set!(host_key, |v| args.host_key = v);
    set!(audit_key, |v| args.audit_key = v);
    set!(tls_cert, |v| args.tls_cert = Some(v));
    set!(tls_key, |v| args.tls_key = Some(v));
    set!(allow_plain_http, |v| args.allow_plain_http = v);
    set!(log_format, |v| {
        args.log_format =
            LogFormat::from_str(&v, true).map_err(|_| bad("log_format", "must be text or json"))?
    });
    set!(breach_file, |v| args.breach_file = Some(v));
    set!(metrics_token, |v| {
        let token = v.parse().map_err(|e: String| bad("metrics_token", &e))?;
        args.metrics_token = Some(token)
    });
    set!(registration, |v| {
        args.registration = Some(
            RegistrationArg::from_str(&v, true)
                .map_err(|_| bad("registration", "must be open, invite or closed"))?,
        )
    });
    set!(durability, |v| {
        args.durability = DurabilityArg::from_str(&v, true)
            .map_err(|_| bad("durability", "must be crash or power"))?
    });
    set!(idle_lock_secs, |v| {
        if !(1..=MAX_IDLE_LOCK_SECS).contains(&v) {
            let range = format!("must be from 1 to {MAX_IDLE_LOCK_SECS}");
            return Err(bad("idle_lock_secs", &range));
        }
        args.idle_lock_secs = v
    });
    limit!(login_failures, address_failures, lock_secs);
    set!(max_lock_secs, |v| {
        if !(1..=MAX_LOCK_SECS).contains(&v) {
            let range = format!("must be from 1 to {MAX_LOCK_SECS}");
            return Err(bad("max_lock_secs", &range));
        }
        args.limits.max_lock_secs = v
    });
    set!(kdf_workers, |v| {
        args.limits.kdf_workers = Some(positive("kdf_workers", v)?)
    });
    set!(kdf_queue, |v| args.limits.kdf_queue = v);
    limit!(
        max_startups,
        login_grace_secs,
        sessions_per_user,
        tokens_per_user,
        items_per_kind
    );
    set!(clipboard_clear_secs, |v| {
        if !(1..=3600).contains(&v) {
            return Err(bad("clipboard_clear_secs", "must be from 1 to 3600"));
        }
        args.limits.clipboard_clear_secs = v
    });
    set!(trash_retention_secs, |v| {
        if !(1..=MAX_TRASH_RETENTION_SECS).contains(&v) {
            let range = format!("must be from 1 to {MAX_TRASH_RETENTION_SECS}");
            return Err(bad("trash_retention_secs", &range));
        }
        args.limits.trash_retention_secs = v
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn defaults() -> ServeArgs {
        Wrap::parse_from(["keeper"]).args
    }

    #[test]
    fn a_config_file_sets_what_flags_did_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("keeper.toml");
        std::fs::write(
            &file,
            "# Keeper\nssh_addr = \"0.0.0.0:2200\"\nhttp-addr = '127.0.0.1:9000'\nidle_lock_secs = 60 # one minute\nlog_format = \"json\"\nlogin_failures = 3\n",
        )
        .expect("write");
        let mut args = defaults();
        apply_config_file(&mut args, &file, |key| key == "http_addr").expect("config");
        assert_eq!(args.ssh_addr.to_string(), "0.0.0.0:2200");
        assert_eq!(
            args.http_addr.to_string(),
            "127.0.0.1:8080",
            "a given flag wins"
        );
        assert_eq!(args.idle_lock_secs, 60);
        assert_eq!(args.log_format, LogFormat::Json);
        assert_eq!(args.limits.login_failures, 3);
    }

    #[test]
    fn the_limits_default_as_the_flags_do() {
        let flags = defaults().limits;
        let plain = LimitArgs::default();
        assert_eq!(format!("{flags:?}"), format!("{plain:?}"));
    }

    #[test]
    fn unknown_settings_and_bad_values_name_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("keeper.toml");
        std::fs::write(&file, "ssh_addr = \"nowhere\"\n").expect("write");
        let err = format!(
            "{:#}",
            apply_config_file(&mut defaults(), &file, |_| false).expect_err("bad address")
        );
        assert!(err.contains("ssh_addr") && err.contains("nowhere"), "{err}");
        std::fs::write(&file, "ssh_addr = nowhere\n").expect("write");
        let err = format!(
            "{:#}",
            apply_config_file(&mut defaults(), &file, |_| false).expect_err("not TOML")
        );
        assert!(err.contains("line 1"), "{err}");
        std::fs::write(&file, "kdf_workers = 0\n").expect("write");
        let err = format!(
            "{:#}",
            apply_config_file(&mut defaults(), &file, |_| false).expect_err("zero")
        );
        assert!(
            err.contains("kdf_workers") && err.contains("positive"),
            "{err}"
        );
        std::fs::write(&file, "\ncolour = \"blue\"\n").expect("write");
        let err = format!(
            "{:#}",
            apply_config_file(&mut defaults(), &file, |_| false).expect_err("unknown")
        );
        assert!(err.contains("line 2") && err.contains("colour"), "{err}");
    }
}

/// Where `keeper audit` finds the database and the audit key.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded database
    #[arg(long, env = "KEEPER_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Database URL [default: sqlite://<data-dir>/keeper.db]
    #[arg(long, env = "KEEPER_DB")]
    pub db: Option<String>,
    /// Audit chain key
    #[arg(long, env = "KEEPER_AUDIT_KEY", default_value = "keys/audit_key")]
    pub audit_key: PathBuf,
}

impl StoreArgs {
    /// The database URL, defaulting to a file in the data dir.
    pub fn database_url(&self) -> String {
        database_url(self.db.as_deref(), &self.data_dir)
    }
}
