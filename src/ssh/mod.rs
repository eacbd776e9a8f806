//! The SSH front end: a russh server whose handler only forwards events to one
//! task per channel, where the shell (line editor, unlock state, idle timer)
//! lives.

mod admission;
mod handler;
mod hostkey;
mod inbox;
mod register;
mod session;
mod terminal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::MethodKind;
use russh::keys::PrivateKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::service::Services;
use admission::{Admission, Conn, Progress};

pub use hostkey::load_or_create_host_key;

/// How long a connection may take to close by itself once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings of the SSH front end.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// Unlocked sessions lock after this long without input.
    pub idle_lock: Duration,
    /// Connections without an open vault yet, at most (OpenSSH's
    /// MaxStartups); one more sheds the least advanced of them.
    pub max_unauthenticated: usize,
    /// Time from `accept` to an open vault: version and key exchange,
    /// authentication, the PIN or the registration dialogue (OpenSSH's
    /// LoginGraceTime). Also how long any PIN prompt waits.
    pub login_grace: Duration,
    /// Time from `accept` to the first authentication request.
    pub handshake: Duration,
    /// SSH connections open at once, at most (keeps file descriptors in
    /// reserve for HTTP and the database).
    pub max_connections: usize,
    /// Channels one connection may have open.
    pub channels_per_connection: usize,
    /// Longest input line, in characters.
    pub max_line: usize,
    /// Wrong PINs before the session ends.
    pub pin_attempts: usize,
    /// Unlocked sessions one user may have open at once (shell or exec).
    pub sessions_per_user: usize,
    /// How long a copy stays on the clipboard before the shell clears it.
    pub clipboard_clear: Duration,
}

impl Default for SshSettings {
    fn default() -> Self {
        Self {
            idle_lock: Duration::from_secs(600),
            max_unauthenticated: 64,
            login_grace: Duration::from_secs(60),
            handshake: Duration::from_secs(10),
            max_connections: 1024,
            channels_per_connection: 4,
            max_line: 4096,
            pin_attempts: 3,
            sessions_per_user: 16,
            clipboard_clear: Duration::from_secs(45),
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
        // Keepalives every minute keep a live client's connection busy; a
        // loop stuck writing to a client that reads nothing ends here.
        inactivity_timeout: Some(Duration::from_secs(300)),
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
    let admission = Admission::new(settings.max_unauthenticated);
    let mut gate = crate::net::Gate::new(listener, "ssh", "HTTP", settings.max_connections);
    let shared = Arc::new(Shared {
        services,
        open: Default::default(),
        metrics,
        settings,
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    });
    while let Some((stream, peer, slot)) = gate.next(&shutdown).await {
        let conn = Arc::new(admission.admit());
        let shared = shared.clone();
        let config = config.clone();
        shared.tasks.clone().spawn(async move {
            connection(shared, config, stream, peer, conn).await;
            drop(slot);
        });
    }
    shared.tasks.close();
    shared.tasks.wait().await;
}

/// Resolves at `deadline` unless `passed` says the connection got far
/// enough by then.
async fn deadline_unless(
    conn: &Conn,
    deadline: tokio::time::Instant,
    passed: impl Fn(&Conn) -> bool,
) {
    tokio::time::sleep_until(deadline).await;
    if passed(conn) {
        std::future::pending::<()>().await;
    }
}

async fn connection(
    shared: Arc<Shared>,
    config: Arc<russh::server::Config>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    conn: Arc<Conn>,
) {
    use std::os::fd::AsFd;
    // russh runs the session in a task of its own that outlives this
    // future; shutting the socket down is what ends it from here.
    let socket = stream
        .as_fd()
        .try_clone_to_owned()
        .map(std::net::TcpStream::from);
    let hang_up = |why: &str| {
        tracing::debug!(%peer, "closing ssh connection: {why}");
        if let Ok(socket) = &socket {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    };
    let accepted = tokio::time::Instant::now();
    let settings = &shared.settings;
    let handshake = deadline_unless(&conn, accepted + settings.handshake, |c| {
        c.progress() > Progress::Connected
    });
    let grace = deadline_unless(&conn, accepted + settings.login_grace, Conn::is_unlocked);
    tokio::pin!(handshake, grace);
    let handler = handler::ConnectionHandler::new(shared.clone(), peer, conn.clone());
    let session = tokio::select! {
        started = russh::server::run_stream(config, stream, handler) => match started {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "ssh handshake failed");
                return;
            }
        },
        () = &mut handshake => return hang_up("no authentication request in time"),
        () = &mut grace => return hang_up("login grace time expired"),
        () = conn.shed() => return hang_up("shed for a newer connection"),
        () = shared.shutdown.cancelled() => return,
    };
    let handle = session.handle();
    let mut session = session;
    let ended = tokio::select! {
        ended = &mut session => Some(ended),
        () = &mut handshake => {
            hang_up("no authentication request in time");
            None
        }
        () = &mut grace => {
            hang_up("login grace time expired");
            None
        }
        () = conn.shed() => {
            hang_up("shed for a newer connection");
            None
        }
        () = conn.killed() => {
            hang_up("the client stopped reading its output");
            None
        }
        () = shared.shutdown.cancelled() => {
            // Channel tasks finish their command and close their channels;
            // connections that still linger after that are told and dropped.
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut session).await {
                Ok(ended) => Some(ended),
                Err(_) => {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(500),
                        handle.disconnect(
                            russh::Disconnect::ByApplication,
                            "the server is shutting down".into(),
                            "en".into(),
                        ),
                    )
                    .await;
                    hang_up("the server is shutting down");
                    None
                }
            }
        }
    };
    let ended = match ended {
        Some(ended) => ended,
        // The socket is shut: the session task ends at its next read.
        None => tokio::time::timeout(SHUTDOWN_GRACE, &mut session)
            .await
            .unwrap_or(Ok(())),
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "ssh connection ended with an error");
    }
}
