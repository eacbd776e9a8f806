//! Start-up: `build` opens everything that can fail (data dir, database, host
//! key, listeners) so errors surface before anything is served; `run_until_stopped`
//! serves until the shutdown token fires, then drains.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{LimitArgs, ServeArgs};
use crate::crypto::{HashPool, KdfParams, Pepper};
use crate::http::{HttpState, TlsConfig};
use crate::metrics::Metrics;
use crate::service::{Limits, Services, THROTTLE_KEY_LABEL, ThrottleKey, ThrottlePolicy};
use crate::ssh::{SshSettings, load_or_create_host_key};
use crate::storage::{AuditKeyFit, Store};

/// A built, not yet running server.
pub struct App {
    services: Services,
    metrics: Arc<Metrics>,
    ssh_listener: TcpListener,
    ssh_addr: SocketAddr,
    http_listener: TcpListener,
    http_addr: SocketAddr,
    tls: Option<TlsConfig>,
    host_key: russh::keys::PrivateKey,
    ssh_settings: SshSettings,
    budget: ConnectionBudget,
    metrics_token: Option<crate::config::MetricsToken>,
    checkpoint: std::path::PathBuf,
}

/// Descriptors one SSH connection holds: its socket, and the copy it is
/// shut down through.
const SSH_DESCRIPTORS: usize = 2;

/// How many connections each front end may hold, from the process's limit
/// of open files: a reserve stays free for the database, the listeners and
/// the log, and the rest is split between SSH and HTTP, so a flood of one
/// never takes the other down. An SSH connection holds two descriptors, an
/// HTTP connection one.
#[derive(Debug, Clone, Copy)]
struct ConnectionBudget {
    ssh: usize,
    http: usize,
}

impl ConnectionBudget {
    /// SSH connections that may be pending (not yet unlocked): at most half
    /// the SSH connections, so that pending ones are shed (see
    /// `ssh::admission`) before the listener has to refuse anyone, and
    /// silent sockets cannot hold every slot.
    fn pending(&self, max_startups: usize) -> usize {
        let cap = (self.ssh / 2).max(1);
        if max_startups > cap {
            tracing::warn!(
                max_startups,
                cap,
                "--max-startups lowered to half the SSH connections the open-file limit allows"
            );
        }
        max_startups.min(cap)
    }

    /// Raises the soft limit of open files to the hard one, then divides it.
    fn from_descriptor_limit() -> Self {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((1024, 1024));
        let limit = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            hard
        } else {
            soft
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(1 << 20);
        let reserve = (limit / 8).max(64);
        let each = (limit.saturating_sub(reserve) / 2).max(16);
        let ssh = each / SSH_DESCRIPTORS;
        tracing::info!(
            limit,
            reserve,
            ssh,
            http = each,
            "file descriptors: connections capped so that some stay in reserve"
        );
        Self { ssh, http: each }
    }
}

/// Refuses to serve a database whose audit log was written under another
/// audit key than `path` holds: its records would all look forged, and no
/// password would verify (the Argon2 pepper comes from the same key). A key
/// this start just created for a database that already has records is
/// removed again, so that the operator's restored key is not shadowed.
async fn audit_key_fits(
    store: &Store,
    path: &std::path::Path,
    key_was_there: bool,
) -> anyhow::Result<()> {
    let fit = store
        .audit_key_fit()
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the audit log: {e}"))?;
    if fit != AuditKeyFit::Mismatch {
        return Ok(());
    }
    if !key_was_there {
        let _ = std::fs::remove_file(path);
        return Err(anyhow::anyhow!(
            "the audit key {} is missing, but the database holds an audit log written \
             under one: put back the key that belongs to this database (it is kept with \
             its backups). Keeper does not start under a new key: every audit record \
             would look forged and no password would verify",
            path.display()
        ));
    }
    Err(anyhow::anyhow!(
        "the audit key {} is not the one the database's audit log was written under: \
         put back the key that belongs to this database (it is kept with its backups), \
         or point --audit-key at it",
        path.display()
    ))
}

