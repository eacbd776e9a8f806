//! The russh `Handler`: authentication, and a thin adapter that turns channel
//! callbacks into [`ChannelEvent`]s for the channel's own task.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use russh::server::{Auth, Msg, Response, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use zeroize::Zeroizing;

use super::Shared;
use super::session::{ChannelEvent, ChannelTask, Identity};
use crate::domain::Login;
use crate::service::{Origin, ServiceError};

/// The login that opens the registration dialogue instead of a vault.
pub const REGISTRATION_LOGIN: &str = "new";

/// One per TCP connection.
pub struct ConnectionHandler {
    shared: Arc<Shared>,
    origin: Origin,
    /// Held until authentication succeeds: caps connections that never log in.
    unauthenticated: Option<OwnedSemaphorePermit>,
    authed: Arc<AtomicBool>,
    identity: Option<Identity>,
    channels: HashMap<ChannelId, mpsc::Sender<ChannelEvent>>,
}

fn retry() -> Auth {
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::KeyboardInteractive);
    methods.push(MethodKind::Password);
    Auth::Reject {
        proceed_with_methods: Some(methods),
        partial_success: false,
    }
}

impl ConnectionHandler {
    pub fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        permit: OwnedSemaphorePermit,
    ) -> (Self, Arc<AtomicBool>) {
        let authed = Arc::new(AtomicBool::new(false));
        let handler = Self {
            shared,
            origin: Origin::ssh(Some(peer)),
            unauthenticated: Some(permit),
            authed: authed.clone(),
            identity: None,
            channels: HashMap::new(),
        };
        (handler, authed)
    }

    fn accept(&mut self, identity: Identity) -> Auth {
        self.identity = Some(identity);
        self.unauthenticated = None;
        self.authed.store(true, Ordering::Release);
        Auth::Accept
    }

    async fn check_password(&mut self, user: &str, password: Zeroizing<String>) -> Auth {
        if user == REGISTRATION_LOGIN {
            return self.accept(Identity::Registration);
        }
        let Ok(login) = Login::parse(user) else {
            return retry();
        };
        // Boxed: russh keeps every handler future inside its session's own
        // future for the whole connection, and login's is by far the
        // largest; this way an idle session does not carry its space.
        let authenticated = Box::pin(self.shared.services.authenticate(
            &self.origin,
            &login,
            &password,
        ));
        match authenticated.await {
            Ok(who) => self.accept(Identity::User {
                who: Box::new(who),
                password,
            }),
            Err(ServiceError::BadCredentials) => retry(),
            Err(ServiceError::Busy) => {
                tracing::warn!(peer = ?self.origin.remote_addr, "login refused: hashing pool saturated");
                retry()
            }
            Err(e) => {
                tracing::error!(error = ?e, "login failed unexpectedly");
                retry()
            }
        }
    }

    async fn forward(&mut self, channel: ChannelId, event: ChannelEvent) {
        if let Some(tx) = self.channels.get(&channel)
            && tx.send(event).await.is_err()
        {
            self.channels.remove(&channel);
        }
    }
}

impl russh::server::Handler for ConnectionHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        if user == REGISTRATION_LOGIN {
            return Ok(self.accept(Identity::Registration));
        }
        Ok(retry())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(self
            .check_password(user, Zeroizing::new(password.to_owned()))
            .await)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if user == REGISTRATION_LOGIN {
            return Ok(self.accept(Identity::Registration));
        }
        match response {
            None => Ok(Auth::Partial {
                name: "".into(),
                instructions: "".into(),
                prompts: vec![("Password: ".into(), false)].into(),
            }),
            Some(mut answers) => {
                let answer = answers.next().unwrap_or_default();
                let password = Zeroizing::new(String::from_utf8_lossy(&answer).into_owned());
                Ok(self.check_password(user, password).await)
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(identity) = self.identity.clone() else {
            return Ok(());
        };
        let id = channel.id();
        // Events come through the callbacks below; the channel object itself
        // is dropped so that its queue never fills up.
        drop(channel);
        let (tx, rx) = mpsc::channel(64);
        self.channels.insert(id, tx);
        let task = ChannelTask::new(
            self.shared.clone(),
            self.origin.clone(),
            identity,
            session.handle(),
            id,
            rx,
        );
        self.shared.tasks.spawn(task.run());
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        self.forward(channel, ChannelEvent::Pty { cols }).await;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        self.forward(channel, ChannelEvent::Shell).await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        self.forward(channel, ChannelEvent::Exec(data.to_vec()))
            .await;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Data(data.to_vec()))
            .await;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Resize { cols }).await;
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Eof).await;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Eof).await;
        self.channels.remove(&channel);
        Ok(())
    }
}

impl Drop for ConnectionHandler {
    fn drop(&mut self) {
        // Dropping the senders tells every channel task the connection is gone.
        self.channels.clear();
    }
}

/// Keeps `Authenticated` out of `Debug` noise.
impl std::fmt::Debug for ConnectionHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionHandler")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}
