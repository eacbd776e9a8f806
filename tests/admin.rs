//! Operators' account commands (SPEC §12) from the outside, against a live
//! server's database: `keeper admin users|disable|enable|unlock|delete` run
//! as separate processes while the server serves, audited on the operator
//! channel; and a user's own `account delete` over SSH and HTTP.

mod helpers;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use helpers::{PASSWORD, PIN, TestServer};
use serde_json::{Value, json};

/// `keeper ARGS` in `dir` (the server's data dir and keys by their
/// defaults, the test database when there is one), `stdin` typed in.
fn keeper_with(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keeper"));
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((name, url)) = helpers::db_env(dir) {
        cmd.env(name, url);
    }
    let mut child = cmd.spawn().expect("run keeper");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("keeper ends")
}

/// `keeper admin ARGS` for the server in `dir`, off the async threads.
async fn admin(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let dir = dir.to_owned();
    let args: Vec<String> = std::iter::once("admin".to_owned())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect();
    let stdin = stdin.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        keeper_with(&dir, &args, &stdin)
    })
    .await
    .expect("keeper thread");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn audit(dir: &Path, args: &[&str]) -> String {
    let dir = dir.to_owned();
    let args: Vec<String> = std::iter::once("audit".to_owned())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        keeper_with(&dir, &args, "")
    })
    .await
    .expect("keeper thread");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req =
        reqwest::Client::new().request(method, format!("http://{}/api/v1{path}", server.http_addr));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, token, Some(body)).await
}

