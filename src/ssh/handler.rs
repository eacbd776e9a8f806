//! The russh `Handler`: authentication, and a thin adapter that turns channel
//! callbacks into [`ChannelEvent`]s for the channel's own task.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use russh::server::{Auth, Msg, Response, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use zeroize::Zeroizing;

use super::Shared;
use super::admission::{Conn, Progress};
use super::inbox::{ChannelEvent, Inbox};
use super::session::{ChannelTask, Identity};
use crate::domain::Login;
use crate::service::{Origin, ServiceError};

/// The login that opens the registration dialogue instead of a vault.
pub const REGISTRATION_LOGIN: &str = "new";
/// The login that opens the recovery dialogue.
pub const RECOVERY_LOGIN: &str = crate::domain::Login::RECOVERY;

/// One per TCP connection.
pub struct ConnectionHandler {
    shared: Arc<Shared>,
    origin: Origin,
    /// The connection's standing: pending (capped, with a deadline) until a
    /// vault is open on it.
    conn: Arc<Conn>,
    identity: Option<Identity>,
    channels: HashMap<ChannelId, Arc<Inbox>>,
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
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, conn: Arc<Conn>) -> Self {
        Self {
            shared,
            origin: Origin::ssh(Some(peer)),
            conn,
            identity: None,
            channels: HashMap::new(),
        }
    }

    /// Authentication succeeded; the connection stays pending until a vault
    /// is open (a PIN, or the registration dialogue, is still to come).
    /// A registration dialogue is shed first when the pending set is full.
    fn accept(&mut self, identity: Identity) -> Auth {
        self.conn.advance(match identity {
            Identity::Registration | Identity::Recovery => Progress::Registering,
            _ => Progress::Authenticated,
        });
        self.identity = Some(identity);
        Auth::Accept
    }

    async fn check_password(&mut self, user: &str, password: Zeroizing<String>) -> Auth {
        self.conn.advance(Progress::Authenticating);
        if user == REGISTRATION_LOGIN {
            return self.accept(Identity::Registration);
        }
        if user == RECOVERY_LOGIN {
            return self.accept(Identity::Recovery);
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
            // The password was not checked: whatever was typed gets in to
            // be told, so the answer says nothing about the password.
            Err(ServiceError::PinLocked { retry_after }) => {
                self.accept(Identity::Locked { retry_after })
            }
            // The password was right: the owner is told why nothing opens.
            Err(ServiceError::Disabled) => self.accept(Identity::Disabled),
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

    /// Hands an event to the channel's task without ever waiting for it.
    fn forward(&self, channel: ChannelId, event: ChannelEvent) {
        if let Some(inbox) = self.channels.get(&channel) {
            inbox.push(event);
        }
    }
}

impl russh::server::Handler for ConnectionHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        self.conn.advance(Progress::Authenticating);
        if user == REGISTRATION_LOGIN {
            return Ok(self.accept(Identity::Registration));
        }
        if user == RECOVERY_LOGIN {
            return Ok(self.accept(Identity::Recovery));
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
        self.conn.advance(Progress::Authenticating);
        if user == REGISTRATION_LOGIN {
            return Ok(self.accept(Identity::Registration));
        }
        if user == RECOVERY_LOGIN {
            return Ok(self.accept(Identity::Recovery));
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
        // Dropping `reply` unaccepted refuses the channel.
        let Some(identity) = self.identity.clone() else {
            return Ok(());
        };
        if self.channels.len() >= self.shared.settings.channels_per_connection {
            tracing::debug!(peer = ?self.origin.remote_addr, "channel refused: too many on one connection");
            return Ok(());
        }
        let id = channel.id();
        // Events come through the callbacks below; the channel object itself
        // is dropped so that its queue never fills up.
        drop(channel);
        let inbox = Arc::new(Inbox::default());
        self.channels.insert(id, inbox.clone());
        let task = ChannelTask::new(
            self.shared.clone(),
            self.origin.clone(),
            identity,
            self.conn.clone(),
            session.handle(),
            id,
            inbox,
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
        self.forward(channel, ChannelEvent::Pty { cols });
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        self.forward(channel, ChannelEvent::Shell);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        self.forward(channel, ChannelEvent::Exec(data.to_vec()));
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Data(data.to_vec()));
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
        self.forward(channel, ChannelEvent::Resize { cols });
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.forward(channel, ChannelEvent::Eof);
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(inbox) = self.channels.remove(&channel) {
            inbox.close();
        }
        Ok(())
    }

    /// X11 forwarding is not served: refused at once.
    #[allow(clippy::too_many_arguments)]
    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _protocol: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    /// Environment variables are not taken: refused at once.
    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    /// Subsystems (sftp …) are not served: refused at once.
    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        tracing::debug!(subsystem = %crate::views::sanitize::sanitize(name), "subsystem refused");
        session.channel_failure(channel)?;
        Ok(())
    }
}

impl Drop for ConnectionHandler {
    fn drop(&mut self) {
        // Closing the inboxes tells every channel task the connection is gone.
        for inbox in self.channels.values() {
            inbox.close();
        }
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
