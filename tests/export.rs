//! `export` (SPEC §12) from the outside: Keeper's encrypted archive read
//! back into a new account with every item and field equal, Bitwarden's
//! unencrypted files only when asked plainly, and every export audited.

mod helpers;

use helpers::{Exec, PASSWORD, PIN, TestServer};
use serde_json::Value;

const PASSPHRASE: &str = "archive-Passphrase-Lemur-8812";

async fn exec_as(server: &TestServer, login: &str, command: &str, stdin: &[u8]) -> Exec {
    helpers::exec_bytes(server.ssh_addr, login, PASSWORD, command.as_bytes(), stdin).await
}

async fn ok(server: &TestServer, login: &str, command: &str) -> String {
    let out = exec_as(server, login, command, format!("{PIN}\n").as_bytes()).await;
    assert_eq!(out.status, Some(0), "`{command}`: {out:?}");
    out.stdout
}

/// A vault with every kind, tags, plain and secret custom fields, a
/// password's seed and a multi-line note.
async fn fill(server: &TestServer, login: &str) {
    for command in [
        "card add --name visa --number 4111111111111111 --expiry 07/29 --cvv 123 \
         --holder 'ADA LOVELACE' --note 'Card note' --tag money --secret-field 'pin=4321'",
        "card add --name amex --number 378282246310005 --expiry 01/31",
        "pass add --name github --url https://github.com --username ada \
         --password 'gh-Export-Secret-1' --note 'two\nlines' --tag work --tag code \
         --field 'employee=E-17' --secret-field 'answer=Export-Answer-2' \
         --totp 'otpauth://totp/GitHub:ada?secret=JBSWY3DPEHPK3PXP&issuer=GitHub'",
        "pass add --name plain --password 'Plain-Export-3'",
        "note add --name wifi --text 'SSID keeper\npassphrase: Export-Wifi-4' --tag home",
        "totp add --name bank --uri 'otpauth://totp/Bank:ada?secret=GEZDGNBVGY3TQOJQ&digits=8&period=60&algorithm=SHA256'",
        "id add --name me --full-name 'Ada Lovelace' --email ada@example.com --phone '+44 20 7946 0958' \
         --address '12 St James Square\nLondon' --document 'P-Export-5' --note 'passport'",
    ] {
        ok(server, login, command).await;
    }
}

/// Every item of `login`'s vault as `show --reveal --json` prints it,
/// without what a new copy cannot share (id, dates, version).
async fn snapshot(server: &TestServer, login: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for kind in ["card", "pass", "note", "totp", "id"] {
        let list: Value =
            serde_json::from_str(&ok(server, login, &format!("{kind} list --json")).await)
                .expect("json");
        for item in list.as_array().expect("list") {
            let name = item["name"].as_str().expect("name");
            let shown = ok(
                server,
                login,
                &format!("{kind} show '{name}' --reveal --json"),
            )
            .await;
            let mut shown: Value = serde_json::from_str(&shown).expect("json");
            let object = shown.as_object_mut().expect("object");
            for volatile in [
                "id",
                "created_at",
                "updated_at",
                "version",
                "code",
                "seconds_left",
            ] {
                object.remove(volatile);
            }
            object.insert("kind".to_owned(), Value::from(kind));
            all.push(shown);
        }
    }
    all.sort_by_key(|v| format!("{}/{}", v["kind"], v["name"]));
    all
}

#[tokio::test]
async fn a_keeper_archive_imported_into_a_new_account_gives_every_item_and_field_back() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bob").await;
    fill(&server, "alice").await;
    let before = snapshot(&server, "alice").await;
    assert_eq!(before.len(), 7);

    let out = exec_as(
        &server,
        "alice",
        "export --format keeper",
        format!("{PIN}\n{PASSPHRASE}\n").as_bytes(),
    )
    .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let archive = out.stdout;
    assert!(
        archive.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
        "{archive}"
    );
    assert!(
        archive
            .trim_end()
            .ends_with("-----END AGE ENCRYPTED FILE-----")
    );
    for secret in [
        "gh-Export-Secret-1",
        "Export-Answer-2",
        "github",
        "P-Export-5",
        "4111111111111111",
    ] {
        assert!(
            !archive.contains(secret),
            "the archive holds `{secret}` in the clear"
        );
    }

    let mut stdin = format!("{PIN}\n{PASSPHRASE}\n").into_bytes();
    stdin.extend_from_slice(archive.as_bytes());
    let out = exec_as(&server, "bob", "import --format keeper --json", &stdin).await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let summary: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(summary["created"]["card"], 2);
    assert_eq!(summary["created"]["password"], 2);
    assert!(summary["renamed"].as_array().expect("renamed").is_empty());
    assert_eq!(
        snapshot(&server, "bob").await,
        before,
        "every item and field equal"
    );

    // The same archive again: every name is taken now, so each is numbered.
    let out = exec_as(&server, "bob", "import --format keeper --json", &stdin).await;
    let summary: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(summary["renamed"].as_array().expect("renamed").len(), 7);

    // A wrong passphrase opens nothing and imports nothing.
    let mut wrong = format!("{PIN}\nnot-the-passphrase\n").into_bytes();
    wrong.extend_from_slice(archive.as_bytes());
    let out = exec_as(&server, "alice", "import --format keeper", &wrong).await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: the passphrase does not open this archive; nothing was imported\n"
    );
    assert_eq!(snapshot(&server, "alice").await, before);

    let log = ok(&server, "alice", "log --limit 500 --json").await;
    assert!(log.contains("\"vault.export\""), "{log}");
    assert!(log.contains("keeper: 7 items"), "{log}");
}

