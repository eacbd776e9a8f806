//! Every shell command of SPEC §5, driven through the real SSH server: exec
//! for scripted use and state checks, a PTY shell where a person would type.

mod helpers;

use std::time::Duration;

use base64::Engine;
use helpers::{Exec, PASSWORD, PIN, Shell, TestServer};
use russh::ChannelMsg;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const PROMPT: &str = "alice@keeper> ";
const VISA: &str = "4111111111111111";
const MASTERCARD: &str = "5555555555554444";
const AMEX: &str = "378282246310005";
const DISCOVER: &str = "6011111111111117";
const MIB: usize = 1024 * 1024;

// ---- helpers local to this file ----

async fn server_with_alice() -> TestServer {
    let server = TestServer::start().await;
    server.register("alice").await;
    server
}

/// Runs `command` through exec; it must succeed. Returns stdout.
async fn ok(server: &TestServer, command: &str) -> String {
    let out = server.run("alice", command).await;
    assert_eq!(out.status, Some(0), "`{command}` failed: {out:?}");
    assert!(
        out.stderr.is_empty(),
        "`{command}` wrote to stderr: {out:?}"
    );
    out.stdout
}

/// Runs `command` through exec and parses its stdout as JSON.
async fn json(server: &TestServer, command: &str) -> Value {
    let stdout = ok(server, command).await;
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("`{command}`: {e}: {stdout}"))
}

/// The object's keys, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(words: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    v.sort();
    v
}

/// The `name` of every element of a JSON array.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| item["name"].as_str().expect("name").to_owned())
        .collect()
}

/// An exec that failed the way a script expects: non-zero status, nothing on
/// stdout, exactly one line on stderr. Returns that line.
fn failure_line(out: &Exec) -> &str {
    assert_ne!(out.status, Some(0), "expected failure: {out:?}");
    assert!(out.status.is_some(), "no exit status: {out:?}");
    assert!(out.stdout.is_empty(), "stdout not empty: {out:?}");
    assert!(out.stderr.ends_with('\n'), "stderr not one line: {out:?}");
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "stderr not one line: {out:?}"
    );
    out.stderr.trim_end()
}

async fn add_card(server: &TestServer, name: &str, number: &str) {
    ok(
        server,
        &format!("card add --name '{name}' --number {number} --expiry 12/30"),
    )
    .await;
}

async fn add_password(server: &TestServer, name: &str, password: &str) {
    ok(
        server,
        &format!("pass add --name '{name}' --password '{password}'"),
    )
    .await;
}

async fn cards(server: &TestServer) -> Value {
    json(server, "card list --json").await
}

async fn passwords(server: &TestServer) -> Value {
    json(server, "pass list --json").await
}

/// Logs in without a PTY (like `ssh -T`) and unlocks: lines end in `\n`.
async fn plain_shell(server: &TestServer) -> Shell {
    let mut sh = Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    sh.start_plain_shell().await;
    sh.expect("PIN: ").await;
    sh.send(format!("{PIN}\n").as_bytes()).await;
    sh.expect(PROMPT).await;
    sh
}

/// Runs a command in a plain shell; returns what it printed before the prompt.
async fn plain_command(sh: &mut Shell, line: &str) -> String {
    sh.send(format!("{line}\n").as_bytes()).await;
    let out = sh.expect(PROMPT).await;
    out.trim_end_matches(PROMPT).to_owned()
}

fn transcript(sh: &Shell) -> String {
    String::from_utf8_lossy(&sh.transcript).into_owned()
}

/// Sends `bytes` from a task of its own, so that the server's echo is read
/// while they are still going out, and waits for `needle`. Returns what came
/// before the needle, without it. Reads the channel directly: a megabyte of
/// echo is too much for `Shell::expect`, which rescans everything it holds.
async fn send_large_and_expect(sh: &mut Shell, bytes: Vec<u8>, needle: &str) -> Vec<u8> {
    let mut writer = Box::pin(sh.channel.make_writer());
    let sending = tokio::spawn(async move {
        writer.write_all(&bytes).await.expect("send");
        writer.flush().await.expect("flush");
    });
    let needle = needle.as_bytes();
    let mut seen = std::mem::take(&mut sh.pending);
    let mut from = 0;
    let at = loop {
        if let Some(i) = seen[from..].windows(needle.len()).position(|w| w == needle) {
            break from + i;
        }
        from = seen.len().saturating_sub(needle.len());
        match tokio::time::timeout(Duration::from_secs(20), sh.channel.wait()).await {
            Ok(Some(ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. })) => {
                seen.extend_from_slice(&data)
            }
            Ok(Some(ChannelMsg::Close) | None) => panic!(
                "channel closed before {:?}; tail: {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&seen[seen.len().saturating_sub(300)..])
            ),
            Ok(Some(_)) => {}
            Err(_) => panic!(
                "timed out waiting for {:?}; tail: {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&seen[seen.len().saturating_sub(300)..])
            ),
        }
    };
    sending.await.expect("sender task");
    sh.pending = seen.split_off(at + needle.len());
    seen.truncate(at);
    seen
}

// ---- card add ----

#[tokio::test]
async fn card_add_with_flags_stores_the_card_and_names_its_brand() {
    let server = server_with_alice().await;

    let out = ok(
        &server,
        &format!(
            "card add --name visa --number {VISA} --expiry 12/30 --holder 'Alice Smith' --cvv 739 --note 'daily card'"
        ),
    )
    .await;

    assert_eq!(out, "Added card `visa` (Visa ending 1111).\n");
    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["name"], "visa");
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["number"], VISA);
    assert_eq!(card["holder"], "Alice Smith");
    assert_eq!(card["expiry"], "12/30");
    assert_eq!(card["cvv"], "739");
    assert_eq!(card["note"], "daily card");
}

#[tokio::test]
async fn card_add_accepts_spaces_and_dashes_in_the_number_and_a_four_digit_year() {
    let server = server_with_alice().await;

    ok(
        &server,
        "card add --name visa --number '4111 1111-1111 1111' --expiry 07/2031",
    )
    .await;

    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["number"], VISA);
    assert_eq!(card["expiry"], "07/31");
}

#[tokio::test]
async fn card_add_without_flags_asks_for_every_field_and_hides_number_and_cvv() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("card add").await;
    sh.expect("Name: ").await;
    sh.line("visa").await;
    sh.expect("Card number: ").await;
    sh.line(VISA).await;
    sh.expect("Expiry (MM/YY): ").await;
    sh.line("12/30").await;
    sh.expect("Holder (optional): ").await;
    sh.line("Alice Smith").await;
    sh.expect("CVV (optional): ").await;
    sh.line("739").await;
    sh.expect("Note (optional): ").await;
    sh.line("spare").await;
    let out = sh.expect(PROMPT).await;

    assert!(
        out.contains("Added card `visa` (Visa ending 1111)."),
        "{out}"
    );
    let seen = transcript(&sh);
    assert!(!seen.contains(VISA), "card number echoed: {seen:?}");
    assert!(!seen.contains("739"), "CVV echoed: {seen:?}");
    assert!(seen.contains("Alice Smith"), "holder not echoed: {seen:?}");
    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["number"], VISA);
    assert_eq!(card["cvv"], "739");
    assert_eq!(card["holder"], "Alice Smith");
    assert_eq!(card["note"], "spare");
}

#[tokio::test]
async fn card_add_interactive_takes_an_empty_answer_for_each_optional_field() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("card add --name visa").await;
    sh.expect("Card number: ").await;
    sh.line(VISA).await;
    sh.expect("Expiry (MM/YY): ").await;
    sh.line("12/30").await;
    for optional in [
        "Holder (optional): ",
        "CVV (optional): ",
        "Note (optional): ",
    ] {
        sh.expect(optional).await;
        sh.line("").await;
    }
    let out = sh.expect(PROMPT).await;

    assert!(out.contains("Added card `visa`"), "{out}");
    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["holder"], Value::Null);
    assert_eq!(card["cvv"], Value::Null);
    assert_eq!(card["note"], Value::Null);
}

#[tokio::test]
async fn card_add_interactive_asks_again_after_an_invalid_answer() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("card add --name visa --expiry 12/30 --holder A --cvv 123 --note n")
        .await;
    sh.expect("Card number: ").await;
    sh.line("4111111111111112").await;
    let refusal = sh.expect("Card number: ").await;
    sh.line(VISA).await;
    let out = sh.expect(PROMPT).await;

    assert!(
        refusal.contains("error: number: fails the Luhn check"),
        "{refusal}"
    );
    assert!(out.contains("Added card `visa`"), "{out}");
}

#[tokio::test]
async fn card_brand_is_detected_from_the_number() {
    let server = server_with_alice().await;

    let visa = ok(
        &server,
        &format!("card add --name v --number {VISA} --expiry 12/30"),
    )
    .await;
    let mc = ok(
        &server,
        &format!("card add --name m --number {MASTERCARD} --expiry 12/30"),
    )
    .await;
    let amex = ok(
        &server,
        &format!("card add --name a --number {AMEX} --expiry 12/30"),
    )
    .await;
    let discover = ok(
        &server,
        &format!("card add --name d --number {DISCOVER} --expiry 12/30"),
    )
    .await;

    assert!(visa.contains("(Visa ending 1111)"), "{visa}");
    assert!(mc.contains("(Mastercard ending 4444)"), "{mc}");
    assert!(amex.contains("(Amex ending 0005)"), "{amex}");
    assert!(discover.contains("(Discover ending 1117)"), "{discover}");
    let list = ok(&server, "card list").await;
    for brand in ["Visa", "Mastercard", "Amex", "Discover"] {
        assert!(list.contains(brand), "{brand} missing: {list}");
    }
}

#[tokio::test]
async fn an_amex_card_needs_a_four_digit_cvv() {
    let server = server_with_alice().await;

    let three = server
        .run(
            "alice",
            &format!("card add --name amex --number {AMEX} --expiry 12/30 --cvv 123"),
        )
        .await;
    let empty_after_refusal = cards(&server).await;
    ok(
        &server,
        &format!("card add --name amex --number {AMEX} --expiry 12/30 --cvv 1234"),
    )
    .await;

    assert!(
        failure_line(&three).contains("cvv: an Amex card needs a 4-digit CVV"),
        "{three:?}"
    );
    assert_eq!(empty_after_refusal, serde_json::json!([]));
    let card = json(&server, "card show amex --reveal --json").await;
    assert_eq!(card["cvv"], "1234");
}

#[tokio::test]
async fn a_visa_card_refuses_a_four_digit_cvv() {
    let server = server_with_alice().await;

    let out = server
        .run(
            "alice",
            &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv 1234"),
        )
        .await;

    assert!(failure_line(&out).contains("cvv:"), "{out:?}");
    assert_eq!(cards(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn card_names_are_unique_case_insensitively() {
    let server = server_with_alice().await;
    add_card(&server, "Visa", VISA).await;

    let out = server
        .run(
            "alice",
            &format!("card add --name visa --number {MASTERCARD} --expiry 12/30"),
        )
        .await;

    assert!(failure_line(&out).contains("already exists"), "{out:?}");
    let list = cards(&server).await;
    assert_eq!(names(&list), vec!["Visa"]);
    assert_eq!(list[0]["last4"], "1111");
}

#[tokio::test]
async fn a_password_may_share_its_name_with_a_card() {
    let server = server_with_alice().await;
    add_card(&server, "work", VISA).await;

    add_password(&server, "work", "pw-for-work-1").await;

    assert_eq!(names(&passwords(&server).await), vec!["work"]);
}

// ---- card list ----

#[tokio::test]
async fn card_list_shows_a_table_with_the_number_masked() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!(
            "card add --name visa --number {VISA} --expiry 12/30 --holder 'Alice Smith' --cvv 739"
        ),
    )
    .await;

    let out = ok(&server, "card list").await;

    let mut lines = out.lines();
    let header = lines.next().expect("header");
    for column in ["NAME", "BRAND", "NUMBER", "HOLDER", "EXPIRY"] {
        assert!(header.contains(column), "{out}");
    }
    let row = lines.next().expect("row");
    for cell in ["visa", "Visa", "**** 1111", "Alice Smith", "12/30"] {
        assert!(row.contains(cell), "{cell} missing: {out}");
    }
    assert!(!out.contains(VISA), "full number listed: {out}");
    assert!(!out.contains("739"), "CVV listed: {out}");
}

#[tokio::test]
async fn card_list_without_cards_says_how_to_add_one() {
    let server = server_with_alice().await;

    let out = ok(&server, "card list").await;

    assert!(out.contains("No cards yet"), "{out}");
}

#[tokio::test]
async fn card_list_json_has_exactly_the_listed_keys() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    add_card(&server, "mc", MASTERCARD).await;

    let list = cards(&server).await;

    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(
            keys(item),
            sorted(&["id", "name", "brand", "last4", "holder", "expiry", "tags"])
        );
    }
    let text = list.to_string();
    assert!(!text.contains(VISA) && !text.contains(MASTERCARD), "{text}");
}

// ---- card show ----

#[tokio::test]
async fn card_show_hides_number_and_cvv_without_reveal() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv 739"),
    )
    .await;

    let out = ok(&server, "card show visa").await;
    let shown = json(&server, "card show visa --json").await;

    assert!(out.contains("**** 1111"), "{out}");
    let cvv_line = out
        .lines()
        .find(|l| l.starts_with("CVV:"))
        .expect("CVV line");
    assert!(cvv_line.ends_with("***"), "{out}");
    assert!(!out.contains("1111 1111") && !out.contains(VISA), "{out}");
    assert!(!out.contains("739"), "{out}");
    assert!(shown.get("number").is_none(), "{shown}");
    assert!(shown.get("cvv").is_none(), "{shown}");
    // A random id or a timestamp may hold the three digits by chance.
    for (field, value) in shown.as_object().expect("an object") {
        if !["id", "created_at", "updated_at"].contains(&field.as_str()) {
            assert!(
                !value.to_string().contains("739"),
                "CVV in {field}: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn card_show_reveal_prints_number_and_cvv() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv 739"),
    )
    .await;

    let out = ok(&server, "card show visa --reveal").await;

    assert!(out.contains("4111 1111 1111 1111"), "{out}");
    assert!(out.contains("739"), "{out}");
    assert!(out.contains("Visa"), "{out}");
}

