//! Operators' commands on whole databases: `keeper backup` of a running
//! SQLite vault, `keeper migrate` from SQLite into PostgreSQL, and what a
//! `pg_dump` of a used PostgreSQL database gives away (nothing secret).
//!
//! The PostgreSQL tests run when `KEEPER_TEST_DATABASE_URL` is set
//! (`scripts/test-postgres.sh`, CI) and otherwise say they were skipped.

mod helpers;

use std::path::Path;
use std::process::Output;

use helpers::scan::{Needle, Scanner, assert_scanner_finds_every_form};
use helpers::{PASSWORD, PIN, TestServer, fresh_postgres_schema, postgres_base};
use serde_json::{Value, json};

/// Runs the `keeper` binary with `args` in `dir`, no `KEEPER_*` from outside.
fn keeper(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keeper"));
    cmd.args(args).current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("KEEPER_") {
            cmd.env_remove(key);
        }
    }
    cmd.output().expect("run keeper")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A user of the HTTP API on one server.
struct Api {
    base: String,
    client: reqwest::Client,
    token: String,
}

impl Api {
    /// Registers `login` over HTTP and logs in.
    async fn register(server: &TestServer, login: &str) -> Self {
        let base = format!("http://{}/api/v1", server.http_addr);
        let client = reqwest::Client::new();
        let credentials = json!({ "login": login, "password": PASSWORD, "pin": PIN });
        let registered = client
            .post(format!("{base}/users"))
            .json(&credentials)
            .send()
            .await
            .expect("request");
        assert_eq!(registered.status(), 201);
        Self::log_in(server, login).await
    }

    async fn log_in(server: &TestServer, login: &str) -> Self {
        let base = format!("http://{}/api/v1", server.http_addr);
        let client = reqwest::Client::new();
        let credentials = json!({ "login": login, "password": PASSWORD, "pin": PIN });
        let session = client
            .post(format!("{base}/sessions"))
            .json(&credentials)
            .send()
            .await
            .expect("request");
        assert_eq!(session.status(), 201);
        let token = session.json::<Value>().await.expect("JSON")["token"]
            .as_str()
            .expect("token")
            .to_owned();
        Self {
            base,
            client,
            token,
        }
    }

