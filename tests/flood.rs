//! SPEC §8: "a flood of logins queues or is refused, it never exhausts memory
//! or starves unlocked sessions."
//!
//! The real binary runs with the per-address limit raised out of reach, as if
//! the flood came from many addresses, so every attempt reaches the Argon2
//! pool instead of being turned away by the address lock. 500 wrong logins,
//! half over SSH and half over HTTP, start at once while an unlocked SSH
//! shell keeps running commands. The test reads the server's peak resident
//! memory (`VmHWM`) from /proc and times every command of the shell.
//!
//! The bounds are generous (300 MB, 5 s for one command on a shared, busy
//! machine); the figures themselves are printed for the record
//! (`cargo test --test flood -- --nocapture`).

mod helpers;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use helpers::{Daemon, PASSWORD, PIN, Shell, connect, register_at};
use tokio::task::JoinSet;

const FLOOD: usize = 500;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(90);

/// How one wrong login ended, from the client's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Ending {
    /// Wrong credentials: SSH authentication failure or HTTP 401.
    Rejected,
    /// The Argon2 queue was full: HTTP 503 or SSH failure before the check.
    Busy,
    /// Locked out: HTTP 429.
    Throttled,
    /// The connection was refused or dropped (e.g. SSH MaxStartups).
    Dropped,
    /// No answer within the attempt's timeout.
    Hung,
    /// Anything else; the test fails on it.
    Unexpected(u16),
}

/// Peak and current resident memory of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("memory field")
    };
    (field("VmHWM:"), field("VmRSS:"))
}

async fn wrong_ssh_login(addr: SocketAddr, login: String) -> Ending {
    match tokio::time::timeout(
        ATTEMPT_TIMEOUT,
        connect(addr, &login, Some("not the password")),
    )
    .await
    {
        Err(_) => Ending::Hung,
        Ok(Err(e)) if e == "authentication rejected" => Ending::Rejected,
        Ok(Err(_)) => Ending::Dropped,
        Ok(Ok(_)) => Ending::Unexpected(200),
    }
}

async fn wrong_http_login(client: reqwest::Client, addr: SocketAddr, login: String) -> Ending {
    let request = client
        .post(format!("http://{addr}/api/v1/sessions"))
        .json(&serde_json::json!({ "login": login, "password": "not the password", "pin": "0000" }))
        .send();
    match tokio::time::timeout(ATTEMPT_TIMEOUT, request).await {
        Err(_) => Ending::Hung,
        Ok(Err(_)) => Ending::Dropped,
        Ok(Ok(r)) => match r.status().as_u16() {
            401 => Ending::Rejected,
            429 => Ending::Throttled,
            503 => Ending::Busy,
            other => Ending::Unexpected(other),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_neither_exhausts_memory_nor_starves_an_unlocked_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = helpers::db_env(dir.path());
    let db_env: Vec<(&str, &str)> = db.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut daemon = Daemon::spawn(
        dir.path(),
        &[
            "--ssh-addr",
            ":0",
            "--http-addr",
            ":0",
            "--address-failures",
            "1000000",
        ],
        &db_env,
        &dir.path().join("keeper.log"),
    );
    let ssh = daemon.wait_listening();
    let http = daemon.wait_logged_addr("http listening");
    register_at(ssh, "alice", PASSWORD, PIN).await;

    let mut shell = Shell::connect(ssh, "alice", Some(PASSWORD))
        .await
        .expect("alice logs in");
    shell.start_pty_shell().await;
    shell.expect("PIN: ").await;
    shell.line(PIN).await;
    shell.expect("alice@keeper> ").await;
    shell
        .command(
            "pass add --name github --username alice --password hunter2-long",
            "alice@keeper> ",
        )
        .await;
    let (_, rss_before) = memory_kib(daemon.pid());

    let client = reqwest::Client::new();
    let mut flood = JoinSet::new();
    for i in 0..FLOOD {
        let login = format!("ghost{i:03}");
        if i % 2 == 0 {
            flood.spawn(wrong_ssh_login(ssh, login));
        } else {
            flood.spawn(wrong_http_login(client.clone(), http, login));
        }
    }
    let started = Instant::now();

    let mut latencies = Vec::new();
    let mut endings = Vec::new();
    while !flood.is_empty() && started.elapsed() < ATTEMPT_TIMEOUT * 2 {
        let t = Instant::now();
        let out = shell.command("pass list", "alice@keeper> ").await;
        latencies.push(t.elapsed());
        assert!(out.contains("github"), "{out}");
        while let Some(done) = flood.try_join_next() {
            endings.push(done.expect("attempt task"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let flood_took = started.elapsed();
    let (peak, rss_after) = memory_kib(daemon.pid());

    let worst = latencies.iter().max().copied().unwrap_or_default();
    let mut sorted = latencies.clone();
    sorted.sort();
    let p50 = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    let mut counts = std::collections::BTreeMap::new();
    for e in &endings {
        *counts.entry(*e).or_insert(0) += 1;
    }
    println!(
        "flood of {FLOOD} wrong logins: over in {flood_took:.2?}; endings {counts:?}; \
         server RSS {rss_before} KiB before, {rss_after} KiB after, peak {peak} KiB; \
         unlocked shell ran {} commands, p50 {p50:.2?}, worst {worst:.2?}",
        latencies.len()
    );

    assert!(flood.is_empty(), "the flood did not end in time");
    assert_eq!(endings.len(), FLOOD);
    assert!(
        endings.iter().all(|e| matches!(
            e,
            Ending::Rejected | Ending::Busy | Ending::Throttled | Ending::Dropped
        )),
        "{counts:?}"
    );
    assert!(
        counts.get(&Ending::Rejected).copied().unwrap_or(0) > 0,
        "some attempts must reach the password check: {counts:?}"
    );
    assert!(peak < 300 * 1024, "peak RSS {peak} KiB");
    assert!(
        latencies.len() >= 2,
        "the shell must have run during the flood"
    );
    assert!(
        worst < Duration::from_secs(5),
        "worst command took {worst:?}"
    );

    shell.line("exit").await;
    shell.finish().await;
    assert!(daemon.stop().success());
}
