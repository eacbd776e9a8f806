//! What the SSH and HTTP listeners share.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The next connection on `listener`, or `None` once `shutdown` fires. A
/// failed accept (no descriptor left, a connection reset before it was
/// taken) is logged, naming the `service`, and retried shortly after.
pub async fn accept(
    listener: &TcpListener,
    shutdown: &CancellationToken,
    service: &'static str,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok(pair) => return Some(pair),
                Err(e) => {
                    tracing::warn!(error = %e, "{service} accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// Connections refused at the limit are logged at most every ten seconds:
/// a flood must not also flood the log.
#[derive(Debug, Default)]
pub struct Refusals {
    last: Option<Instant>,
}

impl Refusals {
    /// A connection was refused; `log` says so unless it did a moment ago.
    pub fn refused(&mut self, log: impl FnOnce()) {
        if self
            .last
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            log();
            self.last = Some(Instant::now());
        }
    }
}