    async fn create(&self, kind: &str, body: &Value) -> Value {
        let reply = self
            .client
            .post(format!("{}/{kind}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request");
        assert_eq!(reply.status(), 201);
        reply.json().await.expect("JSON")
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let reply = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }
}

fn password_body(i: usize) -> Value {
    json!({
        "name": format!("service-{i:05}"),
        "url": format!("https://svc{i}.example.test"),
        "username": format!("user{i}"),
        "password": format!("Secret-{i:05}-pw"),
        "note": format!("recovery code {i:05}"),
    })
}

/// `object` with `key` set to `value`.
fn with(mut object: Value, key: &str, value: Value) -> Value {
    object[key] = value;
    object
}

const CARD_NUMBERS: [&str; 3] = ["4111111111111111", "5555555555554444", "378282246310005"];

fn card_body(i: usize) -> Value {
    json!({
        "name": format!("card-{i}"),
        "number": CARD_NUMBERS[i],
        "expiry": "12/30",
        "holder": format!("HOLDER {i}"),
        "cvv": if i == 2 { "1234" } else { "123" },
    })
}

/// Every item of `api`'s vault, opened: `(name, item)` sorted by name.
async fn opened_items(api: &Api) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    for kind in ["passwords", "cards"] {
        let (status, list) = api.get(&format!("/{kind}")).await;
        assert_eq!(status, 200, "{list}");
        for entry in list.as_array().expect("list") {
            let id = entry["id"].as_str().expect("id");
            let (status, item) = api.get(&format!("/{kind}/{id}")).await;
            assert_eq!(status, 200, "{item}");
            all.push((item["name"].as_str().expect("name").to_owned(), item));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// The fields of an item that came from its owner (not ids or times).
fn given_fields(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(map) = item.as_object_mut() {
        map.retain(|k, _| {
            [
                "name", "url", "username", "password", "note", "number", "expiry", "holder", "cvv",
            ]
            .contains(&k.as_str())
        });
    }
    item
}

#[tokio::test]
async fn a_backup_of_a_running_sqlite_vault_is_a_consistent_copy_that_serves() {
    // This test is about the SQLite file: it runs on SQLite in both suites.
    let server = TestServer::start_with(|a| a.db = None).await;
    let api = Api::register(&server, "alice").await;
    for i in 0..20 {
        api.create("passwords", &password_body(i)).await;
    }
    let before = opened_items(&api).await;

    // Writes keep coming while the backup runs.
    let writer = {
        let api = Api::log_in(&server, "alice").await;
        tokio::spawn(async move {
            for i in 20..60 {
                api.create("passwords", &password_body(i)).await;
            }
        })
    };
    let dest = server.path().join("backup.db");
    let data = server.data_dir();
    let run = {
        let (cwd, data, dest) = (server.path().to_owned(), data.clone(), dest.clone());
        tokio::task::spawn_blocking(move || {
            keeper(
                &cwd,
                &[
                    "backup",
                    "--data-dir",
                    data.to_str().expect("utf-8"),
                    dest.to_str().expect("utf-8"),
                ],
            )
        })
        .await
        .expect("backup task")
    };
    writer.await.expect("writer");
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(
        text(&run.stdout).contains("integrity check ok"),
        "{}",
        text(&run.stdout)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dest)
        .expect("backup")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let again = keeper(
        server.path(),
        &[
            "backup",
            "--data-dir",
            data.to_str().expect("utf-8"),
            dest.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );

    // A server started on the copy (with the same keys) serves the vault.
    let restored = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(restored.path().join("data")).expect("mkdir");
    std::fs::copy(&dest, restored.path().join("data/keeper.db")).expect("copy");
    std::fs::create_dir_all(restored.path().join("keys")).expect("mkdir");
    for key in ["audit_key", "ssh_host_ed25519_key"] {
        std::fs::copy(
            server.path().join("keys").join(key),
            restored.path().join("keys").join(key),
        )
        .expect("copy key");
    }
    let verify = keeper(restored.path(), &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));

    let copy = TestServer::start_in_with(restored, |a| a.db = None).await;
    let reopened = opened_items(&Api::log_in(&copy, "alice").await).await;
    assert!(reopened.len() >= before.len() && reopened.len() <= 60);
    for item in &before {
        assert!(
            reopened.contains(item),
            "{} missing from the backup",
            item.0
        );
    }
}

#[tokio::test]
async fn migrate_moves_a_sqlite_vault_into_postgres_and_every_item_opens_with_the_pin() {
    let Some(base) = postgres_base() else {
        eprintln!("skipped: KEEPER_TEST_DATABASE_URL is not set");
        return;
    };
    let items: usize = std::env::var("KEEPER_MIGRATE_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let server = TestServer::start_with(|a| a.db = None).await;
    let alice = Api::register(&server, "alice").await;
    let bob = Api::register(&server, "bob").await;
    for i in 0..items {
        alice.create("passwords", &password_body(i)).await;
    }
    for i in 0..CARD_NUMBERS.len() {
        alice.create("cards", &card_body(i)).await;
    }
    bob.create("passwords", &password_body(7)).await;
    let alice_before = opened_items(&alice).await;
    let bob_before = opened_items(&bob).await;
    let dir = server.stop().await;

    let target = fresh_postgres_schema(&base);
    let started = std::time::Instant::now();
    let moved = keeper(dir.path(), &["migrate", "--to", &target]);
    let took = started.elapsed();
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    let report = text(&moved.stdout);
    eprintln!("keeper migrate, {items} passwords: {took:?}\n{report}");
    assert!(
        report.lines().any(|l| l.starts_with("items")
            && l.contains(&format!(" {} rows", items + 1 + CARD_NUMBERS.len()))),
        "{report}"
    );
    assert!(report.contains("audit log intact"), "{report}");

    // Into a database that is no longer empty: refused, nothing changed.
    let twice = keeper(dir.path(), &["migrate", "--to", &target]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        text(&twice.stderr).contains("not empty"),
        "{}",
        text(&twice.stderr)
    );

    let verify = keeper(dir.path(), &["audit", "verify", "--db", &target]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));

    // The same keys, now on PostgreSQL: a token from before still opens the
    // vault, and so does a new login with the PIN.
    let url = target.clone();
    let moved_server = TestServer::start_in_with(dir, move |a| a.db = Some(url)).await;
    let old_token = Api {
        base: format!("http://{}/api/v1", moved_server.http_addr),
        client: reqwest::Client::new(),
        token: alice.token.clone(),
    };
    assert_eq!(opened_items(&old_token).await, alice_before);
    let alice_after = opened_items(&Api::log_in(&moved_server, "alice").await).await;
    assert_eq!(alice_after.len(), items + CARD_NUMBERS.len());
    for ((name, before), (_, after)) in alice_before.iter().zip(&alice_after) {
        assert_eq!(given_fields(before), given_fields(after), "{name}");
    }
    assert_eq!(
        opened_items(&Api::log_in(&moved_server, "bob").await).await,
        bob_before
    );
}

#[tokio::test]
async fn a_pg_dump_of_a_used_database_holds_no_secret_token_or_item_name() {
    let Some(base) = postgres_base() else {
        eprintln!("skipped: KEEPER_TEST_DATABASE_URL is not set");
        return;
    };
    let url = fresh_postgres_schema(&base);
    let schema = url
        .rsplit("search_path%3D")
        .next()
        .expect("schema")
        .to_owned();
    let server = TestServer::start_with({
        let url = url.clone();
        move |a| a.db = Some(url)
    })
    .await;
    let api = Api::register(&server, "alice").await;
    let mut needles = vec![
        Needle::secret("login password", PASSWORD),
        Needle::in_context("PIN", "pin", PIN),
        Needle::token("API token", &api.token),
    ];
    for i in 0..5 {
        let body = password_body(i);
        api.create("passwords", &body).await;
        for field in ["url", "username", "password", "note"] {
            needles.push(Needle::secret(field, body[field].as_str().expect(field)));
        }
        needles.push(Needle::name(
            "item name",
            body["name"].as_str().expect("name"),
        ));
    }
    for (i, number) in CARD_NUMBERS.iter().enumerate() {
        let body = card_body(i);
        api.create("cards", &body).await;
        needles.push(Needle::card_number("card number", number));
        needles.push(Needle::secret(
            "holder",
            body["holder"].as_str().expect("holder"),
        ));
        needles.push(Needle::name(
            "card name",
            body["name"].as_str().expect("name"),
        ));
    }
    needles.push(Needle::in_context("CVV", "cvv", "1234"));
    for i in 0..3 {
        let name = format!("pangolin-note-{i}-5093");
        let text = format!("Line one of note {i}: capybara-vault\nline two: tamarin-{i}-8841");
        api.create("notes", &serde_json::json!({"name": name, "text": text}))
            .await;
        needles.push(Needle::name("note name", &name));
        needles.push(Needle::secret("note text", &text));
        needles.push(Needle::secret(
            "a note's second line",
            &format!("line two: tamarin-{i}-8841"),
        ));
    }
    for i in 0..3 {
        let name = format!("marmot-totp-{i}-2280");
        let secret = ["KRUGKIDROVUWG2ZA", "MJZG653OEBTG66BA", "JJ2W24DTEBXXMZLS"][i];
        let issuer = format!("Marmot-Issuer-{i}-7712");
        api.create(
            "totp",
            &serde_json::json!({"name": name, "secret": secret, "issuer": issuer}),
        )
        .await;
        needles.push(Needle::name("one-time password name", &name));
        needles.push(Needle::secret("one-time password secret", secret));
        needles.push(Needle::secret("one-time password issuer", &issuer));
    }
    for (i, kind) in ["cards", "passwords", "notes", "totp", "identities"]
        .into_iter()
        .enumerate()
    {
        let tag = format!("weasel-tag-{i}-3307");
        let key = format!("stoat-key-{i}-6619");
        let value = format!("Stoat-Value-{i}-4480");
        let secret_value = format!("Ermine-Secret-{i}-9925");
        let name = format!("ferret-{kind}-{i}-1170");
        let body = match kind {
            "cards" => with(card_body(0), "name", serde_json::json!(name)),
            "passwords" => with(password_body(5 + i), "name", serde_json::json!(name)),
            "notes" => serde_json::json!({"name": name, "text": "ferret note"}),
            "totp" => serde_json::json!({"name": name, "secret": "JBSWY3DPEHPK3PXP"}),
            _ => serde_json::json!({"name": name}),
        };
        let body = with(body, "tags", serde_json::json!([tag]));
        let fields = serde_json::json!([
            {"key": key, "value": value},
            {"key": "ermine", "value": secret_value, "secret": true},
        ]);
        api.create(kind, &with(body, "fields", fields)).await;
        needles.push(Needle::name("tag", &tag));
        needles.push(Needle::secret("custom field key", &key));
        needles.push(Needle::secret("custom field value", &value));
        needles.push(Needle::secret("secret custom field value", &secret_value));
        needles.push(Needle::name("item name", &name));
    }
    let identity = serde_json::json!({
        "name": "beaver-identity-6120",
        "full_name": "Bartholomew Beaverbrook",
        "email": "bart.beaver.3304@example.test",
        "address": "3 Dam Road, Beaverton",
        "document": "BV44102937",
    });
    api.create("identities", &identity).await;
    needles.push(Needle::name("identity name", "beaver-identity-6120"));
    for field in ["full_name", "email", "address", "document"] {
        needles.push(Needle::secret(
            field,
            identity[field].as_str().expect(field),
        ));
    }
    // An import, an export and a recovery go through the database too.
    let imported = api
        .client
        .post(format!("{}/import?format=chrome-csv", api.base))
        .bearer_auth(&api.token)
        .body("name,url,username,password\notter-imported-4471,https://otter.test,otter-user-2290,Otter-Imported-Secret-8830\n")
        .send()
        .await
        .expect("import");
    assert_eq!(imported.status(), 201, "{:?}", imported.text().await);
    needles.push(Needle::name("imported name", "otter-imported-4471"));
    needles.push(Needle::secret("imported username", "otter-user-2290"));
    needles.push(Needle::secret(
        "imported password",
        "Otter-Imported-Secret-8830",
    ));
    let passphrase = "Heron-Archive-Passphrase-5521";
    let exported = api
        .client
        .post(format!("{}/export", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"format": "keeper", "passphrase": passphrase}))
        .send()
        .await
        .expect("export");
    assert_eq!(exported.status(), 200);
    needles.push(Needle::secret("an export's passphrase", passphrase));
    let registered: Value = api
        .client
        .post(format!("{}/users", api.base))
        .json(&json!({"login": "carol", "password": PASSWORD, "pin": PIN}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("JSON");
    let first_key = registered["recovery_key"].as_str().expect("key").to_owned();
    let new_password = "Crane-Recovered-Password-7703";
    let recovered: Value = api
        .client
        .post(format!("{}/recovery", api.base))
        .json(&json!({"login": "carol", "recovery_key": first_key,
                      "password": new_password, "pin": "739104"}))
        .send()
        .await
        .expect("recover")
        .json()
        .await
        .expect("JSON");
    let second_key = recovered["recovery_key"]
        .as_str()
        .expect("new key")
        .to_owned();
    needles.push(Needle::secret("a password set by recovery", new_password));
    needles.push(Needle::in_context("a PIN set by recovery", "pin", "739104"));
    for key in [&first_key, &second_key] {
        needles.push(Needle::secret("a recovery key", key));
        needles.push(Needle::secret(
            "a recovery key compact",
            &key.replace('-', ""),
        ));
    }
    // Reads, reveals and a failed login leave audit records too.
    opened_items(&api).await;
    let dir = server.stop().await;

    let dump = std::process::Command::new("pg_dump")
        .args(["--schema", &schema, "--dbname", &base])
        .output()
        .expect("run pg_dump");
    assert!(dump.status.success(), "{}", text(&dump.stderr));
    let sql = dump.stdout;
    // The dump is of this vault: its tables and rows are there.
    for present in ["CREATE TABLE", "COPY", "alice", "argon2id"] {
        assert!(helpers::contains(&sql, present.as_bytes()), "{present}");
    }

    assert_scanner_finds_every_form(&needles);
    let scanner = Scanner::new(&needles);
    scanner.assert_nothing_found(
        &scanner.scan_bytes("pg_dump", &sql),
        "a pg_dump of the database",
    );

    // `keeper backup` on PostgreSQL writes pg_dump's archive.
    let archive = dir.path().join("keeper.dump");
    let backup = keeper(
        dir.path(),
        &["backup", "--db", &url, archive.to_str().expect("utf-8")],
    );
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&archive)
            .expect("the archive")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the archive is readable by others: {mode:o}");
    }
    let listed = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&archive)
        .output()
        .expect("run pg_restore");
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).contains("audit_events"));
}
