//! The local client: `keeper login`, one-shot commands and `keeper shell` in a
//! real pseudo-terminal, against a server started in-process.

mod helpers;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use helpers::{PASSWORD, PIN, TestServer, contains};

const BIN: &str = env!("CARGO_BIN_EXE_keeper");
const WAIT: Duration = Duration::from_secs(20);

fn keeper(server: &TestServer) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("KEEPER_SERVER", format!("http://{}", server.http_addr))
        .env_remove("KEEPER_TOKEN")
        .env("HOME", server.path())
        .env("KEEPER_HISTORY", server.path().join("history"));
    cmd
}

/// `keeper login` with `answers` (login, password and PIN lines) on stdin.
fn keeper_login(server: &TestServer, answers: &str) -> std::process::Output {
    let mut child = keeper(server)
        .arg("login")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keeper login");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answers.as_bytes())
        .expect("write");
    child.wait_with_output().expect("keeper login")
}

/// `keeper login` with login, password and PIN on stdin; returns the token.
fn login(server: &TestServer, login: &str) -> String {
    let out = keeper_login(server, &format!("{login}\n{PASSWORD}\n{PIN}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

fn run(server: &TestServer, token: &str, args: &[&str]) -> std::process::Output {
    keeper(server)
        .env("KEEPER_TOKEN", token)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run keeper")
}

#[tokio::test(flavor = "multi_thread")]
async fn login_prints_a_token_that_one_shot_commands_use() {
    let server = TestServer::start().await;
    server.register("alice").await;

    let token = tokio::task::block_in_place(|| login(&server, "alice"));
    let added = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &[
                "card",
                "add",
                "--name",
                "visa",
                "--number",
                "4111111111111111",
                "--expiry",
                "12/30",
            ],
        )
    });
    let listed = tokio::task::block_in_place(|| run(&server, &token, &["card", "list"]));

    assert!(token.starts_with("kpr_"), "{token}");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("**** 1111"));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_output_is_identical_to_ssh_exec() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.run("alice", "pass add --name github --url https://github.com --username alice --password gh-Secret-1").await;
    server
        .run(
            "alice",
            "card add --name visa --number 4111111111111111 --expiry 12/30 --holder 'ALICE S'",
        )
        .await;
    server
        .run(
            "alice",
            "totp add --uri otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        )
        .await;
    server
        .run("alice", "note add --name wifi --text 'SSID keeper'")
        .await;
    server
        .run(
            "alice",
            "pass edit github --totp 'otpauth://totp/a%3Ab?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'",
        )
        .await;
    server
        .run(
            "alice",
            "id add --name me --full-name 'Ada L' --address '1 Main St\nTown' --document X1",
        )
        .await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));

    for command in [
        "pass list --json",
        "card list --json",
        "pass show github --reveal --json",
        "card show visa --json",
        "pass show github --field password",
        "card show visa --field number",
        "totp list --json",
        "totp show GitHub --reveal --json",
        "totp show GitHub --field secret",
        "note list --json",
        "note show wifi --reveal --json",
        "note show wifi --field text",
        "pass show github --field totp",
        "id list --json",
        "id show me --reveal --json",
        "id show me --field address",
        "find git --json",
        "find git",
    ] {
        let over_ssh = server.run("alice", command).await;
        let words: Vec<&str> = command.split(' ').collect();
        let over_http = tokio::task::block_in_place(|| run(&server, &token, &words));
        assert_eq!(over_ssh.status, Some(0), "{command}: {}", over_ssh.stderr);
        assert!(
            over_http.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&over_http.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&over_http.stdout),
            over_ssh.stdout,
            "{command}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_errors_exit_non_zero_with_one_line() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));

    let missing = tokio::task::block_in_place(|| run(&server, &token, &["pass", "show", "nope"]));
    let unknown = tokio::task::block_in_place(|| run(&server, &token, &["frobnicate"]));
    let no_token = tokio::task::block_in_place(|| {
        keeper(&server)
            .args(["pass", "list"])
            .output()
            .expect("run")
    });

    for (out, code) in [(&missing, 1), (&unknown, 2), (&no_token, 1)] {
        assert_eq!(out.status.code(), Some(code));
        assert!(out.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "{out:?}"
        );
    }
}