#[tokio::test]
async fn card_show_finds_the_card_whatever_the_case_of_the_name() {
    let server = server_with_alice().await;
    add_card(&server, "My Visa", VISA).await;

    let out = ok(&server, "card show 'my visa'").await;

    assert!(out.contains("My Visa"), "{out}");
}

#[tokio::test]
async fn card_show_reveal_json_adds_number_cvv_note_times_and_version() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv 739 --note n"),
    )
    .await;

    let card = json(&server, "card show visa --reveal --json").await;

    assert_eq!(
        keys(&card),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "brand",
            "last4",
            "holder",
            "expiry",
            "number",
            "cvv",
            "note",
            "created_at",
            "updated_at",
            "version",
        ])
    );
    assert_eq!(card["number"], VISA);
    assert_eq!(card["cvv"], "739");
    assert!(card["version"].is_i64(), "{card}");
}

#[tokio::test]
async fn card_show_of_a_missing_card_fails_with_one_line() {
    let server = server_with_alice().await;

    let out = server.run("alice", "card show nosuch").await;

    assert_eq!(failure_line(&out), "error: no card named `nosuch`");
}

// ---- card edit ----

#[tokio::test]
async fn card_edit_changes_a_field_and_bumps_the_version() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = json(&server, "card show visa --json").await;

    let out = ok(
        &server,
        "card edit visa --holder 'Bob Jones' --expiry 01/31",
    )
    .await;

    assert!(out.contains("Updated card `visa`"), "{out}");
    let after = json(&server, "card show visa --reveal --json").await;
    assert_eq!(after["holder"], "Bob Jones");
    assert_eq!(after["expiry"], "01/31");
    assert_eq!(after["number"], VISA, "untouched field changed");
    assert_eq!(
        after["version"].as_i64().expect("version"),
        before["version"].as_i64().expect("version") + 1
    );
    assert_eq!(after["id"], before["id"]);
}

#[tokio::test]
async fn card_edit_with_an_empty_value_clears_an_optional_field() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!(
            "card add --name visa --number {VISA} --expiry 12/30 --holder Al --cvv 739 --note n"
        ),
    )
    .await;

    ok(&server, "card edit visa --holder '' --note '' --cvv ''").await;

    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["holder"], Value::Null);
    assert_eq!(card["note"], Value::Null);
    assert_eq!(card["cvv"], Value::Null);
}

#[tokio::test]
async fn card_edit_renames_a_card() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    ok(&server, "card edit visa --name 'old visa'").await;

    assert_eq!(names(&cards(&server).await), vec!["old visa"]);
    assert_eq!(
        failure_line(&server.run("alice", "card show visa").await),
        "error: no card named `visa`"
    );
}

#[tokio::test]
async fn card_edit_refuses_to_rename_onto_an_existing_name() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    add_card(&server, "amex", AMEX).await;
    let before = cards(&server).await;

    let out = server.run("alice", "card edit visa --name AMEX").await;

    assert!(failure_line(&out).contains("already exists"), "{out:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn card_edit_with_nothing_to_change_is_refused() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = json(&server, "card show visa --json").await;

    let out = server.run("alice", "card edit visa").await;

    assert!(failure_line(&out).contains("nothing to change"), "{out:?}");
    assert_eq!(json(&server, "card show visa --json").await, before);
}

#[tokio::test]
async fn card_edit_checks_the_new_number() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let out = server
        .run("alice", "card edit visa --number 4111111111111112")
        .await;

    assert!(failure_line(&out).contains("Luhn"), "{out:?}");
    let card = json(&server, "card show visa --reveal --json").await;
    assert_eq!(card["number"], VISA);
}

// ---- card rm ----

#[tokio::test]
async fn card_rm_deletes_only_the_named_card() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    add_card(&server, "mc", MASTERCARD).await;

    let out = ok(&server, "card rm visa -f").await;

    assert_eq!(
        out,
        "Moved card `visa` to the trash (`trash restore visa` brings it back).\n"
    );
    assert_eq!(names(&cards(&server).await), vec!["mc"]);
}

#[tokio::test]
async fn card_rm_of_a_missing_card_fails_and_deletes_nothing() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let out = server.run("alice", "card rm nosuch -f").await;

    assert_eq!(failure_line(&out), "error: no card named `nosuch`");
    assert_eq!(names(&cards(&server).await), vec!["visa"]);
}

// ---- pass add ----

#[tokio::test]
async fn pass_add_with_flags_stores_the_entry() {
    let server = server_with_alice().await;

    let out = ok(
        &server,
        "pass add --name github --url https://github.com --username alice-gh --password 'Tr0ub4dor&3' --note 'work account'",
    )
    .await;

    assert_eq!(out, "Added password `github`.\n");
    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["name"], "github");
    assert_eq!(entry["url"], "https://github.com");
    assert_eq!(entry["username"], "alice-gh");
    assert_eq!(entry["password"], "Tr0ub4dor&3");
    assert_eq!(entry["note"], "work account");
}

#[tokio::test]
async fn pass_add_generate_stores_a_password_of_the_requested_length() {
    let server = server_with_alice().await;

    let out = ok(&server, "pass add --name long --generate --length 40").await;
    ok(&server, "pass add --name default --generate").await;

    assert_eq!(out, "Added password `long` with a generated password.\n");
    let long = json(&server, "pass show long --reveal --json").await;
    let default = json(&server, "pass show default --reveal --json").await;
    assert_eq!(long["password"].as_str().expect("pw").chars().count(), 40);
    assert_eq!(
        default["password"].as_str().expect("pw").chars().count(),
        20
    );
}

#[tokio::test]
async fn pass_add_refuses_both_a_password_and_generate() {
    let server = server_with_alice().await;

    let out = server
        .run("alice", "pass add --name x --password abcdefgh --generate")
        .await;

    failure_line(&out);
    assert_eq!(passwords(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn pass_add_generate_refuses_a_length_out_of_range() {
    let server = server_with_alice().await;

    let short = server
        .run("alice", "pass add --name x --generate --length 7")
        .await;
    let long = server
        .run("alice", "pass add --name x --generate --length 129")
        .await;

    assert!(failure_line(&short).contains("length"), "{short:?}");
    assert!(failure_line(&long).contains("length"), "{long:?}");
    assert_eq!(passwords(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn pass_add_without_a_password_asks_for_it_twice_without_echo() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("pass add").await;
    sh.expect("Name: ").await;
    sh.line("github").await;
    sh.expect("URL (optional): ").await;
    sh.line("https://github.com").await;
    sh.expect("Username (optional): ").await;
    sh.line("").await;
    sh.expect("Password: ").await;
    sh.line("hidden-Pa55word").await;
    sh.expect("Repeat: ").await;
    sh.line("hidden-Pa55word").await;
    sh.expect("Note (optional): ").await;
    sh.line("").await;
    let out = sh.expect(PROMPT).await;

    assert!(out.contains("Added password `github`."), "{out}");
    assert!(
        !transcript(&sh).contains("hidden-Pa55word"),
        "password echoed"
    );
    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["password"], "hidden-Pa55word");
    assert_eq!(entry["url"], "https://github.com");
    assert_eq!(entry["username"], Value::Null);
}

#[tokio::test]
async fn pass_add_asks_again_when_the_two_passwords_differ() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("pass add --name github --url u --username x --note y")
        .await;
    sh.expect("Password: ").await;
    sh.line("first-try-1").await;
    sh.expect("Repeat: ").await;
    sh.line("first-try-2").await;
    let refusal = sh.expect("Password: ").await;
    sh.line("second-try").await;
    sh.expect("Repeat: ").await;
    sh.line("second-try").await;
    let out = sh.expect(PROMPT).await;

    assert!(refusal.contains("the two entries differ"), "{refusal}");
    assert!(out.contains("Added password `github`."), "{out}");
    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["password"], "second-try");
}

// ---- pass list ----

#[tokio::test]
async fn pass_list_never_shows_the_password() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name github --url https://github.com --username alice-gh --password 'Sekr1t-in-list'",
    )
    .await;

    let text = ok(&server, "pass list").await;
    let list = passwords(&server).await;

    for column in [
        "NAME",
        "URL",
        "USERNAME",
        "github",
        "https://github.com",
        "alice-gh",
    ] {
        assert!(text.contains(column), "{column} missing: {text}");
    }
    assert!(!text.contains("Sekr1t-in-list"), "{text}");
    assert!(!list.to_string().contains("Sekr1t-in-list"), "{list}");
}

#[tokio::test]
async fn pass_list_json_has_exactly_the_listed_keys() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-one-1").await;
    add_password(&server, "mail", "pw-two-2").await;

    let list = passwords(&server).await;

    let items = list.as_array().expect("array");
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(
            keys(item),
            sorted(&["id", "name", "url", "username", "tags"])
        );
    }
}

#[tokio::test]
async fn pass_list_filter_matches_name_url_or_username() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name github --url https://github.com --username octo --password pw-1-aaaa",
    )
    .await;
    ok(
        &server,
        "pass add --name mail --url https://mail.example.org --username postmaster --password pw-2-bbbb",
    )
    .await;
    ok(
        &server,
        "pass add --name bank --url https://bank.test --username zed --password pw-3-cccc",
    )
    .await;

    let by_name = json(&server, "pass list GIT --json").await;
    let by_url = json(&server, "pass list example.org --json").await;
    let by_username = json(&server, "pass list zed --json").await;
    let none = ok(&server, "pass list nothing-matches").await;
    let text = ok(&server, "pass list postmaster").await;

    assert_eq!(names(&by_name), vec!["github"]);
    assert_eq!(names(&by_url), vec!["mail"]);
    assert_eq!(names(&by_username), vec!["bank"]);
    assert!(none.contains("No passwords found"), "{none}");
    assert!(text.contains("mail") && !text.contains("github"), "{text}");
}

// ---- pass show ----

#[tokio::test]
async fn pass_show_hides_the_password_without_reveal() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Sekr1t-in-show").await;

    let text = ok(&server, "pass show github").await;
    let shown = json(&server, "pass show github --json").await;

    assert!(text.contains("github"), "{text}");
    assert!(text.contains("********"), "{text}");
    assert!(!text.contains("Sekr1t-in-show"), "{text}");
    assert!(shown.get("password").is_none(), "{shown}");
    assert!(!shown.to_string().contains("Sekr1t-in-show"), "{shown}");
}

#[tokio::test]
async fn pass_show_reveal_prints_the_password() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Sekr1t-in-show").await;

    let text = ok(&server, "pass show github --reveal").await;

    assert!(text.contains("Sekr1t-in-show"), "{text}");
}

#[tokio::test]
async fn pass_show_reveal_json_adds_password_note_times_and_version() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Sekr1t-in-show").await;

    let entry = json(&server, "pass show github --reveal --json").await;

    assert_eq!(
        keys(&entry),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "url",
            "username",
            "password",
            "note",
            "created_at",
            "updated_at",
            "version",
        ])
    );
    assert_eq!(entry["password"], "Sekr1t-in-show");
}

#[tokio::test]
async fn pass_show_of_a_missing_entry_fails_with_one_line() {
    let server = server_with_alice().await;

    let out = server.run("alice", "pass show nosuch").await;

    assert!(failure_line(&out).contains("nosuch"), "{out:?}");
}

// ---- pass edit / rm ----

#[tokio::test]
async fn pass_edit_changes_a_field_and_bumps_the_version() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name github --url https://github.com --username octo --password old-pass-1",
    )
    .await;
    let before = json(&server, "pass show github --json").await;

    let out = ok(
        &server,
        "pass edit github --username octocat --password new-pass-2",
    )
    .await;

    assert!(out.contains("Updated password `github`"), "{out}");
    let after = json(&server, "pass show github --reveal --json").await;
    assert_eq!(after["username"], "octocat");
    assert_eq!(after["password"], "new-pass-2");
    assert_eq!(
        after["url"], "https://github.com",
        "untouched field changed"
    );
    assert_eq!(
        after["version"].as_i64().expect("version"),
        before["version"].as_i64().expect("version") + 1
    );
}

#[tokio::test]
async fn pass_edit_with_an_empty_value_clears_an_optional_field() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name github --url https://github.com --username octo --password pw-aaaa-1 --note n",
    )
    .await;

    ok(&server, "pass edit github --url '' --username '' --note ''").await;

    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["url"], Value::Null);
    assert_eq!(entry["username"], Value::Null);
    assert_eq!(entry["note"], Value::Null);
    assert_eq!(entry["password"], "pw-aaaa-1");
}

#[tokio::test]
async fn pass_edit_generate_replaces_the_password() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-aaaa-1").await;

    ok(&server, "pass edit github --generate --length 33").await;

    let entry = json(&server, "pass show github --reveal --json").await;
    let password = entry["password"].as_str().expect("password");
    assert_ne!(password, "pw-aaaa-1");
    assert_eq!(password.chars().count(), 33);
}

#[tokio::test]
async fn pass_edit_refuses_to_rename_onto_an_existing_name() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-aaaa-1").await;
    add_password(&server, "gitlab", "pw-bbbb-2").await;
    let before = passwords(&server).await;

    let out = server.run("alice", "pass edit gitlab --name GitHub").await;

    assert!(failure_line(&out).contains("already exists"), "{out:?}");
    assert_eq!(passwords(&server).await, before);
}

#[tokio::test]
async fn pass_rm_deletes_only_the_named_entry() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-aaaa-1").await;
    add_password(&server, "gitlab", "pw-bbbb-2").await;

    let out = ok(&server, "pass rm github -f").await;

    assert_eq!(
        out,
        "Moved password `github` to the trash (`trash restore github` brings it back).\n"
    );
    assert_eq!(names(&passwords(&server).await), vec!["gitlab"]);
}

// ---- pass gen ----

#[tokio::test]
async fn pass_gen_prints_a_password_of_the_requested_length() {
    let server = server_with_alice().await;

    let default = ok(&server, "pass gen").await;
    let long = ok(&server, "pass gen --length 64").await;

    assert_eq!(default.trim_end().chars().count(), 20, "{default:?}");
    assert_eq!(long.trim_end().chars().count(), 64, "{long:?}");
    assert_eq!(long.lines().count(), 1, "{long:?}");
}

