//! Faults and races that must never lose acknowledged work or leave a
//! session open that should have ended: concurrent credential changes,
//! concurrent creates against the item limit, and a PIN change while
//! another session waits at a question. Every test drives a real server
//! from outside, over HTTP and SSH, on SQLite and (with
//! `KEEPER_TEST_DATABASE_URL`) on PostgreSQL.

mod helpers;

use std::sync::Arc;

use helpers::{PASSWORD, PIN, TestServer};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const NEW_PASSWORD: &str = "a wholly different passphrase";
const NEW_PIN: &str = "7413";

fn api(server: &TestServer, path: &str) -> String {
    format!("http://{}/api/v1{path}", server.http_addr)
}

async fn register(server: &TestServer, login: &str) {
    let reply = reqwest::Client::new()
        .post(api(server, "/users"))
        .json(&json!({ "login": login, "password": PASSWORD, "pin": PIN }))
        .send()
        .await
        .expect("register");
    assert_eq!(
        reply.status(),
        201,
        "{}",
        reply.text().await.unwrap_or_default()
    );
}

/// `POST /sessions`: the token, or the status it was refused with.
async fn log_in(
    server: &TestServer,
    login: &str,
    password: &str,
    pin: &str,
) -> Result<String, u16> {
    let reply = reqwest::Client::new()
        .post(api(server, "/sessions"))
        .json(&json!({ "login": login, "password": password, "pin": pin }))
        .send()
        .await
        .expect("log in");
    let status = reply.status().as_u16();
    if status != 201 {
        return Err(status);
    }
    let body: Value = reply.json().await.expect("token body");
    Ok(body["token"].as_str().expect("token").to_owned())
}

/// `PUT url` with a bearer token: the status.
async fn put(url: String, token: String, body: Value) -> u16 {
    reqwest::Client::new()
        .put(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("put")
        .status()
        .as_u16()
}

/// `GET path` with a bearer token: the status and the JSON body.
async fn get(server: &TestServer, path: &str, token: &str) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .get(api(server, path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_and_a_pin_change_at_once_never_lose_one_that_was_acknowledged() {
    let server = TestServer::start().await;
    let mut raced = 0;
    for round in 0..8 {
        let login = format!("alice{round}");
        register(&server, &login).await;
        let token = log_in(&server, &login, PASSWORD, PIN).await.expect("token");
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let change = |path: &str, body: Value| {
            let (barrier, url, token) = (barrier.clone(), api(&server, path), token.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                put(url, token, body).await
            })
        };
        let password_change = change(
            "/users/current/password",
            json!({ "current_password": PASSWORD, "pin": PIN, "new_password": NEW_PASSWORD }),
        );
        let pin_change = change(
            "/users/current/pin",
            json!({ "password": PASSWORD, "current_pin": PIN, "new_pin": NEW_PIN }),
        );
        let password_status = password_change.await.expect("task");
        let pin_status = pin_change.await.expect("task");
        println!("round {round}: password change {password_status}, PIN change {pin_status}");
        raced += usize::from(password_status == 409 || pin_status == 409);

        // A change that was not acknowledged must not have happened; one
        // that was must hold. The first to commit always wins.
        for status in [password_status, pin_status] {
            assert!([200, 401, 409].contains(&status), "round {round}: {status}");
        }
        assert!(
            password_status == 200 || pin_status == 200,
            "round {round}: neither change went through ({password_status}, {pin_status})"
        );
        let password = if password_status == 200 {
            NEW_PASSWORD
        } else {
            PASSWORD
        };
        let pin = if pin_status == 200 { NEW_PIN } else { PIN };
        assert!(
            log_in(&server, &login, password, pin).await.is_ok(),
            "round {round}: password change {password_status}, PIN change {pin_status}, \
             yet the credentials they imply do not unlock"
        );
    }
    // A 409 is only given when the two changes overlapped: without one the
    // rounds never tested the race.
    assert!(raced > 0, "no round raced: the changes never overlapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_creates_at_once_store_no_more_than_the_item_limit() {
    let server = TestServer::start_with(|args| args.limits.items_per_kind = 5).await;
    register(&server, "alice").await;
    let token = log_in(&server, "alice", PASSWORD, PIN)
        .await
        .expect("token");

    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut creates = JoinSet::new();
    for n in 0..20 {
        let (barrier, url, token) = (barrier.clone(), api(&server, "/passwords"), token.clone());
        creates.spawn(async move {
            barrier.wait().await;
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({
                    "name": format!("site{n}"),
                    "url": "https://example.test",
                    "username": "alice",
                    "password": "hunter2-but-longer",
                    "note": null,
                }))
                .send()
                .await
                .expect("create")
                .status()
                .as_u16()
        });
    }
    let statuses = creates.join_all().await;

    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (5, 15), "{statuses:?}");
    let (_, listed) = get(&server, "/passwords", &token).await;
    assert_eq!(listed.as_array().expect("a list").len(), 5, "{listed}");
}

#[tokio::test]
async fn a_session_waiting_at_a_question_ends_when_the_pin_is_changed_elsewhere() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    let mut waiting = server.login("alice").await;
    waiting.line("card add").await;
    waiting.expect("Name: ").await;
    waiting.line("visa").await;
    waiting.expect("Card number: ").await;
    a_pin_change_ends(&server, waiting).await;
}