/// `keeper shell` on the slave side of a pseudo-terminal.
struct Pty {
    child: Child,
    master: std::fs::File,
    rx: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Pty {
    fn spawn(mut cmd: Command) -> Self {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave = std::fs::File::from(pty.slave);
        let child = cmd
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("spawn keeper shell");
        let master = std::fs::File::from(pty.master);
        let mut reader = master.try_clone().expect("dup master");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            master,
            rx,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to pty");
    }

    /// Reads until `needle` appears after what earlier calls consumed.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = String::from_utf8_lossy(&self.seen).into_owned();
            if let Some(at) = text.find(needle) {
                let upto = text[..at + needle.len()].to_owned();
                self.seen.drain(..upto.len().min(self.seen.len()));
                return upto;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => {
                    // Answer a cursor-position query as a terminal would.
                    if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                        self.send(b"\x1b[1;1R");
                    }
                    self.seen.extend(chunk);
                }
                Err(_) => panic!("did not see {needle:?}; got:\n{text}"),
            }
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shell_logs_in_adds_lists_completes_and_exits_in_a_terminal() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run("alice", "pass add --name github --password gh-Secret-1")
        .await;
    let prompt = "alice@keeper> ";

    let (status, transcript) = tokio::task::block_in_place(|| {
        let mut pty = shell_at_prompt(&server);
        pty.send(b"card add --name visa --number 4111111111111111 --expiry 12/30 --cvv 123\r");
        pty.expect("Added card `visa`");
        pty.expect(prompt);
        pty.send(b"card list\r");
        pty.expect("**** 1111");
        pty.expect(prompt);
        pty.send(b"pass show gi\t");
        pty.expect("github");
        pty.send(b"\r");
        pty.expect("Username:");
        pty.expect(prompt);
        pty.send(b"exit\r");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = pty.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "keeper shell did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, String::from_utf8_lossy(&pty.seen).into_owned())
    });

    assert!(status.success(), "{transcript}");
    let history = std::fs::read_to_string(server.path().join("history")).expect("history file");
    assert!(history.contains("card list"), "{history}");
    // Item names are sealed at rest: lines that hold one stay off disk.
    assert!(
        !history.contains("github") && !history.contains("visa"),
        "{history}"
    );
    assert!(
        !history.contains("4111111111111111"),
        "a secret reached the history file: {history}"
    );
    assert!(!history.contains(PASSWORD) && !history.contains(PIN));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_edit_and_rm_change_what_ssh_sees() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run(
            "alice",
            "card add --name visa --number 4111111111111111 --expiry 12/30 --note old",
        )
        .await;
    server
        .run("alice", "pass add --name github --password gh-Secret-1")
        .await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));

    let edited = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &[
                "card", "edit", "visa", "--name", "travel", "--note", "", "--expiry", "01/31",
            ],
        )
    });
    let removed =
        tokio::task::block_in_place(|| run(&server, &token, &["pass", "rm", "GitHub", "-f"]));

    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let card: serde_json::Value =
        serde_json::from_str(&server.run("alice", "card show travel --json").await.stdout)
            .expect("json");
    assert_eq!(card["expiry"], "01/31");
    assert!(card["note"].is_null());
    assert_eq!(card["version"], 2);
    assert_eq!(
        server.run("alice", "pass list --json").await.stdout.trim(),
        "[]"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_tags_and_custom_fields_survive_an_edit_and_match_ssh() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run(
            "alice",
            "pass add --name github --password gh-Secret-1 --tag work --field 'account=A-1' \
             --secret-field 'recovery=rc-Secret-9'",
        )
        .await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));

    let edited = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &[
                "pass", "edit", "github", "--field", "pin=4321", "--tag", "home",
            ],
        )
    });
    let field = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["pass", "show", "github", "--field", "recovery"],
        )
    });
    let listed = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["pass", "list", "--tag", "HOME", "--json"],
        )
    });

    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&field.stdout), "rc-Secret-9\n");
    let ssh_list = server.run("alice", "pass list --tag home --json").await;
    assert_eq!(String::from_utf8_lossy(&listed.stdout), ssh_list.stdout);
    let shown: serde_json::Value = serde_json::from_str(
        &server
            .run("alice", "pass show github --reveal --json")
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(shown["tags"], serde_json::json!(["home"]));
    assert_eq!(
        shown["fields"],
        serde_json::json!([
            {"key": "account", "value": "A-1", "secret": false},
            {"key": "recovery", "value": "rc-Secret-9", "secret": true},
            {"key": "pin", "value": "4321", "secret": false},
        ]),
        "the client's edit keeps the secret field it did not change"
    );

    let changed = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &[
                "pass",
                "edit",
                "github",
                "--secret-field",
                "recovery=rc-New-1",
            ],
        )
    });
    assert!(changed.status.success());
    let history = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["pass", "history", "github", "--reveal", "--json"],
        )
    });
    let ssh_history = server
        .run("alice", "pass history github --reveal --json")
        .await;
    assert_eq!(String::from_utf8_lossy(&history.stdout), ssh_history.stdout);
    assert!(
        ssh_history.stdout.contains("rc-Secret-9"),
        "{ssh_history:?}"
    );
}