#[tokio::test]
async fn a_short_or_missing_passphrase_is_refused_and_writes_nothing() {
    let server = TestServer::start().await;
    server.register("alice").await;
    fill(&server, "alice").await;
    let out = exec_as(
        &server,
        "alice",
        "export",
        format!("{PIN}\nshort\n").as_bytes(),
    )
    .await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("passphrase: must be at least 8 characters"),
        "{out:?}"
    );
    let out = exec_as(&server, "alice", "export", format!("{PIN}\n").as_bytes()).await;
    assert_ne!(out.status, Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    let log = ok(&server, "alice", "log --limit 500 --json").await;
    assert!(
        !log.contains("vault.export"),
        "a refused export is no export: {log}"
    );
}

#[tokio::test]
async fn bitwarden_files_need_plaintext_and_a_confirmation_and_read_back() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bob").await;
    fill(&server, "alice").await;

    let out = exec_as(
        &server,
        "alice",
        "export --format bitwarden-json",
        format!("{PIN}\n").as_bytes(),
    )
    .await;
    assert_eq!(out.status, Some(2), "{out:?}");
    assert!(out.stderr.contains("add --plaintext"), "{out:?}");
    let out = exec_as(
        &server,
        "alice",
        "export --format bitwarden-json --plaintext",
        format!("{PIN}\n").as_bytes(),
    )
    .await;
    assert_eq!(out.status, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("--force"),
        "exec cannot ask, so it needs -f: {out:?}"
    );

    let out = exec_as(
        &server,
        "alice",
        "export --format bitwarden-json --plaintext -f",
        format!("{PIN}\n").as_bytes(),
    )
    .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let file: Value = serde_json::from_str(&out.stdout).expect("Bitwarden JSON");
    assert_eq!(file["encrypted"], false);
    assert_eq!(file["items"].as_array().expect("items").len(), 7);
    assert!(out.stdout.contains("gh-Export-Secret-1"));

    let mut stdin = format!("{PIN}\n").into_bytes();
    stdin.extend_from_slice(out.stdout.as_bytes());
    let back = exec_as(
        &server,
        "bob",
        "import --format bitwarden-json --json",
        &stdin,
    )
    .await;
    assert_eq!(back.status, Some(0), "{back:?}");
    let summary: Value = serde_json::from_str(&back.stdout).expect("json");
    assert_eq!(
        summary["created"],
        serde_json::json!({"card": 2, "password": 2, "note": 1, "totp": 1, "identity": 1}),
        "{summary}"
    );
    let github = ok(&server, "bob", "pass show github --reveal --json").await;
    let github: Value = serde_json::from_str(&github).expect("json");
    assert_eq!(github["password"], "gh-Export-Secret-1");
    assert_eq!(
        github["tags"],
        serde_json::json!(["work"]),
        "Bitwarden keeps one folder"
    );

    let csv = exec_as(
        &server,
        "alice",
        "export --format bitwarden-csv --plaintext -f",
        format!("{PIN}\n").as_bytes(),
    )
    .await;
    assert_eq!(csv.status, Some(0), "{csv:?}");
    assert!(
        csv.stdout
            .starts_with("folder,favorite,type,name,notes,fields,reprompt,login_uri")
    );
    assert!(
        csv.stdout.contains("Number: 4111111111111111"),
        "a card is kept as a note"
    );
    let mut stdin = format!("{PIN}\n").into_bytes();
    stdin.extend_from_slice(csv.stdout.as_bytes());
    let carol_summary = {
        server.register("carol").await;
        let out = exec_as(
            &server,
            "carol",
            "import --format bitwarden-csv --json",
            &stdin,
        )
        .await;
        assert_eq!(out.status, Some(0), "{out:?}");
        serde_json::from_str::<Value>(&out.stdout).expect("json")
    };
    assert_eq!(
        carol_summary["created"],
        serde_json::json!({"card": 0, "password": 2, "note": 4, "totp": 1, "identity": 0}),
        "{carol_summary}"
    );
    let log = ok(&server, "alice", "log --limit 500 --json").await;
    assert!(
        log.contains("bitwarden-json, unencrypted: 7 items"),
        "{log}"
    );
    assert!(log.contains("bitwarden-csv, unencrypted: 7 items"), "{log}");
}