#[tokio::test]
async fn pass_gen_no_symbols_prints_letters_and_digits_only() {
    let server = server_with_alice().await;

    let with = ok(&server, "pass gen --length 128").await;
    let without = ok(&server, "pass gen --length 128 --no-symbols").await;

    assert!(
        with.trim_end().chars().any(|c| !c.is_ascii_alphanumeric()),
        "{with:?}"
    );
    assert!(
        without
            .trim_end()
            .chars()
            .all(|c| c.is_ascii_alphanumeric()),
        "{without:?}"
    );
}

#[tokio::test]
async fn pass_gen_twice_gives_two_different_passwords() {
    let server = server_with_alice().await;

    let first = ok(&server, "pass gen").await;
    let second = ok(&server, "pass gen").await;

    assert_ne!(first, second);
}

#[tokio::test]
async fn pass_gen_words_prints_a_passphrase_of_listed_words() {
    let server = server_with_alice().await;

    let plain = ok(&server, "pass gen --words 5").await;
    let dressed = ok(
        &server,
        "pass gen --words 4 --separator ' . ' --capitalize --number",
    )
    .await;

    let words: Vec<&str> = plain.trim_end().split('-').collect();
    assert_eq!(words.len(), 5, "{plain:?}");
    assert!(
        words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase())),
        "{plain:?}"
    );
    let parts: Vec<&str> = dressed.trim_end().split(" . ").collect();
    assert_eq!(parts.len(), 4, "{dressed:?}");
    assert!(
        parts
            .iter()
            .all(|w| w.starts_with(|c: char| c.is_ascii_uppercase())),
        "{dressed:?}"
    );
    assert_eq!(
        dressed.chars().filter(char::is_ascii_digit).count(),
        1,
        "{dressed:?}"
    );
}

#[tokio::test]
async fn pass_gen_json_gives_the_entropy_of_what_it_made() {
    let server = server_with_alice().await;

    let phrase = json(&server, "pass gen --words 6 --json").await;
    let password = json(&server, "pass gen --length 20 --no-symbols --json").await;

    assert_eq!(keys(&phrase), sorted(&["entropy_bits", "password"]));
    // 6 × log2(7776) = 77.55 bits.
    assert_eq!(phrase["entropy_bits"], 77.5, "{phrase}");
    let printed = phrase["password"].as_str().expect("password");
    assert_eq!(printed.split('-').count(), 6, "{phrase}");
    let bits = password["entropy_bits"].as_f64().expect("bits");
    // Just under 20 × log2(62) = 119.1: every class must be present.
    assert!((118.0..119.1).contains(&bits), "{password}");
    assert_eq!(password["password"].as_str().expect("password").len(), 20);
}

#[tokio::test]
async fn pass_gen_refuses_bad_passphrase_shapes_with_one_line() {
    let server = server_with_alice().await;
    let cases = [
        ("pass gen --words 2", "words"),
        ("pass gen --words 21", "words"),
        ("pass gen --words many", "words"),
        ("pass gen --words 4 --separator 123456789", "separator"),
        ("pass gen --words 4 --length 30", "--length"),
        ("pass gen --separator +", "--words"),
        ("pass gen --capitalize", "--words"),
    ];
    for (command, named) in cases {
        let out = server.run("alice", command).await;
        let line = failure_line(&out);
        assert!(line.contains(named), "`{command}`: {line}");
    }
}

#[tokio::test]
async fn pass_gen_stores_nothing() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-aaaa-1").await;
    let before = passwords(&server).await;

    ok(&server, "pass gen").await;

    assert_eq!(passwords(&server).await, before);
}

#[tokio::test]
async fn pass_gen_refuses_a_length_out_of_range() {
    let server = server_with_alice().await;

    let out = server.run("alice", "pass gen --length 7").await;

    assert!(failure_line(&out).contains("length"), "{out:?}");
}

// ---- pass copy ----

#[tokio::test]
async fn pass_copy_in_a_terminal_sends_osc_52_and_never_the_password_in_clear() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Cl1pboard-Only!").await;
    let mut sh = server.login("alice").await;

    let out = sh.command("pass copy github", PROMPT).await;

    let encoded = base64::engine::general_purpose::STANDARD.encode("Cl1pboard-Only!");
    let osc = format!("\x1b]52;c;{encoded}\x07");
    assert!(out.contains(&osc), "no OSC 52 sequence: {out:?}");
    assert!(out.contains("Copied the password of `github`"), "{out:?}");
    let without_osc = transcript(&sh).replace(&osc, "");
    assert!(!without_osc.contains("Cl1pboard-Only!"), "{without_osc:?}");
}

/// A server whose shell clears a copy from the clipboard after a second.
async fn server_clearing_copies_after_a_second() -> TestServer {
    let server = TestServer::start_with(|a| a.limits.clipboard_clear_secs = 1).await;
    server.register("alice").await;
    server
}

#[tokio::test]
async fn a_copy_is_cleared_from_the_clipboard_again_and_the_message_says_when() {
    let server = server_clearing_copies_after_a_second().await;
    add_password(&server, "github", "Cl1pboard-Only!").await;
    ok(
        &server,
        "totp add --name gh --secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    )
    .await;
    let mut sh = server.login("alice").await;

    let copied = sh.command("pass copy github", PROMPT).await;
    let cleared = sh.expect("\x1b]52;c;\x07").await;
    let code = sh.command("totp copy gh", PROMPT).await;

    assert!(
        copied.contains("The clipboard is cleared again in 1 s (`--keep` leaves it)."),
        "{copied:?}"
    );
    assert!(!cleared.contains("Cl1pboard"), "{cleared:?}");
    assert!(
        code.contains("Copied the one-time code of `gh`"),
        "{code:?}"
    );
    assert!(code.contains("\x1b]52;c;"), "{code:?}");
}

#[tokio::test]
async fn a_copy_with_keep_is_left_on_the_clipboard() {
    let server = server_clearing_copies_after_a_second().await;
    add_password(&server, "github", "Cl1pboard-Only!").await;
    let mut sh = server.login("alice").await;

    let copied = sh.command("pass copy github --keep", PROMPT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = sh.command("whoami", PROMPT).await;

    assert!(
        copied.contains("Copied the password of `github`"),
        "{copied:?}"
    );
    assert!(!copied.contains("cleared again"), "{copied:?}");
    assert!(!transcript(&sh).contains("\x1b]52;c;\x07"), "{later:?}");
}

#[tokio::test]
async fn pass_copy_through_exec_without_a_terminal_fails_clearly() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Cl1pboard-Only!").await;

    let out = server.run("alice", "pass copy github").await;

    assert!(failure_line(&out).contains("needs a terminal"), "{out:?}");
}

#[tokio::test]
async fn pass_copy_in_a_plain_shell_fails_and_the_shell_goes_on() {
    let server = server_with_alice().await;
    add_password(&server, "github", "Cl1pboard-Only!").await;
    let mut sh = plain_shell(&server).await;

    let out = plain_command(&mut sh, "pass copy github").await;
    let next = plain_command(&mut sh, "whoami").await;

    assert!(out.contains("needs a terminal"), "{out:?}");
    assert!(!transcript(&sh).contains("Cl1pboard-Only!"));
    assert!(!transcript(&sh).contains("\x1b]52"));
    assert!(next.contains("alice"), "{next:?}");
}

// ---- log ----

#[tokio::test]
async fn log_shows_the_users_item_names_beside_ids_but_its_json_keeps_the_logs_shape() {
    let server = server_with_alice().await;
    add_password(&server, "github", "hunter2-hunter2").await;
    ok(&server, "note add --name gone --text t").await;
    ok(&server, "pass show github --reveal").await;
    ok(&server, "note rm gone -f").await;

    let text = ok(&server, "log --limit 20").await;
    let events = json(&server, "log --limit 20 --json").await;

    let header = text.lines().next().expect("a header");
    assert!(header.ends_with(" ITEM"), "{header}");
    let reveal = text
        .lines()
        .find(|l| l.contains("password.reveal"))
        .expect("the reveal");
    assert!(reveal.trim_end().ends_with(" github"), "{reveal}");
    let deleted = text
        .lines()
        .find(|l| l.contains("note.delete"))
        .expect("the delete");
    assert!(deleted.trim_end().ends_with(" -"), "{deleted}");
    for event in events.as_array().expect("events") {
        assert!(event.get("item").is_none(), "{event}");
    }
    assert!(!events.to_string().contains("github"), "{events}");
}

/// The `action` of each event of `log --json`, in the order printed.
fn actions(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect()
}

#[tokio::test]
async fn log_lists_events_newest_first() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    ok(&server, "card rm visa -f").await;

    let events = json(&server, "log --json").await;

    let actions = actions(&events);
    let created = actions.iter().position(|a| a == "card.create");
    let deleted = actions.iter().position(|a| a == "card.delete");
    assert!(created.is_some() && deleted.is_some(), "{actions:?}");
    assert!(deleted < created, "not newest first: {actions:?}");
    let times: Vec<time::OffsetDateTime> = events
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            time::OffsetDateTime::parse(
                e["at"].as_str().expect("at"),
                &time::format_description::well_known::Rfc3339,
            )
            .expect("RFC 3339 time")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

/// Runs a `--json` command in the PTY shell and parses what it printed.
async fn pty_json(sh: &mut Shell, command: &str) -> Value {
    let out = sh.command(command, PROMPT).await;
    let (_echo, body) = out.split_once("\r\n").expect("output after the echo");
    serde_json::from_str(&body.replace("\r\n", "\n")).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[tokio::test]
async fn log_limit_caps_the_number_of_events() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    ok(&server, "card show visa").await;
    let mut sh = server.login("alice").await;

    let all = pty_json(&mut sh, "log --json").await;
    let two = pty_json(&mut sh, "log --limit 2 --json").await;

    let all = all.as_array().expect("array");
    assert!(all.len() > 2, "{all:?}");
    assert_eq!(two.as_array().expect("array")[..], all[..2]);
}

#[tokio::test]
async fn log_json_events_have_exactly_the_documented_keys() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let events = json(&server, "log --json").await;

    let events = events.as_array().expect("array");
    assert!(!events.is_empty());
    for event in events {
        assert_eq!(
            keys(event),
            sorted(&[
                "at",
                "action",
                "outcome",
                "channel",
                "remote_addr",
                "target"
            ])
        );
        assert_eq!(event["channel"], "ssh");
    }
    let create = events
        .iter()
        .find(|e| e["action"] == "card.create")
        .expect("card.create event");
    assert_eq!(create["outcome"], "ok");
}

#[tokio::test]
async fn log_text_is_a_table_of_events() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let out = ok(&server, "log").await;

    let header = out.lines().next().expect("header");
    for column in ["WHEN", "ACTION", "OUTCOME", "CHANNEL"] {
        assert!(header.contains(column), "{out}");
    }
    assert!(out.contains("card.create"), "{out}");
}

#[tokio::test]
async fn log_never_holds_a_secret_and_its_json_no_item_name() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!(
            "card add --name zanzibar --number {VISA} --expiry 12/30 --cvv 739 --note quixotic"
        ),
    )
    .await;
    ok(
        &server,
        "pass add --name marrakesh --url https://kasbah.test --username vizier --password 'Xyzzy-Plugh-42' --note sphinx",
    )
    .await;
    ok(&server, "card show zanzibar --reveal").await;
    ok(&server, "pass show marrakesh --reveal").await;

    let text = ok(&server, "log --limit 10000").await;
    let json_text = ok(&server, "log --limit 10000 --json").await;

    // The CVV is three digits, which times, ports and random ids contain by
    // chance: it is looked for in every field but those.
    let events: Vec<serde_json::Value> = serde_json::from_str(&json_text).expect("JSON log");
    for event in &events {
        for (field, value) in event.as_object().expect("an event is an object") {
            if !["at", "remote_addr", "target"].contains(&field.as_str()) {
                assert!(
                    !value.to_string().contains("739"),
                    "CVV in {field}: {event}"
                );
            }
        }
    }
    // The names are opened for the screen (the ITEM column), never kept in
    // the log or given in its JSON.
    for name in ["zanzibar", "marrakesh"] {
        assert!(!json_text.contains(name), "{name} in log: {json_text}");
        assert!(text.contains(name), "{name} not shown: {text}");
    }
    for secret in [
        VISA,
        "quixotic",
        "kasbah",
        "vizier",
        "Xyzzy-Plugh-42",
        "sphinx",
    ] {
        assert!(!text.contains(secret), "{secret} in log: {text}");
        assert!(!json_text.contains(secret), "{secret} in log: {json_text}");
    }
    assert!(
        text.contains("card.reveal") && text.contains("password.reveal"),
        "{text}"
    );
}

// ---- show --field ----

/// The actions on items in the user's audit log, newest first (each exec
/// also logs in and unlocks).
async fn logged(server: &TestServer) -> Vec<String> {
    let mut all = actions(&json(server, "log --json --limit 1000").await);
    all.retain(|a| a.starts_with("card.") || a.starts_with("password."));
    all
}

#[tokio::test]
async fn show_field_prints_one_raw_value_audited_as_a_reveal() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name github --username 'alice smith' --password 'pw with  spaces'",
    )
    .await;
    add_card(&server, "visa", VISA).await;

    let password = ok(&server, "pass show github --field password").await;
    let username = ok(&server, "pass show github --field Username").await;
    let number = ok(&server, "card show visa --field number").await;
    let expiry = ok(&server, "card show visa --field expiry").await;

    assert_eq!(password, "pw with  spaces\n");
    assert_eq!(username, "alice smith\n");
    assert_eq!(number, format!("{VISA}\n"));
    assert_eq!(expiry, "12/30\n");
    let log = logged(&server).await;
    assert_eq!(
        log[..4],
        [
            "card.reveal",
            "card.reveal",
            "password.reveal",
            "password.reveal"
        ],
        "{log:?}"
    );
}

