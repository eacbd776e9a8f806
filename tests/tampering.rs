//! Someone with write access to the database: an item rolled back to an
//! older ciphertext, two items' name indexes swapped, audit rows holding
//! terminal escapes, and the files Keeper writes while they are written.
//! Runs on SQLite and, with `KEEPER_TEST_DATABASE_URL`, on PostgreSQL.

mod helpers;

use std::path::Path;
use std::process::Command;

use helpers::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_keeper");

async fn sql(dir: &Path, statement: &str) {
    helpers::sql_at(dir, statement).await;
}

async fn scalar(dir: &Path, query: &str) -> i64 {
    helpers::scalar_at(dir, query).await
}

fn on_postgres() -> bool {
    helpers::postgres_base().is_some()
}

#[tokio::test]
async fn an_item_rolled_back_to_an_older_ciphertext_is_refused_as_tampering() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run("alice", "pass add --name bank --password old-Secret-1")
        .await;
    sql(
        server.path(),
        "CREATE TABLE snapshot AS SELECT id, sealed FROM items",
    )
    .await;
    let edited = server
        .run("alice", "pass edit bank --password new-Secret-2")
        .await;
    assert_eq!(edited.status, Some(0), "{edited:?}");

    sql(
        server.path(),
        "UPDATE items SET sealed = (SELECT s.sealed FROM snapshot s WHERE s.id = items.id)",
    )
    .await;
    let shown = server.run("alice", "pass show bank --reveal").await;

    assert_ne!(shown.status, Some(0), "{shown:?}");
    assert!(!shown.stdout.contains("old-Secret-1"), "{shown:?}");
    assert!(shown.stderr.contains("integrity"), "{shown:?}");
    let flagged = scalar(
        server.path(),
        "SELECT COUNT(*) FROM audit_events WHERE action = 'item.tampered'",
    )
    .await;
    assert!(flagged >= 1, "the tampering is audited");
}

#[tokio::test]
async fn swapped_name_indexes_never_show_or_delete_the_wrong_item() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
        .run("alice", "pass add --name bank --password bank-Secret-1")
        .await;
    server
        .run("alice", "pass add --name mail --password mail-Secret-2")
        .await;
    let dir = server.path();
    sql(
        dir,
        "CREATE TABLE snapshot AS SELECT id, name_index FROM items",
    )
    .await;
    // Move both out of the way first: the unique index holds per row.
    if on_postgres() {
        sql(
            dir,
            "UPDATE items SET name_index = name_index || '\\xff'::bytea",
        )
        .await;
    } else {
        sql(
            dir,
            "UPDATE items SET name_index = CAST(name_index || x'ff' AS BLOB)",
        )
        .await;
    }
    sql(
        dir,
        "UPDATE items SET name_index = \
         (SELECT s.name_index FROM snapshot s WHERE s.id <> items.id)",
    )
    .await;

    let shown = server.run("alice", "pass show bank --reveal").await;
    let removed = server.run("alice", "pass rm mail -f").await;

    assert_ne!(shown.status, Some(0), "{shown:?}");
    assert!(!shown.stdout.contains("mail-Secret-2"), "{shown:?}");
    assert!(shown.stderr.contains("integrity"), "{shown:?}");
    assert_ne!(removed.status, Some(0), "{removed:?}");
    assert_eq!(
        scalar(dir, "SELECT COUNT(*) FROM items").await,
        2,
        "nothing was deleted"
    );
}

#[tokio::test]
async fn a_card_relabelled_as_a_password_never_opens_as_one() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let added = server
        .run(
            "alice",
            "card add --name visa --number 4111111111111111 --expiry 12/30 --cvv 123",
        )
        .await;
    assert_eq!(added.status, Some(0), "{added:?}");
    // Kinds are a column: one UPDATE moves a card among the passwords.
    sql(
        server.path(),
        "UPDATE items SET kind = 'password' WHERE kind = 'card'",
    )
    .await;

    let listed = server.run("alice", "pass list --json").await;
    let shown = server.run("alice", "pass show visa --reveal").await;

    for out in [&listed, &shown] {
        assert_ne!(out.status, Some(0), "{out:?}");
        assert!(!out.stdout.contains("4111"), "{out:?}");
    }
    assert!(listed.stderr.contains("integrity"), "{listed:?}");
    let flagged = scalar(
        server.path(),
        "SELECT COUNT(*) FROM audit_events WHERE action = 'item.tampered'",
    )
    .await;
    assert!(flagged >= 1, "the tampering is audited");
}

#[tokio::test]
async fn audit_list_escapes_what_an_edited_row_holds() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let dir = server.stop().await;
    let escape = if on_postgres() {
        "E'\\x1b'"
    } else {
        "char(27)"
    };
    let bel = if on_postgres() { "E'\\x07'" } else { "char(7)" };
    sql(
        dir.path(),
        &format!(
            "UPDATE audit_events SET remote_addr = {escape} || ']52;c;SGVsbG8=' || {bel}, \
             target = {escape} || '[2J'"
        ),
    )
    .await;

    for json in [false, true] {
        let mut cmd = Command::new(BIN);
        cmd.args(["audit", "list"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--audit-key")
            .arg(dir.path().join("keys/audit_key"))
            .args(helpers::db_flag(dir.path()));
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("keeper audit list");
        let stdout = String::from_utf8_lossy(&out.stdout);

        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("52;c;SGVsbG8="),
            "the row is listed: {stdout}"
        );
        assert!(
            !stdout.contains('\x1b') && !stdout.contains('\x07'),
            "raw control characters in `audit list{}`: {stdout:?}",
            if json { " --json" } else { "" }
        );
    }
}

