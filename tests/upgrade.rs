//! A database written by the previous release opens in this one.
//!
//! `tests/fixtures/before-normalisation` holds what an earlier release
//! left when it kept passwords and item names as typed: its account and
//! names must keep working however they are typed now.
//!
//! `tests/fixtures/release-1` holds what that release left in a data dir:
//! `keeper.db` (cards and passwords in a table each, schema version 7) and
//! the keys it was written under. On SQLite the test serves the file
//! itself; on PostgreSQL (`KEEPER_TEST_DATABASE_URL`) it builds the old
//! schema from that release's migrations and fills it with the file's
//! rows. Either way the server migrates at start, and every item must then
//! open with its owner's password and PIN, with the fields it was stored
//! with, over HTTP and SSH.

mod helpers;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use helpers::{PASSWORD, PIN, TestServer};
use serde_json::{Value, json};
use sqlx::Connection;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release-1");
/// A data dir written by a release that kept passwords and item names as
/// typed: olga registered with a password in NFD and stored the passwords
/// `cafe\u{301}` (NFD) and `Straße`.
const BEFORE_NORMALISATION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/before-normalisation"
);

/// What the previous release stored, as the API reveals it.
fn stored() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Value,
)> {
    vec![
        (
            "alice",
            PIN,
            "cards",
            "visa",
            json!({"number": "4111111111111111", "holder": "Ada Lovelace",
                   "expiry": "12/30", "cvv": "123", "note": "analytical engine"}),
        ),
        (
            "alice",
            PIN,
            "cards",
            "Amex Café",
            json!({"number": "378282246310005", "expiry": "03/29"}),
        ),
        (
            "bob",
            "8642",
            "cards",
            "visa",
            json!({"number": "5555555555554444", "holder": "Grace Hopper",
                   "expiry": "01/31", "cvv": "456"}),
        ),
        (
            "alice",
            PIN,
            "passwords",
            "github",
            json!({"url": "https://github.com/login", "username": "ada",
                   "password": "s3cret-Passw0rd!", "note": "recovery codes in the drawer"}),
        ),
        (
            "alice",
            PIN,
            "passwords",
            "Straße",
            json!({"password": "zweites Geheimnis"}),
        ),
        (
            "alice",
            PIN,
            "passwords",
            "visa",
            json!({"username": "ada@example.test", "password": "same name as a card"}),
        ),
        (
            "bob",
            "8642",
            "passwords",
            "github",
            json!({"username": "grace", "password": "an0ther-Secret?"}),
        ),
    ]
}