#[tokio::test]
async fn show_field_of_a_field_that_does_not_exist_fails_and_reveals_nothing() {
    let server = server_with_alice().await;
    add_password(&server, "github", "pw-aaaa-1").await;
    let before = logged(&server).await;

    let unknown = server.run("alice", "pass show github --field colour").await;
    let empty = server
        .run("alice", "pass show github --field username")
        .await;
    let with_json = server
        .run("alice", "pass show github --field password --json")
        .await;

    let line = failure_line(&unknown);
    assert!(
        line.contains("no field `colour`") && line.contains("name, url, username, password, note"),
        "{line}"
    );
    let line = failure_line(&empty);
    assert!(line.contains("password `github` has no username"), "{line}");
    assert_eq!(with_json.status, Some(2), "{with_json:?}");
    assert!(failure_line(&with_json).contains("--json"), "{with_json:?}");
    let after = logged(&server).await;
    // The conflict reads nothing. A field that is none of the kind's own may
    // be a custom one: the entry is viewed (not revealed) to find it has
    // none so keyed. The empty field was revealed to find it empty.
    assert_eq!(after.len(), before.len() + 2, "{after:?}");
    assert_eq!(
        after[..2],
        ["password.reveal", "password.view"],
        "{after:?}"
    );
    assert_eq!(after[2..], before[..], "{after:?}");
}

// ---- note ----

/// `note add` through exec with `stdin` after the PIN line.
async fn add_note(server: &TestServer, name: &str, text: &str) -> Exec {
    server
        .exec(
            "alice",
            &format!("note add --name '{name}'"),
            &format!("{PIN}\n{text}"),
        )
        .await
}

#[tokio::test]
async fn note_add_through_exec_reads_the_text_from_stdin_after_the_pin_line() {
    let server = server_with_alice().await;
    let text =
        "Wi-Fi: keeper-net\n\n  password: correct horse\tbattery\nrouter admin at 192.168.1.1\n";

    let added = add_note(&server, "home wifi", text).await;
    let shown = ok(&server, "note show 'home wifi' --field text").await;

    assert_eq!(added.status, Some(0), "{added:?}");
    assert_eq!(added.stdout, "Added note `home wifi` (4 lines).\n");
    assert!(added.stderr.is_empty(), "{added:?}");
    // Stored without the file's last line break, printed back with one.
    assert_eq!(shown, text);
}

#[tokio::test]
async fn note_show_hides_the_text_unless_revealed_and_list_never_holds_it() {
    let server = server_with_alice().await;
    add_note(
        &server,
        "recovery",
        "codes: 1111-2222 3333-4444\nspare: 5555\n",
    )
    .await;

    let hidden = ok(&server, "note show recovery").await;
    let revealed = ok(&server, "note show recovery --reveal").await;
    let list = ok(&server, "note list").await;
    let listed = json(&server, "note list --json").await;
    let detail = json(&server, "note show recovery --json").await;
    let full = json(&server, "note show recovery --reveal --json").await;

    assert!(!hidden.contains("1111-2222"), "{hidden}");
    assert!(
        hidden.contains("Text:    ********  (--reveal shows it)"),
        "{hidden}"
    );
    assert!(
        revealed.contains("Text:    codes: 1111-2222 3333-4444\n         spare: 5555\n"),
        "{revealed}"
    );
    assert_eq!(list, "NAME\nrecovery\n");
    assert_eq!(keys(&listed[0]), sorted(&["id", "name", "tags"]));
    assert_eq!(
        keys(&detail),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "created_at",
            "updated_at",
            "version"
        ])
    );
    assert_eq!(full["text"], "codes: 1111-2222 3333-4444\nspare: 5555");
    assert_eq!(
        keys(&full),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "text",
            "created_at",
            "updated_at",
            "version"
        ])
    );
}

#[tokio::test]
async fn a_note_over_64_kib_is_refused_whole_and_nothing_is_stored() {
    let server = server_with_alice().await;
    let line = "x".repeat(1023);
    let over: String = std::iter::repeat_n(format!("{line}\n"), 65).collect();
    let exactly = "y".repeat(64 * 1024);

    let refused = add_note(&server, "big", &over).await;
    let list = json(&server, "note list --json").await;
    let accepted = add_note(&server, "exactly 64 KiB", &format!("{exactly}\n")).await;
    let back = ok(&server, "note show 'exactly 64 KiB' --field text").await;

    let message = failure_line(&refused);
    assert_eq!(refused.status, Some(1), "{refused:?}");
    assert!(message.starts_with("error: text:"), "{message}");
    assert!(message.contains("64 KiB"), "{message}");
    assert_eq!(list, serde_json::json!([]));
    assert_eq!(accepted.status, Some(0), "{accepted:?}");
    assert_eq!(back.len(), 64 * 1024 + 1);
}

#[tokio::test]
async fn note_add_through_exec_refuses_an_empty_text_a_nul_and_a_missing_name() {
    let server = server_with_alice().await;

    let empty = add_note(&server, "empty", "").await;
    let nul = add_note(&server, "nul", "a\0b\n").await;
    let unnamed = server
        .exec("alice", "note add", &format!("{PIN}\nsome text\n"))
        .await;
    let list = json(&server, "note list --json").await;

    assert_eq!(failure_line(&empty), "error: text: must not be empty");
    assert!(failure_line(&nul).starts_with("error: text:"), "{nul:?}");
    assert_eq!(unnamed.status, Some(2), "{unnamed:?}");
    assert!(failure_line(&unnamed).contains("--name"), "{unnamed:?}");
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn note_text_that_is_not_utf8_is_refused() {
    let server = server_with_alice().await;
    let mut stdin = format!("{PIN}\n").into_bytes();
    stdin.extend_from_slice(b"caf\xe9\n");

    let out = helpers::exec_bytes(
        server.ssh_addr,
        "alice",
        PASSWORD,
        b"note add --name latin1",
        &stdin,
    )
    .await;
    let list = json(&server, "note list --json").await;

    assert!(failure_line(&out).contains("not valid UTF-8"), "{out:?}");
    assert_eq!(list, serde_json::json!([]));
}

#[tokio::test]
async fn note_add_with_text_on_the_command_line_reads_no_stdin() {
    let server = server_with_alice().await;

    let out = ok(&server, "note add --name pin --text 'bike lock 4821'").await;
    let text = ok(&server, "note show pin --field text").await;

    assert_eq!(out, "Added note `pin` (1 line).\n");
    assert_eq!(text, "bike lock 4821\n");
}

#[tokio::test]
async fn note_edit_renames_and_replaces_the_text_from_stdin_with_text_dash() {
    let server = server_with_alice().await;
    ok(&server, "note add --name draft --text 'first version'").await;

    let renamed = ok(&server, "note edit draft --name letter").await;
    let replaced = server
        .exec(
            "alice",
            "note edit letter --text -",
            &format!("{PIN}\nDear Ada,\nthanks.\n"),
        )
        .await;
    let nothing = server.run("alice", "note edit letter").await;
    let full = json(&server, "note show letter --reveal --json").await;

    assert_eq!(renamed, "Updated note `letter`.\n");
    assert_eq!(replaced.status, Some(0), "{replaced:?}");
    assert_eq!(nothing.status, Some(2), "{nothing:?}");
    assert!(failure_line(&nothing).contains("--text"), "{nothing:?}");
    assert_eq!(full["text"], "Dear Ada,\nthanks.");
    assert_eq!(full["version"], 3);
}

#[tokio::test]
async fn note_rm_deletes_the_note_and_names_are_unique_among_notes_only() {
    let server = server_with_alice().await;
    add_password(&server, "github", "hunter2-hunter2").await;
    ok(&server, "note add --name github --text 'recovery codes'").await;

    let twice = server
        .run("alice", "note add --name GitHub --text other")
        .await;
    let removed = ok(&server, "note rm github -f").await;
    let list = json(&server, "note list --json").await;
    let entries = passwords(&server).await;

    assert!(failure_line(&twice).contains("already"), "{twice:?}");
    assert_eq!(
        removed,
        "Moved note `github` to the trash (`trash restore github` brings it back).\n"
    );
    assert_eq!(list, serde_json::json!([]));
    assert_eq!(names(&entries), vec!["github"]);
}

#[tokio::test]
async fn note_show_field_of_a_field_notes_lack_names_the_fields_they_have() {
    let server = server_with_alice().await;
    ok(&server, "note add --name n --text t").await;

    let out = server.run("alice", "note show n --field password").await;

    let message = failure_line(&out);
    assert!(
        message.contains("note `n` has no field `password`"),
        "{message}"
    );
    assert!(message.contains("name, text"), "{message}");
}

#[tokio::test]
async fn a_plain_shell_reads_a_notes_lines_up_to_a_dot_and_runs_none_of_them() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let mut sh = plain_shell(&server).await;

    sh.send(b"note add --name todo\n").await;
    sh.expect("Ctrl-D):\n").await;
    sh.send(b"buy milk\ncard rm visa\n\n.\n").await;
    let added = sh.expect(PROMPT).await;
    let shown = plain_command(&mut sh, "note show todo --field text").await;
    let cards = plain_command(&mut sh, "card list --json").await;

    assert!(added.contains("Added note `todo` (3 lines)."), "{added}");
    assert_eq!(shown, "buy milk\ncard rm visa\n\n");
    assert!(cards.contains("\"visa\""), "a note's line was run: {cards}");
}

#[tokio::test]
async fn a_plain_shell_refuses_a_note_over_64_kib_after_reading_it_to_its_end() {
    let server = server_with_alice().await;
    let mut sh = plain_shell(&server).await;
    let line = "z".repeat(1000);
    let mut input = b"note add --name huge\n".to_vec();
    for _ in 0..70 {
        input.extend_from_slice(format!("{line}\n").as_bytes());
    }
    input.extend_from_slice(b".\nwhoami\n");

    let before = send_large_and_expect(&mut sh, input, "alice\n").await;
    sh.expect(PROMPT).await;
    let list = plain_command(&mut sh, "note list --json").await;

    let before = String::from_utf8_lossy(&before);
    assert!(
        before.contains("error: text: must be at most 64 KiB"),
        "{before}"
    );
    assert_eq!(list.trim(), "[]");
}

// ---- totp ----

/// RFC 6238's example seed: "12345678901234567890" in base32.
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The RFC 6238 (HMAC-SHA1) code of the ASCII `key` for the period holding
/// `unix`, written here from the RFC, apart from the server's code.
fn rfc6238_sha1(key: &[u8], unix: u64, digits: u32) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).expect("key");
    mac.update(&(unix / 30).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let word = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        word % 10u32.pow(digits),
        width = digits as usize
    )
}

/// `code` (JSON of a code) is the RFC seed's code at `before` or `after`.
fn assert_is_the_rfc_code(code: &Value, before: u64, after: u64) {
    let expected: Vec<String> = [before, after]
        .iter()
        .map(|t| rfc6238_sha1(b"12345678901234567890", *t, 6))
        .collect();
    assert!(
        expected.iter().any(|c| code["code"] == c.as_str()),
        "{code} is none of {expected:?}"
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
async fn totp_add_with_a_uri_is_named_after_its_issuer_and_shows_the_rfc_6238_code() {
    let server = server_with_alice().await;
    let uri =
        format!("otpauth://totp/Example:alice@example.com?secret={RFC_SECRET}&issuer=Example");

    let added = ok(&server, &format!("totp add --uri '{uri}'")).await;
    let before = unix_now();
    let code = json(&server, "totp show Example --json").await;
    let after = unix_now();

    assert_eq!(added, "Added one-time password `Example`.\n");
    assert_eq!(keys(&code), sorted(&["name", "code", "seconds_left"]));
    assert_eq!(code["name"], "Example");
    assert_is_the_rfc_code(&code, before, after);
    let left = code["seconds_left"].as_u64().expect("seconds_left");
    assert!((1..=30).contains(&left), "{code}");
}

#[tokio::test]
async fn totp_show_and_list_never_print_the_secret_unless_revealed() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("totp add --name gh --secret {RFC_SECRET} --issuer GitHub --account alice"),
    )
    .await;

    let shown = ok(&server, "totp show gh").await;
    let list = ok(&server, "totp list").await;
    let listed = json(&server, "totp list --json").await;
    let revealed = json(&server, "totp show gh --reveal --json").await;
    let secret = ok(&server, "totp show gh --field secret").await;
    let digits = ok(&server, "totp show gh --field digits").await;

    assert!(!shown.contains(RFC_SECRET), "{shown}");
    assert!(shown.contains("Issuer:    GitHub\n"), "{shown}");
    assert!(
        shown.contains("Algorithm: SHA1, 6 digits, every 30 s\n"),
        "{shown}"
    );
    assert!(shown.contains(" s left)"), "{shown}");
    assert_eq!(list, "NAME  ISSUER  ACCOUNT\ngh    GitHub  alice\n");
    assert_eq!(
        keys(&listed[0]),
        sorted(&["id", "name", "issuer", "account", "tags"])
    );
    assert_eq!(revealed["secret"], RFC_SECRET);
    assert_eq!(
        keys(&revealed),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "issuer",
            "account",
            "algorithm",
            "digits",
            "period",
            "secret",
            "created_at",
            "updated_at",
            "version"
        ])
    );
    assert_eq!(secret, format!("{RFC_SECRET}\n"));
    assert_eq!(digits, "6\n");
}

#[tokio::test]
async fn a_malformed_otpauth_uri_is_refused_naming_what_is_wrong_and_nothing_is_stored() {
    let server = server_with_alice().await;
    for (uri, named) in [
        (
            "https://example.com/?secret=GEZDGNBV",
            "must start with otpauth://",
        ),
        (
            &format!("otpauth://hotp/x?secret={RFC_SECRET}&counter=1") as &str,
            "hotp",
        ),
        ("otpauth://totp/x?issuer=Example", "no secret"),
        ("otpauth://totp/x?secret=not-base32!", "secret:"),
        ("otpauth://totp/x?secret=GEZDGNBV", "too short"),
        (
            &format!("otpauth://totp/x?secret={RFC_SECRET}&digits=9"),
            "digits:",
        ),
        (
            &format!("otpauth://totp/x?secret={RFC_SECRET}&period=0"),
            "period:",
        ),
        (
            &format!("otpauth://totp/x?secret={RFC_SECRET}&algorithm=MD5"),
            "algorithm:",
        ),
        (
            &format!("otpauth://totp/A:x?secret={RFC_SECRET}&issuer=B"),
            "differ",
        ),
    ] {
        let out = server
            .run("alice", &format!("totp add --name t --uri '{uri}'"))
            .await;
        let message = failure_line(&out);
        assert!(message.contains(named), "{uri}: {message}");
        assert!(!message.contains(RFC_SECRET), "{message}");
    }
    assert_eq!(
        json(&server, "totp list --json").await,
        serde_json::json!([])
    );
}