/// Polls the mode of `path` while `keeper backup` writes it.
#[tokio::test]
async fn a_backup_is_private_from_its_first_byte() {
    if on_postgres() {
        eprintln!(
            "skipped: the SQLite backup's file mode (the pg_dump archive's is checked in operations.rs)"
        );
        return;
    }
    let server = TestServer::start().await;
    server.register("alice").await;
    let dir = server.stop().await;
    // Eight MiB of filler, so that the copy takes a while to write.
    sql(
        dir.path(),
        "CREATE TABLE filler AS WITH RECURSIVE n(i) AS \
         (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2048) \
         SELECT randomblob(4096) AS b FROM n",
    )
    .await;
    let dest = dir.path().join("copy.db");

    let mut child = Command::new(BIN)
        .arg("backup")
        .arg(&dest)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("KEEPER_DB")
        .spawn()
        .expect("keeper backup");
    let mut modes = std::collections::BTreeSet::new();
    loop {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&dest) {
            modes.insert(meta.permissions().mode() & 0o777);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
    }

    assert!(child.wait().expect("wait").success());
    assert_eq!(
        modes.into_iter().collect::<Vec<_>>(),
        vec![0o600],
        "modes seen while the backup was written"
    );
}

/// The stored password hash of `login`.
async fn password_hash(dir: &Path, login: &str) -> String {
    let dir = dir.to_owned();
    let query = format!("SELECT password_hash FROM users WHERE login = '{login}'");
    match helpers::database_for(&dir) {
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("db");
            sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .fetch_one(&mut conn)
                .await
                .expect("hash")
        }
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&helpers::sqlite_url(&dir))
                .await
                .expect("db");
            sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .fetch_one(&mut conn)
                .await
                .expect("hash")
        }
    }
}

fn plain_pool() -> keeper::crypto::HashPool {
    keeper::crypto::HashPool::new(keeper::crypto::KdfParams::default(), 1, 4)
}

#[tokio::test]
async fn a_stolen_password_hash_cannot_test_a_guess_without_the_server_key() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let dir = server.stop().await;

    let stolen = password_hash(dir.path(), "alice").await;
    // The attacker's own Argon2, with the right password as the guess.
    let tried = plain_pool()
        .verify_password(
            zeroize::Zeroizing::new(helpers::PASSWORD.as_bytes().to_vec()),
            stolen.clone(),
        )
        .await;

    assert!(
        stolen.starts_with("$argon2id$") && stolen.contains("keyid="),
        "{stolen}"
    );
    assert!(
        !tried.is_ok_and(|v| v.matches),
        "the right password verified against the stolen hash alone"
    );
}

#[tokio::test]
async fn a_hash_from_before_the_pepper_still_logs_in_and_is_upgraded() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let old = plain_pool()
        .hash_password(zeroize::Zeroizing::new(
            helpers::PASSWORD.as_bytes().to_vec(),
        ))
        .await
        .expect("hash");
    sql(
        server.path(),
        &format!("UPDATE users SET password_hash = '{old}' WHERE login = 'alice'"),
    )
    .await;

    let out = server.run("alice", "whoami").await;

    assert_eq!(out.status, Some(0), "{out:?}");
    let dir = server.stop().await;
    let now = password_hash(dir.path(), "alice").await;
    assert_ne!(now, old);
    assert!(now.contains("keyid="), "{now}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_found_altered_is_logged_with_the_request_or_session_that_found_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = helpers::db_env(dir.path());
    let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    envs.push(("RUST_LOG", "info"));
    let mut daemon = helpers::Daemon::spawn(
        dir.path(),
        &["--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
        &envs,
        &dir.path().join("serve.log"),
    );
    let ssh = daemon.wait_listening();
    let http = daemon
        .log_text()
        .lines()
        .filter(|l| l.contains("http listening"))
        .find_map(helpers::socket_addr_in)
        .expect("http address");
    helpers::register_at(ssh, "alice", helpers::PASSWORD, helpers::PIN).await;
    let added = helpers::exec(
        ssh,
        "alice",
        helpers::PASSWORD,
        "pass add --name bank --password bank-Secret-1",
        &format!("{}\n", helpers::PIN),
    )
    .await;
    assert_eq!(added.status, Some(0), "{added:?}");
    // Another version's ciphertext: the row no longer opens.
    sql(dir.path(), "UPDATE items SET version = version + 1").await;

    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{http}/api/v1/sessions"))
        .json(&serde_json::json!({
            "login": "alice", "password": helpers::PASSWORD, "pin": helpers::PIN,
        }))
        .send()
        .await
        .expect("log in")
        .json()
        .await
        .expect("token");
    let listed = reqwest::Client::new()
        .get(format!("http://{http}/api/v1/passwords"))
        .bearer_auth(token["token"].as_str().expect("token"))
        .send()
        .await
        .expect("list");
    assert!(!listed.status().is_success());
    let shown = helpers::exec(
        ssh,
        "alice",
        helpers::PASSWORD,
        "pass list",
        &format!("{}\n", helpers::PIN),
    )
    .await;
    assert_ne!(shown.status, Some(0), "{shown:?}");

    let log = helpers::strip_ansi(&daemon.log_text());
    let found: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("failed its integrity check"))
        .collect();
    assert!(
        found
            .iter()
            .any(|l| l.contains("http{method=GET route=/api/v1/passwords request=")),
        "{log}"
    );
    assert!(
        found
            .iter()
            .any(|l| l.contains("ssh{peer=127.0.0.1:") && l.contains("login=alice")),
        "{log}"
    );
    assert!(!log.contains("bank-Secret-1"), "{log}");
    daemon.stop();
}
