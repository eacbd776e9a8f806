//! `import` (SPEC §12) from the outside: every format's realistic file
//! through SSH exec, the HTTP API and the local client; a dry run, name
//! clashes, malformed and oversized files, and records that break a rule,
//! each of which stores nothing.

mod helpers;

use std::io::Write;

use helpers::{Exec, PASSWORD, PIN, TestServer};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture")
}

/// A `.1pux` archive holding `export.data` (and the other files 1Password
/// writes beside it).
fn pux(export_data: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("export.attributes", options).expect("zip");
        zip.write_all(
            br#"{"version":3,"description":"1Password Unencrypted Export","createdAt":1700000200}"#,
        )
        .expect("zip");
        zip.start_file("export.data", options).expect("zip");
        zip.write_all(export_data).expect("zip");
        zip.add_directory("files/", options).expect("zip");
        zip.finish().expect("zip");
    }
    out.into_inner()
}

async fn server_with_alice() -> TestServer {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
}

/// `import ARGS` through exec with `file` after the PIN line.
async fn import(server: &TestServer, args: &str, file: &[u8]) -> Exec {
    let mut stdin = format!("{PIN}\n").into_bytes();
    stdin.extend_from_slice(file);
    helpers::exec_bytes(
        server.ssh_addr,
        "alice",
        PASSWORD,
        format!("import {args}").as_bytes(),
        &stdin,
    )
    .await
}

/// An import that must succeed, its `--json` summary.
async fn imported(server: &TestServer, format: &str, file: &[u8]) -> Value {
    let out = import(server, &format!("--format {format} --json"), file).await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

async fn json(server: &TestServer, command: &str) -> Value {
    let out = server.run("alice", command).await;
    assert_eq!(out.status, Some(0), "`{command}`: {out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("`{command}`: {e}: {}", out.stdout))
}

fn failure_line(out: &Exec) -> &str {
    assert_eq!(out.status, Some(1), "expected failure: {out:?}");
    assert!(out.stdout.is_empty(), "stdout not empty: {out:?}");
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "stderr not one line: {out:?}"
    );
    out.stderr.trim_end()
}

fn created(summary: &Value) -> [u64; 5] {
    let c = &summary["created"];
    ["card", "password", "note", "totp", "identity"].map(|k| c[k].as_u64().expect(k))
}

/// The custom field `key` of a shown item: `(value, secret)`.
fn field<'a>(item: &'a Value, key: &str) -> (&'a str, bool) {
    let f = item["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field `{key}` in {item}"));
    (
        f["value"].as_str().expect("value"),
        f["secret"].as_bool().expect("secret"),
    )
}

fn tags(item: &Value) -> Vec<&str> {
    item["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t.as_str().expect("tag"))
        .collect()
}

/// Every item of the vault, by kind: names.
async fn names(server: &TestServer, kind: &str) -> Vec<String> {
    json(server, &format!("{kind} list --json"))
        .await
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect()
}

async fn nothing_stored(server: &TestServer) {
    for kind in ["card", "pass", "note", "totp", "id"] {
        assert!(
            names(server, kind).await.is_empty(),
            "{kind} list not empty"
        );
    }
}

#[tokio::test]
async fn bitwarden_json_brings_every_kind_with_folders_fields_and_seeds() {
    let server = server_with_alice().await;
    let summary = imported(&server, "bitwarden-json", &fixture("bitwarden.json")).await;
    assert_eq!(created(&summary), [1, 1, 1, 0, 1], "{summary}");
    assert_eq!(summary["dry_run"], false);
    let skipped = summary["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{summary}");
    assert_eq!(skipped[0]["record"], 5);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("SSH key")
    );

    let gh = json(&server, "pass show GitHub --reveal --json").await;
    assert_eq!(gh["url"], "https://github.com/login");
    assert_eq!(gh["username"], "ada@example.com");
    assert_eq!(gh["password"], "bw-pass-Gh7!kQ2#x9");
    assert_eq!(
        gh["note"],
        "Recovery codes are in the safe.\nSecond line of the note."
    );
    assert!(
        gh["totp"]
            .as_str()
            .expect("seed")
            .contains("secret=JBSWY3DPEHPK3PXP"),
        "{gh}"
    );
    assert_eq!(tags(&gh), ["Work"]);
    assert_eq!(field(&gh, "Employee ID"), ("E-4471", false));
    assert_eq!(
        field(&gh, "Security answer"),
        ("bw-answer-Marmalade-93", true)
    );
    assert_eq!(field(&gh, "SSO"), ("true", false));
    assert_eq!(field(&gh, "url 2"), ("https://gist.github.com", false));
    assert_eq!(
        gh["fields"].as_array().expect("fields").len(),
        4,
        "the linked field is left out"
    );
    let code = server.run("alice", "pass totp GitHub").await;
    assert_eq!(code.status, Some(0), "{code:?}");

    let note = json(&server, "note show 'Wi-Fi at home' --reveal --json").await;
    assert_eq!(
        note["text"],
        "SSID: Lovelace\nKey: bw-note-Wifi-Key-5521\n\n\"quoted\" and ünïcødé"
    );

    let card = json(&server, "card show 'Visa debit' --reveal --json").await;
    assert_eq!(card["number"], "4111111111111111");
    assert_eq!(card["expiry"], "07/29");
    assert_eq!(card["cvv"], "737");
    assert_eq!(card["holder"], "Ada Lovelace");
    assert_eq!(
        tags(&card),
        ["Finance  personal"],
        "a comma is no part of a tag"
    );

    let me = json(&server, "id show Me --reveal --json").await;
    assert_eq!(me["full_name"], "Ada Lovelace");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["phone"], "+44 20 7946 0958");
    assert_eq!(me["address"], "12 St James's Square\nLondon SW1Y 4JH\nGB");
    assert_eq!(me["document"], "BW-PASSPORT-925519");
    assert_eq!(field(&me, "licence"), ("BW-LICENCE-33812", true));
    assert_eq!(field(&me, "company"), ("Analytical Engines Ltd", false));
}