impl App {
    /// Opens the data dir, database and host key, and binds the listeners.
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Self> {
        if args.tls_cert.is_none() && !args.http_addr.ip().is_loopback() && !args.allow_plain_http {
            return Err(anyhow::anyhow!(
                "refusing plain HTTP on non-loopback address {}: give --tls-cert and --tls-key, \
                 or --allow-plain-http behind a TLS-terminating proxy",
                args.http_addr
            ));
        }
        let registration = args.registration_policy()?;
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(
                crate::http::load_tls(cert, key)
                    .map_err(|e| anyhow::anyhow!("cannot load TLS certificate or key: {e}"))?,
            ),
            _ => None,
        };
        // Listeners first: a busy port fails before anything is written.
        let ssh_listener = TcpListener::bind(args.ssh_addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for SSH on {}: {e}", args.ssh_addr))?;
        let ssh_addr = ssh_listener.local_addr().map_err(|e| anyhow::anyhow!(e))?;
        let http_listener = TcpListener::bind(args.http_addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for HTTP on {}: {e}", args.http_addr))?;
        let http_addr = http_listener.local_addr().map_err(|e| anyhow::anyhow!(e))?;
        let url = args.database_url();
        if args.db.is_none() {
            prepare_data_dir(&args.data_dir)?;
        }
        let key_was_there = args.audit_key.exists();
        let audit_key = crate::crypto::AuditKey::load_or_create(&args.audit_key)?;
        let throttle_key = ThrottleKey::new(audit_key.derive(THROTTLE_KEY_LABEL));
        let pepper = pepper(&audit_key);
        let store = Store::connect(&url, audit_key, args.durability.into())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact_url(&url)))?;
        if let Err(e) = audit_key_fits(&store, &args.audit_key, key_was_there).await {
            store.close().await;
            return Err(e);
        }
        let host_key = match load_or_create_host_key(&args.host_key) {
            Ok(key) => key,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        let given = &args.limits;
        let checkpoint = crate::checkpoint::kept_path(&args.audit_key);
        let workers = given.kdf_workers.map_or_else(
            || std::thread::available_parallelism().map_or(2, |n| n.get()),
            usize::from,
        );
        let hasher = HashPool::new(KdfParams::default(), workers, usize::from(given.kdf_queue))
            .with_pepper(pepper);
        let limits = Limits {
            registration,
            ..limits(given)
        };
        let mut services = Services::new(store, hasher, limits, throttle_key);
        if let Some(path) = &args.breach_file {
            match crate::service::breach::BreachFile::open(path) {
                Ok(file) => services = services.with_breach_file(file),
                Err(e) => {
                    services.close().await;
                    return Err(anyhow::anyhow!("cannot use --breach-file: {e}"));
                }
            }
        }
        if let Err(e) = crate::checkpoint::check(&services, &checkpoint).await {
            services.close().await;
            return Err(e);
        }
        if let Err(e) = services.prepare().await {
            services.close().await;
            return Err(anyhow::anyhow!("cannot prepare password checks: {e}"));
        }
        if let Err(e) = services.follow_other_nodes().await {
            services.close().await;
            let why = e.internal_detail().unwrap_or_else(|| e.to_string());
            return Err(anyhow::anyhow!(
                "cannot listen for credential changes on other nodes: {why}"
            ));
        }
        let budget = ConnectionBudget::from_descriptor_limit();
        let ssh_settings = SshSettings {
            idle_lock: args.idle_lock(),
            max_unauthenticated: budget.pending(usize::from(given.max_startups)),
            login_grace: std::time::Duration::from_secs(u64::from(given.login_grace_secs)),
            max_connections: budget.ssh,
            sessions_per_user: usize::from(given.sessions_per_user),
            clipboard_clear: std::time::Duration::from_secs(u64::from(given.clipboard_clear_secs)),
            ..SshSettings::default()
        };
        Ok(Self {
            services,
            metrics: Arc::new(Metrics::default()),
            ssh_listener,
            ssh_addr,
            http_listener,
            http_addr,
            tls,
            host_key,
            ssh_settings,
            budget,
            metrics_token: args.metrics_token.clone(),
            checkpoint,
        })
    }

