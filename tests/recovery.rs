//! The recovery key (SPEC §12) from the outside: shown once at
//! registration over SSH and HTTP, it sets a new password and PIN through
//! `ssh recover@` and `POST /recovery`; every old session and token ends,
//! the old key and credentials stop working, the vault stays readable, and
//! wrong keys are throttled like wrong passwords.

mod helpers;

use helpers::{PASSWORD, PIN, Shell, TestServer};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a brand new passphrase";
const NEW_PIN: &str = "8642";

/// The recovery key a transcript shows: 8 groups of 5.
fn key_in(text: &str) -> String {
    let clean = helpers::strip_ansi(text);
    clean
        .split_whitespace()
        .find(|w| {
            let groups: Vec<&str> = w.split('-').collect();
            groups.len() == 8
                && groups.iter().all(|g| {
                    g.len() == 5
                        && g.chars()
                            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
                })
        })
        .unwrap_or_else(|| panic!("no recovery key in {clean:?}"))
        .to_owned()
}

async fn http_post(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("http://{}/api/v1{path}", server.http_addr))
        .json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn token(
    server: &TestServer,
    login: &str,
    password: &str,
    pin: &str,
) -> (u16, Option<String>) {
    let (status, body) = http_post(
        server,
        "/sessions",
        None,
        json!({"login": login, "password": password, "pin": pin}),
    )
    .await;
    (status, body["token"].as_str().map(str::to_owned))
}

/// Answers the recovery dialogue's new password (asked already) and PIN.
async fn new_credentials(sh: &mut Shell) {
    sh.line(NEW_PASSWORD).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PASSWORD).await;
    sh.expect("New PIN (4-12 digits): ").await;
    sh.line(NEW_PIN).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PIN).await;
}

async fn list_with(server: &TestServer, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("http://{}/api/v1/passwords", server.http_addr))
        .bearer_auth(token)
        .send()
        .await
        .expect("answer")
        .status()
        .as_u16()
}

#[tokio::test]
async fn ssh_recover_sets_a_new_password_and_pin_ends_old_sessions_and_issues_a_new_key() {
    let server = TestServer::start().await;
    let shown = server.register_showing("alice").await;
    assert!(
        shown.contains("Your recovery key, shown this once"),
        "{shown}"
    );
    assert!(
        shown.contains("a forgotten password or PIN loses the vault"),
        "{shown}"
    );
    let first_key = key_in(&shown);
    let out = server
        .run(
            "alice",
            "pass add --name github --password Kept-Through-Recovery-1",
        )
        .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let (_, old_token) = token(&server, "alice", PASSWORD, PIN).await;
    let old_token = old_token.expect("token");
    let mut open = server.login("alice").await;

    // A wrong key first: told plainly, asked again.
    let mut sh = Shell::connect(server.ssh_addr, "recover", None)
        .await
        .expect("connect");
    sh.start_pty_shell().await;
    sh.expect("Login: ").await;
    sh.line("alice").await;
    sh.expect("Recovery key: ").await;
    sh.line("AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA")
        .await;
    let refused = sh.expect("Login: ").await;
    sh.line("alice").await;
    sh.expect("Recovery key: ").await;
    sh.line(&first_key.to_lowercase()).await;
    sh.expect("New password (8+ characters): ").await;
    new_credentials(&mut sh).await;
    let recovered = sh.expect("alice@keeper> ").await;
    let listed = sh
        .command("pass show github --field password", "alice@keeper> ")
        .await;
    sh.line("exit").await;
    sh.finish().await;

    assert!(refused.contains("wrong login or recovery key"), "{refused}");
    assert!(
        !refused.contains("AAAAA-AAAAA"),
        "the key typed was echoed: {refused}"
    );
    assert!(!recovered.contains(&first_key), "{recovered}");
    assert!(
        recovered.contains("every other session and API token of it has ended"),
        "{recovered}"
    );
    let second_key = key_in(&recovered);
    assert_ne!(second_key, first_key);
    assert!(listed.contains("Kept-Through-Recovery-1"), "{listed}");

    // The session open before ends; the old token, password and key are dead.
    let ended = open.finish().await;
    assert!(ended.contains("changed in another session"), "{ended}");
    assert_eq!(list_with(&server, &old_token).await, 401);
    assert_eq!(token(&server, "alice", PASSWORD, PIN).await.0, 401);
    let (status, fresh) = token(&server, "alice", NEW_PASSWORD, NEW_PIN).await;
    assert_eq!(status, 201);
    assert_eq!(list_with(&server, &fresh.expect("token")).await, 200);
    let (status, body) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "alice", "recovery_key": first_key, "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 401, "the old key is refused: {body}");
    assert_eq!(body["detail"], "wrong login or recovery key");

    let exec = helpers::exec(server.ssh_addr, "recover", "x", "whoami", "").await;
    assert_eq!(exec.status, Some(2), "{exec:?}");
    assert!(exec.stderr.contains("ssh recover@HOST"), "{exec:?}");
}

