//! One task per SSH channel: it owns the terminal, the unlock state and the
//! idle timer, and runs either the interactive shell or one exec command.

use std::sync::Arc;

use base64::Engine;
use russh::ChannelId;
use russh::server::Handle;
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use super::Shared;
use super::register::register;
use super::terminal::{ReadResult, Terminal};
use crate::domain::{Action, ItemKind, Outcome};
use crate::service::{Authenticated, Origin, ServiceError, Unlocked};
use crate::shell::render::render;
use crate::shell::{
    Command, Credentials, Ctx, NoPrompt, Output, SECRET_FLAGS, ShellError, parse_line,
};

/// Who the connection authenticated as.
#[derive(Clone)]
pub enum Identity {
    /// `new@`: the registration dialogue.
    Registration,
    /// A user whose password was checked; the password is kept (zeroized on
    /// drop) because the vault key is derived from password and PIN.
    User {
        who: Box<Authenticated>,
        password: Zeroizing<String>,
    },
}

/// What the connection handler forwards to a channel task.
#[derive(Debug)]
pub enum ChannelEvent {
    Pty { cols: u32 },
    Shell,
    Exec(Vec<u8>),
    Data(Vec<u8>),
    Resize { cols: u32 },
    Eof,
}

/// Longest command accepted through SSH exec.
const MAX_EXEC_BYTES: usize = 64 * 1024;

pub struct ChannelTask {
    shared: Arc<Shared>,
    origin: Origin,
    identity: Identity,
    term: Terminal,
    credentials: Credentials,
}

/// How the shell loop ended.
enum End {
    Exit,
    Failed,
}

fn user_message(e: &ShellError) -> String {
    match e {
        ShellError::Usage(m) => m.clone(),
        ShellError::Service(s) => {
            if let Some(detail) = s.internal_detail() {
                tracing::error!(error = %detail, "command failed unexpectedly");
            }
            format!("error: {s}")
        }
        other => format!("error: {other}"),
    }
}

impl ChannelTask {
    pub fn new(
        shared: Arc<Shared>,
        origin: Origin,
        identity: Identity,
        handle: Handle,
        channel: ChannelId,
        rx: mpsc::Receiver<ChannelEvent>,
    ) -> Self {
        let term = Terminal::new(
            handle,
            channel,
            rx,
            shared.shutdown.clone(),
            shared.settings.max_line,
        );
        Self {
            shared,
            origin,
            identity,
            term,
            credentials: Credentials::default(),
        }
    }

    pub async fn run(mut self) {
        loop {
            match self.term.next_event().await {
                Some(ChannelEvent::Pty { cols, .. }) => {
                    self.term.pty = true;
                    self.term.set_width(cols);
                }
                Some(ChannelEvent::Resize { cols, .. }) => self.term.set_width(cols),
                Some(ChannelEvent::Shell) => {
                    let status = self.shell().await;
                    self.term.finish(status).await;
                    return;
                }
                Some(ChannelEvent::Exec(cmd)) => {
                    let status = self.exec(cmd).await;
                    self.term.finish(status).await;
                    return;
                }
                Some(ChannelEvent::Data(_)) => {}
                Some(ChannelEvent::Eof) | None => return,
            }
        }
    }

    async fn record(&self, user: &Unlocked, action: Action) {
        if let Err(e) = self
            .shared
            .services
            .record(&self.origin, Some(user.user()), action, Outcome::Ok)
            .await
        {
            tracing::error!(error = ?e, "could not record {action}");
        }
    }