    /// The address the SSH listener is bound to (useful with port 0).
    pub fn ssh_addr(&self) -> SocketAddr {
        self.ssh_addr
    }

    /// The address the HTTP listener is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Serves until `shutdown` fires; then stops accepting, lets sessions
    /// and requests finish, and closes the database.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        tracing::info!(addr = %self.ssh_addr, "ssh listening");
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        tracing::info!(addr = %self.http_addr, %scheme, "http listening");
        let router = crate::http::router(HttpState {
            services: self.services.clone(),
            metrics: self.metrics.clone(),
            metrics_token: self.metrics_token,
        });
        let http = crate::http::serve(
            self.http_listener,
            router,
            self.tls,
            self.budget.http,
            shutdown.clone(),
        );
        let ssh = crate::ssh::serve(
            self.ssh_listener,
            self.services.clone(),
            self.metrics.clone(),
            self.host_key,
            self.ssh_settings,
            shutdown.clone(),
        );
        let checkpoints = crate::checkpoint::keep(
            self.services.clone(),
            self.checkpoint.clone(),
            shutdown.clone(),
        );
        let purges = purge_trash(self.services.clone(), shutdown.clone());
        tokio::join!(http, ssh, checkpoints, purges);
        self.services.close().await;
        tracing::info!("stopped");
    }
}

/// Purges what the trash kept past its retention, at start and then every
/// tenth of the retention (at most hourly), until `shutdown`.
async fn purge_trash(services: Services, shutdown: CancellationToken) {
    let retention = services.limits().trash_retention.unsigned_abs();
    let every = (retention / 10).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(3600),
    );
    loop {
        match services.purge_trash().await {
            Ok(0) => {}
            Ok(purged) => {
                tracing::info!(purged, "purged items kept in the trash past its retention")
            }
            Err(e) => {
                let why = e.internal_detail().unwrap_or_else(|| e.to_string());
                tracing::error!(error = %why, "trash not purged");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// The password pepper, derived from the audit key (so `keys/audit_key`
/// remains the one server secret to keep and to share between nodes).
fn pepper(audit_key: &crate::crypto::AuditKey) -> Pepper {
    let id = audit_key.derive("password-pepper-id");
    let mut short = [0u8; 6];
    short.copy_from_slice(&id[..6]);
    Pepper::new(audit_key.derive("password-pepper"), short)
}

/// The services' limits as the flags give them.
fn limits(given: &LimitArgs) -> Limits {
    Limits {
        items_per_kind: i64::from(given.items_per_kind),
        tokens_per_user: i64::from(given.tokens_per_user),
        trash_retention: time::Duration::seconds(i64::from(given.trash_retention_secs)),
        throttle: ThrottlePolicy {
            per_login: i64::from(given.login_failures),
            per_address: i64::from(given.address_failures),
            first_lock: time::Duration::seconds(i64::from(given.lock_secs)),
            max_lock: time::Duration::seconds(i64::from(given.max_lock_secs)),
        },
        ..Limits::default()
    }
}

/// Creates the data dir (mode 0700) and an empty database file (mode 0600)
/// before SQLite opens it: SQLite gives its WAL and shared-memory files the
/// database file's mode, so none of them is readable by other local users.
fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |what: &str, e: std::io::Error| {
        anyhow::anyhow!("cannot create {what} in {}: {e}", dir.display())
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| fail("the data dir", e))?;
    let db = dir.join("keeper.db");
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&db)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail("the database", e)),
    }
}

/// A database URL without any password in it, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}