/// `ssh -t host card add`: the command asks its questions on the terminal,
/// and a PIN change elsewhere ends it there too.
#[tokio::test]
async fn a_command_given_a_terminal_ends_at_its_question_when_the_pin_is_changed_elsewhere() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    let mut waiting = helpers::Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("log in");
    waiting
        .channel
        .request_pty(true, "xterm", 80, 24, 0, 0, &[])
        .await
        .expect("pty");
    waiting.channel.exec(true, "card add").await.expect("exec");
    waiting.expect("PIN: ").await;
    waiting.line(PIN).await;
    waiting.expect("Name: ").await;
    waiting.line("visa").await;
    waiting.expect("Card number: ").await;
    a_pin_change_ends(&server, waiting).await;
}

/// Changes alice's PIN over HTTP while `waiting` sits at `Card number:`;
/// the session must say so and end, and nothing typed after reaches the vault.
async fn a_pin_change_ends(server: &TestServer, mut waiting: helpers::Shell) {
    let token = log_in(server, "alice", PASSWORD, PIN).await.expect("token");
    let changed = put(
        api(server, "/users/current/pin"),
        token,
        json!({ "password": PASSWORD, "current_pin": PIN, "new_pin": NEW_PIN }),
    )
    .await;
    assert_eq!(changed, 200);

    waiting.expect("changed in another session").await;
    // Whatever is typed now reaches no vault.
    let _ = waiting
        .channel
        .data(&b"4111111111111111\r12/30\r\r\r\r"[..])
        .await;
    let rest = waiting.finish().await;
    assert!(!rest.contains("Added card"), "{rest}");
    assert_eq!(waiting.exit_status, Some(1), "{rest}");

    let token = log_in(server, "alice", PASSWORD, NEW_PIN)
        .await
        .expect("new PIN");
    let (_, cards) = get(server, "/cards", &token).await;
    assert_eq!(cards, json!([]), "a card was written after the PIN change");
}

// ---- a damaged database or a lost audit key ----