#[tokio::test]
async fn totp_add_takes_the_parameters_and_edit_changes_only_what_it_is_given() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("totp add --name bank --secret {RFC_SECRET} --digits 8 --algorithm sha256 --period 60 --issuer Bank"),
    )
    .await;

    let code = ok(&server, "totp show bank --field code").await;
    let edited = ok(&server, "totp edit bank --digits 7 --issuer ''").await;
    let after = json(&server, "totp show bank --reveal --json").await;
    let unnamed = server
        .run("alice", "totp add --secret GEZDGNBVGY3TQOJQ")
        .await;
    let no_secret = server.run("alice", "totp add --name x").await;
    let bad_digits = server
        .run(
            "alice",
            &format!("totp add --name x --secret {RFC_SECRET} --digits 9"),
        )
        .await;

    assert_eq!(code.trim_end().len(), 8, "{code}");
    assert_eq!(edited, "Updated one-time password `bank`.\n");
    assert_eq!(after["digits"], 7);
    assert_eq!(after["period"], 60);
    assert_eq!(after["algorithm"], "SHA256");
    assert_eq!(after["issuer"], serde_json::Value::Null);
    assert_eq!(after["secret"], RFC_SECRET);
    assert_eq!(unnamed.status, Some(2), "{unnamed:?}");
    assert!(
        failure_line(&no_secret).contains("--secret"),
        "{no_secret:?}"
    );
    assert!(
        failure_line(&bad_digits).contains("digits: must be 6, 7 or 8"),
        "{bad_digits:?}"
    );
    assert_eq!(
        names(&json(&server, "totp list --json").await),
        vec!["bank"]
    );
}

#[tokio::test]
async fn totp_copy_needs_a_terminal_and_rm_deletes_the_seed() {
    let server = server_with_alice().await;
    ok(&server, &format!("totp add --name t --secret {RFC_SECRET}")).await;

    let copy = server.run("alice", "totp copy t").await;
    let removed = ok(&server, "totp rm t -f").await;

    assert_eq!(copy.status, Some(2), "{copy:?}");
    assert!(failure_line(&copy).contains("needs a terminal"), "{copy:?}");
    assert_eq!(
        removed,
        "Moved one-time password `t` to the trash (`trash restore t` brings it back).\n"
    );
    assert_eq!(
        json(&server, "totp list --json").await,
        serde_json::json!([])
    );
}

#[tokio::test]
async fn a_password_entry_keeps_a_seed_and_pass_totp_prints_its_code() {
    let server = server_with_alice().await;
    let uri = format!("otpauth://totp/GitHub:alice?secret={RFC_SECRET}");
    ok(
        &server,
        &format!("pass add --name github --password hunter2-hunter2 --totp '{uri}'"),
    )
    .await;

    let before = unix_now();
    let code = json(&server, "pass totp github --json").await;
    let after = unix_now();
    let text = ok(&server, "pass totp github").await;
    let concealed = json(&server, "pass show github --json").await;
    let revealed = json(&server, "pass show github --reveal --json").await;

    assert_eq!(keys(&code), sorted(&["name", "code", "seconds_left"]));
    assert_is_the_rfc_code(&code, before, after);
    assert!(text.ends_with(" s left)\n"), "{text}");
    assert!(concealed.get("totp").is_none(), "{concealed}");
    let kept = revealed["totp"].as_str().expect("the seed's URI");
    assert!(
        kept.starts_with("otpauth://totp/GitHub:alice?secret="),
        "{kept}"
    );
}

#[tokio::test]
async fn pass_edit_totp_adds_or_clears_a_seed_and_a_bad_uri_changes_nothing() {
    let server = server_with_alice().await;
    add_password(&server, "mail", "hunter2-hunter2").await;

    let none = server.run("alice", "pass totp mail").await;
    let bad = server
        .run(
            "alice",
            "pass edit mail --totp 'otpauth://hotp/x?secret=AB'",
        )
        .await;
    let version = json(&server, "pass show mail --json").await["version"].clone();
    ok(
        &server,
        &format!("pass edit mail --totp 'otpauth://totp/x?secret={RFC_SECRET}'"),
    )
    .await;
    let added = server.run("alice", "pass totp mail").await;
    ok(&server, "pass edit mail --totp ''").await;
    let cleared = server.run("alice", "pass totp mail").await;

    assert!(
        failure_line(&none).contains("keeps no one-time password seed"),
        "{none:?}"
    );
    let message = failure_line(&bad);
    assert!(
        message.starts_with("error: totp:") && message.contains("hotp"),
        "{message}"
    );
    assert_eq!(version, 1);
    assert_eq!(added.status, Some(0), "{added:?}");
    assert!(
        failure_line(&cleared).contains("keeps no one-time password seed"),
        "{cleared:?}"
    );
}

// ---- id ----

#[tokio::test]
async fn id_add_with_flags_stores_an_identity_and_show_hides_the_document_number() {
    let server = server_with_alice().await;

    let added = ok(
        &server,
        "id add --name me --full-name 'Ada Lovelace' --email ada@example.test \
         --phone '+44 20 7946 0958' --address '12 St James Sq\nLondon' --document P1234567",
    )
    .await;
    let shown = ok(&server, "id show me").await;
    let revealed = ok(&server, "id show me --reveal").await;
    let list = ok(&server, "id list").await;
    let listed = json(&server, "id list --json").await;
    let full = json(&server, "id show me --reveal --json").await;
    let document = ok(&server, "id show me --field document").await;

    assert_eq!(added, "Added identity `me`.\n");
    assert!(!shown.contains("P1234567"), "{shown}");
    assert!(
        shown.contains("Document:  ********  (--reveal shows it)"),
        "{shown}"
    );
    assert!(
        shown.contains("Address:   12 St James Sq\n           London\n"),
        "{shown}"
    );
    assert!(revealed.contains("Document:  P1234567\n"), "{revealed}");
    assert_eq!(
        list,
        "NAME  FULL NAME     EMAIL\nme    Ada Lovelace  ada@example.test\n"
    );
    assert_eq!(
        keys(&listed[0]),
        sorted(&["id", "name", "full_name", "email", "tags"])
    );
    assert_eq!(
        keys(&full),
        sorted(&[
            "id",
            "name",
            "tags",
            "fields",
            "full_name",
            "email",
            "phone",
            "address",
            "document",
            "note",
            "created_at",
            "updated_at",
            "version"
        ])
    );
    assert_eq!(full["document"], "P1234567");
    assert_eq!(document, "P1234567\n");
}

#[tokio::test]
async fn id_add_refuses_a_bad_email_or_phone_and_stores_nothing() {
    let server = server_with_alice().await;

    let email = server
        .run("alice", "id add --name x --email not-an-address")
        .await;
    let phone = server
        .run("alice", "id add --name x --phone 'call me'")
        .await;
    let control = server
        .run("alice", "id add --name x --full-name 'Ada\u{1b}[2J'")
        .await;
    let unnamed = server.run("alice", "id add --email ada@example.test").await;

    assert!(
        failure_line(&email).starts_with("error: email:"),
        "{email:?}"
    );
    assert!(
        failure_line(&phone).starts_with("error: phone:"),
        "{phone:?}"
    );
    assert!(
        failure_line(&control).starts_with("error: full_name:"),
        "{control:?}"
    );
    assert_eq!(unnamed.status, Some(2), "{unnamed:?}");
    assert_eq!(json(&server, "id list --json").await, serde_json::json!([]));
}

#[tokio::test]
async fn id_edit_changes_and_clears_fields_and_rm_deletes() {
    let server = server_with_alice().await;
    ok(
        &server,
        "id add --name work --email a@corp.test --document ID-42",
    )
    .await;

    let edited = ok(&server, "id edit work --email b@corp.test --document ''").await;
    let full = json(&server, "id show work --reveal --json").await;
    let nothing = server.run("alice", "id edit work").await;
    let removed = ok(&server, "id rm work -f").await;

    assert_eq!(edited, "Updated identity `work`.\n");
    assert_eq!(full["email"], "b@corp.test");
    assert_eq!(full["document"], serde_json::Value::Null);
    assert_eq!(full["version"], 2);
    assert!(
        failure_line(&nothing).contains("nothing to change"),
        "{nothing:?}"
    );
    assert_eq!(
        removed,
        "Moved identity `work` to the trash (`trash restore work` brings it back).\n"
    );
    assert_eq!(json(&server, "id list --json").await, serde_json::json!([]));
}

// ---- find ----

#[tokio::test]
async fn find_searches_every_kind_ignoring_case_and_accents_but_never_a_secret() {
    let server = server_with_alice().await;
    add_password(&server, "GitHub", "zoe-secret-password").await;
    ok(
        &server,
        "pass add --name work --url https://git.example.test --password p4ss-w0rd-long",
    )
    .await;
    ok(
        &server,
        "totp add --name otp --secret GEZDGNBVGY3TQOJQ --issuer Gitea",
    )
    .await;
    ok(&server, "note add --name diary --text 'gitlab and zoe'").await;
    ok(&server, "id add --name me --full-name 'Zoë Ångström'").await;
    add_card(&server, "visa", VISA).await;

    let git = json(&server, "find GIT --json").await;
    let zoe = json(&server, "find zoe --json").await;
    let angstrom = ok(&server, "find angstrom").await;
    let secret = ok(&server, "find zoe-secret").await;
    let empty = server.run("alice", "find '  '").await;
    let log = ok(&server, "log --limit 10").await;

    let found = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["kind"].as_str().unwrap_or("?"),
                    f["name"].as_str().unwrap_or("?")
                )
            })
            .collect()
    };
    assert_eq!(
        found(&git),
        vec!["password GitHub", "password work", "totp otp"]
    );
    assert_eq!(keys(&git[0]), sorted(&["id", "kind", "name"]));
    assert_eq!(found(&zoe), vec!["identity me"]);
    assert_eq!(angstrom, "KIND      NAME\nidentity  me\n");
    assert_eq!(secret, "Nothing found.\n");
    assert!(
        failure_line(&empty).starts_with("error: text:"),
        "{empty:?}"
    );
    assert!(log.contains("vault.find"), "{log}");
}

// ---- whoami, lock, exit, help ----

#[tokio::test]
async fn whoami_prints_the_login() {
    let server = server_with_alice().await;

    let out = ok(&server, "whoami").await;

    assert_eq!(out, "alice\n");
}

#[tokio::test]
async fn lock_asks_for_the_pin_and_the_right_pin_unlocks_again() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("lock").await;
    let locked = sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(PROMPT).await;
    let out = sh.command("whoami", PROMPT).await;

    assert!(locked.contains("Locked."), "{locked:?}");
    assert!(out.contains("alice"), "{out:?}");
    let after_lock = transcript(&sh);
    let after_lock = &after_lock[after_lock.find("Locked.").expect("locked")..];
    assert!(!after_lock.contains(PIN), "PIN echoed after lock");
}

#[tokio::test]
async fn lock_then_three_wrong_pins_end_the_session() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("lock").await;
    for _ in 0..3 {
        sh.expect("PIN: ").await;
        sh.line("9999").await;
    }
    let rest = sh.finish().await;

    assert!(rest.contains("Too many attempts"), "{rest:?}");
    assert_eq!(sh.exit_status, Some(1));
}

#[tokio::test]
async fn exit_ends_the_session_with_status_zero() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("exit").await;
    sh.finish().await;

    assert!(sh.closed);
    assert_eq!(sh.exit_status, Some(0));
}

#[tokio::test]
async fn help_lists_every_command() {
    let server = server_with_alice().await;

    let out = ok(&server, "help").await;

    for command in [
        "card add",
        "card list",
        "card show",
        "card edit",
        "card rm",
        "pass add",
        "pass list",
        "pass show",
        "pass edit",
        "pass rm",
        "pass gen",
        "pass copy",
        "log",
        "whoami",
        "lock",
        "passwd",
        "pin",
        "exit",
        "help",
    ] {
        assert!(out.contains(command), "{command} missing: {out}");
    }
}

#[tokio::test]
async fn help_card_add_shows_the_flags_and_card_add_help_is_the_same() {
    let server = server_with_alice().await;

    let help = ok(&server, "help card add").await;
    let flag = ok(&server, "card add --help").await;

    for f in [
        "--name", "--number", "--holder", "--expiry", "--cvv", "--note",
    ] {
        assert!(help.contains(f), "{f} missing: {help}");
    }
    assert_eq!(help, flag);
}

#[tokio::test]
async fn help_works_in_the_interactive_shell() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = sh.command("help pass gen", PROMPT).await;

    assert!(
        out.contains("--length") && out.contains("--no-symbols"),
        "{out:?}"
    );
}

#[tokio::test]
async fn help_for_an_unknown_command_fails() {
    let server = server_with_alice().await;

    let out = server.run("alice", "help frobnicate").await;

    assert!(failure_line(&out).contains("frobnicate"), "{out:?}");
}

// ---- passwd, pin ----

const NEW_PASSWORD: &str = "a brand new passphrase";
const NEW_PIN: &str = "7391";

#[tokio::test]
async fn passwd_changes_the_login_password_and_keeps_every_item_readable() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv 739"),
    )
    .await;
    add_password(&server, "github", "pw-kept-1").await;
    let mut sh = server.login("alice").await;

    sh.line("passwd").await;
    sh.expect("Current password: ").await;
    sh.line(PASSWORD).await;
    sh.expect("New password: ").await;
    sh.line(NEW_PASSWORD).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PASSWORD).await;
    let out = sh.expect(PROMPT).await;
    sh.line("exit").await;
    sh.finish().await;

    assert!(out.contains("Password changed."), "{out:?}");
    let seen = transcript(&sh);
    assert!(
        !seen.contains(NEW_PASSWORD) && !seen.contains(PASSWORD),
        "{seen:?}"
    );
    assert!(
        helpers::connect(server.ssh_addr, "alice", Some(PASSWORD))
            .await
            .is_err(),
        "the old password still logs in"
    );
    let card = helpers::exec(
        server.ssh_addr,
        "alice",
        NEW_PASSWORD,
        "card show visa --reveal --json",
        &format!("{PIN}\n"),
    )
    .await;
    let entry = helpers::exec(
        server.ssh_addr,
        "alice",
        NEW_PASSWORD,
        "pass show github --reveal --json",
        &format!("{PIN}\n"),
    )
    .await;
    assert_eq!(card.status, Some(0), "{card:?}");
    assert!(
        card.stdout.contains(VISA) && card.stdout.contains("739"),
        "{card:?}"
    );
    assert_eq!(entry.status, Some(0), "{entry:?}");
    assert!(entry.stdout.contains("pw-kept-1"), "{entry:?}");
}