#[tokio::test]
async fn bitwarden_csv_with_a_byte_order_mark_quotes_and_line_breaks() {
    let server = server_with_alice().await;
    let file = fixture("bitwarden.csv");
    assert!(
        file.starts_with(b"\xEF\xBB\xBF"),
        "the fixture starts with a BOM"
    );
    let summary = imported(&server, "bitwarden-csv", &file).await;
    assert_eq!(created(&summary), [0, 2, 1, 0, 0], "{summary}");
    let m = json(&server, "pass show Mastodon --reveal --json").await;
    assert_eq!(m["password"], "bwcsv-pass-M4st,odon");
    assert_eq!(m["note"], "Toot, toot.\nLine two with \"quotes\"");
    assert_eq!(tags(&m), ["Social"]);
    assert_eq!(field(&m, "Recovery"), ("bwcsv-recovery-1188", false));
    assert!(
        m["totp"]
            .as_str()
            .expect("seed")
            .contains("issuer=Mastodon"),
        "{m}"
    );
    let bank = json(&server, "pass show Bank --reveal --json").await;
    assert_eq!(bank["url"], "https://bank.example");
    assert_eq!(field(&bank, "url 2"), ("https://m.bank.example", false));
    let note = json(&server, "note show 'Locker combination' --reveal --json").await;
    assert_eq!(note["text"], "bwcsv-note-Locker-3141");
}

#[tokio::test]
async fn keepass_xml_reads_groups_as_tags_and_leaves_history_and_the_recycle_bin_out() {
    let server = server_with_alice().await;
    let summary = imported(&server, "keepass-xml", &fixture("keepass.xml")).await;
    assert_eq!(created(&summary), [0, 2, 1, 0, 0], "{summary}");
    let skipped = summary["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{summary}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("recycle bin")
    );
    assert!(
        skipped[0]["line"].as_u64().is_some(),
        "an XML record has a line: {summary}"
    );

    let mail = json(&server, "pass show 'Example Mail' --reveal --json").await;
    assert_eq!(mail["password"], "kp-xml-Pass-&-8843");
    assert_eq!(mail["note"], "First line & second\nLine two <b>");
    assert_eq!(mail["username"], "ada");
    assert!(
        mail["totp"].as_str().expect("seed").contains("digits=8"),
        "{mail}"
    );
    assert_eq!(tags(&mail), ["2fa", "important"]);
    assert_eq!(field(&mail, "Backup PIN"), ("kp-xml-Backup-PIN-6021", true));
    assert_eq!(field(&mail, "Account no"), ("AC-99", false));
    let forum = json(&server, "pass show Forum --reveal --json").await;
    assert_eq!(tags(&forum), ["Internet/Social"]);
    assert!(forum["url"].is_null(), "{forum}");
    let seed = forum["totp"].as_str().expect("KeePass 2's TimeOtp fields");
    assert!(seed.contains("period=60"), "{seed}");
    let door = json(&server, "note show 'Door codes' --reveal --json").await;
    assert_eq!(door["text"], "Front: kp-xml-Door-4242\nBack: 1234");
    assert!(
        names(&server, "pass")
            .await
            .iter()
            .all(|n| n != "Old title" && n != "Deleted thing")
    );
}