#[tokio::test]
async fn over_http_an_archive_round_trips_and_plaintext_must_be_asked_for() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bob").await;
    fill(&server, "alice").await;
    let before = snapshot(&server, "alice").await;
    let (alice, bob) = (
        server.http_token("alice").await,
        server.http_token("bob").await,
    );
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{}/api/v1{path}", server.http_addr);

    let resp = http
        .post(url("/export"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"format": "keeper", "passphrase": PASSPHRASE}))
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.age");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let archive = resp.bytes().await.expect("body");

    let resp = http
        .post(url("/import?format=keeper"))
        .bearer_auth(&bob)
        .header("Keeper-Passphrase", PASSPHRASE)
        .body(archive.clone())
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status(), 201);
    assert_eq!(snapshot(&server, "bob").await, before);

    // A passphrase that is not ASCII goes in RFC 8187's form; a malformed
    // one is refused plainly and imports nothing.
    let unicode = " ünïcödé archive pässphrase € ";
    let resp = http
        .post(url("/export"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"format": "keeper", "passphrase": unicode}))
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    let unicode_archive = resp.bytes().await.expect("body");
    let carol = {
        server.register("carol").await;
        server.http_token("carol").await
    };
    let encoded: String = unicode
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    // The header's form is what is refused (a wrong passphrase is another
    // 400): the problem names it. Sent with a wrong plain header, the
    // RFC 8187 one wins.
    for (header, plain, status) in [
        (format!("utf-8'{encoded}"), None, 400),
        ("UTF-8''%FF%FE".to_owned(), None, 400),
        (format!("ISO-8859-1''{encoded}"), None, 400),
        (
            format!("utf-8'de'{encoded}"),
            Some("not-the-passphrase"),
            201,
        ),
    ] {
        let mut req = http
            .post(url("/import?format=keeper"))
            .bearer_auth(&carol)
            .header("Keeper-Passphrase*", header.as_str());
        if let Some(plain) = plain {
            req = req.header("Keeper-Passphrase", plain);
        }
        let resp = req
            .body(unicode_archive.clone())
            .send()
            .await
            .expect("import");
        assert_eq!(resp.status(), status, "{header}");
        if status == 400 {
            let problem: Value = resp.json().await.expect("problem");
            assert_eq!(problem["field"], "passphrase", "{problem}");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("must be UTF-8''"),
                "{problem}"
            );
        }
    }
    assert_eq!(snapshot(&server, "carol").await, before);

    let resp = http
        .post(url("/import?format=keeper&dry_run=true"))
        .bearer_auth(&bob)
        .body(archive)
        .send()
        .await
        .expect("import");
    assert_eq!(resp.status(), 400);
    let problem: Value = resp.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("passphrase"),
        "{problem}"
    );

    for (body, field) in [
        (serde_json::json!({"format": "bitwarden-json"}), "plaintext"),
        (serde_json::json!({"format": "keeper"}), "passphrase"),
        (
            serde_json::json!({"format": "keeper", "passphrase": "short"}),
            "passphrase",
        ),
        (
            serde_json::json!({"format": "keeper", "passphrase": PASSPHRASE, "plaintext": true}),
            "plaintext",
        ),
        (
            serde_json::json!({"format": "bitwarden-csv", "plaintext": true, "passphrase": PASSPHRASE}),
            "passphrase",
        ),
        (serde_json::json!({"format": "lastpass"}), "format"),
    ] {
        let resp = http
            .post(url("/export"))
            .bearer_auth(&alice)
            .json(&body)
            .send()
            .await
            .expect("export");
        assert_eq!(resp.status(), 400, "{body}");
        let problem: Value = resp.json().await.expect("problem");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    let resp = http
        .post(url("/export"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"format": "bitwarden-csv", "plaintext": true}))
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        resp.text()
            .await
            .expect("csv")
            .contains("gh-Export-Secret-1")
    );
    let resp = http
        .post(url("/export"))
        .json(&serde_json::json!({"format": "keeper", "passphrase": PASSPHRASE}))
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 401);
}