/// A one-response HTTP server on loopback: answers every connection with
/// `response` and closes it. Its address.
fn canned_server(status: &str, content_type: &str, body: &str) -> std::net::SocketAddr {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // The whole request head is read first: a socket closed with
            // unread bytes is reset, and the client might see the reset
            // instead of the response.
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            while !contains(&request, b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    addr
}

/// `keeper pass list` against `server` with some token: its one line of
/// standard error and its exit status.
fn one_shot_against(server: &str) -> (String, Option<i32>) {
    let out = Command::new(BIN)
        .env("KEEPER_SERVER", server)
        .env("KEEPER_TOKEN", "a-token-of-no-consequence")
        .args(["pass", "list"])
        .stdin(Stdio::null())
        .output()
        .expect("run keeper");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    (stderr, out.status.code())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_reason_a_request_fails_gets_its_own_message() {
    let server = TestServer::start().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let failing = canned_server(
        "500 Internal Server Error",
        "application/problem+json",
        r#"{"type":"x","title":"t","status":500,"detail":"db down"}"#,
    );
    let stranger = canned_server("404 Not Found", "text/html", "<h1>x</h1>");
    let refusing = canned_server(
        "401 Unauthorized",
        "application/problem+json",
        r#"{"type":"x","title":"t","status":401,"detail":"wrong login, password or PIN"}"#,
    );
    let cases = [
        (
            format!("http://{closed}"),
            format!("connection refused at {closed}"),
        ),
        ("not a url".to_owned(), "is not a server URL".to_owned()),
        (
            "ftp://vault.example".to_owned(),
            "`ftp://` is not a way to reach Keeper".to_owned(),
        ),
        (
            format!("https://{}", server.http_addr),
            format!("no TLS at {}", server.http_addr),
        ),
        (
            format!("http://{}", server.ssh_addr),
            "did not answer in HTTP".to_owned(),
        ),
        (
            format!("http://{failing}"),
            "server error (500 Internal Server Error): db down".to_owned(),
        ),
        (
            format!("http://{refusing}"),
            "wrong login, password or PIN".to_owned(),
        ),
        (
            format!("http://{stranger}"),
            "without a problem document".to_owned(),
        ),
        (
            format!("http://{}", server.http_addr),
            "the token is invalid or expired".to_owned(),
        ),
    ];
    for (url, expected) in cases {
        let (stderr, status) = tokio::task::block_in_place(|| one_shot_against(&url));
        assert!(stderr.contains(&expected), "{url}: {stderr:?}");
        assert_eq!(status, Some(1), "{url}: {stderr:?}");
        if !expected.contains("token") {
            assert!(!stderr.contains("token is invalid"), "{url}: {stderr:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_login_says_so_with_the_wait() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut last = String::new();
    for _ in 0..7 {
        let out = tokio::task::block_in_place(|| {
            keeper_login(&server, &format!("alice\nnot the password\n{PIN}\n"))
        });
        last = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    assert!(last.contains("throttled by the server"), "{last}");
    assert!(last.contains("retry after"), "{last}");
}

/// `keeper shell` logged in as alice, at its first prompt.
fn shell_at_prompt(server: &TestServer) -> Pty {
    shell_at_prompt_with(server, &[])
}

/// `keeper shell` with `env` set, logged in as alice, at its prompt.
fn shell_at_prompt_with(server: &TestServer, env: &[(&str, &str)]) -> Pty {
    let mut pty = Pty::spawn({
        let mut c = keeper(server);
        c.arg("shell").envs(env.iter().copied());
        c
    });
    pty.expect("Login: ");
    pty.send(b"alice\r");
    pty.expect("Password: ");
    pty.send(format!("{PASSWORD}\r").as_bytes());
    pty.expect("PIN: ");
    pty.send(format!("{PIN}\r").as_bytes());
    pty.expect("alice@keeper> ");
    pty
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shell_completes_stored_names_sanitised() {
    let server = TestServer::start().await;
    server.register("alice").await;
    for name in ["\u{1b}]52;c;aGVsbG8=\u{7}clip", "\u{1b}[31mred"] {
        let added = server
            .run(
                "alice",
                &format!("pass add --name '{name}' --password a-long-enough-one"),
            )
            .await;
        assert_eq!(added.status, Some(0), "{added:?}");
    }

    let seen = tokio::task::block_in_place(|| {
        let mut pty = shell_at_prompt(&server);
        pty.send(b"pass show \t\t");
        pty.expect("red");
        pty.send(b"\x15exit\r");
        String::from_utf8_lossy(&pty.seen).into_owned()
    });

    assert!(!seen.contains("\u{1b}]52"), "raw OSC 52: {seen:?}");
    assert!(!seen.contains("\u{1b}[31m"), "raw colour: {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shell_asks_before_listing_a_huge_number_of_completions() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));
    tokio::task::block_in_place(|| {
        for n in 0..120 {
            let name = format!("site{n:03}");
            let out = run(
                &server,
                &token,
                &["pass", "add", "--name", &name, "--password", "a-long-one"],
            );
            assert!(out.status.success(), "{out:?}");
        }
    });

    let (asked, after_no) = tokio::task::block_in_place(|| {
        let mut pty = shell_at_prompt(&server);
        pty.send(b"pass show s\t\t");
        let asked = pty.expect("(y or n)");
        pty.send(b"n");
        pty.send(b"\x15whoami\r");
        let after_no = pty.expect("alice@keeper> ");
        pty.send(b"exit\r");
        (asked, after_no)
    });

    assert!(
        asked.contains("Display all 120 possibilities? (y or n)"),
        "{asked:?}"
    );
    assert!(
        !after_no.contains("site100"),
        "listed after `n`: {after_no:?}"
    );
}

/// A one-shot command with `stdin` piped in.
fn run_with_stdin(
    server: &TestServer,
    token: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let mut child = keeper(server)
        .env("KEEPER_TOKEN", token)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keeper");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    child.wait_with_output().expect("keeper")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_note_add_reads_a_piped_text_and_ssh_shows_the_same_note() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));
    let text = "alarm: 7734\n\n  spare key: under the mat\n";
    let over: String = "o".repeat(64 * 1024 + 1);

    let (added, too_long, listed) = tokio::task::block_in_place(|| {
        (
            run_with_stdin(&server, &token, &["note", "add", "--name", "house"], text),
            run_with_stdin(&server, &token, &["note", "add", "--name", "big"], &over),
            run(&server, &token, &["note", "list", "--json"]),
        )
    });
    let over_ssh = server.run("alice", "note show house --field text").await;
    let listed_over_ssh = server.run("alice", "note list --json").await;

    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&added.stdout),
        "Added note `house` (3 lines).\n"
    );
    assert_eq!(over_ssh.stdout, text);
    assert_eq!(too_long.status.code(), Some(1));
    let refused = String::from_utf8_lossy(&too_long.stderr);
    assert!(
        refused.starts_with("error: text: must be at most 64 KiB"),
        "{refused}"
    );
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        listed_over_ssh.stdout
    );
    assert!(
        !listed_over_ssh.stdout.contains("big"),
        "{}",
        listed_over_ssh.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_shell_reads_a_notes_lines_up_to_a_dot() {
    let server = TestServer::start().await;
    server.register("alice").await;

    tokio::task::block_in_place(|| {
        let mut pty = shell_at_prompt(&server);
        pty.send(b"note add --name plan\r");
        pty.expect("Ctrl-D):");
        for line in ["step one", "step two", "."] {
            pty.expect("> ");
            pty.send(format!("{line}\r").as_bytes());
        }
        let added = pty.expect("alice@keeper> ");
        assert!(added.contains("Added note `plan` (2 lines)."), "{added}");
        pty.send(b"exit\r");
    });
    let shown = server.run("alice", "note show plan --field text").await;

    assert_eq!(shown.stdout, "step one\nstep two\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_shell_clears_a_copy_from_the_clipboard_again() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run("alice", "pass add --name github --password Cl1pboard-Only!")
        .await;

    let (copied, cleared) = tokio::task::block_in_place(|| {
        let mut pty = shell_at_prompt_with(&server, &[("KEEPER_CLIPBOARD_CLEAR_SECS", "1")]);
        pty.send(b"pass copy github\r");
        let copied = pty.expect("alice@keeper> ");
        let cleared = pty.expect("\x1b]52;c;\x07");
        pty.send(b"exit\r");
        (copied, cleared)
    });

    assert!(copied.contains("\x1b]52;c;"), "{copied:?}");
    assert!(copied.contains("cleared again in 1 s"), "{copied:?}");
    assert!(!cleared.contains("Cl1pboard"), "{cleared:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_rm_needs_f_and_trash_and_health_match_ssh() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run("alice", "pass add --name forum --password password1")
        .await;
    server
        .run(
            "alice",
            "pass add --name mail --password 'Vq8#mZ2!rL5@xT9$'",
        )
        .await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));
    let client = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let server = &server;
        let token = &token;
        tokio::task::block_in_place(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(server, token, &args)
        })
    };

    let health = client(&["health", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&health.stdout),
        server.run("alice", "health --json").await.stdout
    );
    let refused = client(&["pass", "rm", "forum"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("-f"));
    assert!(client(&["pass", "rm", "forum", "-f"]).status.success());
    let trash = client(&["trash", "list", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&trash.stdout),
        server.run("alice", "trash list --json").await.stdout
    );
    assert!(String::from_utf8_lossy(&trash.stdout).contains("forum"));
    let restored = client(&["trash", "restore", "forum"]);
    assert_eq!(
        String::from_utf8_lossy(&restored.stdout),
        "Restored password `forum` from the trash.\n"
    );
    assert!(client(&["pass", "rm", "mail", "-f"]).status.success());
    let emptied = client(&["trash", "empty"]);
    assert_eq!(
        String::from_utf8_lossy(&emptied.stdout),
        "Deleted 1 item from the trash for good.\n"
    );
    assert_eq!(
        server
            .run("alice", "pass list --json")
            .await
            .stdout
            .matches("\"name\"")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_import_reads_a_file_or_stdin_and_says_what_ssh_says() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let token = tokio::task::block_in_place(|| login(&server, "alice"));
    let file = server.path().join("chrome.csv");
    std::fs::write(
        &file,
        "name,url,username,password\nshop,https://shop.example,ada,client-Shop-1\n\
         mail,https://mail.example,ada,\n",
    )
    .expect("write");
    let path = file.to_str().expect("path").to_owned();
    let dry = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["import", "--format", "chrome-csv", "--dry-run", &path],
        )
    });
    assert!(dry.status.success(), "{dry:?}");
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "Would import 1 item from chrome-csv: 1 password (dry run: nothing was stored).\n\
         Skipped 1:\n  record 2 (line 3): a login without a password\n"
    );
    let piped = tokio::task::block_in_place(|| {
        run_with_stdin(
            &server,
            &token,
            &["import", "--format", "chrome-csv", "-"],
            "name,url,username,password\nforum,https://forum.example,ada,client-Forum-2\n",
        )
    });
    assert_eq!(
        String::from_utf8_lossy(&piped.stdout),
        "Imported 1 item from chrome-csv: 1 password.\n",
        "{piped:?}"
    );
    let done = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["import", "--format", "chrome-csv", "--json", &path],
        )
    });
    assert!(done.status.success(), "{done:?}");
    let summary: serde_json::Value = serde_json::from_slice(&done.stdout).expect("json");
    assert_eq!(summary["created"]["password"], 1);
    let shown = server
        .run("alice", "pass show shop --reveal --json")
        .await
        .stdout;
    assert!(shown.contains("client-Shop-1"), "{shown}");
    let missing = tokio::task::block_in_place(|| {
        run(
            &server,
            &token,
            &["import", "--format", "chrome-csv", "/nonexistent/file.csv"],
        )
    });
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("cannot read `/nonexistent/file.csv`"), "{err}");
    let bad = tokio::task::block_in_place(|| {
        run_with_stdin(
            &server,
            &token,
            &["import", "--format", "bitwarden-json"],
            "{\"items\": [",
        )
    });
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "error: not a bitwarden-json file: the JSON ends early (the file is cut short) at line 1 \
         column 11; nothing was imported\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_shot_export_writes_what_ssh_writes_and_an_archive_reads_back() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bob").await;
    server
        .run(
            "alice",
            "pass add --name shop --password client-Export-1 --tag web",
        )
        .await;
    server
        .run(
            "alice",
            "card add --name visa --number 4111111111111111 --expiry 12/30",
        )
        .await;
    let alice = tokio::task::block_in_place(|| login(&server, "alice"));
    let bob = tokio::task::block_in_place(|| login(&server, "bob"));
    let plain = tokio::task::block_in_place(|| {
        run(
            &server,
            &alice,
            &["export", "--format", "bitwarden-json", "--plaintext", "-f"],
        )
    });
    assert!(plain.status.success(), "{plain:?}");
    let ssh = server
        .run("alice", "export --format bitwarden-json --plaintext -f")
        .await;
    assert_eq!(String::from_utf8_lossy(&plain.stdout), ssh.stdout);

    let archive = tokio::task::block_in_place(|| {
        run_with_stdin(
            &server,
            &alice,
            &["export"],
            "client archive pässphrase €\n",
        )
    });
    assert!(archive.status.success(), "{archive:?}");
    let file = server.path().join("vault.age");
    std::fs::write(&file, &archive.stdout).expect("write");
    let path = file.to_str().expect("path").to_owned();
    let back = tokio::task::block_in_place(|| {
        run_with_stdin(
            &server,
            &bob,
            &["import", "--format", "keeper", &path],
            "client archive pässphrase €\n",
        )
    });
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "Imported 2 items from keeper: 1 card, 1 password.\n",
        "{back:?}"
    );
    let shown = server
        .exec(
            "bob",
            "pass show shop --reveal --json",
            &format!("{}\n", helpers::PIN),
        )
        .await
        .stdout;
    assert!(
        shown.contains("client-Export-1") && shown.contains("\"web\""),
        "{shown}"
    );
}