#[tokio::test]
async fn keepassxc_csv_tags_by_group_and_keeps_seeds() {
    let server = server_with_alice().await;
    let summary = imported(&server, "keepass-csv", &fixture("keepassxc.csv")).await;
    assert_eq!(created(&summary), [0, 2, 0, 0, 0], "{summary}");
    let router = json(&server, "pass show Router --reveal --json").await;
    assert_eq!(router["note"], "Admin page, 2nd floor\nModel: XR-500");
    assert!(
        tags(&router).is_empty(),
        "the database's own group is no tag"
    );
    let work = json(&server, "pass show 'Work mail' --reveal --json").await;
    assert_eq!(tags(&work), ["Email"]);
    assert!(
        work["totp"]
            .as_str()
            .expect("seed")
            .contains("MFRGGZDFMZTWQ2LK")
    );
    // KeePass 2's own CSV names its columns otherwise.
    let kp2 = "\"Account\",\"Login Name\",\"Password\",\"Web Site\",\"Comments\"\n\
               \"Intranet\",\"ada\",\"kp2-Intranet-1\",\"https://intra.example\",\"multi\nline\"\n";
    let summary = imported(&server, "keepass-csv", kp2.as_bytes()).await;
    assert_eq!(created(&summary), [0, 1, 0, 0, 0], "{summary}");
    let intra = json(&server, "pass show Intranet --reveal --json").await;
    assert_eq!(intra["note"], "multi\nline");
}

#[tokio::test]
async fn onepassword_csv_keeps_tags_seeds_and_marks_archived_items() {
    let server = server_with_alice().await;
    let summary = imported(&server, "1password-csv", &fixture("1password.csv")).await;
    assert_eq!(created(&summary), [0, 2, 0, 0, 0], "{summary}");
    let dropbox = json(&server, "pass show Dropbox --reveal --json").await;
    assert_eq!(tags(&dropbox), ["cloud", "files"]);
    assert_eq!(dropbox["note"], "Shared folder: Team\nSecond line");
    assert!(
        dropbox["totp"]
            .as_str()
            .expect("seed")
            .contains("issuer=Dropbox")
    );
    let old = json(&server, "pass show 'Old forum' --json").await;
    assert_eq!(tags(&old), ["archived"]);
}

#[tokio::test]
async fn onepux_brings_logins_cards_notes_identities_and_other_categories_as_notes() {
    let server = server_with_alice().await;
    let summary = imported(&server, "1pux", &pux(&fixture("1pux-export.data"))).await;
    assert_eq!(created(&summary), [1, 1, 2, 0, 1], "{summary}");
    let skipped = summary["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{summary}");
    assert_eq!(skipped[0]["record"], 5);

    let shop = json(&server, "pass show Shop --reveal --json").await;
    assert_eq!(shop["password"], "1pux-Login-Pass-4477");
    assert_eq!(shop["username"], "ada@example.com");
    assert_eq!(shop["url"], "https://shop.example.com/login");
    assert_eq!(field(&shop, "url 2"), ("https://m.shop.example.com", false));
    assert_eq!(
        field(&shop, "recovery code"),
        ("1pux-Recovery-Code-8080", true)
    );
    assert_eq!(field(&shop, "member since"), ("2020-01-01", false));
    assert!(shop["totp"].as_str().expect("seed").contains("issuer=Shop"));
    assert_eq!(tags(&shop), ["shopping", "Family/Shared"]);

    let card = json(&server, "card show Mastercard --reveal --json").await;
    assert_eq!(card["number"], "5555555555554444");
    assert_eq!(card["expiry"], "11/30");
    assert_eq!(card["cvv"], "318");
    assert_eq!(field(&card, "PIN"), ("1pux-Card-PIN-9021", true));

    let safe = json(&server, "note show 'Safe combination' --reveal --json").await;
    assert_eq!(safe["text"], "1pux-Note-Text-1234\nline 2");
    assert_eq!(tags(&safe), ["archived"]);
    let bank = json(&server, "note show 'Current account' --reveal --json").await;
    assert_eq!(
        field(&bank, "account number"),
        ("1pux-Account-No-70070", true)
    );

    let id = json(&server, "id show Identity --reveal --json").await;
    assert_eq!(id["full_name"], "Ada K Lovelace");
    assert_eq!(id["email"], "ada@example.com");
    assert_eq!(id["address"], "12 St James's Square\nLondon SW1Y 4JH\ngb");

    // An archive without export.data, and bytes that are no archive.
    let empty = pux(b"{}");
    let mut broken = empty.clone();
    broken.truncate(broken.len() / 2);
    let out = import(&server, "--format 1pux", &broken).await;
    assert!(failure_line(&out).contains("not a zip archive"), "{out:?}");
}

