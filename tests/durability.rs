//! SIGKILL during a stream of writes loses no acknowledged write, leaves no
//! half-written item, and leaves the audit chain intact.

mod helpers;

use std::time::{Duration, Instant};

use helpers::{Daemon, PASSWORD, PIN};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start(dir: &std::path::Path, port: u16, log: &str) -> Daemon {
    let http = format!("127.0.0.1:{port}");
    let db = helpers::db_env(dir);
    let db_env: Vec<(&str, &str)> = db.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut daemon = Daemon::spawn(
        dir,
        &["--ssh-addr", "127.0.0.1:0", "--http-addr", &http],
        &db_env,
        &dir.join(log),
    );
    daemon.wait_listening();
    // The HTTP listener is up once it answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&http).is_err() {
        assert!(Instant::now() < deadline, "http did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_writes_loses_no_acknowledged_item() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut daemon = tokio::task::block_in_place(|| start(dir.path(), port, "first.log"));
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let creds = json!({ "login": "alice", "password": PASSWORD, "pin": PIN });
    assert_eq!(
        http.post(format!("{base}/users"))
            .json(&creds)
            .send()
            .await
            .expect("register")
            .status(),
        201
    );
    let token: Value = http
        .post(format!("{base}/sessions"))
        .json(&creds)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    let token = token["token"].as_str().expect("token").to_owned();

    // Kill the server without warning while writes stream in.
    let pid = daemon.pid();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill")
    });
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let name = format!("item-{n:05}");
        let body =
            json!({ "name": name, "password": format!("secret-{n}"), "note": "x".repeat(500) });
        match http
            .post(format!("{base}/passwords"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 201 => acknowledged.push(name),
            _ => break,
        }
    }
    assert!(killer.join().expect("killer").success());
    tokio::task::block_in_place(|| daemon.wait_exit());
    assert!(
        acknowledged.len() > 10,
        "only {} writes before the kill",
        acknowledged.len()
    );
    println!("{} creates acknowledged before SIGKILL", acknowledged.len());

    let mut daemon = tokio::task::block_in_place(|| start(dir.path(), port, "second.log"));
    let listed: Vec<Value> = http
        .get(format!("{base}/passwords"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = listed.iter().filter_map(|e| e["name"].as_str()).collect();

    for name in &acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "acknowledged {name} was lost"
        );
    }
    assert!(
        names.len() <= acknowledged.len() + 1,
        "{} stored, {} acknowledged",
        names.len(),
        acknowledged.len()
    );
    for entry in &listed {
        let id = entry["id"].as_str().expect("id");
        let full: Value = http
            .get(format!("{base}/passwords/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read")
            .json()
            .await
            .expect("whole item");
        let n = full["name"]
            .as_str()
            .and_then(|s| s.strip_prefix("item-"))
            .and_then(|s| s.parse::<u32>().ok());
        assert_eq!(
            full["password"],
            format!("secret-{}", n.expect("a name we wrote"))
        );
    }
    tokio::task::block_in_place(|| daemon.stop());

    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_keeper"))
        .current_dir(dir.path())
        .args(["audit", "verify"])
        .args(helpers::db_flag(dir.path()))
        .output()
        .expect("audit verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
