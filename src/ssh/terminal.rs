//! The terminal at the other end of one SSH channel: reads lines (through the
//! line editor when there is a PTY, as plain lines when there is not) and
//! writes text back with the right line endings.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use russh::ChannelId;
use russh::server::Handle;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use zeroize::{Zeroize, Zeroizing};

use super::SshSettings;
use super::admission::Conn;
use super::inbox::ChannelEvent;
use super::inbox::Inbox;
use crate::editor::{Event, Key, KeyDecoder, LineEditor};
use crate::service::CredentialChange;
use crate::shell::clipboard::{self, Copies};
use crate::shell::complete::{ItemNames, ShellCompleter};
use crate::shell::input::{RestError, RestOfInput, TextLines};
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

/// Output messages queued between the channel task and its writer.
const OUT_QUEUE: usize = 8;
/// Largest piece of output in one message.
const OUT_CHUNK: usize = 16 * 1024;
/// Why a line that lost input to the inbox's bound is refused.
const DROPPED: &str = "input arrived faster than it could be read; the line was dropped";
/// Why an overlong line is refused.
const TOO_LONG: &str = "line too long";

/// The widest terminal the line editor draws for; wider ones are treated as
/// this wide, so one redraw stays small.
pub const MAX_COLS: u32 = 512;

