//! The terminal at the other end of one SSH channel: reads lines (through the
//! line editor when there is a PTY, as plain lines when there is not) and
//! writes text back with the right line endings.

use std::collections::VecDeque;
use std::time::Duration;

use russh::ChannelId;
use russh::server::Handle;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use super::session::ChannelEvent;
use crate::domain::UserId;
use crate::editor::{Event, Key, KeyDecoder, LineEditor};
use crate::service::CredentialChange;
use crate::shell::complete::ShellCompleter;
use crate::shell::{Prompter, Question, ShellError};

/// How a read ended.
pub enum ReadResult {
    /// A line, without its terminator.
    Line(Zeroizing<String>),
    /// Ctrl-C.
    Interrupted,
    /// Ctrl-D on an empty line, EOF, or the channel closed.
    Eof,
    /// No input before the deadline.
    Timeout,
    /// The server is shutting down.
    Shutdown,
    /// The user's password or PIN changed in another session.
    Revoked,
    /// A line longer than allowed or not UTF-8 (already discarded).
    Rejected(&'static str),
}

/// What the writer task sends to the client, in order.
enum Out {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(u32),
}

/// Sends queued output to the client. Output goes through its own task so
/// that the channel task never waits on the connection while the connection
/// waits on the channel task to take input (which would deadlock when a
/// client types faster than it reads).
async fn writer(handle: Handle, channel: ChannelId, mut rx: mpsc::UnboundedReceiver<Out>) {
    while let Some(out) = rx.recv().await {
        let sent = match out {
            Out::Stdout(bytes) => handle.data(channel, bytes).await.is_ok(),
            Out::Stderr(bytes) => handle.extended_data(channel, 1, bytes).await.is_ok(),
            Out::Exit(status) => {
                let _ = handle.exit_status_request(channel, status).await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
                return;
            }
        };
        if !sent {
            return;
        }
    }
}

pub struct Terminal {
    out: mpsc::UnboundedSender<Out>,
    writer: Option<tokio::task::JoinHandle<()>>,
    rx: mpsc::Receiver<ChannelEvent>,
    shutdown: CancellationToken,
    /// Whether the client asked for a PTY: then we echo and edit.
    pub pty: bool,
    /// While the vault is unlocked: how long a prompt may wait for input
    /// before the session locks.
    pub idle: Option<Duration>,
    /// While the vault is unlocked: credential changes that end the session.
    pub watch: Option<Watch>,
    decoder: KeyDecoder,
    editor: LineEditor,
    keys: VecDeque<Key>,
    plain: Vec<u8>,
    /// Set after an overlong plain line: skip until the next newline.
    discarding: bool,
    eof: bool,
    max_line: usize,
    pub completer: ShellCompleter,
    /// Item names for the completer, while they are being loaded.
    pub pending_names: Option<oneshot::Receiver<(Vec<String>, Vec<String>)>>,
}

impl Terminal {
    pub fn new(
        handle: Handle,
        channel: ChannelId,
        rx: mpsc::Receiver<ChannelEvent>,
        shutdown: CancellationToken,
        max_line: usize,
    ) -> Self {
        let (out, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(writer(handle, channel, queue));
        Self {
            out,
            writer: Some(writer),
            rx,
            shutdown,
            pty: false,
            idle: None,
            watch: None,
            decoder: KeyDecoder::new(),
            editor: LineEditor::new(max_line, 500),
            keys: VecDeque::new(),
            plain: Vec::new(),
            discarding: false,
            eof: false,
            max_line,
            completer: ShellCompleter::default(),
            pending_names: None,
        }
    }

    /// Waits for the next channel event (before the shell or exec starts).
    pub async fn next_event(&mut self) -> Option<ChannelEvent> {
        tokio::select! {
            () = self.shutdown.cancelled() => None,
            ev = self.rx.recv() => ev,
        }
    }

    pub fn set_width(&mut self, cols: u32) {
        self.editor
            .set_width(u16::try_from(cols).unwrap_or(u16::MAX));
    }

    /// Writes raw bytes to the client's standard output.
    pub async fn write_raw(&self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            let _ = self.out.send(Out::Stdout(bytes));
        }
    }

    /// Writes text; with a PTY, `\n` becomes `\r\n`.
    pub async fn write(&self, text: &str) {
        let bytes = if self.pty {
            text.replace("\r\n", "\n")
                .replace('\n', "\r\n")
                .into_bytes()
        } else {
            text.as_bytes().to_vec()
        };
        self.write_raw(bytes).await;
    }

    /// Writes to standard error (exec) or, with a PTY, to the terminal.
    pub async fn write_err(&self, text: &str) {
        if self.pty {
            self.write(text).await;
        } else {
            let _ = self.out.send(Out::Stderr(text.as_bytes().to_vec()));
        }
    }

    /// Ends the channel with an exit status once all output is sent.
    pub async fn finish(&mut self, status: u32) {
        let _ = self.out.send(Out::Exit(status));
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
    }

    pub fn add_history(&mut self, line: &str) {
        self.editor.add_history(line);
    }

