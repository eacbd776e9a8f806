//! What the SSH and HTTP listeners share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// A listener that serves at most `max` connections at once: one more is
/// closed as soon as it is accepted, so that the descriptors kept in
/// reserve stay free for the other listener and the database.
pub struct Gate {
    listener: TcpListener,
    service: &'static str,
    others: &'static str,
    slots: Arc<Semaphore>,
    max: usize,
    last_refusal: Option<Instant>,
    last_accept_error: Option<Instant>,
}

impl Gate {
    /// `service` names this listener in the log (`ssh`), `others` what its
    /// limit keeps descriptors for (`HTTP`).
    pub fn new(
        listener: TcpListener,
        service: &'static str,
        others: &'static str,
        max: usize,
    ) -> Self {
        Self {
            listener,
            service,
            others,
            slots: Arc::new(Semaphore::new(max)),
            max,
            last_refusal: None,
            last_accept_error: None,
        }
    }

    /// The next connection let in, with the slot it holds until dropped;
    /// `None` once `shutdown` fires.
    pub async fn next(
        &mut self,
        shutdown: &CancellationToken,
    ) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
        loop {
            let (stream, peer) = accept(
                &self.listener,
                shutdown,
                self.service,
                &mut self.last_accept_error,
            )
            .await?;
            match self.slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    let _ = stream.set_nodelay(true);
                    return Some((stream, peer, slot));
                }
                Err(_) => {
                    drop(stream);
                    self.refused();
                }
            }
        }
    }

    /// Logs a refusal at most every ten seconds: a flood must not also
    /// flood the log.
    fn refused(&mut self) {
        if self
            .last_refusal
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            tracing::warn!(
                max = self.max,
                "{} connection refused: the {} connection limit keeps file descriptors \
                 in reserve for {} and the database",
                self.service,
                self.service.to_uppercase(),
                self.others,
            );
            self.last_refusal = Some(Instant::now());
        }
    }
}

/// The next connection on `listener`, or `None` once `shutdown` fires. A
/// failed accept (no descriptor left, a connection reset before it was
/// taken) is retried shortly after, and logged, naming the `service`, at
/// most every ten seconds (`last_logged`).
async fn accept(
    listener: &TcpListener,
    shutdown: &CancellationToken,
    service: &'static str,
    last_logged: &mut Option<Instant>,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok(pair) => return Some(pair),
                Err(e) => {
                    if last_logged.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!(error = %e, "{service} accept failed (logged at most every 10 s)");
                        *last_logged = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}