#[tokio::test]
async fn browser_csvs_skip_entries_without_a_password_and_number_clashing_names() {
    let server = server_with_alice().await;
    let summary = imported(&server, "chrome-csv", &fixture("chrome.csv")).await;
    assert_eq!(created(&summary), [0, 2, 0, 0, 0], "{summary}");
    let skipped = &summary["skipped"];
    assert_eq!(skipped[0]["record"], 3, "{summary}");
    assert_eq!(skipped[0]["line"], 4, "{summary}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("without a password")
    );
    let google = json(&server, "pass show accounts.google.com --reveal --json").await;
    assert_eq!(google["note"], "Recovery phone ends in 58");

    let summary = imported(&server, "firefox-csv", &fixture("firefox.csv")).await;
    assert_eq!(created(&summary), [0, 3, 0, 0, 0], "{summary}");
    let renamed = summary["renamed"].as_array().expect("renamed");
    assert_eq!(renamed.len(), 1, "{summary}");
    assert_eq!(renamed[0]["from"], "www.mozilla.org");
    assert_eq!(renamed[0]["to"], "www.mozilla.org (2)");
    let second = json(&server, "pass show 'www.mozilla.org (2)' --reveal --json").await;
    assert_eq!(second["username"], "ada.second");
    assert_eq!(second["password"], "firefox-Moz-2222");
}

#[tokio::test]
async fn a_name_in_the_vault_is_never_overwritten_and_the_text_summary_says_so() {
    let server = server_with_alice().await;
    let out = server
        .run(
            "alice",
            "pass add --name example.org --password kept-original-pw",
        )
        .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let out = import(&server, "--format chrome-csv", &fixture("chrome.csv")).await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert!(
        out.stdout
            .starts_with("Imported 2 items from chrome-csv: 2 passwords.\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("record 2 (line 3): password `example.org` as `example.org (2)`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Skipped 1:\n  record 3 (line 4): a login without a password"),
        "{}",
        out.stdout
    );
    let kept = json(&server, "pass show example.org --reveal --json").await;
    assert_eq!(kept["password"], "kept-original-pw");
    let new = json(&server, "pass show 'example.org (2)' --reveal --json").await;
    assert_eq!(new["password"], "chrome-Example-5566");
}

#[tokio::test]
async fn a_dry_run_says_what_it_would_store_and_stores_nothing() {
    let server = server_with_alice().await;
    let out = import(
        &server,
        "--format bitwarden-json --dry-run",
        &fixture("bitwarden.json"),
    )
    .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert!(
        out.stdout.starts_with(
            "Would import 4 items from bitwarden-json: 1 card, 1 password, 1 note, 1 identity \
             (dry run: nothing was stored).\n"
        ),
        "{}",
        out.stdout
    );
    nothing_stored(&server).await;
    let log = server.run("alice", "log --json").await;
    assert!(
        !log.stdout.contains("vault.import"),
        "a dry run is no import: {}",
        log.stdout
    );
    // The real one is audited, with no name in the record.
    imported(&server, "bitwarden-json", &fixture("bitwarden.json")).await;
    let log = server.run("alice", "log --json").await;
    assert!(log.stdout.contains("vault.import"), "{}", log.stdout);
    assert!(!log.stdout.contains("GitHub"), "{}", log.stdout);
}

#[tokio::test]
async fn malformed_files_get_a_clear_error_and_import_nothing() {
    let server = server_with_alice().await;
    let json_file = fixture("bitwarden.json");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bitwarden-json",
            json_file[..json_file.len() / 2].to_vec(),
            "the JSON ends early",
        ),
        (
            "bitwarden-json",
            b"{\"items\": [ {\"type\": 1,, } ]}".to_vec(),
            "not valid JSON at line 1",
        ),
        (
            "bitwarden-json",
            br#"{"encrypted": true, "items": []}"#.to_vec(),
            "encrypted",
        ),
        (
            "bitwarden-json",
            b"not json at all".to_vec(),
            "not a bitwarden-json file",
        ),
        (
            "chrome-csv",
            b"name,url,username\nx,https://x.example,ada\n".to_vec(),
            "no `password` column",
        ),
        (
            "chrome-csv",
            b"name,url,username,password\nx,https://x.example,ada,pw1\ny,https://y.example,ada\n"
                .to_vec(),
            "line 3 has 3 fields where the header has 4",
        ),
        (
            "keepass-xml",
            fixture("keepass.xml")[..900].to_vec(),
            "not a keepass-xml file",
        ),
        (
            "keepass-xml",
            b"<html><body/></html>".to_vec(),
            "not <KeePassFile>",
        ),
        (
            "firefox-csv",
            b"\xff\xfe\x00u\x00r\x00l".to_vec(),
            "not valid UTF-8",
        ),
        ("1password-csv", b"   \n".to_vec(), "the file is empty"),
        (
            "1pux",
            b"PK\x03\x04 truncated".to_vec(),
            "not a zip archive",
        ),
    ];
    for (format, file, expected) in cases {
        let out = import(&server, &format!("--format {format}"), &file).await;
        let line = failure_line(&out);
        assert!(
            line.contains(expected),
            "{format}: `{line}` lacks `{expected}`"
        );
        assert!(line.contains("nothing was imported"), "{format}: {line}");
    }
    nothing_stored(&server).await;
}