#[tokio::test]
async fn http_registration_answers_the_key_and_recovery_answers_a_new_one() {
    let server = TestServer::start().await;
    let (status, created) = http_post(
        &server,
        "/users",
        None,
        json!({"login": "bob", "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["login"], "bob");
    let key = created["recovery_key"]
        .as_str()
        .expect("recovery_key")
        .to_owned();
    assert_eq!(key.len(), 47, "{key}");
    let (_, old) = token(&server, "bob", PASSWORD, PIN).await;
    let old = old.expect("token");
    let (status, _) = http_post(
        &server,
        "/passwords",
        Some(&old),
        json!({"name": "mail", "password": "Http-Recovery-Kept-2"}),
    )
    .await;
    assert_eq!(status, 201);

    for (body, status) in [
        (
            json!({"login": "bob", "recovery_key": "short", "password": NEW_PASSWORD, "pin": NEW_PIN}),
            400,
        ),
        (
            json!({"login": "bob", "recovery_key": key, "password": "short", "pin": NEW_PIN}),
            400,
        ),
        (
            json!({"login": "bob", "recovery_key": key, "password": NEW_PASSWORD, "pin": "1111"}),
            400,
        ),
        (
            json!({"login": "nobody", "recovery_key": key, "password": NEW_PASSWORD, "pin": NEW_PIN}),
            401,
        ),
    ] {
        let (got, problem) = http_post(&server, "/recovery", None, body.clone()).await;
        assert_eq!(got, status, "{body}: {problem}");
    }
    assert_eq!(
        list_with(&server, &old).await,
        200,
        "a refused recovery changes nothing"
    );

    let (status, answer) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "bob", "recovery_key": key.replace('-', " "), "password": NEW_PASSWORD, "pin": NEW_PIN}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let new_key = answer["recovery_key"].as_str().expect("new key").to_owned();
    assert_ne!(new_key, key);
    assert_eq!(
        list_with(&server, &old).await,
        401,
        "every token was revoked"
    );
    let (_, fresh) = token(&server, "bob", NEW_PASSWORD, NEW_PIN).await;
    let fresh = fresh.expect("token");
    let out = helpers::exec(
        server.ssh_addr,
        "bob",
        NEW_PASSWORD,
        "pass show mail --field password",
        &format!("{NEW_PIN}\n"),
    )
    .await;
    assert_eq!(out.stdout, "Http-Recovery-Kept-2\n", "{out:?}");

    // Re-issue: the password and PIN again, and the key before stops working.
    let (status, _) = http_post(
        &server,
        "/users/current/recovery-key",
        Some(&fresh),
        json!({"password": "wrong password!", "pin": NEW_PIN}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, reissued) = http_post(
        &server,
        "/users/current/recovery-key",
        Some(&fresh),
        json!({"password": NEW_PASSWORD, "pin": NEW_PIN}),
    )
    .await;
    assert_eq!(status, 200, "{reissued}");
    let third = reissued["recovery_key"].as_str().expect("key").to_owned();
    let (status, _) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "bob", "recovery_key": new_key, "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 401, "a re-issued key voids the one before");
    let (status, _) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "bob", "recovery_key": third, "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 200);

    let log = helpers::exec(
        server.ssh_addr,
        "bob",
        PASSWORD,
        "log --limit 100 --json",
        &format!("{PIN}\n"),
    )
    .await;
    for action in ["user.recover", "user.recovery_reissue"] {
        assert!(log.stdout.contains(action), "{action}: {}", log.stdout);
    }
    assert!(
        !log.stdout.contains(&third[..11]),
        "no key in the audit log"
    );
}

#[tokio::test]
async fn wrong_recovery_keys_are_throttled_like_wrong_passwords() {
    let server = TestServer::start_with(|args| args.limits.login_failures = 3).await;
    let (_, created) = http_post(
        &server,
        "/users",
        None,
        json!({"login": "carol", "password": PASSWORD, "pin": PIN}),
    )
    .await;
    let key = created["recovery_key"].as_str().expect("key").to_owned();
    let wrong = "BBBBB-BBBBB-BBBBB-BBBBB-BBBBB-BBBBB-BBBBB-BBBBB";
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _) = http_post(
            &server,
            "/recovery",
            None,
            json!({"login": "carol", "recovery_key": wrong, "password": NEW_PASSWORD, "pin": NEW_PIN}),
        )
        .await;
        statuses.push(status);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let (status, _) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "carol", "recovery_key": key, "password": NEW_PASSWORD, "pin": NEW_PIN}),
    )
    .await;
    assert_eq!(status, 429, "locked: even the right key waits");
    assert_eq!(
        token(&server, "carol", PASSWORD, PIN).await.0,
        201,
        "nothing changed"
    );
}