fn copy_private(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy a fixture file");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// A working directory holding the previous release's data dir and keys.
async fn old_release_dir() -> tempfile::TempDir {
    old_dir(FIXTURE).await
}

/// A working directory holding the data dir and keys of `fixture`.
async fn old_dir(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(fixture);
    std::fs::create_dir_all(dir.path().join("keys")).expect("keys dir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    for key in ["audit_key", "audit_checkpoint", "ssh_host_ed25519_key"] {
        copy_private(
            &fixture.join("keys").join(key),
            &dir.path().join("keys").join(key),
        );
    }
    match helpers::database_for(dir.path()) {
        Some(url) => load_into_old_postgres_schema(&fixture.join("keeper.db"), &url).await,
        None => copy_private(
            &fixture.join("keeper.db"),
            &dir.path().join("data/keeper.db"),
        ),
    }
    dir
}

/// Builds the previous release's PostgreSQL schema at `url` (its three
/// migrations, as sqlx applied them) and copies every row of `db` into it.
async fn load_into_old_postgres_schema(db: &Path, url: &str) {
    let old = tempfile::tempdir().expect("tempdir");
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    for file in [
        "0001_initial.sql",
        "0002_throttle_hashed.sql",
        "0003_audit_heads_authenticated.sql",
    ] {
        std::fs::copy(migrations.join(file), old.path().join(file)).expect("old migration");
    }
    let mut pg = sqlx::PgConnection::connect(url).await.expect("postgres");
    sqlx::migrate::Migrator::new(old.path())
        .await
        .expect("old migrations")
        .run(&mut pg)
        .await
        .expect("old schema");
    let mut lite = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .expect("fixture");
    let time = |text: String| {
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .expect("stored time")
    };

    type User = (i64, String, String, Vec<u8>, Vec<u8>, String, String);
    type Item = (i64, i64, Vec<u8>, Vec<u8>, i64, String, String);
    type Head = (i64, i64, Vec<u8>, i64, Vec<u8>);
    let users: Vec<User> = sqlx::query_as(
        "SELECT id, login, password_hash, kek_salt, wrapped_dek, created_at, updated_at FROM users",
    )
    .fetch_all(&mut lite)
    .await
    .expect("users");
    for (id, login, hash, salt, dek, created, updated) in users {
        sqlx::query("INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(login)
            .bind(hash)
            .bind(salt)
            .bind(dek)
            .bind(time(created))
            .bind(time(updated))
            .execute(&mut pg)
            .await
            .expect("user row");
    }
    for table in ["cards", "passwords"] {
        let rows: Vec<Item> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, user_id, name_index, sealed, version, created_at, updated_at FROM {table}"
        )))
        .fetch_all(&mut lite)
        .await
        .expect("item rows");
        for (id, user, index, sealed, version, created, updated) in rows {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7)"
            )))
            .bind(id)
            .bind(user)
            .bind(index)
            .bind(sealed)
            .bind(version)
            .bind(time(created))
            .bind(time(updated))
            .execute(&mut pg)
            .await
            .expect("item row");
        }
    }
    type Event = (
        i64,
        String,
        Option<i64>,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        i64,
        Vec<u8>,
    );
    let events: Vec<Event> = sqlx::query_as(
        "SELECT id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac \
         FROM audit_events ORDER BY id",
    )
    .fetch_all(&mut lite)
    .await
    .expect("audit rows");
    for (id, at, user, channel, addr, action, target, outcome, prev, mac) in events {
        sqlx::query(
            "INSERT INTO audit_events (id, at, user_id, channel, remote_addr, action, target, \
             outcome, prev_id, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(time(at))
        .bind(user)
        .bind(channel)
        .bind(addr)
        .bind(action)
        .bind(target)
        .bind(outcome)
        .bind(prev)
        .bind(mac)
        .execute(&mut pg)
        .await
        .expect("audit row");
    }
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), MAX(id)) FROM audit_events",
    )
    .execute(&mut pg)
    .await
    .expect("audit sequence");
    let heads: Vec<Head> =
        sqlx::query_as("SELECT chain, last_id, mac, count, head_mac FROM audit_heads")
            .fetch_all(&mut lite)
            .await
            .expect("heads");
    for (chain, last, mac, count, head_mac) in heads {
        sqlx::query("INSERT INTO audit_heads VALUES ($1, $2, $3, $4, $5)")
            .bind(chain)
            .bind(last)
            .bind(mac)
            .bind(count)
            .bind(head_mac)
            .execute(&mut pg)
            .await
            .expect("head row");
    }
    let _ = lite.close().await;
    let _ = pg.close().await;
}

async fn token(server: &TestServer, login: &str, pin: &str) -> String {
    let reply = reqwest::Client::new()
        .post(format!("http://{}/api/v1/sessions", server.http_addr))
        .json(&json!({"login": login, "password": PASSWORD, "pin": pin}))
        .send()
        .await
        .expect("log in");
    assert_eq!(
        reply.status(),
        201,
        "{login} logs in with the old password and PIN"
    );
    let body: Value = reply.json().await.expect("token");
    body["token"].as_str().expect("token").to_owned()
}