#[tokio::test]
async fn a_record_that_breaks_a_rule_stores_nothing_and_every_such_record_is_named() {
    let server = server_with_alice().await;
    let csv = "name,url,username,password\n\
               fine,https://fine.example,ada,pw-fine\n\
               spaced url,https://bad url.example,ada,pw-2\n\
               \"two\nlines\",https://ok.example,ada,pw-3\n\
               nul,https://nul.example,ada,\"pw\0x\"\n";
    let out = import(&server, "--format chrome-csv", csv.as_bytes()).await;
    let line = failure_line(&out);
    assert!(
        line.starts_with("error: nothing was imported: 2 records break Keeper's rules: "),
        "{line}"
    );
    assert!(line.contains("record 2 (line 3): url:"), "{line}");
    assert!(line.contains("record 4 (line 6): password:"), "{line}");
    assert!(!line.contains("pw-"), "no secret in the message: {line}");
    nothing_stored(&server).await;

    let bad_card = br#"{"items":[{"type":3,"name":"c","card":{"number":"4111111111111112","expMonth":"1","expYear":"2030"}},
        {"type":3,"name":"d","card":{"number":"4111111111111111"}}]}"#;
    let out = import(&server, "--format bitwarden-json", bad_card).await;
    let line = failure_line(&out);
    assert!(line.contains("record 1: number:"), "{line}");
    assert!(line.contains("record 2: expiry: missing"), "{line}");
    assert!(!line.contains("411111"), "{line}");
    nothing_stored(&server).await;
}

#[tokio::test]
async fn a_file_past_32_mib_is_refused_over_ssh_and_http() {
    let server = server_with_alice().await;
    // A valid CSV, only too large.
    let mut big = b"name,url,username,password\n".to_vec();
    while big.len() <= 33 * 1024 * 1024 {
        big.extend_from_slice(
            b"entry,https://example.com/some/long/path/to/fill,someone,password-here\n",
        );
    }
    let out = import(&server, "--format chrome-csv", &big).await;
    let line = failure_line(&out);
    assert!(line.contains("larger than 32 MiB"), "{line}");
    nothing_stored(&server).await;

    let token = server.http_token("alice").await;
    let hundred = vec![b'a'; 100 * 1024 * 1024];
    let resp = reqwest::Client::new()
        .post(format!(
            "http://{}/api/v1/import?format=chrome-csv",
            server.http_addr
        ))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(hundred)
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("32 MiB"),
        "{problem}"
    );
    nothing_stored(&server).await;
}

