//! Start-up: `build` opens everything that can fail (data dir, database, host
//! key, listeners) so errors surface before anything is served; `run_until_stopped`
//! serves until the shutdown token fires, then drains.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{LimitArgs, ServeArgs};
use crate::crypto::{HashPool, KdfParams};
use crate::http::{HttpState, TlsConfig};
use crate::metrics::Metrics;
use crate::service::{Limits, Services, ThrottlePolicy};
use crate::ssh::{SshSettings, load_or_create_host_key};
use crate::storage::Store;

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
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(String);

impl App {
    /// Opens the data dir, database and host key, and binds the listeners.
    pub async fn build(args: &ServeArgs) -> Result<Self, StartError> {
        if args.tls_cert.is_none() && !args.http_addr.ip().is_loopback() && !args.allow_plain_http {
            return Err(StartError(format!(
                "refusing plain HTTP on non-loopback address {}: give --tls-cert and --tls-key, \
                 or --allow-plain-http behind a TLS-terminating proxy",
                args.http_addr
            )));
        }
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|e| StartError(format!("cannot load TLS certificate or key: {e}")))?,
            ),
            _ => None,
        };
        // Listeners first: a busy port fails before anything is written.
        let ssh_listener = TcpListener::bind(args.ssh_addr)
            .await
            .map_err(|e| StartError(format!("cannot listen for SSH on {}: {e}", args.ssh_addr)))?;
        let ssh_addr = ssh_listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let http_listener = TcpListener::bind(args.http_addr).await.map_err(|e| {
            StartError(format!("cannot listen for HTTP on {}: {e}", args.http_addr))
        })?;
        let http_addr = http_listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?;
        let url = args.database_url();
        if args.db.is_none() {
            prepare_data_dir(&args.data_dir)?;
        }
        let audit_key =
            crate::crypto::AuditKey::load_or_create(&args.audit_key).map_err(StartError)?;
        let store = Store::connect(&url, audit_key, args.durability)
            .await
            .map_err(|e| StartError(format!("cannot open database {}: {e}", redact_url(&url))))?;
        let host_key = match load_or_create_host_key(&args.host_key) {
            Ok(key) => key,
            Err(e) => {
                store.close().await;
                return Err(StartError(e));
            }
        };
        let given = &args.limits;
        let workers = given.kdf_workers.map_or_else(
            || std::thread::available_parallelism().map_or(2, |n| n.get()),
            usize::from,
        );
        let hasher = HashPool::new(KdfParams::default(), workers, usize::from(given.kdf_queue));
        let services = Services::new(store, hasher, limits(given));
        let ssh_settings = SshSettings {
            idle_lock: args.idle_lock(),
            max_unauthenticated: usize::from(given.max_startups),
            sessions_per_user: usize::from(given.sessions_per_user),
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
        });
        let http = crate::http::serve(self.http_listener, router, self.tls, shutdown.clone());
        let ssh = crate::ssh::serve(
            self.ssh_listener,
            self.services.clone(),
            self.metrics.clone(),
            self.host_key,
            self.ssh_settings,
            shutdown,
        );
        tokio::join!(http, ssh);
        self.services.close().await;
        tracing::info!("stopped");
    }
}

/// The services' limits as the flags give them.
fn limits(given: &LimitArgs) -> Limits {
    Limits {
        items_per_kind: i64::from(given.items_per_kind),
        tokens_per_user: i64::from(given.tokens_per_user),
        throttle: ThrottlePolicy {
            per_login: i64::from(given.login_failures),
            per_address: i64::from(given.address_failures),
            first_lock: time::Duration::seconds(i64::from(given.lock_secs)),
            max_lock: time::Duration::seconds(i64::from(given.max_lock_secs)),
            ..ThrottlePolicy::default()
        },
        ..Limits::default()
    }
}

/// Creates the data dir (mode 0700) and an empty database file (mode 0600)
/// before SQLite opens it: SQLite gives its WAL and shared-memory files the
/// database file's mode, so none of them is readable by other local users.
fn prepare_data_dir(dir: &std::path::Path) -> Result<(), StartError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |what: &str, e: std::io::Error| {
        StartError(format!("cannot create {what} in {}: {e}", dir.display()))
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