    /// Asks for the PIN until it unlocks the vault (a few tries).
    async fn unlock(
        &mut self,
        who: &Authenticated,
        password: &Zeroizing<String>,
    ) -> Option<Unlocked> {
        for attempt in 1..=self.shared.settings.pin_attempts {
            let pin = match self.term.read_line("PIN: ", true, None).await {
                ReadResult::Line(pin) => pin,
                ReadResult::Rejected(why) => {
                    self.term.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                _ => return None,
            };
            match self
                .shared
                .services
                .unlock(&self.origin, who, password, &pin)
                .await
            {
                Ok(vault) => {
                    self.credentials = Credentials {
                        password: password.clone(),
                        pin,
                    };
                    return Some(vault);
                }
                Err(ServiceError::WrongPin) if attempt < self.shared.settings.pin_attempts => {
                    self.term.write_err("Wrong PIN, try again.\n").await;
                }
                Err(ServiceError::WrongPin) => {
                    self.term
                        .write_err("Wrong PIN. Too many attempts; closing the session.\n")
                        .await;
                }
                Err(e) => {
                    self.term.write_err(&format!("error: {e}\n")).await;
                    return None;
                }
            }
        }
        None
    }

    async fn refresh_names(&mut self, vault: &Unlocked) {
        let services = &self.shared.services;
        if let (Ok(cards), Ok(passwords)) = (
            services.item_names(vault, ItemKind::Card).await,
            services.item_names(vault, ItemKind::Password).await,
        ) {
            self.term.completer.cards = cards;
            self.term.completer.passwords = passwords;
        }
    }

    /// The interactive shell. Returns the exit status.
    async fn shell(&mut self) -> u32 {
        let (who, mut vault) = match self.identity.clone() {
            Identity::Registration => {
                match register(&self.shared.services, &self.origin, &mut self.term).await {
                    Some((vault, credentials)) => {
                        self.credentials = credentials;
                        (None, vault)
                    }
                    None => return 1,
                }
            }
            Identity::User { who, password } => match self.unlock(&who, &password).await {
                Some(vault) => (Some((who, password)), vault),
                None => return 1,
            },
        };
        self.record(&vault, Action::SessionStart).await;
        self.term
            .write("Vault unlocked. Type `help` for commands, `exit` to leave.\n")
            .await;
        let end = self
            .command_loop(&mut vault, who.as_ref().map(|(w, _)| w.as_ref()))
            .await;
        self.record(&vault, Action::SessionEnd).await;
        match end {
            End::Exit => 0,
            End::Failed => 1,
        }
    }

    async fn command_loop(&mut self, vault: &mut Unlocked, who: Option<&Authenticated>) -> End {
        let prompt = format!("{}@keeper> ", vault.login());
        let idle = self.shared.settings.idle_lock;
        self.refresh_names(vault).await;
        loop {
            let line = match self.term.read_line(&prompt, false, Some(idle)).await {
                ReadResult::Line(l) => l,
                ReadResult::Interrupted => continue,
                ReadResult::Rejected(why) => {
                    self.term.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                ReadResult::Eof => {
                    self.term.write("\n").await;
                    return End::Exit;
                }
                ReadResult::Shutdown => {
                    self.term
                        .write("\nThe server is shutting down. Goodbye.\n")
                        .await;
                    return End::Exit;
                }
                ReadResult::Timeout => {
                    let minutes = idle.as_secs().div_ceil(60);
                    self.term
                        .write(&format!("\nLocked after {minutes} min of inactivity.\n"))
                        .await;
                    match self.relock(vault, who).await {
                        Some(v) => {
                            *vault = v;
                            continue;
                        }
                        None => return End::Failed,
                    }
                }
            };
            if !SECRET_FLAGS.iter().any(|f| {
                line.split_whitespace()
                    .any(|w| w == *f || w.starts_with(&format!("{f}=")))
            }) {
                self.term.add_history(&line);
            }
            let command = match parse_line(&line) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    self.term
                        .write_err(&format!("{}\n", user_message(&e)))
                        .await;
                    continue;
                }
            };
            if matches!(command, Command::PassCopy(_)) && !self.term.pty {
                self.term
                    .write_err("error: pass copy needs a terminal (ssh -t)\n")
                    .await;
                continue;
            }
            let changes = command.changes_items();
            let mut ctx = Ctx {
                services: &self.shared.services,
                origin: &self.origin,
                vault,
                credentials: &mut self.credentials,
                prompter: &mut self.term,
            };
            match command.apply(&mut ctx).await {
                Ok(Output::Exit) => return End::Exit,
                Ok(Output::Lock) => {
                    self.term.write("Locked.\n").await;
                    match self.relock(vault, who).await {
                        Some(v) => *vault = v,
                        None => return End::Failed,
                    }
                }
                Ok(output) => self.print(&output).await,
                Err(e) => {
                    self.term
                        .write_err(&format!("{}\n", user_message(&e)))
                        .await
                }
            }
            if changes {
                self.refresh_names(vault).await;
            }
        }
    }

