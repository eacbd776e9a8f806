//! `keeper serve` as a real process: what it creates on first start, how it
//! reports its address and its failures, how it stops on signals, and what
//! two processes sharing one data dir do.
//!
//! Each test runs the binary in a fresh temporary working directory with its
//! stderr in a file there; a guard kills the process if the test fails.

mod helpers;

use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use helpers::{Daemon, PASSWORD, PIN, exec, register_at, strip_ansi};

const HOST_KEY: &str = "keys/ssh_host_ed25519_key";
const DATABASE: &str = "data/keeper.db";
const WAIT: Duration = Duration::from_secs(20);
/// Every server gets an ephemeral HTTP port, so parallel tests never collide
/// on the default 127.0.0.1:8080.
const ANY_HTTP_PORT: [&str; 2] = ["--http-addr", "127.0.0.1:0"];

/// `keeper serve --ssh-addr 127.0.0.1:0 ARGS` in `dir`, logging to `dir/serve.log`.
fn start(dir: &Path, args: &[&str]) -> Daemon {
    start_logging_to(dir, args, &[], "serve.log")
}

fn start_logging_to(dir: &Path, args: &[&str], envs: &[(&str, &str)], log: &str) -> Daemon {
    let mut all = vec!["--ssh-addr", "127.0.0.1:0"];
    all.extend_from_slice(&ANY_HTTP_PORT);
    all.extend_from_slice(args);
    Daemon::spawn(dir, &all, envs, &dir.join(log))
}

/// What a `keeper serve` that is expected to fail at start-up left behind.
struct Failed {
    code: Option<i32>,
    stderr: String,
}

/// Runs `keeper serve ARGS` in `dir` and waits (bounded) for it to give up.
fn start_expecting_failure(dir: &Path, args: &[&str]) -> Failed {
    let mut all = if args.contains(&"--http-addr") {
        Vec::new()
    } else {
        ANY_HTTP_PORT.to_vec()
    };
    all.extend_from_slice(args);
    let mut daemon = Daemon::spawn(dir, &all, &[], &dir.join("serve.log"));
    let status = daemon.wait_exit();
    Failed {
        code: status.code(),
        stderr: strip_ansi(&daemon.log_text()),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The host key the server presents, as seen by an SSH client.
async fn presented_host_key(addr: SocketAddr) -> russh::keys::PublicKey {
    let (handle, client) = helpers::connect(addr, "new", None).await.expect("connect");
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    client
        .host_key
        .lock()
        .expect("lock")
        .clone()
        .expect("the server presented a host key")
}

fn lines_containing(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn a_first_start_creates_the_database_and_a_private_host_key_and_logs_the_real_address() {
    let dir = tempfile::tempdir().expect("tempdir");

    let mut server = start(dir.path(), &[]);
    let addr = server.wait_listening();

    assert!(dir.path().join(DATABASE).is_file(), "no {DATABASE}");
    assert!(dir.path().join(HOST_KEY).is_file(), "no {HOST_KEY}");
    assert_eq!(mode(&dir.path().join(HOST_KEY)), 0o600);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the log names the real port");
    let log = server.log_text();
    assert_eq!(lines_containing(&log, "ssh listening"), 1, "{log}");
    assert_eq!(lines_containing(&log, "http listening"), 1, "{log}");
    std::net::TcpStream::connect_timeout(&addr, WAIT).expect("the logged address accepts");
    assert!(server.stop().success());
}

#[test]
fn the_database_files_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().expect("tempdir");

    let mut server = start(dir.path(), &[]);
    server.wait_listening();

    let files = helpers::files_under(&dir.path().join("data"));
    assert!(!files.is_empty());
    for file in files {
        assert_eq!(
            mode(&file) & 0o077,
            0,
            "{} has mode {:o}",
            file.display(),
            mode(&file)
        );
    }
    assert!(server.stop().success());
}

// Multi-threaded: the client winds down while the test blocks in `stop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_key_and_its_fingerprint_survive_a_restart_on_the_same_dir_and_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = start(dir.path(), &[]);
    let addr = first.wait_listening();
    let key_before = presented_host_key(addr).await;
    let file_before = std::fs::read(dir.path().join(HOST_KEY)).expect("key file");
    let first_log = strip_ansi(&first.log_text());
    assert!(first.stop().success());

    let port = addr.to_string();
    let mut second = Daemon::spawn(
        dir.path(),
        &["--ssh-addr", &port, "--http-addr", "127.0.0.1:0"],
        &[],
        &dir.path().join("second.log"),
    );
    let addr_again = second.wait_listening();
    let key_after = presented_host_key(addr_again).await;
    let file_after = std::fs::read(dir.path().join(HOST_KEY)).expect("key file");
    let second_log = strip_ansi(&second.log_text());
    assert!(second.stop().success());

    let fingerprint = key_before.fingerprint(Default::default()).to_string();
    assert_eq!(addr_again, addr);
    assert_eq!(key_after, key_before);
    assert_eq!(
        key_after.fingerprint(Default::default()).to_string(),
        fingerprint
    );
    assert_eq!(file_after, file_before, "the key file is unchanged");
    assert!(
        first_log.contains("generated ssh host key") && first_log.contains(&fingerprint),
        "the first start logs the new key's fingerprint: {first_log}"
    );
    assert!(
        !second_log.contains("generated"),
        "a restart generates no key: {second_log}"
    );
}

#[test]
fn a_bad_database_url_exits_non_zero_with_one_clear_line_and_no_panic() {
    let dir = tempfile::tempdir().expect("tempdir");

    let failed = start_expecting_failure(
        dir.path(),
        &["--ssh-addr", "127.0.0.1:0", "--db", "mysql://x"],
    );

    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", failed.stderr);
    assert!(lines[0].starts_with("keeper: error:"), "{}", failed.stderr);
    assert!(lines[0].contains("database"), "{}", failed.stderr);
    assert!(lines[0].contains("mysql"), "{}", failed.stderr);
}

#[test]
fn a_config_file_with_an_unknown_key_or_a_bad_value_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("keeper.toml");
    for (text, names) in [
        (
            "ssh_addr = \"127.0.0.1:0\"\nlogin_failure = 3\n",
            &["line 2", "login_failure"][..],
        ),
        ("login_failures = 0\n", &["login_failures", "positive"][..]),
        ("ssh_addr = 127.0.0.1:0\n", &["line 1"][..]),
    ] {
        std::fs::write(&config, text).expect("config");

        let failed = start_expecting_failure(
            dir.path(),
            &["--config", config.to_str().expect("utf-8 path")],
        );

        assert_ne!(failed.code, Some(0), "{text}: {}", failed.stderr);
        assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
        for name in names {
            assert!(failed.stderr.contains(name), "{text}: {}", failed.stderr);
        }
        assert!(
            !dir.path().join("data/keeper.db").exists(),
            "nothing was started"
        );
    }
}