#[tokio::test]
async fn passwd_with_a_wrong_current_password_changes_nothing() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("passwd").await;
    sh.expect("Current password: ").await;
    sh.line("not the password").await;
    sh.expect("New password: ").await;
    sh.line(NEW_PASSWORD).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PASSWORD).await;
    let out = sh.expect(PROMPT).await;

    assert!(out.contains("the current password is wrong"), "{out:?}");
    assert_eq!(ok(&server, "whoami").await, "alice\n");
    assert!(
        helpers::connect(server.ssh_addr, "alice", Some(NEW_PASSWORD))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn pin_changes_the_pin_and_keeps_every_item_readable() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    add_password(&server, "github", "pw-kept-1").await;
    let mut sh = server.login("alice").await;

    sh.line("pin").await;
    sh.expect("Current PIN: ").await;
    sh.line(PIN).await;
    sh.expect("New PIN: ").await;
    sh.line(NEW_PIN).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PIN).await;
    let out = sh.expect(PROMPT).await;
    sh.line("exit").await;
    sh.finish().await;

    assert!(out.contains("PIN changed."), "{out:?}");
    assert!(!transcript(&sh).contains(NEW_PIN), "new PIN echoed");
    let old = server.run("alice", "card list --json").await;
    assert_eq!(failure_line(&old), "error: wrong PIN");
    let card = server
        .exec(
            "alice",
            "card show visa --reveal --json",
            &format!("{NEW_PIN}\n"),
        )
        .await;
    let entry = server
        .exec(
            "alice",
            "pass show github --reveal --json",
            &format!("{NEW_PIN}\n"),
        )
        .await;
    assert_eq!(card.status, Some(0), "{card:?}");
    assert!(card.stdout.contains(VISA), "{card:?}");
    assert_eq!(entry.status, Some(0), "{entry:?}");
    assert!(entry.stdout.contains("pw-kept-1"), "{entry:?}");
}

#[tokio::test]
async fn pin_refuses_a_weak_new_pin_and_asks_again() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    sh.line("pin").await;
    sh.expect("Current PIN: ").await;
    sh.line(PIN).await;
    sh.expect("New PIN: ").await;
    sh.line("1234").await;
    let refusal = sh.expect("New PIN: ").await;
    sh.line(NEW_PIN).await;
    sh.expect("Repeat: ").await;
    sh.line(NEW_PIN).await;
    let out = sh.expect(PROMPT).await;

    assert!(refusal.contains("error:"), "{refusal:?}");
    assert!(out.contains("PIN changed."), "{out:?}");
}

// ---- exec mode ----

#[tokio::test]
async fn exec_success_exits_zero_with_output_only() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let out = server.run("alice", "card list").await;

    assert_eq!(out.status, Some(0));
    assert!(out.stderr.is_empty(), "{out:?}");
    assert!(
        out.stdout.starts_with("NAME"),
        "not only the output: {out:?}"
    );
    assert!(
        !out.stdout.contains("PIN") && !out.stdout.contains(PROMPT),
        "{out:?}"
    );
}

#[tokio::test]
async fn exec_of_a_missing_item_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "pass rm nosuch -f").await;

    assert!(failure_line(&out).contains("nosuch"), "{out:?}");
}

#[tokio::test]
async fn exec_with_a_wrong_pin_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    let out = server.exec("alice", "card list --json", "9999\n").await;

    assert_eq!(failure_line(&out), "error: wrong PIN");
}

#[tokio::test]
async fn exec_without_a_pin_on_stdin_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.exec("alice", "card list", "").await;

    assert!(failure_line(&out).contains("PIN"), "{out:?}");
}

#[tokio::test]
async fn exec_of_an_unknown_command_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "frobnicate --now").await;

    assert!(failure_line(&out).contains("frobnicate"), "{out:?}");
}

#[tokio::test]
async fn exec_with_a_missing_required_flag_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "card add --name x").await;

    assert!(failure_line(&out).contains("--number"), "{out:?}");
    assert_eq!(cards(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn exec_with_an_unknown_flag_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "card list --bogus").await;

    assert!(failure_line(&out).contains("--bogus"), "{out:?}");
}

#[tokio::test]
async fn exec_with_an_unbalanced_quote_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "card show 'visa").await;

    failure_line(&out);
}

#[tokio::test]
async fn exec_of_an_empty_command_line_fails_with_one_line_on_stderr() {
    let server = server_with_alice().await;

    let out = server.run("alice", "   ").await;

    assert!(failure_line(&out).contains("no command"), "{out:?}");
}

// ---- bad input changes nothing ----

#[tokio::test]
async fn a_malformed_card_number_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;

    for (number, reason) in [
        ("4111111111111112", "Luhn"),
        ("4111abcd11111111", "digits"),
        ("41111111111", "12 to 19"),
        ("41111111111111111111", "12 to 19"),
        ("34828224631000", "Amex"),
    ] {
        let out = server
            .run(
                "alice",
                &format!("card add --name other --number {number} --expiry 12/30"),
            )
            .await;
        let line = failure_line(&out);
        assert!(line.starts_with("error: number:"), "{number}: {line}");
        assert!(line.contains(reason), "{number}: {line}");
    }

    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn a_bad_expiry_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;

    for expiry in [
        "13/30", "1/2030", "12-30", "00/30", "12/3", "ab/cd", "12/1999",
    ] {
        let out = server
            .run(
                "alice",
                &format!("card add --name other --number {MASTERCARD} --expiry {expiry}"),
            )
            .await;
        let line = failure_line(&out);
        assert!(line.starts_with("error: expiry:"), "{expiry}: {line}");
    }
    let edit = server.run("alice", "card edit visa --expiry 13/30").await;

    assert!(
        failure_line(&edit).starts_with("error: expiry:"),
        "{edit:?}"
    );
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn a_bad_cvv_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;

    for cvv in ["12", "12345", "12a"] {
        let out = server
            .run(
                "alice",
                &format!("card add --name visa --number {VISA} --expiry 12/30 --cvv {cvv}"),
            )
            .await;
        assert!(
            failure_line(&out).starts_with("error: cvv:"),
            "{cvv}: {out:?}"
        );
    }

    assert_eq!(cards(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn an_overlong_name_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;

    let name = "n".repeat(65);
    let out = server
        .run(
            "alice",
            &format!("card add --name {name} --number {VISA} --expiry 12/30"),
        )
        .await;

    assert!(failure_line(&out).starts_with("error: name:"), "{out:?}");
    assert_eq!(cards(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn a_bad_pin_at_unlock_is_refused_and_the_right_one_still_unlocks() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    sh.start_pty_shell().await;

    sh.expect("PIN: ").await;
    sh.line("abc").await;
    let first = sh.expect("PIN: ").await;
    sh.line("").await;
    let second = sh.expect("PIN: ").await;
    sh.line("9999").await;
    let third = sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(PROMPT).await;
    let out = sh.command("card list", PROMPT).await;

    assert!(first.contains("must be 4 to 12 digits"), "{first:?}");
    assert!(second.contains("must be 4 to 12 digits"), "{second:?}");
    assert!(third.contains("Wrong PIN, try again."), "{third:?}");
    assert!(out.contains("**** 1111"), "{out:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn answers_that_are_not_pins_spend_no_attempt() {
    let server = server_with_alice().await;
    let mut sh = Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    sh.start_pty_shell().await;

    // Three attempts end a session; five typos in a row do not.
    for typo in [" 2580", "2580 ", "25 80", "", "two"] {
        sh.expect("PIN: ").await;
        sh.line(typo).await;
    }
    sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(PROMPT).await;
    let seen = String::from_utf8_lossy(&sh.transcript).into_owned();

    assert!(seen.contains("without spaces"), "{seen:?}");
    assert!(!seen.contains("Wrong PIN"), "{seen:?}");
    let log = json(&server, "log --json --limit 50").await;
    let failed_unlocks = log
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "session.unlock" && e["outcome"] == "failed")
        .count();
    assert_eq!(failed_unlocks, 0, "{log}");
}

#[tokio::test]
async fn a_pin_with_spaces_over_exec_is_malformed_not_wrong() {
    let server = server_with_alice().await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let out = server.exec("alice", "whoami", " 2580 \n").await;
        assert!(out.stderr.contains("without spaces"), "{out:?}");
        statuses.push(out.status);
    }
    // Six malformed PINs spent none of the five guesses: the PIN still works.
    let fine = server.run("alice", "whoami").await;
    assert_eq!(fine.status, Some(0), "{fine:?} after {statuses:?}");
}

#[tokio::test]
async fn an_unknown_command_in_the_shell_gets_a_message_and_the_shell_goes_on() {
    let server = server_with_alice().await;
    let mut sh = server.login("alice").await;

    let out = sh.command("frobnicate", PROMPT).await;
    let next = sh.command("whoami", PROMPT).await;

    assert!(
        out.contains("error: unknown command") && out.contains("frobnicate"),
        "{out:?}"
    );
    assert!(out.contains("help"), "no hint: {out:?}");
    assert!(next.contains("alice"), "{next:?}");
}

#[tokio::test]
async fn a_one_mebibyte_line_in_the_terminal_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = server.login("alice").await;

    // A real command whose note would be cut short if the line were truncated.
    let mut line =
        format!("card add --name big --number {MASTERCARD} --expiry 12/30 --note ").into_bytes();
    line.resize(MIB, b'x');
    line.push(b'\r');
    let out = send_large_and_expect(&mut sh, line, &format!("\n{PROMPT}")).await;
    let next = sh.command("whoami", PROMPT).await;

    let out = String::from_utf8_lossy(&out);
    let tail = &out[out.len().saturating_sub(500)..];
    assert!(tail.contains("too long"), "no clear message: {tail:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn a_one_mebibyte_line_in_a_plain_shell_is_refused_and_changes_nothing() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = plain_shell(&server).await;

    let mut line =
        format!("card add --name big --number {MASTERCARD} --expiry 12/30 --note ").into_bytes();
    line.resize(MIB, b'x');
    line.push(b'\n');
    let out = send_large_and_expect(&mut sh, line, &format!("\n{PROMPT}")).await;
    let next = plain_command(&mut sh, "whoami").await;

    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("error: line too long"), "{out:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn an_exec_command_over_64_kib_is_refused() {
    let server = server_with_alice().await;

    let command = format!("card show {}", "x".repeat(100 * 1024));
    let out = server.run("alice", &command).await;

    assert!(failure_line(&out).contains("too long"), "{out:?}");
}

#[tokio::test]
async fn invalid_utf8_in_an_exec_command_is_refused() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;

    let out = helpers::exec_bytes(
        server.ssh_addr,
        "alice",
        PASSWORD,
        b"card rm vi\xff\xfesa",
        format!("{PIN}\n").as_bytes(),
    )
    .await;

    assert!(failure_line(&out).contains("UTF-8"), "{out:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn invalid_utf8_in_a_plain_shell_line_is_refused_and_the_shell_goes_on() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = plain_shell(&server).await;

    sh.send(b"card rm vi\xff\xfesa\n").await;
    let out = sh.expect(PROMPT).await;
    let next = plain_command(&mut sh, "whoami").await;

    assert!(out.contains("UTF-8"), "{out:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn invalid_utf8_typed_in_the_terminal_is_never_run_as_part_of_a_command() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = server.login("alice").await;

    sh.send(b"card show vi\xff\xfesa\r").await;
    let out = sh.expect(PROMPT).await;
    let next = sh.command("whoami", PROMPT).await;

    // The bytes are not characters: the editor drops them and refuses the
    // whole line, so nothing of it runs.
    assert!(out.contains("UTF-8"), "{out:?}");
    assert!(!out.contains("Number:"), "{out:?}");
    assert!(!out.contains('\u{fffd}'), "{out:?}");
    assert!(next.contains("alice"), "{next:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn invalid_utf8_typed_in_the_terminal_gets_an_error() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;
    let mut sh = server.login("alice").await;

    sh.send(b"card rm vi\xff\xfesa\r").await;
    let out = sh.expect(PROMPT).await;

    assert!(out.contains("error"), "no message: {out:?}");
    assert_eq!(cards(&server).await, before);
}

// ---- stored text never drives the terminal ----

const EVIL: &str = "evil\x1b[2J";
const EVIL_SHOWN: &str = r"evil\x1b[2J";

#[tokio::test]
async fn an_escape_sequence_in_a_card_name_is_shown_as_visible_text() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name '{EVIL}' --number {VISA} --expiry 12/30"),
    )
    .await;

    let list = ok(&server, "card list").await;
    let show = ok(&server, &format!("card show '{EVIL}'")).await;

    assert!(list.contains(EVIL_SHOWN), "{list:?}");
    assert!(show.contains(EVIL_SHOWN), "{show:?}");
    assert!(!list.contains('\x1b'), "raw ESC in card list: {list:?}");
    assert!(!show.contains('\x1b'), "raw ESC in card show: {show:?}");
}

#[tokio::test]
async fn an_escape_sequence_in_a_card_name_is_escaped_in_json() {
    let server = server_with_alice().await;
    add_card(&server, EVIL, VISA).await;

    let list = ok(&server, "card list --json").await;
    let show = ok(&server, &format!("card show '{EVIL}' --json")).await;

    assert!(list.contains(r"evil\u001b[2J"), "{list}");
    assert!(
        !list.contains('\x1b') && !show.contains('\x1b'),
        "raw ESC in JSON"
    );
    let parsed: Value = serde_json::from_str(&list).expect("json");
    assert_eq!(parsed[0]["name"], EVIL);
}

#[tokio::test]
async fn an_escape_sequence_in_a_card_note_is_shown_as_visible_text() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name visa --number {VISA} --expiry 12/30 --note 'n\x1b]0;pwned\x07'"),
    )
    .await;

    let show = ok(&server, "card show visa --reveal").await;
    let json_text = ok(&server, "card show visa --json").await;

    assert!(show.contains(r"n\x1b]0;pwned\x07"), "{show:?}");
    assert!(!show.contains('\x1b') && !show.contains('\x07'), "{show:?}");
    assert!(json_text.contains(r"n\u001b]0;pwned\u0007"), "{json_text}");
}