/// Runs `keeper serve` in `dir` as an operator would start it there, and
/// waits for it to give up: its exit status and what it printed.
fn serve_refuses(dir: &std::path::Path) -> (std::process::ExitStatus, String) {
    let env = helpers::db_env(dir);
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut daemon = helpers::Daemon::spawn(
        dir,
        &["--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
        &envs,
        &dir.join("refused.log"),
    );
    let status = daemon.wait_exit();
    (status, daemon.log_text())
}

/// A stopped server's directory whose database holds alice, a few items
/// and their audit records.
async fn used_vault() -> tempfile::TempDir {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    let token = log_in(&server, "alice", PASSWORD, PIN)
        .await
        .expect("token");
    for n in 0..60 {
        let reply = reqwest::Client::new()
            .post(api(&server, "/passwords"))
            .bearer_auth(&token)
            .json(&json!({
                "name": format!("site{n}"),
                "url": format!("https://site{n}.example.test/login"),
                "username": "alice",
                "password": format!("long enough password number {n}"),
                "note": "a note to take up some room in the page",
            }))
            .send()
            .await
            .expect("create");
        assert_eq!(reply.status(), 201);
    }
    server.stop().await
}

#[tokio::test]
async fn a_database_file_with_a_damaged_page_is_refused_at_start_with_what_to_do() {
    let dir = used_vault().await;
    if helpers::postgres_base().is_some() {
        // PostgreSQL checks its own pages; what Keeper can check there is
        // that its tables are all there and readable.
        helpers::sql_at(dir.path(), "DROP TABLE throttle").await;
    } else {
        helpers::sql_at(dir.path(), "PRAGMA wal_checkpoint(TRUNCATE)").await;
        let path = dir.path().join("data/keeper.db");
        let mut bytes = std::fs::read(&path).expect("read database");
        let middle = bytes.len() / 2 / 4096 * 4096;
        assert!(middle >= 4096, "the database is {} bytes", bytes.len());
        for (i, byte) in bytes[middle..middle + 4096].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        std::fs::write(&path, &bytes).expect("damage the database");
    }

    let (status, log) = serve_refuses(dir.path());

    assert!(!status.success(), "{log}");
    assert!(log.contains("damaged"), "{log}");
    assert!(log.contains("keeper backup"), "{log}");
    assert!(!log.contains("listening"), "{log}");
}

#[tokio::test]
async fn a_lost_audit_key_stops_the_start_and_is_not_replaced() {
    let dir = used_vault().await;
    let key_path = dir.path().join("keys/audit_key");
    let key = std::fs::read(&key_path).expect("audit key");
    std::fs::remove_file(&key_path).expect("lose the key");

    let (status, log) = serve_refuses(dir.path());

    assert!(!status.success(), "{log}");
    assert!(
        log.contains("audit key") && log.contains("missing"),
        "{log}"
    );
    assert!(
        !key_path.exists(),
        "a new key was left in place of the lost one"
    );

    // With the key back, everything is as it was.
    std::fs::write(&key_path, key).expect("restore the key");
    let server = TestServer::start_in(dir).await;
    assert!(log_in(&server, "alice", PASSWORD, PIN).await.is_ok());
}

#[tokio::test]
async fn an_audit_key_that_is_not_the_databases_stops_the_start() {
    use base64::Engine;
    let dir = used_vault().await;
    let key_path = dir.path().join("keys/audit_key");
    let other = base64::engine::general_purpose::STANDARD.encode([0x5a_u8; 32]);
    std::fs::write(&key_path, format!("{other}\n")).expect("swap the key");

    let (status, log) = serve_refuses(dir.path());

    assert!(!status.success(), "{log}");
    assert!(log.contains("is not the one"), "{log}");
}

// ---- a full disk ----

/// A tmpfs mounted for a test, lazily unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`2m`) at `path`; `None` where this machine
    /// does not let the tests mount one.
    fn mount(path: &std::path::Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).ok()?;
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Self(path.to_owned()))
    }

    fn resize(&self, size: &str) {
        let resized = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("run mount");
        assert!(resized.success(), "cannot resize the tmpfs");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// PostgreSQL with its items on a full disk: the items table is moved to a
/// tablespace on a small tmpfs (its WAL and every other table keep their
/// room, as when a data volume fills). A create is refused with 507 and
/// changes nothing, reads and logins go on, and once there is room again
/// creates work without a restart.
#[tokio::test]
async fn on_postgresql_a_full_tablespace_refuses_creates_keeps_reads_and_logins_and_recovers() {
    if helpers::postgres_base().is_none() {
        skipped("the PostgreSQL full-disk test needs KEEPER_TEST_DATABASE_URL");
        return;
    }
    let mount = tempfile::tempdir().expect("tempdir");
    let space = mount.path().join("space");
    std::fs::create_dir(&space).expect("mount point");
    let Some(disk) = Tmpfs::mount(&space, "512k") else {
        skipped("this machine does not allow mounting a tmpfs (needs root)");
        return;
    };
    let owned = std::process::Command::new("chown")
        .args(["postgres:postgres"])
        .arg(&space)
        .status()
        .is_ok_and(|s| s.success());
    // The database server must reach the directory: not under a private
    // temporary directory of this user's.
    let reachable = owned
        && std::process::Command::new("chmod")
            .arg("0755")
            .arg(mount.path())
            .status()
            .is_ok_and(|s| s.success());
    if !reachable {
        skipped("cannot give the tmpfs to the postgres user (needs root and a local server)");
        return;
    }
    let tablespace = format!(
        "keeper_full_{:x}",
        keeper::crypto::random_id().unsigned_abs()
    );
    let server = TestServer::start().await;
    register(&server, "alice").await;
    let token = log_in(&server, "alice", PASSWORD, PIN)
        .await
        .expect("token");
    helpers::sql_at(
        server.path(),
        &format!(
            "CREATE TABLESPACE {tablespace} LOCATION '{}'",
            space.display()
        ),
    )
    .await;
    helpers::sql_at(
        server.path(),
        &format!("ALTER TABLE items SET TABLESPACE {tablespace}"),
    )
    .await;

    let (created, refusal) = fill(&server, &token).await;
    let (status, body) = refusal.expect("512 KiB never filled up");
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("disk is full"), "{body}");
    for _ in 0..20 {
        assert_eq!(entries(&server, &token).await, (200, created));
        assert!(log_in(&server, "alice", PASSWORD, PIN).await.is_ok());
    }
    let listed = server.run("alice", "pass list").await;
    assert_eq!(listed.status, Some(0), "{listed:?}");

    disk.resize("8m");
    let (status, body) = add_entry(&server, &token, "after-the-resize").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(entries(&server, &token).await, (200, created + 1));
    println!(
        "PostgreSQL items on a full 512 KiB tablespace: {created} entries stored, 507 then, \
         20 reads and 20 logins served while full, a create accepted right after the resize"
    );

    let dir = server.stop().await;
    helpers::sql_at(dir.path(), "ALTER TABLE items SET TABLESPACE pg_default").await;
    helpers::sql_at(dir.path(), &format!("DROP TABLESPACE {tablespace}")).await;
    drop(disk);
}

