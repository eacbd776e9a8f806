//! Failed logins and PINs lock the login (and, in bulk, the address) for a
//! growing while, on every channel, without revealing whether a login exists.

mod helpers;

use helpers::{PASSWORD, PIN, TestServer};
use serde_json::json;

async fn session(server: &TestServer, login: &str, password: &str, pin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}/api/v1/sessions", server.http_addr))
        .json(&json!({ "login": login, "password": password, "pin": pin }))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_login_even_for_the_right_one() {
    let server = TestServer::start().await;
    server.register("alice").await;

    for _ in 0..5 {
        assert_eq!(
            session(&server, "alice", "wrong password", PIN)
                .await
                .status(),
            401
        );
    }
    let locked = session(&server, "alice", PASSWORD, PIN).await;

    assert_eq!(locked.status(), 429);
    let retry: u64 = locked
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
    let body: serde_json::Value = locked.json().await.expect("problem");
    assert_eq!(body["status"], 429);
}

#[tokio::test]
async fn a_lock_on_one_login_leaves_other_users_working() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bobby").await;

    for _ in 0..6 {
        session(&server, "alice", "wrong password", PIN).await;
    }

    assert_eq!(session(&server, "bobby", PASSWORD, PIN).await.status(), 201);
    let ssh = server.run("bobby", "whoami").await;
    assert_eq!(ssh.status, Some(0), "{}", ssh.stderr);
}

#[tokio::test]
async fn an_unknown_login_locks_exactly_like_a_real_one() {
    let server = TestServer::start().await;
    server.register("alice").await;

    let mut real = Vec::new();
    let mut ghost = Vec::new();
    for _ in 0..6 {
        let r = session(&server, "alice", "wrong password", PIN).await;
        real.push((r.status(), r.text().await.expect("body")));
        let g = session(&server, "nobody-here", "wrong password", PIN).await;
        ghost.push((g.status(), g.text().await.expect("body")));
    }

    assert_eq!(real, ghost);
    assert_eq!(real.last().map(|(s, _)| s.as_u16()), Some(429));
}

#[tokio::test]
async fn a_locked_login_is_refused_over_ssh_too() {
    let server = TestServer::start().await;
    server.register("alice").await;

    for _ in 0..5 {
        session(&server, "alice", "wrong password", PIN).await;
    }

    assert!(
        helpers::connect(server.ssh_addr, "alice", Some(PASSWORD))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn wrong_pins_lock_the_pin_and_the_lock_is_audited() {
    let server = TestServer::start().await;
    server.register("alice").await;

    for _ in 0..5 {
        let out = server.exec("alice", "whoami", "9999\n").await;
        assert_ne!(out.status, Some(0));
    }
    let locked = server.run("alice", "whoami").await;
    let token_attempt = session(&server, "alice", PASSWORD, PIN).await.status();

    assert_ne!(locked.status, Some(0));
    assert!(
        locked.stderr.contains("too many failed attempts"),
        "{}",
        locked.stderr
    );
    assert_eq!(token_attempt, 429);

    let dir = server.stop().await;
    let lockouts = helpers::scalar_at(
        dir.path(),
        "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.lockout'",
    )
    .await;
    assert!(lockouts >= 1);
}

#[tokio::test]
async fn a_user_may_hold_at_most_sixteen_shells_at_once() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let mut open = Vec::new();
    for _ in 0..16 {
        open.push(server.login("alice").await);
    }

    let mut extra = helpers::Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("connect");
    extra.start_pty_shell().await;
    extra.expect("PIN: ").await;
    extra.line(PIN).await;
    let refused = extra.finish().await;

    assert!(refused.contains("sessions open"), "{refused}");
    assert_eq!(extra.exit_status, Some(1));
    // Closing one frees its slot.
    let mut first = open.remove(0);
    first.line("exit").await;
    first.finish().await;
    let mut again = server.login("alice").await;
    assert!(
        again
            .command("whoami", "alice@keeper> ")
            .await
            .contains("alice")
    );
}

#[tokio::test]
async fn an_exec_counts_against_the_session_cap_and_the_cap_is_configurable() {
    let server = TestServer::start_with(|args| args.limits.sessions_per_user = 2).await;
    server.register("alice").await;
    let mut open = vec![server.login("alice").await, server.login("alice").await];

    let refused = server.run("alice", "whoami").await;

    assert_eq!(refused.status, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains("2 sessions open"),
        "{}",
        refused.stderr
    );
    let mut first = open.remove(0);
    first.line("exit").await;
    first.finish().await;
    let allowed = server.run("alice", "whoami").await;
    assert_eq!(allowed.status, Some(0), "{}", allowed.stderr);
    assert!(allowed.stdout.contains("alice"));
}

#[tokio::test]
async fn a_user_may_hold_at_most_fifty_tokens() {
    let server = TestServer::start().await;
    server.register("alice").await;

    for _ in 0..50 {
        assert_eq!(session(&server, "alice", PASSWORD, PIN).await.status(), 201);
    }
    let refused = session(&server, "alice", PASSWORD, PIN).await;

    assert_eq!(refused.status(), 409);
    let body: serde_json::Value = refused.json().await.expect("problem");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("50 active tokens")),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_current_passwords_in_a_password_change_count_as_failed_logins() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let token = session(&server, "alice", PASSWORD, PIN)
        .await
        .json::<serde_json::Value>()
        .await
        .expect("token")["token"]
        .as_str()
        .expect("token string")
        .to_owned();
    let change = |current: &str| {
        reqwest::Client::new()
            .put(format!(
                "http://{}/api/v1/users/current/password",
                server.http_addr
            ))
            .bearer_auth(&token)
            .json(&json!({ "current_password": current, "pin": PIN, "new_password": "a brand new passphrase" }))
            .send()
    };

    for _ in 0..5 {
        assert_eq!(change("wrong guess").await.expect("request").status(), 401);
    }
    let locked = change(PASSWORD).await.expect("request");

    assert_eq!(locked.status(), 429);
    assert_eq!(session(&server, "alice", PASSWORD, PIN).await.status(), 429);
}