#[tokio::test]
async fn an_escape_sequence_in_a_card_holder_is_refused() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;
    let before = cards(&server).await;

    let out = server
        .run("alice", "card edit visa --holder 'h\x1b[31m'")
        .await;

    assert!(failure_line(&out).starts_with("error: holder:"), "{out:?}");
    assert!(!out.stderr.contains('\x1b'), "{out:?}");
    assert_eq!(cards(&server).await, before);
}

#[tokio::test]
async fn the_shell_shows_an_escape_sequence_in_a_name_as_visible_text() {
    let server = server_with_alice().await;
    add_card(&server, EVIL, VISA).await;
    let mut sh = server.login("alice").await;

    let out = sh.command("card list", PROMPT).await;

    assert!(out.contains(EVIL_SHOWN), "{out:?}");
    assert!(
        !out.contains("\x1b[2J"),
        "raw sequence reached the terminal: {out:?}"
    );
}

#[tokio::test]
async fn escape_sequences_in_a_password_entry_are_shown_as_visible_text() {
    let server = server_with_alice().await;
    ok(
        &server,
        "pass add --name 'ghost\x1b[5m' --password pw-aaaa-1 --note 'line\x1b[31mred'",
    )
    .await;

    let list = ok(&server, "pass list").await;
    let show = ok(&server, "pass show 'ghost\x1b[5m'").await;
    let json_text = ok(&server, "pass show 'ghost\x1b[5m' --json").await;

    assert!(list.contains(r"ghost\x1b[5m"), "{list:?}");
    assert!(show.contains(r"ghost\x1b[5m"), "{show:?}");
    assert!(show.contains(r"line\x1b[31mred"), "{show:?}");
    assert!(json_text.contains(r"line\u001b[31mred"), "{json_text}");
    for out in [&list, &show, &json_text] {
        assert!(!out.contains('\x1b'), "raw ESC: {out:?}");
    }
}

#[tokio::test]
async fn an_escape_sequence_in_a_url_or_username_is_refused() {
    let server = server_with_alice().await;

    let url = server
        .run(
            "alice",
            "pass add --name a --password pw-aaaa-1 --url 'https://x\x1b[2J'",
        )
        .await;
    let username = server
        .run(
            "alice",
            "pass add --name b --password pw-aaaa-1 --username 'bob\x1b[2J'",
        )
        .await;

    assert!(failure_line(&url).starts_with("error: url:"), "{url:?}");
    assert!(
        failure_line(&username).starts_with("error: username:"),
        "{username:?}"
    );
    assert!(!url.stderr.contains('\x1b') && !username.stderr.contains('\x1b'));
    assert_eq!(passwords(&server).await, serde_json::json!([]));
}

#[tokio::test]
async fn del_and_c1_controls_in_a_name_are_shown_as_visible_escapes() {
    let server = server_with_alice().await;
    add_card(&server, "a\u{7f}b\u{9b}2Jc", VISA).await;

    let list = ok(&server, "card list").await;
    let json_text = ok(&server, "card list --json").await;

    assert!(list.contains(r"a\x7fb\u{9b}2Jc"), "{list:?}");
    assert!(
        !list.contains('\u{7f}') && !list.contains('\u{9b}'),
        "{list:?}"
    );
    assert!(
        !json_text.contains('\u{7f}') && !json_text.contains('\u{9b}'),
        "{json_text:?}"
    );
}

#[tokio::test]
async fn the_name_taken_error_never_prints_a_raw_escape() {
    let server = server_with_alice().await;
    add_card(&server, EVIL, VISA).await;

    let out = server
        .run(
            "alice",
            &format!("card add --name '{EVIL}' --number {MASTERCARD} --expiry 12/30"),
        )
        .await;

    assert!(failure_line(&out).contains("already exists"), "{out:?}");
    assert!(
        !out.stderr.contains('\x1b'),
        "raw ESC on stderr: {:?}",
        out.stderr
    );
}

// ---- further edges ----

#[tokio::test]
async fn card_edit_may_change_only_the_case_of_a_name() {
    let server = server_with_alice().await;
    add_card(&server, "visa", VISA).await;

    ok(&server, "card edit visa --name VISA").await;

    assert_eq!(names(&cards(&server).await), vec!["VISA"]);
}

#[tokio::test]
async fn card_edit_checks_the_cvv_against_a_new_number() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name amex --number {AMEX} --expiry 12/30 --cvv 1234"),
    )
    .await;

    let out = server
        .run("alice", &format!("card edit amex --number {VISA}"))
        .await;

    assert!(failure_line(&out).starts_with("error: cvv:"), "{out:?}");
    let card = json(&server, "card show amex --reveal --json").await;
    assert_eq!(card["number"], AMEX);
}

#[tokio::test]
async fn an_expired_card_is_marked_as_such() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("card add --name old --number {VISA} --expiry 01/2020"),
    )
    .await;

    let out = ok(&server, "card show old").await;

    assert!(out.contains("01/20 (expired)"), "{out}");
}

#[tokio::test]
async fn pass_names_are_unique_case_insensitively() {
    let server = server_with_alice().await;
    add_password(&server, "GitHub", "pw-aaaa-1").await;

    let out = server
        .run("alice", "pass add --name github --password pw-bbbb-2")
        .await;

    assert!(failure_line(&out).contains("already exists"), "{out:?}");
    let entry = json(&server, "pass show GITHUB --reveal --json").await;
    assert_eq!(entry["password"], "pw-aaaa-1");
}

#[tokio::test]
async fn log_refuses_a_limit_out_of_range() {
    let server = server_with_alice().await;

    let zero = server.run("alice", "log --limit 0").await;
    let word = server.run("alice", "log --limit many").await;

    assert!(failure_line(&zero).contains("--limit"), "{zero:?}");
    assert!(failure_line(&word).contains("--limit"), "{word:?}");
}

#[tokio::test]
async fn exec_pass_add_without_a_password_names_the_missing_password() {
    let server = server_with_alice().await;

    let out = server.run("alice", "pass add --name github").await;

    let line = failure_line(&out);
    assert!(line.contains("--password"), "{line}");
    assert!(!line.contains("--url"), "{line}");
}

#[tokio::test]
async fn exec_passwd_and_pin_do_not_suggest_flags_that_do_not_exist() {
    let server = server_with_alice().await;

    let passwd = server.run("alice", "passwd").await;
    let pin = server.run("alice", "pin").await;

    let passwd = failure_line(&passwd).to_owned();
    let pin = failure_line(&pin).to_owned();
    assert!(!passwd.contains("--current-password"), "{passwd}");
    assert!(!pin.contains("--current-pin"), "{pin}");
}

#[tokio::test]
async fn a_user_never_sees_another_users_items() {
    let server = server_with_alice().await;
    server.register("bob").await;
    ok(
        &server,
        &format!("card add --name shared --number {VISA} --expiry 12/30"),
    )
    .await;

    let bob_list = server.run("bob", "card list --json").await;
    let bob_show = server.run("bob", "card show shared").await;
    let bob_add = server
        .run(
            "bob",
            &format!("card add --name shared --number {MASTERCARD} --expiry 12/30"),
        )
        .await;

    assert_eq!(bob_list.stdout.trim(), "[]", "{bob_list:?}");
    assert_eq!(failure_line(&bob_show), "error: no card named `shared`");
    assert_eq!(bob_add.status, Some(0), "names are per user: {bob_add:?}");
    let alice = json(&server, "card show shared --reveal --json").await;
    assert_eq!(alice["number"], VISA);
}

#[tokio::test]
async fn log_shows_only_the_users_own_events() {
    let server = server_with_alice().await;
    server.register("bob").await;
    let bob_add = server
        .run(
            "bob",
            &format!("card add --name b --number {VISA} --expiry 12/30"),
        )
        .await;
    assert_eq!(bob_add.status, Some(0), "{bob_add:?}");
    let bob_cards = server.run("bob", "card list --json").await;
    let bob_cards: Value = serde_json::from_str(&bob_cards.stdout).expect("json");
    let bob_card_id = bob_cards[0]["id"].as_str().expect("id").to_owned();

    let events = json(&server, "log --limit 10000 --json").await;

    assert!(
        !actions(&events).contains(&"card.create".to_owned()),
        "{events}"
    );
    assert!(!events.to_string().contains(&bob_card_id), "{events}");
}

// ---- exit statuses ----

#[tokio::test]
async fn exec_exit_statuses_are_zero_ok_one_failure_two_usage() {
    let server = server_with_alice().await;
    let pin = format!("{PIN}\n");
    let cases: &[(&[u8], u32)] = &[
        (b"help", 0),
        (b"help help", 0),
        (b"help card add", 0),
        (b"card list", 0),
        (b"pass show nothing-here", 1),
        (b"help frobnicate", 2),
        (b"frobnicate", 2),
        (b"card list --frobnicate", 2),
        (b"card add --name visa", 2),
        (b"whoami\0", 2),
        (b"", 2),
    ];
    for (command, expected) in cases {
        let out =
            helpers::exec_bytes(server.ssh_addr, "alice", PASSWORD, command, pin.as_bytes()).await;
        assert_eq!(
            out.status,
            Some(*expected),
            "{:?}: {out:?}",
            String::from_utf8_lossy(command)
        );
    }
    let nul = helpers::exec_bytes(server.ssh_addr, "alice", PASSWORD, b"whoami\0", b"").await;
    assert!(nul.stderr.contains("NUL"), "{nul:?}");
    assert!(!nul.stderr.contains("unknown command"), "{nul:?}");
}

#[tokio::test]
async fn a_pin_prompt_given_only_typos_gives_up_after_ten() {
    let server = server_with_alice().await;
    let mut sh = Shell::connect(server.ssh_addr, "alice", Some(PASSWORD))
        .await
        .expect("login");
    sh.start_pty_shell().await;
    for _ in 0..10 {
        sh.expect("PIN: ").await;
        sh.line("x").await;
    }
    let rest = sh.finish().await;

    assert!(
        rest.contains("Too many answers that are not a PIN"),
        "{rest:?}"
    );
    assert_eq!(sh.exit_status, Some(1), "{rest:?}");
}

// ---- tags and custom fields, on every kind ----

/// One `add` per kind, each with the same tags and custom fields.
const TAGGED: [(&str, &str); 5] = [
    (
        "card",
        "card add --name visa --number 4111111111111111 --expiry 12/30",
    ),
    ("pass", "pass add --name github --password gh-Secret-1"),
    ("note", "note add --name codes --text 'door 1234'"),
    ("totp", "totp add --name aws --secret JBSWY3DPEHPK3PXP"),
    ("id", "id add --name me --full-name 'Ada Lovelace'"),
];
const EXTRAS: &str = "--tag work --tag Bank --tag WORK --field 'account id=A-77' --secret-field 'recovery=rc-Secret-9'";

fn item_name(add: &str) -> &str {
    add.split_whitespace().nth(3).expect("--name VALUE")
}

#[tokio::test]
async fn every_kind_keeps_tags_and_custom_fields_hiding_the_secret_ones() {
    let server = server_with_alice().await;
    for (kind, add) in TAGGED {
        ok(&server, &format!("{add} {EXTRAS}")).await;
        let name = item_name(add);

        // `totp show --json` is its current code (SPEC §11); HTTP has its detail.
        if kind != "totp" {
            let shown = json(&server, &format!("{kind} show {name} --json")).await;
            assert_eq!(
                shown["tags"],
                serde_json::json!(["work", "Bank"]),
                "{kind}: {shown}"
            );
            assert_eq!(
                shown["fields"],
                serde_json::json!([
                    {"key": "account id", "value": "A-77", "secret": false},
                    {"key": "recovery", "secret": true},
                ]),
                "{kind}: {shown}"
            );
            let revealed = json(&server, &format!("{kind} show {name} --reveal --json")).await;
            assert_eq!(revealed["fields"][1]["value"], "rc-Secret-9", "{kind}");
        }

        let text = ok(&server, &format!("{kind} show {name}")).await;
        assert!(
            text.contains("Tags:") && text.contains("work, Bank"),
            "{kind}: {text}"
        );
        assert!(
            text.contains("account id") && text.contains("A-77"),
            "{kind}: {text}"
        );
        assert!(
            text.contains("recovery") && text.contains("********"),
            "{kind}: {text}"
        );
        assert!(
            !text.contains("rc-Secret-9"),
            "{kind} shows a secret field: {text}"
        );

        let raw = ok(&server, &format!("{kind} show {name} --field RECOVERY")).await;
        assert_eq!(raw, "rc-Secret-9\n", "{kind}");
        let raw = ok(&server, &format!("{kind} show {name} --field 'account id'")).await;
        assert_eq!(raw, "A-77\n", "{kind}");

        let tagged = json(&server, &format!("{kind} list --tag bank --json")).await;
        assert_eq!(names(&tagged), [name], "{kind}");
        let untagged = json(&server, &format!("{kind} list --tag home --json")).await;
        assert_eq!(names(&untagged), Vec::<String>::new(), "{kind}");
    }

    let found = json(&server, "find a-77 --json").await;
    assert_eq!(found.as_array().map(Vec::len), Some(5), "{found}");
    let by_tag = json(&server, "find bank --json").await;
    assert_eq!(by_tag.as_array().map(Vec::len), Some(5), "{by_tag}");
    let secret = json(&server, "find rc-secret --json").await;
    assert_eq!(
        secret,
        serde_json::json!([]),
        "a secret field is never searched"
    );
}

