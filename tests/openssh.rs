//! Keeper driven by the real OpenSSH client, `/usr/bin/ssh`: password and
//! keyboard-interactive authentication answered by an `SSH_ASKPASS` script,
//! exec mode with the PIN on standard input, and interactive sessions on a
//! forced PTY (`ssh -tt`) whose standard input is a pipe.
//!
//! The server runs in-process (`TestServer`); every `ssh` is a child process
//! run on a blocking thread, killed by a guard if the test fails or times out.

mod helpers;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use helpers::{PASSWORD, PIN, TestServer};

const SSH: &str = "/usr/bin/ssh";
/// Upper bound for any single wait on an `ssh` process.
const WAIT: Duration = Duration::from_secs(20);
const ALICE_PROMPT: &str = "alice@keeper> ";
/// The environment variable the askpass script prints.
const ASKPASS_SECRET: &str = "KEEPER_TEST_ASKPASS_SECRET";

/// An `ssh` child process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Running {
    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "ssh did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads `source` to its end on a thread; the bytes arrive in chunks.
fn drain(mut source: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match source.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// Everything a drained stream still delivers, waiting at most until `deadline`.
fn collect(rx: &mpsc::Receiver<Vec<u8>>, deadline: Instant) -> String {
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("ssh output did not end in time"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a finished `ssh` left behind.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// The OpenSSH client pointed at one server, with its own known_hosts file
/// and an askpass script, and no user or system configuration.
struct OpenSsh {
    dir: tempfile::TempDir,
    askpass: PathBuf,
    port: u16,
}

impl OpenSsh {
    fn new(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("askpass.txt");
        std::fs::write(
            &source,
            format!("#!/bin/sh\nprintf '%s\\n' \"${ASKPASS_SECRET}\"\n"),
        )
        .expect("write askpass source");
        // The executable is written by a child process (`install`), so no file
        // descriptor of this multi-threaded test process is ever open for
        // writing on it; otherwise a concurrent fork could make exec fail
        // with ETXTBSY.
        let askpass = dir.path().join("askpass");
        let status = Command::new("install")
            .arg("-m")
            .arg("700")
            .arg(&source)
            .arg(&askpass)
            .status()
            .expect("run install");
        assert!(status.success(), "install askpass script");
        Self { dir, askpass, port }
    }

    /// `ssh … user@127.0.0.1 REMOTE…`, answering password prompts with `password`.
    fn command(&self, user: &str, password: &str, options: &[&str], remote: &[&str]) -> Command {
        let mut cmd = Command::new(SSH);
        cmd.arg("-F")
            .arg("/dev/null")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-o")
            .arg("StrictHostKeyChecking=no")
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.dir.path().join("known_hosts").display()
            ))
            .args(["-o", "LogLevel=ERROR"])
            .args(["-o", "BatchMode=no"])
            .args(["-o", "PubkeyAuthentication=no"])
            .args(["-o", "NumberOfPasswordPrompts=1"])
            .args(["-o", "ConnectTimeout=10"])
            .args(options)
            .arg(format!("{user}@127.0.0.1"))
            .args(remote)
            .env("SSH_ASKPASS", &self.askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .env(ASKPASS_SECRET, password)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `ssh` to its end with `stdin` as its standard input (on a blocking thread).
    async fn run(
        &self,
        user: &str,
        password: &str,
        options: &[&str],
        remote: &[&str],
        stdin: &str,
    ) -> Finished {
        let mut cmd = self.command(user, password, options, remote);
        let stdin = stdin.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let mut child = Running(cmd.spawn().expect("spawn ssh"));
            let stdout = drain(child.0.stdout.take().expect("stdout"));
            let stderr = drain(child.0.stderr.take().expect("stderr"));
            let mut input = child.0.stdin.take().expect("stdin");
            // An `ssh` that gives up early closes its end: not an error here.
            let _ = input.write_all(&stdin);
            drop(input);
            let status = child.wait_exit();
            let deadline = Instant::now() + WAIT;
            Finished {
                status,
                stdout: collect(&stdout, deadline),
                stderr: collect(&stderr, deadline),
            }
        })
        .await
        .expect("ssh thread")
    }

    /// Starts `ssh -tt …` for a conversation through its standard input.
    fn interactive(&self, user: &str, password: &str, remote: &[&str]) -> Conversation {
        let mut cmd = self.command(user, password, &["-tt"], remote);
        let mut child = Running(cmd.spawn().expect("spawn ssh"));
        let output = drain(child.0.stdout.take().expect("stdout"));
        let stderr = drain(child.0.stderr.take().expect("stderr"));
        let stdin = child.0.stdin.take();
        Conversation {
            child,
            stdin,
            output,
            stderr,
            pending: Vec::new(),
            transcript: Vec::new(),
        }
    }
}

/// An `ssh -tt` session whose terminal input is written by the test.
struct Conversation {
    child: Running,
    stdin: Option<ChildStdin>,
    output: mpsc::Receiver<Vec<u8>>,
    stderr: mpsc::Receiver<Vec<u8>>,
    /// Received and not yet consumed by `expect`.
    pending: Vec<u8>,
    /// Everything received.
    transcript: Vec<u8>,
}

impl Conversation {
    /// Waits (bounded) for `needle`; returns the text up to and including it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(at) = self
                .pending
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let upto: Vec<u8> = self.pending.drain(..at + needle.len()).collect();
                return String::from_utf8_lossy(&upto).into_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => {
                    self.pending.extend_from_slice(&chunk);
                    self.transcript.extend_from_slice(&chunk);
                }
                Err(e) => panic!(
                    "did not see {needle:?} ({e}); received so far:\n{}",
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// Types `text` and presses Enter (CR, as a terminal sends it).
    fn line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{text}\r").as_bytes())
            .expect("write to ssh");
        stdin.flush().expect("flush");
    }

    /// Runs a command at `prompt` and returns its output, prompt excluded.
    fn command(&mut self, line: &str, prompt: &str) -> String {
        self.line(line);
        self.expect(prompt).trim_end_matches(prompt).to_owned()
    }

    /// Closes standard input and waits (bounded) for `ssh` to exit.
    fn finish(&mut self) -> Finished {
        drop(self.stdin.take());
        let status = self.child.wait_exit();
        let deadline = Instant::now() + WAIT;
        let rest = collect(&self.output, deadline);
        self.transcript.extend_from_slice(rest.as_bytes());
        Finished {
            status,
            stdout: rest,
            stderr: collect(&self.stderr, deadline),
        }
    }

    fn transcript(&self) -> String {
        String::from_utf8_lossy(&self.transcript).into_owned()
    }
}

/// A server with `alice` registered, and a client pointed at it.
async fn server_with_alice() -> (TestServer, OpenSsh) {
    let server = TestServer::start().await;
    server.register("alice").await;
    let ssh = OpenSsh::new(server.ssh_addr.port());
    (server, ssh)
}

/// `echo PIN | ssh -o PreferredAuthentications=METHOD alice@host pass list --json`
/// lists the one stored entry as JSON.
async fn exec_lists_passwords_as_json_with(method: &str) {
    let (server, ssh) = server_with_alice().await;
    let added = server
        .run(
            "alice",
            "pass add --name github --url https://github.com --username alice --password 'S3cret-for-github'",
        )
        .await;
    assert_eq!(added.status, Some(0), "{added:?}");

    let out = ssh
        .run(
            "alice",
            PASSWORD,
            &["-o", &format!("PreferredAuthentications={method}")],
            &["pass", "list", "--json"],
            &format!("{PIN}\n"),
        )
        .await;

    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stderr, "", "{out:?}");
    let list: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    let entries = list.as_array().expect("a JSON array");
    assert_eq!(entries.len(), 1, "{list}");
    assert_eq!(entries[0]["name"], "github");
    assert_eq!(entries[0]["url"], "https://github.com");
    assert_eq!(entries[0]["username"], "alice");
    assert!(entries[0].get("password").is_none(), "{list}");
    assert!(!out.stdout.contains("S3cret-for-github"), "{out:?}");
}