/// Adds entries until one is refused (at most 3000): how many were stored,
/// and the refusal's status and body.
async fn fill(server: &TestServer, token: &str) -> (usize, Option<(u16, String)>) {
    let mut created = 0;
    for n in 0..3000 {
        match add_entry(server, token, &format!("site{n}")).await {
            (201, _) => created += 1,
            refused => return (created, Some(refused)),
        }
    }
    (created, None)
}

async fn add_entry(server: &TestServer, token: &str, name: &str) -> (u16, String) {
    let reply = reqwest::Client::new()
        .post(api(server, "/passwords"))
        .bearer_auth(token)
        .json(&json!({
            "name": name,
            "url": null,
            "username": null,
            "password": "a password long enough to matter",
            "note": "n".repeat(4000),
        }))
        .send()
        .await
        .expect("create");
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

async fn entries(server: &TestServer, token: &str) -> (u16, usize) {
    let (status, listed) = get(server, "/passwords", token).await;
    (status, listed.as_array().map_or(0, Vec::len))
}

/// Says why a test did not run, past libtest's capture, so a skip is seen
/// in the CI log and not taken for a pass.
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

#[tokio::test]
async fn a_full_disk_refuses_changes_keeps_reads_and_logins_and_recovers_without_a_restart() {
    if helpers::postgres_base().is_some() {
        skipped("the SQLite full-disk test (PostgreSQL's is the tablespace test)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = Tmpfs::mount(&dir.path().join("data"), "8m") else {
        skipped("this machine does not allow mounting a tmpfs (needs root)");
        return;
    };
    let server = TestServer::start_in(dir).await;
    register(&server, "alice").await;
    let token = log_in(&server, "alice", PASSWORD, PIN)
        .await
        .expect("token");

    let (mut created, refusal) = fill(&server, &token).await;
    let (status, body) = refusal.expect("8 MiB never filled up");
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("disk is full"), "{body}");
    assert!(body.starts_with('{'), "a problem document: {body}");

    // Reads and logins go on, over HTTP and SSH; changes are refused whole.
    for _ in 0..20 {
        assert_eq!(entries(&server, &token).await, (200, created));
        assert!(log_in(&server, "alice", PASSWORD, PIN).await.is_ok());
    }
    let listed = server.run("alice", "pass list").await;
    assert_eq!(listed.status, Some(0), "{listed:?}");
    // Over SSH too a change is refused with the reason once there is no
    // room. What the refusals and checkpoints free may take a change or a
    // few first (over HTTP here, to fill it faster); none is half-written.
    let mut refused = None;
    for round in 0..50 {
        for n in 0..3000 {
            if add_entry(&server, &token, &format!("refill{round}-{n}"))
                .await
                .0
                != 201
            {
                break;
            }
            created += 1;
        }
        let out = server
            .run(
                "alice",
                &format!("pass add --name ssh{round} --password 'a long enough one'"),
            )
            .await;
        if out.status == Some(0) {
            created += 1;
        } else {
            refused = Some(out);
            break;
        }
    }
    let refused = refused.expect("the disk never filled up again");
    assert_eq!(refused.status, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("disk is full"), "{refused:?}");
    assert_eq!(entries(&server, &token).await, (200, created));

    // Room again: changes are accepted again, without a restart.
    disk.resize("32m");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = add_entry(&server, &token, "after-the-cleanup").await;
        if status == 201 {
            break;
        }
        assert_eq!(status, 507, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "writes never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(entries(&server, &token).await, (200, created + 1));
    println!(
        "full 8 MiB disk: {created} entries stored, 20 reads and 20 logins served while full, \
         writes back {:?} after the resize",
        std::time::Duration::from_secs(10).saturating_sub(deadline - std::time::Instant::now())
    );
    server.stop().await;
}
