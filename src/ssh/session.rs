//! One task per SSH channel: it owns the terminal, the unlock state and the
//! idle timer, and runs either the interactive shell or one exec command.

use std::sync::Arc;

use tracing::Instrument;

use base64::Engine;
use russh::ChannelId;
use russh::server::Handle;
use zeroize::Zeroizing;

use super::admission::Conn;
use super::inbox::{ChannelEvent, Inbox, MAX_EXEC_BYTES};
use super::register::{recover, register};
use super::terminal::{ReadResult, Terminal, Watch};
use super::{SessionSlot, Shared};
use crate::domain::{Action, ItemKind, Outcome};
use crate::service::{AccountState, Authenticated, Origin, ServiceError, Unlocked};
use crate::shell::clipboard::clearing_note;
use crate::shell::complete::ItemNames;
use crate::shell::input::Unattended;
use crate::shell::render::render;
use crate::shell::{Command, Credentials, Ctx, LocalVault, Output, ShellError, Vault, parse_line};

/// Who the connection authenticated as.
#[derive(Clone)]
pub enum Identity {
    /// `new@`: the registration dialogue.
    Registration,
    /// `recover@`: the recovery dialogue.
    Recovery,
    /// A user whose password was checked; the password is kept (zeroized on
    /// drop) because the vault key is derived from password and PIN.
    User {
        who: Box<Authenticated>,
        password: Zeroizing<String>,
    },
    /// A login whose PIN is locked by failed attempts; it is told so and
    /// nothing more.
    Locked { retry_after: u64 },
    /// A user whose password was right but whose account an operator
    /// disabled; they are told so and nothing more.
    Disabled,
}

pub struct ChannelTask {
    shared: Arc<Shared>,
    origin: Origin,
    identity: Identity,
    conn: Arc<Conn>,
    term: Terminal,
}

/// How the shell loop ended.
enum End {
    Exit,
    Failed,
}

/// Answers that are not a PIN at all after which a PIN prompt gives up.
const MAX_PIN_TYPOS: u32 = 10;

/// What ends a session whose password or PIN another session changed,
/// whether it waited at the command prompt or at a command's question.
const REVOKED: &str = "\nYour password or PIN was changed in another session. Log in again.\n";
const DISABLED: &str = "\nThe server's operator disabled your account; this session ends.\n";
const DELETED: &str = "\nYour account was deleted; this session ends.\n";

/// What the user is told when the idle limit locks the session.
/// Why a copy is refused without a PTY: OSC 52 reaches a terminal only.
const COPY_NEEDS_A_TERMINAL: &str = "copy needs a terminal (ssh -t)";

fn idle_message(idle: std::time::Duration) -> String {
    let secs = idle.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("Locked after {} min of inactivity.", secs / 60)
    } else {
        format!("Locked after {secs} s of inactivity.")
    }
}

impl ChannelTask {
    pub fn new(
        shared: Arc<Shared>,
        origin: Origin,
        identity: Identity,
        conn: Arc<Conn>,
        handle: Handle,
        channel: ChannelId,
        inbox: Arc<Inbox>,
    ) -> Self {
        let origin = origin.in_session(crate::crypto::random_id().unsigned_abs());
        let term = Terminal::new(
            handle,
            channel,
            inbox,
            conn.clone(),
            shared.shutdown.clone(),
            &shared.settings,
        );
        Self {
            shared,
            origin,
            identity,
            conn,
            term,
        }
    }

    /// Serves the channel; every line logged meanwhile names the peer, the
    /// session and the login.
    pub async fn run(self) {
        let login = match &self.identity {
            Identity::Registration => "new".to_owned(),
            Identity::Recovery => "recover".to_owned(),
            Identity::User { who, .. } => who.login().to_string(),
            Identity::Locked { .. } | Identity::Disabled => "-".to_owned(),
        };
        let span = tracing::info_span!(
            "ssh",
            peer = %self.origin.remote_addr.as_deref().unwrap_or("-"),
            session = %format_args!("{:016x}", self.origin.session.unwrap_or(0)),
            login = %login,
        );
        self.serve().instrument(span).await;
    }