    /// Reads one line. `deadline` bounds the wait for input (idle lock).
    pub async fn read_line(
        &mut self,
        prompt: &str,
        secret: bool,
        idle: Option<Duration>,
    ) -> ReadResult {
        if self.pty {
            let start = self.editor.start(prompt, secret);
            self.write_raw(start).await;
        } else if !prompt.is_empty() {
            self.write(prompt).await;
        }
        let mut deadline = idle.map(|d| Instant::now() + d);
        loop {
            if let Some(result) = self.take_buffered().await {
                return result;
            }
            if self.eof {
                return ReadResult::Eof;
            }
            let event = tokio::select! {
                () = self.shutdown.cancelled() => return ReadResult::Shutdown,
                () = revoked(&mut self.watch) => return ReadResult::Revoked,
                () = sleep_until(deadline) => return ReadResult::Timeout,
                ev = self.rx.recv() => ev,
            };
            match event {
                None | Some(ChannelEvent::Eof) => self.eof = true,
                Some(ChannelEvent::Data(bytes)) => {
                    deadline = idle.map(|d| Instant::now() + d);
                    if self.pty {
                        self.keys.extend(self.decoder.feed(&bytes));
                    } else {
                        self.plain.extend_from_slice(&bytes);
                    }
                }
                Some(ChannelEvent::Resize { cols, .. }) => self.set_width(cols),
                Some(ChannelEvent::Pty { .. } | ChannelEvent::Shell | ChannelEvent::Exec(_)) => {}
            }
        }
    }

    /// Takes the item names once they are loaded; before completing (`wait`)
    /// waits for them, so Tab never misses a name because it came early.
    async fn adopt_names(&mut self, wait: bool) {
        let Some(loading) = self.pending_names.as_mut() else {
            return;
        };
        let loaded = if wait {
            loading.await.ok()
        } else {
            match loading.try_recv() {
                Err(oneshot::error::TryRecvError::Empty) => return,
                result => result.ok(),
            }
        };
        self.pending_names = None;
        if let Some((cards, passwords)) = loaded {
            self.completer.cards = cards;
            self.completer.passwords = passwords;
        }
    }

    /// Produces a result from input already received, if it holds one.
    async fn take_buffered(&mut self) -> Option<ReadResult> {
        if self.pty {
            // All the echo for one batch of keys goes out as one write.
            let mut echo = Vec::new();
            while let Some(key) = self.keys.pop_front() {
                self.adopt_names(key == Key::Tab).await;
                let completer = &self.completer;
                let (out, event) = self.editor.handle(key, completer);
                echo.extend(out);
                if event.is_some() {
                    self.write_raw(std::mem::take(&mut echo)).await;
                }
                match event {
                    Some(Event::Line(l)) if self.editor.rejection().is_some() => {
                        drop(Zeroizing::new(l));
                        return Some(ReadResult::Rejected(
                            self.editor.rejection().unwrap_or("invalid input"),
                        ));
                    }
                    Some(Event::Line(l)) => return Some(ReadResult::Line(Zeroizing::new(l))),
                    Some(Event::Interrupted) => return Some(ReadResult::Interrupted),
                    Some(Event::Eof) => return Some(ReadResult::Eof),
                    None => {}
                }
            }
            self.write_raw(echo).await;
            return None;
        }
        let Some(nl) = self.plain.iter().position(|&b| b == b'\n') else {
            if self.plain.len() > self.max_line * 4 {
                self.plain.clear();
                self.discarding = true;
            }
            if self.eof && !self.plain.is_empty() && !self.discarding {
                // A last line without a newline still counts.
                let bytes = std::mem::take(&mut self.plain);
                return Some(plain_line(bytes, self.max_line));
            }
            return None;
        };
        let mut bytes: Vec<u8> = self.plain.drain(..=nl).collect();
        if self.discarding {
            self.discarding = false;
            bytes.fill(0);
            return Some(ReadResult::Rejected("line too long"));
        }
        bytes.pop();
        Some(plain_line(bytes, self.max_line))
    }
}

fn plain_line(mut bytes: Vec<u8>, max_line: usize) -> ReadResult {
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    match String::from_utf8(bytes) {
        Ok(s) if s.chars().count() > max_line => {
            drop(Zeroizing::new(s));
            ReadResult::Rejected("line too long")
        }
        Ok(s) => ReadResult::Line(Zeroizing::new(s)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            ReadResult::Rejected("input is not valid UTF-8")
        }
    }
}

/// Which user's credential changes end this session, and which session we are.
pub struct Watch {
    pub user: UserId,
    pub session: u64,
    pub changes: broadcast::Receiver<CredentialChange>,
}

/// Resolves when another session changes this user's password or PIN.
async fn revoked(watch: &mut Option<Watch>) {
    let Some(w) = watch else {
        return std::future::pending().await;
    };
    loop {
        match w.changes.recv().await {
            Ok(c) if c.user == w.user && c.by_session != Some(w.session) => return,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

impl Prompter for Terminal {
    async fn ask(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        loop {
            return match self.read_line(&q.prompt, q.secret, self.idle).await {
                ReadResult::Line(l) => Ok(l),
                ReadResult::Timeout => Err(ShellError::Idle),
                ReadResult::Rejected(why) => {
                    self.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                ReadResult::Interrupted
                | ReadResult::Eof
                | ReadResult::Shutdown
                | ReadResult::Revoked => Err(ShellError::Cancelled),
            };
        }
    }

    async fn say(&mut self, line: &str) -> Result<(), ShellError> {
        self.write_err(&format!("{line}\n")).await;
        Ok(())
    }
}