#[tokio::test]
async fn exec_with_keyboard_interactive_auth_prints_the_password_list_as_json() {
    exec_lists_passwords_as_json_with("keyboard-interactive").await;
}

#[tokio::test]
async fn exec_with_password_auth_prints_the_password_list_as_json() {
    exec_lists_passwords_as_json_with("password").await;
}

#[tokio::test]
async fn exec_on_an_empty_vault_prints_an_empty_json_array_and_exits_zero() {
    let (_server, ssh) = server_with_alice().await;

    let out = ssh
        .run(
            "alice",
            PASSWORD,
            &[],
            &["pass", "list", "--json"],
            &format!("{PIN}\n"),
        )
        .await;

    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let list: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn exec_with_a_wrong_pin_exits_non_zero_with_one_line_on_stderr() {
    let (_server, ssh) = server_with_alice().await;

    let out = ssh
        .run(
            "alice",
            PASSWORD,
            &[],
            &["pass", "list", "--json"],
            "1397\n",
        )
        .await;

    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert_ne!(out.status.code(), Some(255), "not an ssh failure: {out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(lines[0].to_lowercase().contains("pin"), "{out:?}");
}

#[tokio::test]
async fn exec_of_a_missing_item_exits_non_zero_with_one_line_on_stderr() {
    let (_server, ssh) = server_with_alice().await;

    let out = ssh
        .run(
            "alice",
            PASSWORD,
            &[],
            &["pass", "show", "nope"],
            &format!("{PIN}\n"),
        )
        .await;

    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert_ne!(out.status.code(), Some(255), "not an ssh failure: {out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out:?}");
    assert!(lines[0].contains("nope"), "{out:?}");
}

#[tokio::test]
async fn the_wrong_password_is_refused_by_both_methods_and_ssh_exits_255() {
    let (_server, ssh) = server_with_alice().await;

    for method in ["keyboard-interactive", "password"] {
        let out = ssh
            .run(
                "alice",
                "not the right password",
                &["-o", &format!("PreferredAuthentications={method}")],
                &["whoami"],
                &format!("{PIN}\n"),
            )
            .await;

        assert_eq!(out.status.code(), Some(255), "{method}: {out:?}");
        assert!(
            out.stderr.contains("Permission denied"),
            "{method}: {out:?}"
        );
        assert_eq!(out.stdout, "", "{method}: {out:?}");
    }
}

#[tokio::test]
async fn an_unknown_login_is_refused_like_a_wrong_password() {
    let (_server, ssh) = server_with_alice().await;

    let out = ssh
        .run("mallory", PASSWORD, &[], &["whoami"], &format!("{PIN}\n"))
        .await;

    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(out.stderr.contains("Permission denied"), "{out:?}");
}

#[tokio::test]
async fn an_interactive_session_on_a_forced_tty_adds_and_lists_a_card() {
    let (_server, ssh) = server_with_alice().await;

    let (unlocked, added, listed, end) = tokio::task::spawn_blocking(move || {
        let mut session = ssh.interactive("alice", PASSWORD, &[]);
        session.expect("PIN: ");
        session.line(PIN);
        let unlocked = session.expect(ALICE_PROMPT);
        let added = session.command(
            "card add --name visa --number 4111111111111111 --expiry 12/30",
            ALICE_PROMPT,
        );
        let listed = session.command("card list", ALICE_PROMPT);
        session.line("exit");
        let end = session.finish();
        (unlocked, added, listed, end)
    })
    .await
    .expect("session thread");

    assert!(!unlocked.contains(PIN), "the PIN is echoed: {unlocked:?}");
    assert!(added.contains("Added card `visa`"), "{added:?}");
    assert!(listed.contains("visa"), "{listed:?}");
    assert!(listed.contains("**** 1111"), "{listed:?}");
    assert!(!listed.contains("4111111111111111"), "{listed:?}");
    assert_eq!(end.status.code(), Some(0), "{end:?}");
}

#[tokio::test]
async fn exec_on_a_forced_tty_asks_for_the_pin_on_the_terminal() {
    let (_server, ssh) = server_with_alice().await;

    let (status, output) = tokio::task::spawn_blocking(move || {
        let mut session = ssh.interactive("alice", PASSWORD, &["whoami"]);
        session.expect("PIN: ");
        session.line(PIN);
        session.expect("alice");
        let end = session.finish();
        (end.status, session.transcript())
    })
    .await
    .expect("session thread");

    assert_eq!(status.code(), Some(0), "{output:?}");
    assert!(!output.contains(PIN), "the PIN is echoed: {output:?}");
}

#[tokio::test]
async fn registration_through_new_on_a_forced_tty_then_exec_as_the_new_user() {
    let server = TestServer::start().await;
    let ssh = OpenSsh::new(server.ssh_addr.port());
    let (password, pin) = ("bobs own passphrase", "864209");

    let (ssh, status, transcript) = tokio::task::spawn_blocking(move || {
        // `new` needs no password: the askpass answer is never asked for.
        let mut session = ssh.interactive("new", "unused", &[]);
        session.expect("Login: ");
        session.line("bob");
        session.expect("Password");
        session.line(password);
        session.expect("Repeat: ");
        session.line(password);
        session.expect("PIN");
        session.line(pin);
        session.expect("Repeat: ");
        session.line(pin);
        session.expect("bob@keeper> ");
        session.line("exit");
        let end = session.finish();
        let transcript = session.transcript();
        drop(session);
        (ssh, end.status, transcript)
    })
    .await
    .expect("registration thread");
    assert_eq!(status.code(), Some(0), "{transcript:?}");
    assert!(
        transcript.contains("Account `bob` created"),
        "{transcript:?}"
    );
    assert!(
        !transcript.contains(password),
        "password echoed: {transcript:?}"
    );
    assert!(!transcript.contains(pin), "PIN echoed: {transcript:?}");

    let whoami = ssh
        .run("bob", password, &[], &["whoami"], &format!("{pin}\n"))
        .await;
    let list = ssh
        .run(
            "bob",
            password,
            &[],
            &["card", "list", "--json"],
            &format!("{pin}\n"),
        )
        .await;

    assert_eq!(whoami.status.code(), Some(0), "{whoami:?}");
    assert!(whoami.stdout.contains("bob"), "{whoami:?}");
    assert_eq!(list.status.code(), Some(0), "{list:?}");
    let cards: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON");
    assert_eq!(cards, serde_json::json!([]));
}