#[test]
fn an_unwritable_data_dir_exits_non_zero_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");

    let failed = start_expecting_failure(
        dir.path(),
        &[
            "--ssh-addr",
            "127.0.0.1:0",
            "--data-dir",
            "/proc/keeper-nope",
        ],
    );

    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    let error: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|l| l.contains("error"))
        .collect();
    assert_eq!(error.len(), 1, "{}", failed.stderr);
    assert!(error[0].contains("/proc/keeper-nope"), "{}", failed.stderr);
    assert!(error[0].contains("data dir"), "{}", failed.stderr);
}

#[test]
fn a_port_already_in_use_exits_non_zero_with_an_error_naming_the_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();

    let failed = start_expecting_failure(dir.path(), &["--ssh-addr", &addr]);

    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    let error: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|l| l.contains("error"))
        .collect();
    assert_eq!(error.len(), 1, "{}", failed.stderr);
    assert!(error[0].contains(&addr), "{}", failed.stderr);
    assert!(
        error[0].to_lowercase().contains("in use"),
        "{}",
        failed.stderr
    );
    drop(taken);
}

#[test]
fn a_busy_http_port_exits_non_zero_with_an_error_naming_the_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();

    let failed = start_expecting_failure(
        dir.path(),
        &["--ssh-addr", "127.0.0.1:0", "--http-addr", &addr],
    );

    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    let error: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|l| l.contains("error"))
        .collect();
    assert_eq!(error.len(), 1, "{}", failed.stderr);
    assert!(error[0].contains(&addr), "{}", failed.stderr);
    drop(taken);
}