async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let reply = reqwest::Client::new()
        .get(format!("http://{}/api/v1{path}", server.http_addr))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(reply.status(), 200, "GET {path}");
    reply.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_of_the_previous_release_serves_every_item_after_the_migration() {
    let server = TestServer::start_in(old_release_dir().await).await;

    let expected = stored();
    let mut opened = 0;
    for (login, pin, route, name, fields) in &expected {
        let token = token(&server, login, pin).await;
        let listed = get(&server, &token, &format!("/{route}")).await;
        let listed = listed.as_array().expect("a list");
        let own = expected
            .iter()
            .filter(|(l, _, r, _, _)| l == login && r == route)
            .count();
        assert_eq!(listed.len(), own, "{login}'s {route}: {listed:?}");
        let item = listed
            .iter()
            .find(|item| item["name"] == *name)
            .unwrap_or_else(|| panic!("{login}'s {route} lists {name}: {listed:?}"));
        let id = match &item["id"] {
            Value::String(id) => id.clone(),
            id => id.to_string(),
        };
        let revealed = get(&server, &token, &format!("/{route}/{id}")).await;
        for (key, value) in fields.as_object().expect("fields") {
            assert_eq!(
                &revealed[key], value,
                "{login}'s {name}: {key} in {revealed}"
            );
        }
        assert_eq!(revealed["version"], 1, "{revealed}");
        opened += 1;
    }
    assert_eq!(opened, 7);

    // Over SSH too, and a name stays unique per kind, not across kinds.
    let shown = server
        .run("alice", "pass show github --reveal --json")
        .await;
    assert_eq!(shown.status, Some(0), "{shown:?}");
    let shown: Value = serde_json::from_str(&shown.stdout).expect("json");
    assert_eq!(shown["password"], "s3cret-Passw0rd!");
    let again = server
        .run("alice", "pass add --name Straße --password another")
        .await;
    assert_eq!(again.status, Some(1), "{again:?}");
    assert!(again.stderr.contains("already"), "{again:?}");
    let card = server.run("alice", "card show visa --json").await;
    assert_eq!(card.status, Some(0), "{card:?}");
    assert!(card.stdout.contains("Ada Lovelace"), "{card:?}");

    let dir = server.stop().await;
    let kinds = helpers::scalar_at(
        dir.path(),
        "SELECT COUNT(DISTINCT kind) FROM items WHERE kind IN ('card', 'password')",
    )
    .await;
    assert_eq!(kinds, 2, "both kinds live in the one items table");
    assert_eq!(
        helpers::scalar_at(dir.path(), "SELECT COUNT(*) FROM items").await,
        7
    );
    // The old release's audit chains, and this one's records after them.
    let verified = tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_keeper"))
            .arg("audit")
            .arg("verify")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--audit-key")
            .arg(dir.path().join("keys/audit_key"))
            .args(helpers::db_flag(dir.path()))
            .output()
            .expect("keeper audit verify")
    });
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{said}");
    assert!(said.contains("intact"), "{said}");
}

/// An account made when passwords were kept as typed logs in however its
/// accents are typed now, and names stored then are found by the spelling
/// they were stored in and by the composed one; a name written again moves
/// to the current index, where look-alike spellings find it too.
#[tokio::test]
async fn an_account_and_names_from_before_normalisation_keep_working() {
    let server = TestServer::start_in(old_dir(BEFORE_NORMALISATION).await).await;
    let nfd = "cre\u{300}me bru\u{302}le\u{301}e pass";
    let nfc = "cr\u{e8}me br\u{fb}l\u{e9}e pass";
    let addr = server.ssh_addr;
    let show = |password: &'static str, command: String| async move {
        helpers::exec(addr, "olga", password, &command, "2580\n").await
    };
    for typed in [nfd, nfc] {
        let session = reqwest::Client::new()
            .post(format!("http://{}/api/v1/sessions", server.http_addr))
            .json(&json!({ "login": "olga", "password": typed, "pin": "2580" }))
            .send()
            .await
            .expect("log in");
        assert_eq!(session.status(), 201, "{typed:?}");
        for (name, password) in [
            ("caf\u{e9}", "p1-secret-value"),
            ("cafe\u{301}", "p1-secret-value"),
            ("Straße", "p2-secret-value"),
        ] {
            let out = show(typed, format!("pass show '{name}' --reveal --json")).await;
            assert_eq!(out.status, Some(0), "{typed:?} {name:?}: {out:?}");
            assert!(out.stdout.contains(password), "{name:?}: {out:?}");
        }
    }

    let edited = show(nfc, "pass edit Straße --username olga".to_owned()).await;
    assert_eq!(edited.status, Some(0), "{edited:?}");
    let folded = show(nfc, "pass show STRASSE --reveal --json".to_owned()).await;
    assert_eq!(folded.status, Some(0), "{folded:?}");
    assert!(folded.stdout.contains("p2-secret-value"), "{folded:?}");
}
