//! Registration policy (SPEC §12) from the outside: a server on a public
//! address will not start open unless told to; `closed` refuses every new
//! account over SSH and HTTP; `invite` takes one-time codes that
//! `keeper admin invite` prints, each good for one account until it
//! expires, audited on the operator channel.

mod helpers;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use helpers::{PASSWORD, PIN, Shell, TestServer};
use keeper::config::RegistrationArg;
use serde_json::{Value, json};

/// `keeper ARGS` in `dir`, with the test database when there is one.
fn keeper(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keeper"));
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    if let Some((name, url)) = helpers::db_env(dir) {
        cmd.env(name, url);
    }
    cmd.output().expect("run keeper")
}

fn invite(dir: &Path, expires: &str) -> String {
    let out = keeper(
        dir,
        &[
            "admin",
            "invite",
            "--data-dir",
            "data",
            "--audit-key",
            "keys/audit_key",
            "--expires",
            expires,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(
        code.split('-').map(str::len).collect::<Vec<_>>(),
        [6; 4],
        "{code}"
    );
    code
}

async fn register(server: &TestServer, login: &str, invite: Option<&str>) -> (u16, Value) {
    let mut body = json!({"login": login, "password": PASSWORD, "pin": PIN});
    if let Some(code) = invite {
        body["invite"] = json!(code);
    }
    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/v1/users", server.http_addr))
        .json(&body)
        .send()
        .await
        .expect("answer");
    let status = resp.status().as_u16();
    if status != 201 {
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
    (status, resp.json().await.expect("json"))
}

#[test]
fn a_server_on_a_public_address_does_not_start_open_unless_told() {
    let dir = tempfile::tempdir().expect("dir");
    let out = keeper(
        dir.path(),
        &[
            "serve",
            "--ssh-addr",
            "0.0.0.0:0",
            "--http-addr",
            "127.0.0.1:0",
        ],
    );
    assert!(!out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to start with registration open"),
        "{err}"
    );
    assert!(err.contains("--registration open, invite"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing was written before refusing"
    );
}

#[tokio::test]
async fn closed_registration_refuses_ssh_and_http_with_a_clear_message() {
    let server = TestServer::start_with(|a| a.registration = Some(RegistrationArg::Closed)).await;
    let (status, problem) = register(&server, "alice", None).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("registration is closed")
    );
    let mut sh = Shell::connect(server.ssh_addr, "new", None)
        .await
        .expect("connect");
    sh.start_pty_shell().await;
    let said = sh.finish().await;
    assert!(
        said.contains("registration is closed on this server"),
        "{said}"
    );
    assert_eq!(sh.exit_status, Some(1));
}

#[tokio::test]
async fn an_invite_makes_one_account_and_then_is_used_up() {
    let server = TestServer::start_with(|a| a.registration = Some(RegistrationArg::Invite)).await;
    let dir = server.path().to_owned();

    let (status, problem) = register(&server, "alice", None).await;
    assert_eq!(status, 403);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("needs an invite code")
    );
    let (status, problem) = register(&server, "alice", Some("not-a-code")).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["field"], "invite");
    let (status, _) = register(&server, "alice", Some("AAAAAA-AAAAAA-AAAAAA-AAAAAA")).await;
    assert_eq!(status, 403, "an unknown code");

    let code = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || invite(&dir, "7d")
    })
    .await
    .expect("invite");
    let (status, created) = register(&server, "alice", Some(&code.to_lowercase())).await;
    assert_eq!(status, 201, "{created}");
    let (status, problem) = register(&server, "bob", Some(&code)).await;
    assert_eq!(status, 403);
    assert_eq!(
        problem["detail"],
        "the invite code is unknown, used or expired"
    );

    // Over SSH: the dialogue asks for the code first.
    let code = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || invite(&dir, "1h")
    })
    .await
    .expect("invite");
    let mut sh = Shell::connect(server.ssh_addr, "new", None)
        .await
        .expect("connect");
    sh.start_pty_shell().await;
    sh.expect("Invite code: ").await;
    sh.line(&code).await;
    sh.expect("Login: ").await;
    sh.line("carol").await;
    sh.expect("Password").await;
    sh.line(PASSWORD).await;
    sh.expect("Repeat: ").await;
    sh.line(PASSWORD).await;
    sh.expect("PIN").await;
    sh.line(PIN).await;
    sh.expect("Repeat: ").await;
    sh.line(PIN).await;
    sh.expect("carol@keeper> ").await;
    sh.line("exit").await;
    sh.finish().await;

    // An expired code is refused.
    let code = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || invite(&dir, "1s")
    })
    .await
    .expect("invite");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _) = register(&server, "dave", Some(&code)).await;
    assert_eq!(status, 403, "an expired code");

    // Each invite is audited on the operator channel, and the chain holds.
    let listed = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || {
            let list = keeper(
                &dir,
                &[
                    "audit",
                    "list",
                    "--data-dir",
                    "data",
                    "--audit-key",
                    "keys/audit_key",
                    "--channel",
                    "operator",
                    "--json",
                ],
            );
            let verify = keeper(
                &dir,
                &[
                    "audit",
                    "verify",
                    "--data-dir",
                    "data",
                    "--audit-key",
                    "keys/audit_key",
                ],
            );
            (list, verify)
        }
    })
    .await
    .expect("audit");
    let (list, verify) = listed;
    let lines = String::from_utf8_lossy(&list.stdout);
    assert_eq!(lines.matches("admin.invite").count(), 3, "{lines}");
    assert!(!lines.contains(&code), "no code in the audit log");
    assert!(verify.status.success(), "{verify:?}");
}

#[tokio::test]
async fn an_invite_code_is_checked_before_a_bad_expiry_is_accepted() {
    let dir = tempfile::tempdir().expect("dir");
    for bad in ["0s", "91d", "soon", "7w"] {
        let out = keeper(dir.path(), &["admin", "invite", "--expires", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
    }
}

#[tokio::test]
async fn without_a_working_invite_a_stranger_cannot_tell_taken_logins() {
    let server = TestServer::start_with(|a| a.registration = Some(RegistrationArg::Invite)).await;
    let dir = server.path().to_owned();
    let code = tokio::task::spawn_blocking(move || invite(&dir, "1h"))
        .await
        .expect("invite");
    assert_eq!(register(&server, "alice", Some(&code)).await.0, 201);
    // alice is taken, but a wrong code says only that the code is wrong.
    let (status, problem) = register(&server, "alice", Some("BBBBBB-BBBBBB-BBBBBB-BBBBBB")).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(
        problem["detail"],
        "the invite code is unknown, used or expired"
    );
}