fn stops_cleanly_on(signal: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &[]);
    server.wait_listening();

    server.signal(signal);
    let status = server.wait_exit();

    let log = strip_ansi(&server.log_text());
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(lines_containing(&log, "shutdown requested"), 1, "{log}");
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("stopped"),
        "the last line says it stopped: {log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn sigterm_stops_the_server_with_status_zero_and_logs_that_it_stopped() {
    stops_cleanly_on("TERM");
}

#[test]
fn sigint_stops_the_server_with_status_zero_and_logs_that_it_stopped() {
    stops_cleanly_on("INT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_shell_session_says_goodbye_to_it_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &[]);
    let addr = server.wait_listening();
    register_at(addr, "alice", PASSWORD, PIN).await;
    let mut shell = helpers::Shell::connect(addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    shell.start_pty_shell().await;
    shell.expect("PIN: ").await;
    shell.line(PIN).await;
    shell.expect("alice@keeper> ").await;

    server.signal("TERM");
    shell.expect("shutting down").await;
    shell.finish().await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit();
        (status, server.log_text())
    })
    .await
    .expect("wait thread");

    assert_eq!(shell.exit_status, Some(0));
    assert_eq!(status.0.code(), Some(0), "{}", status.1);
    assert!(status.1.contains("stopped"), "{}", status.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_even_while_an_idle_connection_stays_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &[]);
    let addr = server.wait_listening();
    register_at(addr, "alice", PASSWORD, PIN).await;
    let (idle, _) = helpers::connect(addr, "alice", Some(PASSWORD))
        .await
        .expect("login");

    server.signal("TERM");
    let (status, log) = tokio::task::spawn_blocking(move || {
        let status = server.wait_exit();
        (status, server.log_text())
    })
    .await
    .expect("the server exits in time");

    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("stopped"), "{log}");
    drop(idle);
}

/// Adds `card-N` through exec at `addr`; returns whether it succeeded.
async fn add_card(addr: SocketAddr, n: usize) -> helpers::Exec {
    exec(
        addr,
        "alice",
        PASSWORD,
        &format!("card add --name card-{n} --number 4111111111111111 --expiry 12/30"),
        &format!("{PIN}\n"),
    )
    .await
}

async fn card_names(addr: SocketAddr) -> Vec<String> {
    let out = exec(
        addr,
        "alice",
        PASSWORD,
        "card list --json",
        &format!("{PIN}\n"),
    )
    .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let cards: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let mut names: Vec<String> = cards
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_data_dir_serve_the_same_users_and_corrupt_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut one = start_logging_to(dir.path(), &[], &[], "one.log");
    let one_addr = one.wait_listening();
    let mut two = start_logging_to(dir.path(), &[], &[], "two.log");
    let two_addr = two.wait_listening();
    assert_ne!(one_addr, two_addr);

    register_at(one_addr, "alice", PASSWORD, PIN).await;
    let whoami = exec(two_addr, "alice", PASSWORD, "whoami", &format!("{PIN}\n")).await;
    assert_eq!(whoami.status, Some(0), "{whoami:?}");
    assert!(whoami.stdout.contains("alice"), "{whoami:?}");

    // Writers on both processes at once.
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..8 {
        let addr = if n % 2 == 0 { one_addr } else { two_addr };
        writers.spawn(async move { (n, add_card(addr, n).await) });
    }
    let results = tokio::time::timeout(WAIT * 3, writers.join_all())
        .await
        .expect("writers finish in time");
    for (n, out) in &results {
        assert_eq!(out.status, Some(0), "card-{n}: {out:?}");
    }
    let expected: Vec<String> = {
        let mut v: Vec<String> = (0..8).map(|n| format!("card-{n}")).collect();
        v.sort();
        v
    };
    assert_eq!(card_names(one_addr).await, expected);
    assert_eq!(card_names(two_addr).await, expected);

    let (one_status, two_status) = tokio::task::spawn_blocking(move || (one.stop(), two.stop()))
        .await
        .expect("stop thread");
    assert!(one_status.success() && two_status.success());

    let mut third = start_logging_to(dir.path(), &[], &[], "three.log");
    let third_addr = third.wait_listening();
    assert_eq!(card_names(third_addr).await, expected);
    let shown = exec(
        third_addr,
        "alice",
        PASSWORD,
        "card show card-7 --reveal --json",
        &format!("{PIN}\n"),
    )
    .await;
    assert_eq!(shown.status, Some(0), "{shown:?}");
    let card: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON");
    assert_eq!(card["number"], "4111111111111111");
    assert!(third.stop().success());

    if let Ok(check) = Command::new("sqlite3")
        .arg(dir.path().join(DATABASE))
        .arg("PRAGMA integrity_check;")
        .stderr(Stdio::inherit())
        .output()
    {
        assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "ok");
    } else {
        eprintln!("sqlite3 not installed: integrity_check skipped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_format_makes_every_stderr_line_a_json_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &["--log-format", "json"]);
    let addr = server.wait_listening();
    register_at(addr, "alice", PASSWORD, PIN).await;
    let refused = helpers::connect(addr, "alice", Some("wrong password!")).await;
    assert!(refused.is_err());
    let ok = exec(addr, "alice", PASSWORD, "whoami", &format!("{PIN}\n")).await;
    assert_eq!(ok.status, Some(0), "{ok:?}");

    let status = tokio::task::spawn_blocking(move || {
        let status = server.stop();
        (status, server.log_text())
    })
    .await
    .expect("stop thread");

    let (status, log) = status;
    assert!(status.success(), "{log}");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
            assert!(v.is_object(), "not an object: {line:?}");
            v
        })
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|e| e["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"ssh listening"), "{log}");
    assert!(messages.contains(&"stopped"), "{log}");
    let listening = events
        .iter()
        .find(|e| e["fields"]["message"] == "ssh listening")
        .expect("listening event");
    assert_eq!(listening["fields"]["addr"], addr.to_string());
    assert!(events.iter().all(|e| e["level"].is_string()), "{log}");
}