    async fn serve(mut self) {
        loop {
            match self.term.next_event().await {
                Some(ChannelEvent::Pty { cols }) => {
                    self.term.set_pty();
                    self.term.set_width(cols);
                }
                Some(ChannelEvent::Resize { cols }) => self.term.set_width(cols),
                Some(ChannelEvent::Shell) => {
                    let status = self.shell().await;
                    self.term.finish(status).await;
                    return;
                }
                Some(ChannelEvent::Exec(cmd)) => {
                    let status = Box::pin(self.exec(cmd)).await;
                    self.term.finish(status).await;
                    return;
                }
                Some(ChannelEvent::Data(_) | ChannelEvent::Overflow { .. }) => {}
                Some(ChannelEvent::Eof) | None => return,
            }
        }
    }

    fn local(&self, unlocked: Unlocked, credentials: Credentials) -> LocalVault {
        LocalVault::new(
            self.shared.services.clone(),
            self.origin.clone(),
            unlocked,
            credentials,
        )
    }

    async fn record(&self, vault: &LocalVault, action: Action) {
        let user = Some(vault.unlocked().user());
        if let Err(e) = self
            .shared
            .services
            .record(&self.origin, user, action, Outcome::Ok)
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
    ) -> Option<LocalVault> {
        let attempts = self.shared.settings.pin_attempts;
        let grace = Some(self.shared.settings.login_grace);
        // Answers that are not PINs at all do not count as attempts; the
        // login grace bounds how long this may go on.
        let mut attempt = 0;
        let mut typos = 0;
        while attempt < attempts {
            let pin = match self.term.read_line("PIN: ", true, grace).await {
                ReadResult::Line(pin) => pin,
                ReadResult::Rejected(why) => {
                    self.term.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                ReadResult::Timeout => {
                    self.term
                        .write_err("\nNo PIN entered in time; closing the session.\n")
                        .await;
                    return None;
                }
                _ => return None,
            };
            let unlocked = self
                .shared
                .services
                .unlock(&self.origin, who, password, &pin)
                .await;
            if let Err(ServiceError::Invalid(malformed)) = &unlocked {
                self.term.write_err(&format!("error: {malformed}\n")).await;
                // Typos spend no attempt, but a dialogue of nothing else
                // ends: a relocked session has no login grace to bound it.
                typos += 1;
                if typos >= MAX_PIN_TYPOS {
                    self.term
                        .write_err("Too many answers that are not a PIN; closing the session.\n")
                        .await;
                    return None;
                }
                continue;
            }
            attempt += 1;
            match unlocked {
                Ok(unlocked) => {
                    self.conn.unlocked();
                    return Some(self.local(
                        unlocked,
                        Credentials {
                            password: password.clone(),
                            pin,
                        },
                    ));
                }
                Err(ServiceError::WrongPin) if attempt < attempts => {
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

    /// Loads the item names Tab completes, in the background: opening every
    /// item of a large vault takes a while, and the prompt does not wait for
    /// it. A newer load replaces an older one still running.
    fn refresh_names(&mut self, vault: &LocalVault) {
        let services = self.shared.services.clone();
        let origin = self.origin.clone();
        let unlocked = vault.unlocked().clone();
        let (names, loaded) = tokio::sync::oneshot::channel();
        self.term.names_coming(loaded);
        let loading = async move {
            let mut loaded = ItemNames::new();
            for kind in ItemKind::ALL.iter().copied() {
                match services.item_names(&origin, &unlocked, kind).await {
                    Ok(found) => loaded.insert(kind, found),
                    Err(_) => return,
                };
            }
            let _ = names.send(loaded);
        };
        tokio::spawn(loading.instrument(tracing::Span::current()));
    }

    /// The interactive shell. Returns the exit status.
    async fn shell(&mut self) -> u32 {
        let shared = self.shared.clone();
        let _live = shared.metrics.ssh_session();
        let vault = match self.identity.clone() {
            Identity::Registration => {
                match Box::pin(register(
                    &self.shared.services,
                    &self.origin,
                    &mut self.term,
                ))
                .await
                {
                    Some((unlocked, credentials)) => {
                        self.conn.unlocked();
                        self.local(unlocked, credentials)
                    }
                    None => return 1,
                }
            }
            Identity::Recovery => {
                match Box::pin(recover(&self.shared.services, &self.origin, &mut self.term)).await {
                    Some((unlocked, credentials)) => {
                        self.conn.unlocked();
                        self.local(unlocked, credentials)
                    }
                    None => return 1,
                }
            }
            Identity::User { who, password } => {
                match Box::pin(self.unlock(&who, &password)).await {
                    Some(vault) => vault,
                    None => return 1,
                }
            }
            Identity::Locked { retry_after } => {
                return self.refused(ServiceError::PinLocked { retry_after }).await;
            }
            Identity::Disabled => return self.refused(ServiceError::Disabled).await,
        };
        let Some(_slot) = self.session_slot(&vault).await else {
            return 1;
        };
        self.record(&vault, Action::SessionStart).await;
        self.term
            .write("Vault unlocked. Type `help` for commands, `exit` to leave.\n")
            .await;
        let (end, vault) = self.command_loop(vault).await;
        if let Some(vault) = vault {
            self.record(&vault, Action::SessionEnd).await;
        }
        match end {
            End::Exit => 0,
            End::Failed => 1,
        }
    }

    /// Counts this session against its user's cap, or says why it cannot be.
    async fn session_slot(&mut self, vault: &LocalVault) -> Option<SessionSlot> {
        let slot = self.shared.open_session(vault.unlocked().user());
        if slot.is_none() {
            self.term
                .write_err(&format!(
                    "error: you already have {} sessions open; close one first\n",
                    self.shared.settings.sessions_per_user
                ))
                .await;
        }
        slot
    }

    /// From now on the terminal's questions wait at most the idle-lock time,
    /// and end as soon as another session changes the user's password or PIN.
    fn watch_credentials(&mut self, vault: &LocalVault) {
        self.term.unlocked(
            self.shared.settings.idle_lock,
            Watch {
                session: self.origin.session.unwrap_or_default(),
                changes: self
                    .shared
                    .services
                    .credential_changes(vault.unlocked().user()),
            },
        );
    }

    /// Reads and runs commands until the session ends. Returns how it ended and
    /// the vault, if it is still unlocked.
    /// The prompt loop. While it waits for a line (most of a session's life)
    /// its future is small: commands, unlocking and relocking run in boxed
    /// futures of their own, allocated only while they run, so an idle
    /// session does not carry the largest command's state.
    async fn command_loop(&mut self, mut vault: LocalVault) -> (End, Option<LocalVault>) {
        let prompt = format!("{}@keeper> ", vault.login());
        let idle = self.shared.settings.idle_lock;
        self.watch_credentials(&vault);
        if let Some(state) = self.gone_before_watching(&vault).await {
            let kept = (state == AccountState::Disabled).then_some(vault);
            return (End::Failed, kept);
        }
        self.refresh_names(&vault);
        loop {
            let line = match self.term.read_line(&prompt, false, Some(idle)).await {
                ReadResult::Line(l) => l,
                ReadResult::Interrupted => continue,
                ReadResult::Rejected(why) => {
                    self.term.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                ReadResult::Eof => return (End::Exit, Some(vault)),
                ReadResult::Revoked => return (End::Failed, self.ended(vault).await),
                ReadResult::Shutdown => {
                    self.term
                        .write("\nThe server is shutting down. Goodbye.\n")
                        .await;
                    return (End::Exit, Some(vault));
                }
                ReadResult::Timeout => {
                    self.term
                        .write(&format!("\n{}\n", idle_message(idle)))
                        .await;
                    match Box::pin(self.relock(vault)).await {
                        Some(v) => {
                            vault = v;
                            continue;
                        }
                        None => return (End::Failed, None),
                    }
                }
            };
            if !crate::shell::holds_secret(&line) {
                self.term.add_history(&line);
            }
            let command = match parse_line(&line) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    self.term.write_err(&format!("{}\n", e.user_line())).await;
                    continue;
                }
            };
            if command.copies() && !self.term.pty() {
                self.term
                    .write_err(&format!("error: {COPY_NEEDS_A_TERMINAL}\n"))
                    .await;
                continue;
            }
            let changes = command.changes_items();
            let mut ctx = Ctx {
                vault: &mut vault,
                prompter: &mut self.term,
            };
            match Box::pin(command.apply(&mut ctx)).await {
                Ok(Output::Exit) => return (End::Exit, Some(vault)),
                // No record follows the deletion's in the account's chain.
                Ok(output @ Output::Deleted(_)) => {
                    self.print(&output, false).await;
                    return (End::Exit, None);
                }
                Ok(Output::Lock) => {
                    self.term.write("Locked.\n").await;
                    match Box::pin(self.relock(vault)).await {
                        Some(v) => vault = v,
                        None => return (End::Failed, None),
                    }
                }
                Ok(output) => self.print(&output, true).await,
                Err(ShellError::Revoked) => return (End::Failed, self.ended(vault).await),
                Err(ShellError::Idle) => {
                    self.term
                        .write(&format!("\n{}\n", idle_message(idle)))
                        .await;
                    match Box::pin(self.relock(vault)).await {
                        Some(v) => vault = v,
                        None => return (End::Failed, None),
                    }
                }
                Err(e) => self.term.write_err(&format!("{}\n", e.user_line())).await,
            }
            if changes {
                self.refresh_names(&vault);
            }
        }
    }

    /// Drops the keys and asks for the PIN again.
    async fn relock(&mut self, vault: LocalVault) -> Option<LocalVault> {
        self.record(&vault, Action::Lock).await;
        let login = vault.login().clone();
        let credentials = vault.lock();
        let password = credentials.password.clone();
        drop(credentials);
        let who = match &self.identity {
            Identity::User { who, .. } => who.as_ref().clone(),
            Identity::Locked { .. } | Identity::Disabled => return None,
            // A session that began with registration or recovery
            // re-authenticates with the password it set.
            Identity::Registration | Identity::Recovery => self
                .shared
                .services
                .authenticate(&self.origin, &login, &password)
                .await
                .ok()?,
        };
        self.unlock(&who, &password).await
    }

    /// Prints an output; a copy goes to the clipboard as OSC 52 and, in
    /// the shell (`clears`), is cleared from it again later unless kept.
    async fn print(&mut self, output: &Output, clears: bool) {
        let rendered = render(output, self.term.pty());
        if let Some(secret) = &rendered.clipboard {
            let encoded =
                Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret.as_bytes()));
            let osc = Zeroizing::new(format!("\x1b]52;c;{}\x07", encoded.as_str()));
            self.term.write_raw(osc.as_bytes().to_vec()).await;
        }
        self.term.write(&rendered.stdout).await;
        if rendered.clipboard.is_some() && clears {
            if rendered.keep_clipboard {
                self.term.kept_on_clipboard();
            } else {
                let delay = self.shared.settings.clipboard_clear;
                self.term.clear_clipboard_later(delay);
                self.term.write(&clearing_note(delay.as_secs())).await;
            }
        }
    }

    /// Tells a login why nothing opens for it (its PIN is locked, its
    /// account disabled), and ends.
    async fn refused(&mut self, error: ServiceError) -> u32 {
        self.term.write_err(&format!("error: {error}\n")).await;
        1
    }

    /// Says why the user's sessions were told to end (their account is
    /// gone or disabled, or else their password or PIN changed elsewhere)
    /// and gives the vault back for the session's end record, unless the
    /// account is deleted: no record follows the deletion's.
    async fn ended(&mut self, vault: LocalVault) -> Option<LocalVault> {
        let state = self
            .shared
            .services
            .account_state(vault.unlocked().user())
            .await;
        let (why, kept) = match state {
            Ok(AccountState::Disabled) => (DISABLED, Some(vault)),
            Ok(AccountState::Deleted) => (DELETED, None),
            _ => (REVOKED, Some(vault)),
        };
        self.term.write(why).await;
        kept
    }

    /// Whether the account was disabled or deleted between the unlock and
    /// the start of the watch for it, which would not hear of that: if so,
    /// the user is told, and the session ends.
    async fn gone_before_watching(&mut self, vault: &LocalVault) -> Option<AccountState> {
        let (why, state) = match self
            .shared
            .services
            .account_state(vault.unlocked().user())
            .await
        {
            Ok(state @ AccountState::Disabled) => (DISABLED, state),
            Ok(state @ AccountState::Deleted) => (DELETED, state),
            _ => return None,
        };
        self.term.write(why).await;
        Some(state)
    }

    /// One command through SSH exec. Returns the exit status.
    async fn exec(&mut self, raw: Vec<u8>) -> u32 {
        match self.identity {
            Identity::Locked { retry_after } => {
                return self.refused(ServiceError::PinLocked { retry_after }).await;
            }
            Identity::Disabled => return self.refused(ServiceError::Disabled).await,
            _ => {}
        }
        let Identity::User { who, password } = self.identity.clone() else {
            let refusal = match self.identity {
                Identity::Recovery => {
                    "error: recovery is interactive: run `ssh recover@HOST` without a command\n"
                }
                _ => "error: registration is interactive: run `ssh new@HOST` without a command\n",
            };
            self.term.write_err(refusal).await;
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
        // No text Keeper stores can hold a NUL, and a terminal would show
        // none: say so rather than name a command that looks like another.
        if line.contains('\0') {
            self.term
                .write_err("error: the command holds a NUL character (\\x00)\n")
                .await;
            return 2;
        }
        let command = match parse_line(&line) {
            Ok(Some(c)) => c,
            Ok(None) => {
                self.term
                    .write_err("error: no command given (try `help`)\n")
                    .await;
                return 2;
            }
            Err(e) => {
                self.term.write_err(&format!("{}\n", e.user_line())).await;
                return 2;
            }
        };
        let result = match command {
            Command::Help(h) => h.apply(),
            Command::PassGen(g) => g.apply(),
            command if command.copies() && !self.term.pty() => {
                self.term
                    .write_err(&format!("error: {COPY_NEEDS_A_TERMINAL}\n"))
                    .await;
                return 2;
            }
            command => {
                let Some(mut vault) = self.exec_unlock(&who, &password).await else {
                    return 1;
                };
                let Some(_slot) = self.session_slot(&vault).await else {
                    return 1;
                };
                // A command given a terminal may ask questions (`card add`
                // with `ssh -t`); like the shell's, they end at a credential
                // change elsewhere.
                self.watch_credentials(&vault);
                if self.gone_before_watching(&vault).await.is_some() {
                    return 1;
                }
                if self.term.pty() {
                    command.run(&mut vault, &mut self.term).await
                } else {
                    command
                        .run(&mut vault, &mut Unattended(&mut self.term))
                        .await
                }
            }
        };
        match result {
            Ok(output) => {
                self.print(&output, false).await;
                0
            }
            Err(e) => {
                self.term.write_err(&format!("{}\n", e.user_line())).await;
                e.exit_status()
            }
        }
    }

    /// Unlocks for exec: with a PTY by prompting, without one from the first
    /// line of standard input.
    async fn exec_unlock(
        &mut self,
        who: &Authenticated,
        password: &Zeroizing<String>,
    ) -> Option<LocalVault> {
        if self.term.pty() {
            return self.unlock(who, password).await;
        }
        let grace = Some(self.shared.settings.login_grace);
        let pin = match self.term.read_line("", true, grace).await {
            ReadResult::Line(pin) => pin,
            _ => {
                self.term
                    .write_err("error: the PIN is read from the first line of standard input\n")
                    .await;
                return None;
            }
        };
        match self
            .shared
            .services
            .unlock(&self.origin, who, password, &pin)
            .await
        {
            Ok(unlocked) => {
                self.conn.unlocked();
                Some(self.local(
                    unlocked,
                    Credentials {
                        password: password.clone(),
                        pin,
                    },
                ))
            }
            Err(e) => {
                self.term.write_err(&format!("error: {e}\n")).await;
                None
            }
        }
    }
}