#[tokio::test]
async fn http_import_answers_201_200_for_a_dry_run_and_400_with_every_record_at_fault() {
    let server = server_with_alice().await;
    let token = server.http_token("alice").await;
    let http = reqwest::Client::new();
    let post = |query: &str, body: Vec<u8>| {
        http.post(format!("http://{}/api/v1/import{query}", server.http_addr))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };
    let dry = post("?format=keepass-xml&dry_run=true", fixture("keepass.xml"))
        .await
        .expect("dry");
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.expect("json");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(created(&dry), [0, 2, 1, 0, 0]);
    nothing_stored(&server).await;

    let done = post("?format=keepass-xml", fixture("keepass.xml"))
        .await
        .expect("import");
    assert_eq!(done.status(), 201);
    let done: Value = done.json().await.expect("json");
    assert_eq!(created(&done), [0, 2, 1, 0, 0]);
    assert_eq!(names(&server, "pass").await, ["Example Mail", "Forum"]);

    let bad = post(
        "?format=chrome-csv",
        b"name,url,username,password\na,https://a b,x,y\n".to_vec(),
    )
    .await
    .expect("bad");
    assert_eq!(bad.status(), 400);
    let problem: Value = bad.json().await.expect("problem");
    let errors = problem["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{problem}");
    assert_eq!(errors[0]["record"], 1);
    assert_eq!(errors[0]["line"], 2);
    assert!(
        errors[0]["reason"]
            .as_str()
            .expect("reason")
            .starts_with("url:")
    );

    for (query, expected) in [
        ("", "format: give it"),
        ("?format=lastpass-csv", "format: must be one of"),
        ("?format=chrome-csv&dry_run=maybe", "dry_run"),
        ("?format=chrome-csv&x=1", "unknown query parameter `x`"),
    ] {
        let resp = post(query, b"name,url,username,password\n".to_vec())
            .await
            .expect("answer");
        assert_eq!(resp.status(), 400, "{query}");
        let problem: Value = resp.json().await.expect("problem");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains(expected),
            "{query}: {problem}"
        );
    }
    let anonymous = http
        .post(format!(
            "http://{}/api/v1/import?format=chrome-csv",
            server.http_addr
        ))
        .body("name,url,username,password\n")
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn over_ssh_a_path_or_a_terminal_is_refused_with_the_way_to_do_it() {
    let server = server_with_alice().await;
    let out = import(&server, "--format chrome-csv /etc/passwd", b"").await;
    assert_eq!(out.status, Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("ssh HOST import --format FORMAT < FILE"),
        "{out:?}"
    );
    let out = server.run("alice", "import --format nope").await;
    assert_eq!(out.status, Some(2), "{out:?}");
    assert!(out.stderr.contains("bitwarden-json"), "{out:?}");
}

#[tokio::test]
async fn ten_thousand_entries_import_in_one_go() {
    let server = server_with_alice().await;
    let mut csv = b"name,url,username,password,note\n".to_vec();
    for i in 0..10_000 {
        csv.extend_from_slice(
            format!("site {i},https://site{i}.example/login,user{i},pw-{i}-Zq8!x,note {i}\n")
                .as_bytes(),
        );
    }
    let summary = imported(&server, "chrome-csv", &csv).await;
    assert_eq!(created(&summary), [0, 10_000, 0, 0, 0]);
    let listed = names(&server, "pass").await;
    assert_eq!(listed.len(), 10_000);
    let last = json(&server, "pass show 'site 9999' --reveal --json").await;
    assert_eq!(last["password"], "pw-9999-Zq8!x");
}