    /// Drops the keys and asks for the PIN again.
    async fn relock(&mut self, vault: &Unlocked, who: Option<&Authenticated>) -> Option<Unlocked> {
        self.record(vault, Action::Lock).await;
        let password = self.credentials.password.clone();
        let who = match who {
            Some(w) => w.clone(),
            // A session that began with registration re-authenticates with the
            // password it was created with.
            None => self
                .shared
                .services
                .authenticate(&self.origin, vault.login(), &password)
                .await
                .ok()?,
        };
        self.unlock(&who, &password).await
    }

    async fn print(&mut self, output: &Output) {
        let rendered = render(output);
        if let Some(secret) = &rendered.clipboard {
            let encoded =
                Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret.as_bytes()));
            let osc = Zeroizing::new(format!("\x1b]52;c;{}\x07", encoded.as_str()));
            self.term.write_raw(osc.as_bytes().to_vec()).await;
        }
        self.term.write(&rendered.stdout).await;
    }

    /// One command through SSH exec. Returns the exit status.
    async fn exec(&mut self, raw: Vec<u8>) -> u32 {
        let Identity::User { who, password } = self.identity.clone() else {
            self.term
                .write_err(
                    "error: registration is interactive: run `ssh new@HOST` without a command\n",
                )
                .await;
            return 2;
        };
        if raw.len() > MAX_EXEC_BYTES {
            self.term.write_err("error: command too long\n").await;
            return 2;
        }
        let Ok(line) = String::from_utf8(raw) else {
            self.term
                .write_err("error: command is not valid UTF-8\n")
                .await;
            return 2;
        };
        let command = match parse_line(&line) {
            Ok(Some(c)) => c,
            Ok(None) => {
                self.term
                    .write_err("error: no command given (try `help`)\n")
                    .await;
                return 2;
            }
            Err(e) => {
                self.term
                    .write_err(&format!("{}\n", user_message(&e)))
                    .await;
                return 2;
            }
        };
        if let Command::Help(_) | Command::PassGen(_) = command {
            return self.run_exec(command, None).await;
        }
        if matches!(command, Command::PassCopy(_)) && !self.term.pty {
            self.term
                .write_err("error: pass copy needs a terminal (ssh -t)\n")
                .await;
            return 2;
        }
        let vault = if self.term.pty {
            match self.unlock(&who, &password).await {
                Some(v) => v,
                None => return 1,
            }
        } else {
            let pin = match self.term.read_line("", true, None).await {
                ReadResult::Line(pin) => pin,
                _ => {
                    self.term
                        .write_err("error: the PIN is read from the first line of standard input\n")
                        .await;
                    return 1;
                }
            };
            match self
                .shared
                .services
                .unlock(&self.origin, &who, &password, &pin)
                .await
            {
                Ok(v) => {
                    self.credentials = Credentials {
                        password: password.clone(),
                        pin,
                    };
                    v
                }
                Err(e) => {
                    self.term.write_err(&format!("error: {e}\n")).await;
                    return 1;
                }
            }
        };
        self.run_exec(command, Some(vault)).await
    }

    async fn run_exec(&mut self, command: Command, vault: Option<Unlocked>) -> u32 {
        let result = match &vault {
            None => match command {
                Command::Help(h) => h.apply(),
                Command::PassGen(g) => g.apply(),
                _ => Err(ShellError::Usage(
                    "error: this command needs the vault".into(),
                )),
            },
            Some(vault) if self.term.pty => {
                let mut ctx = Ctx {
                    services: &self.shared.services,
                    origin: &self.origin,
                    vault,
                    credentials: &mut self.credentials,
                    prompter: &mut self.term,
                };
                command.apply(&mut ctx).await
            }
            Some(vault) => {
                let mut prompter = NoPrompt;
                let mut ctx = Ctx {
                    services: &self.shared.services,
                    origin: &self.origin,
                    vault,
                    credentials: &mut self.credentials,
                    prompter: &mut prompter,
                };
                command.apply(&mut ctx).await
            }
        };
        match result {
            Ok(output) => {
                self.print(&output).await;
                0
            }
            Err(e) => {
                self.term
                    .write_err(&format!("{}\n", user_message(&e)))
                    .await;
                1
            }
        }
    }
}