#[tokio::test]
async fn an_edit_replaces_the_tags_sets_fields_by_key_and_removes_one() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("pass add --name github --password gh-Secret-1 {EXTRAS}"),
    )
    .await;

    ok(
        &server,
        "pass edit github --tag home --field 'Account ID=B-88' --field recovery= --field pin=4321",
    )
    .await;
    let shown = json(&server, "pass show github --reveal --json").await;
    assert_eq!(shown["tags"], serde_json::json!(["home"]));
    assert_eq!(
        shown["fields"],
        serde_json::json!([
            {"key": "Account ID", "value": "B-88", "secret": false},
            {"key": "pin", "value": "4321", "secret": false},
        ])
    );
    assert_eq!(shown["password"], "gh-Secret-1", "other fields stay");

    ok(&server, "pass edit github --tag ''").await;
    let shown = json(&server, "pass show github --json").await;
    assert_eq!(shown["tags"], serde_json::json!([]));
    assert_eq!(shown["fields"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_tags_and_fields_get_one_clear_line_and_change_nothing() {
    let server = server_with_alice().await;
    ok(
        &server,
        &format!("pass add --name github --password gh-Secret-1 {EXTRAS}"),
    )
    .await;
    let before = json(&server, "pass show github --reveal --json").await;

    let cases: [(&str, &str); 9] = [
        (
            "pass add --name x --password p --tag 'bad\u{1b}[31m'",
            "tag",
        ),
        ("pass add --name x --password p --tag 'a,b'", "comma"),
        (
            "pass add --name x --password p --field novalue",
            "KEY=VALUE",
        ),
        (
            "pass add --name x --password p --field 'password=oops'",
            "field of its own",
        ),
        (
            "pass add --name x --password p --field k=1 --secret-field K=2",
            "given twice",
        ),
        (
            "pass edit github --field nothere=",
            "no custom field `nothere`",
        ),
        (
            "pass edit github --tag ok --field '=v'",
            "must not be empty",
        ),
        ("pass show github --field nothere", "has no field `nothere`"),
        ("pass list --tag '\u{7}'", "tag"),
    ];
    for (command, needle) in cases {
        let out = server.run("alice", command).await;
        let line = failure_line(&out);
        assert!(line.contains(needle), "`{command}`: {line}");
        assert!(!line.contains("rc-Secret-9"), "`{command}` leaks: {line}");
    }
    let many: String = (0..21).map(|i| format!(" --tag t{i}")).collect();
    let out = server
        .run("alice", &format!("pass edit github{many}"))
        .await;
    assert!(failure_line(&out).contains("at most 20 tags"), "{out:?}");

    assert_eq!(passwords(&server).await.as_array().map(Vec::len), Some(1));
    let after = json(&server, "pass show github --reveal --json").await;
    assert_eq!(after, before, "a refused command changed the entry");
}

// ---- history ----

#[tokio::test]
async fn every_kind_keeps_the_values_its_secrets_had_newest_first() {
    let server = server_with_alice().await;
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        (
            "card",
            "card add --name visa --number 4111111111111111 --expiry 12/30 --cvv 123",
            "card edit visa --number 5555555555554444",
            "number",
            "4111111111111111",
        ),
        (
            "pass",
            "pass add --name github --password gh-Old-1",
            "pass edit github --password gh-New-2",
            "password",
            "gh-Old-1",
        ),
        (
            "note",
            "note add --name codes --text 'door 1234'",
            "note edit codes --text 'door 9876'",
            "text",
            "door 1234",
        ),
        (
            "totp",
            "totp add --name aws --secret JBSWY3DPEHPK3PXP",
            "totp edit aws --secret GEZDGNBVGY3TQOJQ",
            "secret",
            "JBSWY3DPEHPK3PXP",
        ),
        (
            "id",
            "id add --name me --document P1234567",
            "id edit me --document P7654321",
            "document",
            "P1234567",
        ),
    ];
    for (kind, add, change, field, old) in cases {
        let name = item_name(add);
        ok(
            &server,
            &format!("{add} --secret-field pin=1111 --field plain=x"),
        )
        .await;
        let none = ok(&server, &format!("{kind} history {name}")).await;
        assert!(none.contains("No earlier values"), "{kind}: {none}");

        ok(&server, change).await;
        ok(
            &server,
            &format!("{kind} edit {name} --secret-field pin=2222 --field plain=y"),
        )
        .await;

        let hidden = json(&server, &format!("{kind} history {name} --json")).await;
        let hidden = hidden.as_array().expect("array");
        assert_eq!(hidden.len(), 2, "{kind}: only secrets are kept: {hidden:?}");
        assert_eq!(keys(&hidden[0]), sorted(&["changed_at", "field"]), "{kind}");
        assert_eq!(hidden[0]["field"], "pin", "{kind}: newest first");
        assert_eq!(hidden[1]["field"], field, "{kind}");

        let shown = json(&server, &format!("{kind} history {name} --reveal --json")).await;
        assert_eq!(shown[0]["value"], "1111", "{kind}");
        assert_eq!(shown[1]["value"], old, "{kind}");
        assert_eq!(
            keys(&shown[1]),
            sorted(&["changed_at", "field", "value"]),
            "{kind}"
        );

        let text = ok(&server, &format!("{kind} history {name}")).await;
        assert!(
            text.contains("CHANGED") && text.contains(field),
            "{kind}: {text}"
        );
        assert!(
            !text.contains(old) && text.contains("********"),
            "{kind}: {text}"
        );
        let revealed = ok(&server, &format!("{kind} history {name} --reveal")).await;
        assert!(revealed.contains(old), "{kind}: {revealed}");
    }
}

#[tokio::test]
async fn history_keeps_the_last_ten_changes_and_a_refused_edit_adds_none() {
    let server = server_with_alice().await;
    ok(&server, "pass add --name github --password v0-secret").await;
    for i in 1..=12 {
        ok(&server, &format!("pass edit github --password v{i}-secret")).await;
    }
    let out = server
        .run(
            "alice",
            "pass edit github --password v13-secret --tag 'a,b'",
        )
        .await;
    failure_line(&out);

    let history = json(&server, "pass history github --reveal --json").await;
    let values: Vec<&str> = history
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["value"].as_str().expect("value"))
        .collect();
    let expected: Vec<String> = (2..=11).rev().map(|i| format!("v{i}-secret")).collect();
    assert_eq!(values, expected);

    let missing = server.run("alice", "pass history nothere").await;
    assert!(failure_line(&missing).contains("nothere"), "{missing:?}");
}

// ---- trash ----

#[tokio::test]
async fn rm_through_exec_needs_f_and_then_moves_the_item_to_the_trash() {
    let server = server_with_alice().await;
    add_password(&server, "github", "gh-Secret-1").await;

    let refused = server.run("alice", "pass rm github").await;
    assert_eq!(refused.status, Some(2), "{refused:?}");
    assert!(failure_line(&refused).contains("-f"), "{refused:?}");
    assert_eq!(names(&passwords(&server).await), ["github"]);

    ok(&server, "pass rm github -f").await;
    assert_eq!(names(&passwords(&server).await), Vec::<String>::new());
    let trash = json(&server, "trash list --json").await;
    let entry = &trash[0];
    assert_eq!(keys(entry), sorted(&["id", "kind", "name", "deleted_at"]));
    assert_eq!(entry["kind"], "password");
    assert_eq!(entry["name"], "github");
    let text = ok(&server, "trash list").await;
    assert!(
        text.contains("password") && text.contains("github"),
        "{text}"
    );

    let restored = ok(&server, "trash restore GitHub").await;
    assert_eq!(restored, "Restored password `github` from the trash.\n");
    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["password"], "gh-Secret-1");
    assert_eq!(ok(&server, "trash list").await, "The trash is empty.\n");
}

#[tokio::test]
async fn a_restore_onto_a_name_taken_meanwhile_is_refused_and_keeps_the_trash() {
    let server = server_with_alice().await;
    add_password(&server, "github", "gh-Old-1").await;
    ok(&server, "pass rm github -f").await;
    add_password(&server, "github", "gh-New-2").await;

    let out = server.run("alice", "trash restore github").await;
    assert!(failure_line(&out).contains("is in your vault"), "{out:?}");
    assert_eq!(
        json(&server, "trash list --json")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let entry = json(&server, "pass show github --reveal --json").await;
    assert_eq!(entry["password"], "gh-New-2");

    let missing = server.run("alice", "trash restore nothere").await;
    assert!(failure_line(&missing).contains("nothere"), "{missing:?}");

    ok(&server, "pass rm github -f").await;
    let emptied = ok(&server, "trash empty").await;
    assert_eq!(emptied, "Deleted 2 items from the trash for good.\n");
    assert_eq!(ok(&server, "trash list").await, "The trash is empty.\n");
    let log = json(&server, "log --json").await;
    let emptied = log
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["action"] == "trash.empty");
    assert_eq!(emptied.count(), 1, "{log}");
}

#[tokio::test]
async fn a_shell_asks_before_rm_and_keeps_the_item_unless_told_yes() {
    let server = server_with_alice().await;
    add_password(&server, "github", "gh-Secret-1").await;
    let mut sh = plain_shell(&server).await;

    sh.send(b"pass rm github\n").await;
    sh.expect("Delete `github`? [y/N] ").await;
    sh.send(b"n\n").await;
    let kept = sh.expect(PROMPT).await;
    assert!(kept.contains("Kept password `github`."), "{kept}");
    assert_eq!(names(&passwords(&server).await), ["github"]);

    sh.send(b"pass rm github\n").await;
    sh.expect("Delete `github`? [y/N] ").await;
    sh.send(b"y\n").await;
    let moved = sh.expect(PROMPT).await;
    assert!(moved.contains("to the trash"), "{moved}");
    assert_eq!(names(&passwords(&server).await), Vec::<String>::new());

    let forced = plain_command(&mut sh, "pass rm nosuch -f").await;
    assert!(forced.contains("no password named `nosuch`"), "{forced}");
}

#[tokio::test]
async fn the_server_purges_the_trash_after_its_retention_and_audits_it() {
    let server = TestServer::start_with(|a| a.limits.trash_retention_secs = 1).await;
    server.register("alice").await;
    add_password(&server, "github", "gh-Secret-1").await;
    ok(&server, "pass rm github -f").await;

    let mut purged = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if json(&server, "trash list --json").await == serde_json::json!([]) {
            purged = true;
            break;
        }
    }
    assert!(purged, "still in the trash after 10 s");
    let log = json(&server, "log --json --limit 50").await;
    let purge = log
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["action"] == "trash.purge")
        .unwrap_or_else(|| panic!("no trash.purge in {log}"))
        .clone();
    assert_eq!(purge["channel"], "server");
    assert_eq!(purge["outcome"], "ok");
    assert!(purge["target"].as_str().is_some_and(|t| !t.is_empty()));
}

// ---- health ----

/// A Pwned Passwords file holding the SHA-1 of each of `breached` among
/// filler hashes, sorted, `HASH:COUNT` lines ending in `\r\n`.
fn breach_file(dir: &std::path::Path, breached: &[&str]) -> std::path::PathBuf {
    use sha1::{Digest, Sha1};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let mut lines: Vec<String> = (0..2000u32)
        .map(|i| format!("{}:{}", hex(&Sha1::digest(format!("filler-{i}"))), i + 1))
        .collect();
    lines.extend(
        breached
            .iter()
            .map(|p| format!("{}:42", hex(&Sha1::digest(p)))),
    );
    lines.sort();
    let path = dir.join("pwned.txt");
    std::fs::write(&path, lines.join("\r\n") + "\r\n").expect("write breach file");
    path
}

async fn add_health_entries(server: &TestServer) {
    add_password(server, "forum", "password1").await;
    add_password(server, "mail", "Vq8#mZ2!rL5@xT9$").await;
    add_password(server, "bank", "Vq8#mZ2!rL5@xT9$").await;
    add_password(server, "github", "k7Y$pW3@nQ9!sD4#hJ2%").await;
}

#[tokio::test]
async fn health_names_weak_reused_and_old_passwords() {
    let server = server_with_alice().await;
    add_health_entries(&server).await;
    helpers::sql_at(
        server.path(),
        "UPDATE items SET created_at = '2024-01-01T00:00:00Z' WHERE kind = 'password'",
    )
    .await;
    ok(
        &server,
        "pass edit github --password 'b5T!qR8#vN2@wK7$yM4%'",
    )
    .await;

    let report = json(&server, "health --json").await;
    let entries = report.as_array().expect("array");
    assert_eq!(entries.len(), 4, "{report}");
    let by_name = |name: &str| {
        entries
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"))
    };
    assert_eq!(
        keys(by_name("forum")),
        sorted(&[
            "id",
            "kind",
            "name",
            "weak",
            "reused_with",
            "old",
            "breached"
        ])
    );
    assert_eq!(by_name("forum")["weak"], true);
    assert_eq!(by_name("mail")["weak"], false);
    assert_eq!(by_name("mail")["reused_with"], serde_json::json!(["bank"]));
    assert_eq!(by_name("bank")["reused_with"], serde_json::json!(["mail"]));
    assert_eq!(by_name("github")["reused_with"], serde_json::json!([]));
    assert_eq!(by_name("forum")["old"], true, "unchanged since 2024");
    assert_eq!(by_name("github")["old"], false, "changed just now");
    assert_eq!(by_name("forum")["breached"], Value::Null, "no breach file");
    assert_eq!(by_name("forum")["kind"], "password");

    let text = ok(&server, "health").await;
    assert!(
        text.contains("REUSED WITH") && text.contains("breaches not checked"),
        "{text}"
    );
    assert!(
        !text.contains("password1"),
        "health shows no password: {text}"
    );
}

#[tokio::test]
async fn health_finds_breached_passwords_in_the_operators_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = breach_file(dir.path(), &["password1", "Vq8#mZ2!rL5@xT9$"]);
    let server = TestServer::start_with(move |a| a.breach_file = Some(file)).await;
    server.register("alice").await;
    add_health_entries(&server).await;

    let report = json(&server, "health --json").await;
    let breached: Vec<(&str, bool)> = report
        .as_array()
        .expect("array")
        .iter()
        .map(|e| (e["name"].as_str().expect("name"), e["breached"] == true))
        .collect();
    assert_eq!(
        breached,
        [
            ("forum", true),
            ("mail", true),
            ("bank", true),
            ("github", false)
        ]
    );
    let text = ok(&server, "health").await;
    assert!(text.contains("3 breached"), "{text}");
    let log = json(&server, "log --json").await;
    // Newest first, after the `log` command's own login and unlock.
    assert_eq!(log[2]["action"], "vault.health", "{log}");
}