/// Registers over HTTP; the recovery key shown.
async fn register(server: &TestServer, login: &str) -> String {
    let (status, body) = post(
        server,
        "/users",
        None,
        json!({"login": login, "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["recovery_key"].as_str().expect("key").to_owned()
}

async fn log_in(server: &TestServer, login: &str, pin: &str) -> (u16, Value) {
    post(
        server,
        "/sessions",
        None,
        json!({"login": login, "password": PASSWORD, "pin": pin}),
    )
    .await
}

async fn token_of(server: &TestServer, login: &str) -> String {
    let (status, body) = log_in(server, login, PIN).await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

async fn add_password(server: &TestServer, token: &str, name: &str) {
    let (status, body) = post(
        server,
        "/passwords",
        Some(token),
        json!({"name": name, "password": "Admin-Test-Secret-9"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

async fn list_status(server: &TestServer, token: &str) -> u16 {
    call(
        server,
        reqwest::Method::GET,
        "/passwords",
        Some(token),
        None,
    )
    .await
    .0
}

async fn user_id(dir: &Path, login: &str) -> i64 {
    helpers::scalar_at(
        dir,
        &format!("SELECT CAST(id AS BIGINT) FROM users WHERE login = '{login}'"),
    )
    .await
}

/// No table but the audit log holds a row of the user `id`.
async fn assert_no_rows_of(dir: &Path, id: i64) {
    for (table, column) in [
        ("users", "id"),
        ("items", "user_id"),
        ("item_counts", "user_id"),
        ("trash", "user_id"),
        ("tokens", "user_id"),
    ] {
        let n = helpers::scalar_at(
            dir,
            &format!("SELECT COUNT(*) FROM {table} WHERE {column} = {id}"),
        )
        .await;
        assert_eq!(n, 0, "{table} still holds a row of the deleted account");
    }
}

/// Answers `account delete`'s questions in alice's shell.
async fn delete_dialogue(sh: &mut helpers::Shell, pin: &str, typed: &str) {
    sh.line("account delete").await;
    sh.expect("Password: ").await;
    sh.line(PASSWORD).await;
    sh.expect("PIN: ").await;
    sh.line(pin).await;
    sh.expect("Type `alice` to delete the account: ").await;
    sh.line(typed).await;
}

#[tokio::test]
async fn users_lists_every_account_with_its_items_last_login_and_lock() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    register(&server, "bob").await;
    let token = token_of(&server, "alice").await;
    add_password(&server, &token, "github").await;
    add_password(&server, &token, "gitlab").await;
    // Five wrong PINs lock bob.
    for _ in 0..5 {
        assert_eq!(log_in(&server, "bob", "9713").await.0, 401);
    }
    assert_eq!(log_in(&server, "bob", PIN).await.0, 429);

    let (ok, out, err) = admin(server.path(), &["users"], "").await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("LOGIN"), "{out}");
    let alice = lines
        .iter()
        .find(|l| l.starts_with("alice "))
        .expect("alice");
    let bob = lines.iter().find(|l| l.starts_with("bob ")).expect("bob");
    assert!(alice.contains("  2  active"), "{out}");
    assert!(
        bob.contains("never") && bob.contains("locked until"),
        "{out}"
    );
    assert!(!out.contains("github"), "no item name is shown: {out}");

    let (ok, out, err) = admin(server.path(), &["users", "--json"], "").await;
    assert!(ok, "{err}");
    let listed: Vec<Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(listed.len(), 2, "{out}");
    assert_eq!(listed[0]["login"], "alice");
    assert_eq!(listed[0]["items"], 2);
    assert_eq!(listed[0]["locked"], false);
    assert_eq!(listed[0]["disabled"], false);
    assert!(listed[0]["last_login"].is_string(), "{out}");
    assert!(listed[0]["created_at"].is_string(), "{out}");
    assert_eq!(listed[1]["login"], "bob");
    assert_eq!(listed[1]["locked"], true);
    assert!(listed[1]["locked_until"].is_string(), "{out}");
    assert!(listed[1]["last_login"].is_null(), "{out}");
}

#[tokio::test]
async fn a_disabled_account_opens_on_no_channel_and_its_open_sessions_end() {
    let server = TestServer::start().await;
    let recovery_key = register(&server, "alice").await;
    let token = token_of(&server, "alice").await;
    add_password(&server, &token, "kept-while-disabled").await;
    let mut open = server.login("alice").await;

    let (ok, out, err) = admin(server.path(), &["disable", "alice"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("alice is disabled"), "{out}");

    // The shell open before ends, saying why; the token is dead.
    let ended = open.finish().await;
    assert!(ended.contains("operator disabled your account"), "{ended}");
    assert_eq!(list_status(&server, &token).await, 401);

    // SSH: the right password is told; a wrong one is not.
    let mut sh = helpers::Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("the right password gets in to be told");
    sh.start_pty_shell().await;
    let told = sh.finish().await;
    assert!(told.contains("this account is disabled"), "{told}");
    assert!(
        helpers::Shell::connect(server.ssh_addr, "alice", Some("wrong password here"))
            .await
            .is_err()
    );
    let exec = server.run("alice", "pass list").await;
    assert_eq!(exec.status, Some(1), "{exec:?}");
    assert!(exec.stderr.contains("this account is disabled"), "{exec:?}");

    // HTTP: a right login is refused with 403; a wrong PIN still reads 401.
    let (status, problem) = log_in(&server, "alice", PIN).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled"),
        "{problem}"
    );
    assert_eq!(log_in(&server, "alice", "9713").await.0, 401);
    // Nor does the recovery key open it.
    let (status, problem) = post(
        &server,
        "/recovery",
        None,
        json!({"login": "alice", "recovery_key": recovery_key,
               "password": "a brand new password", "pin": "7391"}),
    )
    .await;
    assert_eq!(status, 403, "{problem}");

    // Disabling twice changes nothing; enabling opens it as it was.
    let (ok, out, _) = admin(server.path(), &["disable", "alice"], "").await;
    assert!(ok && out.contains("already disabled"), "{out}");
    let (ok, out, err) = admin(server.path(), &["enable", "alice"], "").await;
    assert!(ok && out.contains("enabled again"), "{out}{err}");
    let (status, body) = log_in(&server, "alice", PIN).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        list_status(&server, &token).await,
        401,
        "old tokens stay dead"
    );
    let exec = server.run("alice", "pass list").await;
    assert!(exec.stdout.contains("kept-while-disabled"), "{exec:?}");

    // Each command is audited on the operator channel, and the chain holds.
    let log = audit(server.path(), &["list", "--channel", "operator"]).await;
    assert_eq!(log.matches("admin.disable").count(), 1, "{log}");
    assert_eq!(log.matches("admin.enable").count(), 1, "{log}");
    assert!(log.contains("alice"), "{log}");
    let verdict = audit(server.path(), &["verify"]).await;
    assert!(verdict.contains("audit log intact"), "{verdict}");
}

#[tokio::test]
async fn unlock_lifts_a_lockout_from_every_address_at_once() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    for _ in 0..5 {
        assert_eq!(log_in(&server, "alice", "9713").await.0, 401);
    }
    let (status, _) = log_in(&server, "alice", PIN).await;
    assert_eq!(status, 429, "locked, even with the right PIN");

    let (ok, out, err) = admin(server.path(), &["unlock", "alice"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("was locked until"), "{out}");
    let (status, body) = log_in(&server, "alice", PIN).await;
    assert_eq!(
        status, 201,
        "the owner gets in at once, from the same address: {body}"
    );
    let mut sh = server.login("alice").await;
    sh.line("exit").await;
    sh.finish().await;

    let (ok, out, _) = admin(server.path(), &["unlock", "alice"], "").await;
    assert!(ok && out.contains("was not locked"), "{out}");
    let log = audit(server.path(), &["list", "--action", "admin.unlock"]).await;
    assert_eq!(log.lines().count(), 2, "{log}");
}

#[tokio::test]
async fn delete_leaves_no_row_of_the_account_but_its_audit_chain() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    register(&server, "bob").await;
    let token = token_of(&server, "alice").await;
    add_password(&server, &token, "doomed-1").await;
    add_password(&server, &token, "doomed-2").await;
    let exec = server.run("alice", "pass rm doomed-2 --force").await;
    assert_eq!(exec.status, Some(0), "{exec:?}");
    // A failed attempt leaves a throttle row of the login.
    assert_eq!(log_in(&server, "alice", "9713").await.0, 401);
    let id = user_id(server.path(), "alice").await;
    let mut open = server.login("alice").await;

    // Asked first: a mistyped login deletes nothing.
    let (ok, _, err) = admin(server.path(), &["delete", "alice"], "alcie\n").await;
    assert!(!ok, "{err}");
    assert!(err.contains("nothing was deleted"), "{err}");
    assert_eq!(list_status(&server, &token).await, 200);
    let (ok, out, err) = admin(server.path(), &["delete", "alice"], "alice\n").await;
    assert!(ok, "{err}");
    assert!(out.contains("alice is deleted"), "{out}");

    let ended = open.finish().await;
    assert!(ended.contains("account was deleted"), "{ended}");
    assert_eq!(list_status(&server, &token).await, 401);
    assert_no_rows_of(server.path(), id).await;
    let owned_throttle = helpers::scalar_at(
        server.path(),
        "SELECT COUNT(*) FROM throttle WHERE owner IS NOT NULL",
    )
    .await;
    assert_eq!(owned_throttle, 0, "the login's throttle rows went with it");
    let kept = helpers::scalar_at(
        server.path(),
        &format!("SELECT COUNT(*) FROM audit_events WHERE user_id = {id}"),
    )
    .await;
    assert!(kept >= 5, "the account's audit records stay ({kept})");
    let verdict = audit(server.path(), &["verify"]).await;
    assert!(verdict.contains("audit log intact"), "{verdict}");
    let log = audit(
        server.path(),
        &["list", "--action", "admin.delete", "--json"],
    )
    .await;
    let event: Value = serde_json::from_str(log.trim()).expect("one event");
    assert_eq!(event["channel"], "operator");
    assert_eq!(
        event["user"],
        format!("#{id}"),
        "the id, as the login is gone"
    );
    // The session it ended wrote nothing after the deletion's record.
    let after = helpers::scalar_at(
        server.path(),
        &format!(
            "SELECT COUNT(*) FROM audit_events WHERE user_id = {id} AND id > \
             (SELECT MAX(id) FROM audit_events WHERE user_id = {id} AND action = 'admin.delete')"
        ),
    )
    .await;
    assert_eq!(after, 0, "records after the deletion's");

    // The login is free again, for a new and empty account; bob is untouched.
    assert_eq!(log_in(&server, "alice", PIN).await.0, 401);
    register(&server, "alice").await;
    let exec = server.run("alice", "pass list").await;
    assert!(!exec.stdout.contains("doomed"), "{exec:?}");
    let exec = server.run("bob", "whoami").await;
    assert_eq!(exec.stdout.trim(), "bob", "{exec:?}");

    // An unknown login, and one that is no login, are refused plainly.
    let (ok, _, err) = admin(server.path(), &["disable", "nobody"], "").await;
    assert!(!ok && err.contains("no user named `nobody`"), "{err}");
    let (ok, _, err) = admin(server.path(), &["delete", "Bad Login", "--yes"], "").await;
    assert!(!ok && err.contains("login"), "{err}");
}

#[tokio::test]
async fn a_user_deletes_their_own_account_over_ssh_and_over_http() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let id = user_id(server.path(), "alice").await;
    let other = server.login("alice").await;
    let mut sh = server.login("alice").await;

    // A wrong PIN deletes nothing; a login not typed out neither.
    delete_dialogue(&mut sh, "9713", "alice").await;
    let refused = sh.expect("alice@keeper> ").await;
    assert!(refused.contains("wrong password or PIN"), "{refused}");
    delete_dialogue(&mut sh, PIN, "yes").await;
    let refused = sh.expect("alice@keeper> ").await;
    assert!(refused.contains("not deleted"), "{refused}");
    assert_eq!(user_id(server.path(), "alice").await, id);

    delete_dialogue(&mut sh, PIN, "alice").await;
    let gone = sh.finish().await;
    assert!(gone.contains("are deleted. Goodbye."), "{gone}");
    let mut other = other;
    let ended = other.finish().await;
    assert!(ended.contains("account was deleted"), "{ended}");
    assert_no_rows_of(server.path(), id).await;
    let log = audit(server.path(), &["list", "--action", "user.delete"]).await;
    assert_eq!(log.lines().count(), 2, "the failed and the done: {log}");

    // Over HTTP: password and PIN in the body.
    register(&server, "bob").await;
    let token = token_of(&server, "bob").await;
    add_password(&server, &token, "bobs").await;
    let bob = user_id(server.path(), "bob").await;
    let (status, problem) = call(
        &server,
        reqwest::Method::DELETE,
        "/users/current",
        Some(&token),
        Some(json!({"password": PASSWORD, "pin": "9713"})),
    )
    .await;
    assert_eq!(status, 401, "{problem}");
    let (status, problem) = call(
        &server,
        reqwest::Method::DELETE,
        "/users/current",
        Some(&token),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        list_status(&server, &token).await,
        200,
        "nothing deleted yet"
    );
    let (status, _) = call(
        &server,
        reqwest::Method::DELETE,
        "/users/current",
        Some(&token),
        Some(json!({"password": PASSWORD, "pin": PIN})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(list_status(&server, &token).await, 401);
    assert_no_rows_of(server.path(), bob).await;
    let verdict = audit(server.path(), &["verify"]).await;
    assert!(verdict.contains("audit log intact"), "{verdict}");
}