/// Sends queued output to the client. `Handle::data` waits while the
/// client's window is full, so a client that stops reading stops this task,
/// then the bounded queue in front of it, then the channel task that
/// produces the output: memory stays bounded end to end.
async fn writer(handle: Handle, channel: ChannelId, mut rx: mpsc::Receiver<Out>) {
    while let Some(out) = rx.recv().await {
        let sent = match out {
            Out::Stdout(bytes) => handle
                .data(channel, crate::crypto::wiped_bytes(bytes))
                .await
                .is_ok(),
            Out::Stderr(bytes) => handle
                .extended_data(channel, 1, crate::crypto::wiped_bytes(bytes))
                .await
                .is_ok(),
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
    out: mpsc::Sender<Out>,
    writer: Option<tokio::task::JoinHandle<()>>,
    inbox: Arc<Inbox>,
    conn: Arc<Conn>,
    /// How long output may wait for a client that does not read before the
    /// connection is dropped.
    stall: Duration,
    /// The client stopped reading: nothing more is written or read.
    broken: bool,
    /// Input was dropped: skip to the end of the line it fell in, then
    /// report why if there is a reason.
    skip: Option<Option<&'static str>>,
    shutdown: CancellationToken,
    /// Whether the client asked for a PTY: then we echo and edit.
    pty: bool,
    /// While the vault is unlocked: how long a prompt may wait for input
    /// before the session locks.
    idle: Option<Duration>,
    /// While the vault is unlocked: credential changes that end the session.
    watch: Option<Watch>,
    decoder: KeyDecoder,
    editor: LineEditor,
    keys: VecDeque<Key>,
    plain: Vec<u8>,
    /// Set after an overlong plain line, or one that lost input: skip until
    /// the next newline, then report why.
    discarding: Option<&'static str>,
    eof: bool,
    /// Reading a note's lines: a paste keeps its line breaks.
    text_mode: bool,
    /// The session's copies, for clearing them again.
    copies: Copies,
    max_line: usize,
    completer: ShellCompleter,
    /// Item names for the completer, while they are being loaded.
    pending_names: Option<oneshot::Receiver<ItemNames>>,
}

impl Terminal {
    pub fn new(
        handle: Handle,
        channel: ChannelId,
        inbox: Arc<Inbox>,
        conn: Arc<Conn>,
        shutdown: CancellationToken,
        settings: &SshSettings,
    ) -> Self {
        let max_line = settings.max_line;
        let (out, queue) = mpsc::channel(OUT_QUEUE);
        let writer = tokio::spawn(writer(handle, channel, queue));
        Self {
            out,
            writer: Some(writer),
            inbox,
            conn,
            stall: settings.idle_lock,
            broken: false,
            skip: None,
            shutdown,
            pty: false,
            idle: None,
            watch: None,
            decoder: KeyDecoder::new(),
            editor: LineEditor::new(max_line, 500),
            keys: VecDeque::new(),
            plain: Vec::new(),
            discarding: None,
            eof: false,
            text_mode: false,
            copies: Copies::default(),
            max_line,
            completer: ShellCompleter::default(),
            pending_names: None,
        }
    }

    /// Waits for the next channel event (before the shell or exec starts).
    pub async fn next_event(&mut self) -> Option<ChannelEvent> {
        tokio::select! {
            () = self.shutdown.cancelled() => None,
            ev = self.inbox.recv() => ev,
        }
    }

    /// The client asked for a PTY: from now on input is echoed and edited.
    pub fn set_pty(&mut self) {
        self.pty = true;
    }

    /// Whether the client asked for a PTY.
    pub fn pty(&self) -> bool {
        self.pty
    }

    /// The vault is unlocked: a prompt waits at most `idle` for input, and
    /// a credential change `watch` reports ends the wait.
    pub fn unlocked(&mut self, idle: Duration, watch: Watch) {
        self.idle = Some(idle);
        self.watch = Some(watch);
    }

    /// The names Tab completes are being loaded; they arrive on `loaded`.
    pub fn names_coming(&mut self, loaded: oneshot::Receiver<ItemNames>) {
        self.pending_names = Some(loaded);
    }

    pub fn set_width(&mut self, cols: u32) {
        let cols = u16::try_from(cols.min(MAX_COLS)).unwrap_or(80);
        self.editor.set_width(cols);
    }

    /// Queues one message for the writer, waiting while the client does not
    /// read; past the stall limit the connection is dropped.
    async fn send(&mut self, out: Out) {
        if self.broken {
            return;
        }
        match tokio::time::timeout(self.stall, self.out.send(out)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => self.broken = true,
            Err(_) => {
                tracing::info!("ssh client stopped reading its output; closing the connection");
                self.broken = true;
                self.conn.kill();
            }
        }
    }

    /// Writes raw bytes to the client's standard output. Output may hold a
    /// secret: every buffer it passes through is wiped after use.
    pub async fn write_raw(&mut self, mut bytes: Vec<u8>) {
        if bytes.len() <= OUT_CHUNK {
            if !bytes.is_empty() {
                self.send(Out::Stdout(bytes)).await;
            }
            return;
        }
        for chunk in bytes.chunks(OUT_CHUNK) {
            self.send(Out::Stdout(chunk.to_vec())).await;
        }
        bytes.fill(0);
    }

    /// Clears the user's clipboard (an empty OSC 52 write) after `delay`,
    /// if the session is still open and nothing was copied since.
    pub fn clear_clipboard_later(&mut self, delay: Duration) {
        let copies = self.copies.clone();
        let this = copies.copied();
        let out = self.out.clone();
        let shutdown = self.shutdown.clone();
        let clearing = async move {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            if copies.is_latest(this) {
                // A closed session has no writer left: nothing is sent.
                let clear = clipboard::CLEAR.to_vec();
                let _ = out.send(Out::Stdout(clear)).await;
            }
        };
        tokio::spawn(clearing);
    }

    /// Records a copy that is kept: an earlier one's clear must not
    /// clear it.
    pub fn kept_on_clipboard(&mut self) {
        self.copies.copied();
    }

    /// Writes text; with a PTY, `\n` becomes `\r\n`.
    pub async fn write(&mut self, text: &str) {
        let bytes = if self.pty {
            // One pass into a buffer of the final size: no intermediate
            // copy of what may be a secret is left behind.
            let lines = text.bytes().filter(|b| *b == b'\n').count();
            let mut out = Vec::with_capacity(text.len() + lines);
            for b in text.bytes() {
                if b == b'\n' && out.last() != Some(&b'\r') {
                    out.push(b'\r');
                }
                out.push(b);
            }
            out
        } else {
            text.as_bytes().to_vec()
        };
        self.write_raw(bytes).await;
    }

    /// Writes to standard error (exec) or, with a PTY, to the terminal.
    pub async fn write_err(&mut self, text: &str) {
        if self.pty {
            self.write(text).await;
        } else {
            for chunk in text.as_bytes().chunks(OUT_CHUNK) {
                self.send(Out::Stderr(chunk.to_vec())).await;
            }
        }
    }

    /// Ends the channel with an exit status once all output is sent (or
    /// the client is found not to read it).
    pub async fn finish(&mut self, status: u32) {
        self.send(Out::Exit(status)).await;
        if let Some(writer) = self.writer.take() {
            if self.broken {
                writer.abort();
            } else if tokio::time::timeout(self.stall, writer).await.is_err() {
                self.conn.kill();
            }
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
        // A deadline too far ahead to represent is no deadline.
        let mut deadline = idle.and_then(|d| Instant::now().checked_add(d));
        loop {
            if let Some(result) = self.take_buffered().await {
                return result;
            }
            if self.eof || self.broken {
                return ReadResult::Eof;
            }
            let event = tokio::select! {
                () = self.shutdown.cancelled() => return ReadResult::Shutdown,
                () = revoked(&mut self.watch) => return ReadResult::Revoked,
                () = sleep_until(deadline) => return ReadResult::Timeout,
                ev = self.inbox.recv() => ev,
            };
            match event {
                None | Some(ChannelEvent::Eof) => self.eof = true,
                Some(ChannelEvent::Data(mut bytes)) => {
                    deadline = idle.and_then(|d| Instant::now().checked_add(d));
                    let rejected = self.skip_to_line_end(&mut bytes);
                    self.feed(&bytes);
                    bytes.fill(0);
                    if let Some(why) = rejected {
                        return ReadResult::Rejected(why);
                    }
                }
                Some(ChannelEvent::Overflow { ended, continues }) => {
                    // Only a partial line is buffered here (complete ones
                    // were returned first), and it lost input. A line
                    // already refused as too long stays refused for that.
                    // A line being skipped already owes its reason.
                    // What follows the gap continues no key sequence the
                    // gap cut: an escape left open would swallow the next key.
                    self.decoder = KeyDecoder::new();
                    let owed = self.skip.flatten();
                    let why = owed.unwrap_or_else(|| {
                        if self.pty {
                            self.editor.rejection().unwrap_or(DROPPED)
                        } else {
                            self.discarding.take().unwrap_or(DROPPED)
                        }
                    });
                    self.plain.fill(0);
                    self.plain.clear();
                    self.skip = continues.then_some(None);
                    if ended {
                        return ReadResult::Rejected(why);
                    }
                    self.skip = Some(Some(why));
                }
                Some(ChannelEvent::Resize { cols, .. }) => self.set_width(cols),
                Some(ChannelEvent::Pty { .. } | ChannelEvent::Shell | ChannelEvent::Exec(_)) => {}
            }
        }
    }

    /// While skipping a line that lost input, drops `bytes` up to its end;
    /// the reason to report once the line has ended.
    fn skip_to_line_end(&mut self, bytes: &mut Vec<u8>) -> Option<&'static str> {
        let why = self.skip?;
        let Some(end) = bytes.iter().position(|b| matches!(b, b'\n' | b'\r')) else {
            bytes.fill(0);
            bytes.clear();
            return None;
        };
        self.skip = None;
        // A CR LF pair ends one line.
        let end = if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
            end + 1
        } else {
            end
        };
        bytes[..=end].fill(0);
        bytes.drain(..=end);
        why
    }

    /// Buffers input bytes: decoded keys with a PTY, plain bytes without.
    fn feed(&mut self, bytes: &[u8]) {
        if self.pty {
            self.keys.extend(self.decoder.feed(bytes));
        } else {
            self.plain.extend_from_slice(bytes);
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
        if let Some(names) = loaded {
            self.completer.names = names;
        }
    }

    /// In a note's text, a paste of several lines is typed as those lines:
    /// its first line comes back, and an Enter and the rest wait their turn.
    fn split_paste(&mut self, key: Key) -> Key {
        match key {
            Key::Paste(mut text) if self.text_mode && text.contains('\n') => {
                let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
                let (first, rest) = (first.to_owned(), rest.to_owned());
                text.zeroize();
                self.keys.push_front(Key::Paste(rest));
                self.keys.push_front(Key::Enter);
                Key::Paste(first)
            }
            key => key,
        }
    }

    /// Produces a result from input already received, if it holds one.
    async fn take_buffered(&mut self) -> Option<ReadResult> {
        if self.pty {
            // All the echo for one batch of keys goes out as one write.
            let mut echo = Vec::new();
            while let Some(key) = self.keys.pop_front() {
                let key = self.split_paste(key);
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
                self.plain.fill(0);
                self.plain.clear();
                self.discarding.get_or_insert(TOO_LONG);
            }
            if self.discarding.is_some() {
                self.plain.fill(0);
                self.plain.clear();
            }
            if self.eof && !self.plain.is_empty() && self.discarding.is_none() {
                // A last line without a newline still counts.
                let bytes = std::mem::take(&mut self.plain);
                return Some(plain_line(bytes, self.max_line));
            }
            return None;
        };
        let mut bytes: Vec<u8> = self.plain.drain(..=nl).collect();
        if let Some(why) = self.discarding.take() {
            bytes.fill(0);
            return Some(ReadResult::Rejected(why));
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

/// The credential changes that end this session, and which session we are.
pub struct Watch {
    pub session: u64,
    pub changes: watch::Receiver<CredentialChange>,
}

/// Resolves when another session changes this user's password or PIN. A
/// watch holds the latest change only, so none is missed however many come.
async fn revoked(watch: &mut Option<Watch>) {
    let Some(w) = watch else {
        return std::future::pending().await;
    };
    loop {
        if w.changes.changed().await.is_err() {
            return std::future::pending().await;
        }
        if w.changes.borrow_and_update().by_session != Some(w.session) {
            return;
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
                ReadResult::Revoked => Err(ShellError::Revoked),
                ReadResult::Rejected(why) => {
                    self.write_err(&format!("error: {why}\n")).await;
                    continue;
                }
                ReadResult::Interrupted | ReadResult::Eof | ReadResult::Shutdown => {
                    Err(ShellError::Cancelled)
                }
            };
        }
    }

    async fn say(&mut self, line: &str) -> Result<(), ShellError> {
        self.write_err(&format!("{line}\n")).await;
        Ok(())
    }

    async fn ask_text(&mut self, q: &Question) -> Result<Zeroizing<String>, ShellError> {
        self.write(&format!("{}\n", q.prompt)).await;
        self.text_mode = true;
        let read = self.read_text_lines().await;
        self.text_mode = false;
        read?.finish()
    }
}

impl Terminal {
    /// The lines of a note up to one holding only `.`, or the end of input.
    async fn read_text_lines(&mut self) -> Result<TextLines, ShellError> {
        let prompt = if self.pty { "> " } else { "" };
        let mut lines = TextLines::new();
        loop {
            match self.read_line(prompt, false, self.idle).await {
                ReadResult::Line(line) => {
                    if lines.push(&line) {
                        break;
                    }
                }
                ReadResult::Eof => break,
                ReadResult::Rejected(why) => lines.refuse(&format!("a line was refused ({why})")),
                ReadResult::Timeout => return Err(ShellError::Idle),
                ReadResult::Revoked => return Err(ShellError::Revoked),
                ReadResult::Interrupted | ReadResult::Shutdown => {
                    return Err(ShellError::Cancelled);
                }
            }
        }
        Ok(lines)
    }
}

/// In SSH exec without a PTY, a note's text is standard input after the
/// PIN line.
impl RestOfInput for Terminal {
    async fn read_input_line(&mut self) -> Result<Zeroizing<String>, RestError> {
        match self.read_line("", true, self.idle).await {
            ReadResult::Line(line) => Ok(line),
            _ => Err(RestError::Failed("standard input ended before that line")),
        }
    }

    async fn read_rest(&mut self, max: usize) -> Result<Zeroizing<Vec<u8>>, RestError> {
        let mut rest = Zeroizing::new(Vec::with_capacity(max));
        if self.plain.len() > max {
            self.plain.fill(0);
            self.plain.clear();
            return Err(RestError::TooMuch);
        }
        rest.extend_from_slice(&self.plain);
        self.plain.fill(0);
        self.plain.clear();
        let deadline = self.idle.and_then(|d| Instant::now().checked_add(d));
        loop {
            if self.eof || self.broken {
                return Ok(rest);
            }
            let event = tokio::select! {
                () = self.shutdown.cancelled() => return Err(RestError::Failed("the server is shutting down")),
                () = revoked(&mut self.watch) => return Err(RestError::Failed("your password or PIN was changed in another session")),
                () = sleep_until(deadline) => return Err(RestError::Failed("standard input did not end in time")),
                ev = self.inbox.recv() => ev,
            };
            match event {
                None | Some(ChannelEvent::Eof) => self.eof = true,
                Some(ChannelEvent::Data(mut bytes)) => {
                    let fits = rest.len() + bytes.len() <= max;
                    if fits {
                        rest.extend_from_slice(&bytes);
                    }
                    bytes.fill(0);
                    if !fits {
                        return Err(RestError::TooMuch);
                    }
                }
                Some(ChannelEvent::Overflow { .. }) => {
                    return Err(RestError::Failed(
                        "standard input arrived faster than it could be read",
                    ));
                }
                Some(ChannelEvent::Resize { cols, .. }) => self.set_width(cols),
                Some(ChannelEvent::Pty { .. } | ChannelEvent::Shell | ChannelEvent::Exec(_)) => {}
            }
        }
    }
}