#[tokio::test]
async fn the_shell_shows_a_new_recovery_key_after_the_password() {
    let server = TestServer::start().await;
    let first = key_in(&server.register_showing("dave").await);
    let mut sh = server.login("dave").await;
    sh.line("recovery-key").await;
    sh.expect("Password: ").await;
    sh.line(PASSWORD).await;
    let shown = sh.expect("dave@keeper> ").await;
    sh.line("exit").await;
    sh.finish().await;
    assert!(!shown.contains(PASSWORD), "the password was echoed");
    let second = key_in(&shown);
    assert_ne!(first, second);
    let (status, _) = http_post(
        &server,
        "/recovery",
        None,
        json!({"login": "dave", "recovery_key": first, "password": NEW_PASSWORD, "pin": NEW_PIN}),
    )
    .await;
    assert_eq!(status, 401);
    let out = server.run("dave", "recovery-key").await;
    assert_eq!(out.status, Some(2), "exec cannot ask: {out:?}");
    // `recover` is no login anyone registers.
    let (status, problem) = http_post(
        &server,
        "/users",
        None,
        json!({"login": "recover", "password": PASSWORD, "pin": PIN}),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test]
async fn a_key_re_issued_while_a_recovery_is_under_way_stops_that_recovery() {
    let server = TestServer::start().await;
    let stolen = key_in(&server.register_showing("erin").await);
    // Someone holding the old key gets past the key check…
    let mut sh = Shell::connect(server.ssh_addr, "recover", None)
        .await
        .expect("connect");
    sh.start_pty_shell().await;
    sh.expect("Login: ").await;
    sh.line("erin").await;
    sh.expect("Recovery key: ").await;
    sh.line(&stolen).await;
    sh.expect("New password (8+ characters): ").await;
    // …while the owner, who noticed, gets a new key.
    let erin = token(&server, "erin", PASSWORD, PIN)
        .await
        .1
        .expect("token");
    let reissued = http_post(
        &server,
        "/users/current/recovery-key",
        Some(&erin),
        json!({"password": PASSWORD, "pin": PIN}),
    );
    assert_eq!(reissued.await.0, 200);
    new_credentials(&mut sh).await;
    let refused = sh.finish().await;
    assert!(refused.contains("changed meanwhile"), "{refused}");
    // …and audited, so that the owner sees the attempt they stopped.
    let stopped = helpers::scalar_at(
        server.path(),
        "SELECT COUNT(*) FROM audit_events WHERE action = 'user.recover' AND outcome = 'failed'",
    )
    .await;
    assert_eq!(stopped, 1);
    // Nothing changed: the owner's password, PIN and token still work.
    assert_eq!(token(&server, "erin", PASSWORD, PIN).await.0, 201);
    assert_eq!(token(&server, "erin", NEW_PASSWORD, NEW_PIN).await.0, 401);
    assert_eq!(list_with(&server, &erin).await, 200);
}
