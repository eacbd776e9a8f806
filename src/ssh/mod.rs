//! The SSH front end: a russh server whose handler only forwards events to one
//! task per channel, where the shell (line editor, unlock state, idle timer)
//! lives.

mod handler;
mod hostkey;
mod register;
mod session;
mod terminal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::MethodKind;
use russh::keys::PrivateKey;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::service::Services;

pub use hostkey::load_or_create_host_key;

/// How long a connection may take to close by itself once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings of the SSH front end.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// Unlocked sessions lock after this long without input.
    pub idle_lock: Duration,
    /// Connections that have not authenticated yet, at most (OpenSSH's MaxStartups).
    pub max_unauthenticated: usize,
    /// Time allowed to authenticate (OpenSSH's LoginGraceTime).
    pub login_grace: Duration,
    /// Longest input line, in characters.
    pub max_line: usize,
    /// Wrong PINs before the session ends.
    pub pin_attempts: usize,
    /// Unlocked sessions one user may have open at once (shell or exec).
    pub sessions_per_user: usize,
}

impl Default for SshSettings {
    fn default() -> Self {
        Self {
            idle_lock: Duration::from_secs(600),
            max_unauthenticated: 64,
            login_grace: Duration::from_secs(60),
            max_line: 4096,
            pin_attempts: 3,
            sessions_per_user: 16,
        }
    }
}

/// Shared by every connection.
pub(crate) struct Shared {
    pub services: Services,
    /// Open unlocked sessions per user.
    pub open: std::sync::Mutex<std::collections::HashMap<crate::domain::UserId, usize>>,
    pub metrics: Arc<Metrics>,
    pub settings: SshSettings,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
}

/// One open unlocked session, counted against its user until dropped.
pub(crate) struct SessionSlot {
    shared: Arc<Shared>,
    user: crate::domain::UserId,
}

impl Shared {
    /// Takes a session slot for `user`, unless they already use all of theirs.
    pub(crate) fn open_session(
        self: &Arc<Self>,
        user: crate::domain::UserId,
    ) -> Option<SessionSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(user).or_default();
        if *count >= self.settings.sessions_per_user {
            return None;
        }
        *count += 1;
        Some(SessionSlot {
            shared: self.clone(),
            user,
        })
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self
            .shared
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

fn russh_config(host_key: PrivateKey) -> russh::server::Config {
    let mut methods = russh::MethodSet::empty();
    methods.push(MethodKind::KeyboardInteractive);
    methods.push(MethodKind::Password);
    russh::server::Config {
        methods,
        keys: vec![host_key],
        auth_rejection_time: Duration::from_millis(500),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(60)),
        keepalive_max: 3,
        nodelay: true,
        ..Default::default()
    }
}

/// Accepts connections until `shutdown` fires, then waits for every session to end.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    metrics: Arc<Metrics>,
    host_key: PrivateKey,
    settings: SshSettings,
    shutdown: CancellationToken,
) {
    let config = Arc::new(russh_config(host_key));
    let unauthenticated = Arc::new(Semaphore::new(settings.max_unauthenticated));
    let shared = Arc::new(Shared {
        services,
        open: Default::default(),
        metrics,
        settings,
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    });
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "ssh accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = unauthenticated.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many unauthenticated ssh connections; dropping one");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let config = config.clone();
        shared
            .tasks
            .clone()
            .spawn(connection(shared, config, stream, peer, permit));
    }
    shared.tasks.close();
    shared.tasks.wait().await;
}

async fn connection(
    shared: Arc<Shared>,
    config: Arc<russh::server::Config>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let grace = shared.settings.login_grace;
    let (handler, authed) = handler::ConnectionHandler::new(shared.clone(), peer, permit);
    let session = match russh::server::run_stream(config, stream, handler).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "ssh handshake failed");
            return;
        }
    };
    let handle = session.handle();
    let watchdog = tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        if !authed.load(std::sync::atomic::Ordering::Acquire) {
            tracing::info!(%peer, "ssh login grace time expired");
            let _ = handle
                .disconnect(
                    russh::Disconnect::ByApplication,
                    "login grace time expired".into(),
                    "en".into(),
                )
                .await;
        }
    });
    let handle = session.handle();
    let mut session = session;
    let ended = tokio::select! {
        ended = &mut session => Some(ended),
        () = shared.shutdown.cancelled() => None,
    };
    let ended = match ended {
        Some(ended) => ended,
        None => {
            // Channel tasks finish their command and close their channels;
            // connections that still linger after that are told and dropped.
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut session).await {
                Ok(ended) => ended,
                Err(_) => {
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            "the server is shutting down".into(),
                            "en".into(),
                        )
                        .await;
                    tokio::time::timeout(SHUTDOWN_GRACE, &mut session)
                        .await
                        .unwrap_or(Ok(()))
                }
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "ssh connection ended with an error");
    }
    watchdog.abort();
}