#[test]
fn text_logs_written_to_a_file_carry_no_terminal_escapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(dir.path(), &[]);
    server.wait_listening();
    assert!(server.stop().success());

    let log = server.log_text();

    assert!(log.contains("ssh listening"), "{log}");
    assert!(!log.contains('\x1b'), "{log:?}");
}

// Multi-threaded: the client winds down while the test blocks in `stop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_variables_configure_the_server_like_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let envs = [
        ("KEEPER_DATA_DIR", "store"),
        ("KEEPER_HOST_KEY", "secrets/host_key"),
        ("KEEPER_SSH_ADDR", ":0"),
        ("KEEPER_HTTP_ADDR", ":0"),
        ("KEEPER_LOG_FORMAT", "json"),
    ];
    let mut server = Daemon::spawn(dir.path(), &[], &envs, &dir.path().join("serve.log"));

    let addr = server.wait_listening();
    let key = presented_host_key(addr).await;

    assert!(addr.ip().is_loopback(), "{addr}");
    assert!(dir.path().join("store/keeper.db").is_file());
    assert!(!dir.path().join("data").exists());
    assert_eq!(mode(&dir.path().join("secrets/host_key")), 0o600);
    let on_disk = russh::keys::load_secret_key(dir.path().join("secrets/host_key"), None)
        .expect("host key file");
    assert_eq!(on_disk.public_key(), &key);
    let log = server.log_text();
    assert!(
        log.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "{log}"
    );
    assert!(server.stop().success());
}

#[test]
fn an_address_that_does_not_parse_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");

    let failed = start_expecting_failure(dir.path(), &["--ssh-addr", "not-an-address"]);

    assert_eq!(failed.code, Some(2), "usage error: {}", failed.stderr);
    assert!(
        failed.stderr.contains("not-an-address"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    assert!(!dir.path().join("data").exists(), "nothing created");
}

#[test]
fn sigterm_stops_the_server_even_when_its_stderr_pipe_was_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keeper"))
        .current_dir(dir.path())
        .args([
            "serve",
            "--ssh-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keeper serve");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("http listening") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut stderr, &mut line).expect("read") > 0,
            "no ready line"
        );
    }
    // The reader goes away, as when `keeper serve | head` exits.
    drop(stderr);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let deadline = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("keeper serve ignored SIGTERM after its stderr closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(killed.success());
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_huge_idle_lock_is_a_usage_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");

    let failed = start_expecting_failure(
        dir.path(),
        &[
            "--ssh-addr",
            "127.0.0.1:0",
            "--idle-lock-secs",
            "18446744073709551615",
        ],
    );

    assert_eq!(failed.code, Some(2), "usage error: {}", failed.stderr);
    assert!(
        failed.stderr.contains("idle-lock-secs"),
        "{}",
        failed.stderr
    );
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
}