#[tokio::test]
async fn hostile_shapes_are_refused_quickly_and_the_server_stays_up() {
    let server = server_with_alice().await;
    // Groups nested far deeper than any KeePass file: a clear error, no crash.
    let depth = 20_000;
    let mut xml = String::from("<KeePassFile><Root>");
    for _ in 0..depth {
        xml.push_str("<Group><Name>g</Name>");
    }
    xml.push_str("<Entry><String><Key>Title</Key><Value>deep</Value></String></Entry>");
    for _ in 0..depth {
        xml.push_str("</Group>");
    }
    xml.push_str("</Root></KeePassFile>");
    let out = import(&server, "--format keepass-xml", xml.as_bytes()).await;
    assert!(
        failure_line(&out).contains("nest deeper than 64"),
        "{out:?}"
    );

    // One item with 20,000 custom fields: refused as one record, at once.
    let fields: Vec<Value> = (0..20_000)
        .map(|_| serde_json::json!({"name": "a", "value": "v", "type": 0}))
        .collect();
    let file = serde_json::json!({"items": [{"type": 1, "name": "x", "fields": fields,
        "login": {"password": "pw"}}]});
    let started = std::time::Instant::now();
    let out = import(
        &server,
        "--format bitwarden-json",
        file.to_string().as_bytes(),
    )
    .await;
    let line = failure_line(&out);
    assert!(
        line.contains("record 1: field: 20000 custom fields, where an item has at most 20"),
        "{line}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );

    // Still serving.
    assert_eq!(server.run("alice", "whoami").await.status, Some(0));
    nothing_stored(&server).await;
}

#[tokio::test]
async fn many_records_of_one_name_are_numbered_in_order() {
    let server = server_with_alice().await;
    let mut csv = b"name,url,username,password\n".to_vec();
    for i in 0..300 {
        csv.extend_from_slice(format!("dup,https://dup.example,u{i},pw-{i}\n").as_bytes());
    }
    let summary = imported(&server, "chrome-csv", &csv).await;
    assert_eq!(summary["renamed"].as_array().expect("renamed").len(), 299);
    let last = json(&server, "pass show 'dup (300)' --reveal --json").await;
    assert_eq!(last["username"], "u299");
    // Keys that differ only in case or accents are one key: numbered, not refused.
    let file = serde_json::json!({"items": [{"type": 1, "name": "accents", "login": {"password": "pw"},
        "fields": [{"name": "Café", "value": "1", "type": 0}, {"name": "cafe", "value": "2", "type": 0},
                   {"name": "multi", "value": "line one\nline two", "type": 0}]}]});
    imported(&server, "bitwarden-json", file.to_string().as_bytes()).await;
    let item = json(&server, "pass show accents --json").await;
    assert_eq!(field(&item, "cafe 2"), ("2", false));
    assert_eq!(field(&item, "multi"), ("line one / line two", false));
}

#[tokio::test]
async fn a_seed_without_a_password_keeps_its_login_details_and_keepass_hex_seeds_read() {
    let server = server_with_alice().await;
    let file = serde_json::json!({"items": [{"type": 1, "name": "2fa only", "notes": "backup codes in the drawer",
        "login": {"uris": [{"uri": "https://bank.example"}], "username": "ada", "totp": "JBSWY3DPEHPK3PXP"}}]});
    let summary = imported(&server, "bitwarden-json", file.to_string().as_bytes()).await;
    assert_eq!(created(&summary), [0, 0, 0, 1, 0]);
    let totp = json(&server, "totp show '2fa only' --reveal --json").await;
    assert_eq!(field(&totp, "url"), ("https://bank.example", false));
    assert_eq!(field(&totp, "username"), ("ada", false));
    assert_eq!(field(&totp, "note"), ("backup codes in the drawer", false));

    let xml = "<KeePassFile><Root><Group><Name>R</Name><Entry>\
        <String><Key>Title</Key><Value>hex seed</Value></String>\
        <String><Key>Password</Key><Value>pw</Value></String>\
        <String><Key>TimeOtp-Secret-Hex</Key><Value>48656c6c6f21deadbeef</Value></String>\
        </Entry></Group></Root></KeePassFile>";
    imported(&server, "keepass-xml", xml.as_bytes()).await;
    let entry = json(&server, "pass show 'hex seed' --reveal --json").await;
    assert!(
        entry["totp"]
            .as_str()
            .expect("seed")
            .contains("secret=JBSWY3DPEHPK3PXP"),
        "{entry}"
    );
}

#[tokio::test]
async fn a_file_past_the_item_limit_is_refused_before_it_is_stored_even_dry() {
    let server = TestServer::start_with(|a| a.limits.items_per_kind = 3).await;
    server.register("alice").await;
    let out = server
        .run("alice", "pass add --name mine --password pw-mine")
        .await;
    assert_eq!(out.status, Some(0), "{out:?}");
    let csv = "name,url,username,password\na,https://a.example,u,p\nb,https://b.example,u,p\nc,https://c.example,u,p\n";
    for dry in ["--dry-run", ""] {
        let out = import(
            &server,
            &format!("--format chrome-csv {dry}"),
            csv.as_bytes(),
        )
        .await;
        let line = failure_line(&out);
        assert!(line.contains("past 3 items of one kind"), "{dry}: {line}");
    }
    assert_eq!(names(&server, "pass").await, ["mine"]);
}
