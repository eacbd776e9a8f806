//! SPEC §3: "a copy of the database, its WAL and the logs reveals no card
//! number, CVV, password, note or item name — not even a prefix."
//!
//! Each test runs the real binary with debug logging, stores distinctive
//! secrets through SSH (exec and a PTY shell), edits and deletes some, changes
//! the login password and the PIN, and then scans every file the server wrote
//! (database, WAL, shared memory, host key, log) as raw bytes for every
//! secret in several encodings. A positive control proves that the scanner
//! finds each of those encodings, so no test can pass by scanning nothing.
//!
//! What short numbers can prove: a 3- or 4-digit CVV occurs by chance in
//! timestamps, random row ids and ciphertext, so its bare digits are not
//! searched. The CVV is searched in the forms a leak would take (JSON field,
//! `key=value`, the command-line flag), and it is sealed in the same record as
//! the card number and note, whose absence the long needles do prove. PINs
//! here are 12 digits, long enough not to occur by chance.

mod helpers;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::client::KeyboardInteractiveAuthResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use helpers::{Daemon, Shell, contains, exec, files_under, register_at};

const LOGIN: &str = "ratel";
const PROMPT: &str = "ratel@keeper> ";

const PASSWORD_OLD: &str = "Ratel-Login-Passphrase-q7Zx";
const PASSWORD_NEW: &str = "Ratel-Changed-Passphrase-W4vy";
const PASSWORD_GUESS: &str = "Wrong-Guess-Password-Heliotrope";
const KEYBOARD_GUESS: &str = "Wrong-Keyboard-Guess-Marigold";
const PIN_OLD: &str = "739184620573";
const PIN_NEW: &str = "582039164718";
const PIN_GUESS: &str = "406182739515";

// A Mastercard that is kept (renamed and re-noted) and an Amex that is deleted.
const MC_NUMBER: &str = "5555555555554444";
const MC_NAME: &str = "zebra-mastercard-7431";
const MC_RENAMED: &str = "zebra-renamed-5120";
const MC_HOLDER: &str = "Zanzibar Quillfeather";
const MC_CVV: &str = "737";
const MC_NOTE: &str = "Gate code under the kumquat tree";
const MC_NOTE_NEW: &str = "Moved the key to the persimmon shed";
const AMEX_NUMBER: &str = "378282246310005";
const AMEX_NAME: &str = "okapi-amex-2958";
const AMEX_HOLDER: &str = "Ophelia Marchbanks-Okapi";
const AMEX_CVV: &str = "8426";
const AMEX_NOTE: &str = "Concierge line answers to nightjar";

// A password entry that is kept (password changed), one that is deleted, and
// one whose password the server generates.
const MAIL_NAME: &str = "quokka-mail-6604";
const MAIL_URL: &str = "https://mail.quokka-example.test/login-8812";
const MAIL_USERNAME: &str = "pelican.user.4471";
const MAIL_PASSWORD: &str = "Tr0ub4dor&3-unique-XYZ";
const MAIL_PASSWORD_NEW: &str = "Wombat-Second-Pass-7720";
const MAIL_NOTE: &str = "Recovery phrase marmalade orbit";
const LYNX_NAME: &str = "lynx-deleted-3391";
const LYNX_URL: &str = "https://lynx-vault.example.test/deleted";
const LYNX_USERNAME: &str = "lynx.owner.9053";
const LYNX_PASSWORD: &str = "Deleted-Secret-Lynx-5512";
const HERON_NAME: &str = "heron-generated-1186";
// An entry stored through the HTTP API.
const EGRET_NAME: &str = "egret-http-4729";
const EGRET_PASSWORD: &str = "Http-Body-Secret-Egret-3368";
const EGRET_NOTE: &str = "Posted as JSON through the sandpiper api";

// A secure note read from standard input and then replaced the same way,
// one deleted, and one posted through the HTTP API.
const KIWI_NAME: &str = "kiwi-note-8315";
const KIWI_LINE_1: &str = "Safe combination tapir-left-31";
const KIWI_LINE_2: &str = "Spare keys behind the wombat clock";
const KIWI_NEW: &str = "Combination changed to narwhal-right-77";
const DINGO_NAME: &str = "dingo-note-deleted-2207";
const DINGO_TEXT: &str = "Deleted note about the axolotl locker";
const IBIS_NAME: &str = "ibis-note-http-6642";
const IBIS_TEXT: &str = "Posted note: the gecko vault opens at dawn";

// A one-time password seed from a URI, and one posted through the HTTP API.
const MOTH_NAME: &str = "moth-totp-4417";
const MOTH_SECRET: &str = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BAJJ2W24DT";
const MOTH_ISSUER: &str = "Mothwing-Bank-Issuer";
const MOTH_ACCOUNT: &str = "moth.account.5521";
const WREN_NAME: &str = "wren-totp-http-0937";
const WREN_SECRET: &str = "ONSWG4TFOQQHO4TFNYQGQ5DUOAQHGZLDOJSXI2LT";
// A seed kept with a password entry.
const OWL_SECRET: &str = "N53WYIDTMVSWIIDPNYQGCIDQMFZXG53POJSA";

// An identity, its document number changed once.
const OTTER_NAME: &str = "otter-identity-3350";
const OTTER_FULL_NAME: &str = "Octavia Riverbank-Otter";
const OTTER_EMAIL: &str = "octavia.otter.7719@example.test";
const OTTER_PHONE: &str = "+44 20 7946 0321";
const OTTER_ADDRESS: &str = "17 Holt Lane, Otterbury";
const OTTER_DOCUMENT: &str = "PX99231877";
const OTTER_DOCUMENT_NEW: &str = "PX55017342";

// Tags and custom fields: on a card and a note through SSH (one field
// changed, one removed), on an entry through HTTP.
const TAMARIN_TAG: &str = "tamarin-tag-6621";
const SERVAL_TAG: &str = "serval-tag-1043";
const PANGOLIN_KEY: &str = "pangolin-key-4410";
const PANGOLIN_VALUE: &str = "Pangolin-Plain-Value-8812";
const CIVET_KEY: &str = "civet-secret-key-5530";
const CIVET_VALUE: &str = "Civet-Secret-Value-0273";
const CIVET_VALUE_NEW: &str = "Civet-Changed-Value-9164";
const GENET_KEY: &str = "genet-removed-key-7702";
const GENET_VALUE: &str = "Genet-Removed-Value-3318";
const MARTEN_TAG: &str = "marten-http-tag-2281";
const MARTEN_KEY: &str = "marten-http-key-5046";
const MARTEN_VALUE: &str = "Marten-Http-Value-6614";

// Imports: a Bitwarden JSON file through SSH exec, a Chrome CSV through
// HTTP.
const IMPALA_NAME: &str = "impala-imported-3390";
const IMPALA_PASSWORD: &str = "Impala-Imported-Secret-7716";
const IMPALA_NOTE: &str = "Imported note about the acacia ridge";
const IMPALA_FOLDER: &str = "impala-folder-6130";
const IMPALA_FIELD: &str = "Impala-Hidden-Field-2049";
const IMPALA_CARD_NAME: &str = "impala-card-5582";
const IMPALA_CARD: &str = "6011000990139424";
const IMPALA_HOLDER: &str = "Imogen Palatine-Impala";
const CARACAL_NAME: &str = "caracal-csv-8104";
const CARACAL_PASSWORD: &str = "Caracal-Csv-Secret-4527";
const CARACAL_USERNAME: &str = "caracal.user.6618";
const ARCHIVE_PASSPHRASE: &str = "Archive-Passphrase-Saiga-3071";

// A second account, recovered with its key over HTTP.
const GAUR_LOGIN: &str = "gaur";
const GAUR_PASSWORD: &str = "Gaur-First-Passphrase-6170";
const GAUR_NEW_PASSWORD: &str = "Gaur-Recovered-Passphrase-2254";
const GAUR_PIN: &str = "937164028513";

/// One secret and the byte strings it would leave behind in a file.
struct Needle {
    what: String,
    forms: Vec<(String, Vec<u8>)>,
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `s` as UTF-8 and as UTF-16LE.
fn encodings(s: &str, spelling: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("{spelling}, UTF-8"), s.as_bytes().to_vec()),
        (format!("{spelling}, UTF-16LE"), utf16le(s)),
    ]
}

/// A password, PIN, note, holder, URL or username: as given.
fn secret(what: &str, value: &str) -> Needle {
    Needle {
        what: format!("{what} `{value}`"),
        forms: encodings(value, "as given"),
    }
}

/// An item name: as given, lowercase and uppercase (names are case-insensitive).
fn name(what: &str, value: &str) -> Needle {
    let mut forms = encodings(value, "as given");
    forms.extend(encodings(&value.to_lowercase(), "lowercase"));
    forms.extend(encodings(&value.to_uppercase(), "uppercase"));
    Needle {
        what: format!("{what} `{value}`"),
        forms,
    }
}

/// A card number: bare digits, and in groups separated by spaces or dashes
/// (4-4-4-4 and, for 15 digits, also Amex's 4-6-5).
fn card_number(what: &str, digits: &str) -> Needle {
    let fours: Vec<&str> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("digits"))
        .collect();
    let mut groupings = vec![fours];
    if digits.len() == 15 {
        groupings.push(vec![&digits[..4], &digits[4..10], &digits[10..]]);
    }
    let mut forms = encodings(digits, "digits");
    for groups in &groupings {
        forms.extend(encodings(&groups.join(" "), "with spaces"));
        forms.extend(encodings(&groups.join("-"), "with dashes"));
    }
    Needle {
        what: format!("{what} `{digits}`"),
        forms,
    }
}

/// A short CVV, in the contexts a leak would write it (see the module docs).
fn cvv(what: &str, value: &str) -> Needle {
    let mut forms = Vec::new();
    for context in [
        format!("\"cvv\":\"{value}\""),
        format!("\"cvv\": \"{value}\""),
        format!("cvv={value}"),
        format!("cvv: {value}"),
        format!("--cvv {value}"),
        format!("CVV: {value}"),
    ] {
        forms.extend(encodings(&context, &context));
    }
    Needle {
        what: format!("{what} `{value}` in context"),
        forms,
    }
}

/// What the scenario learns only while it runs.
struct Issued {
    generated_password: String,
    http_token: String,
    /// The recovery keys of the second account: at registration, then
    /// after recovery.
    recovery_keys: Vec<String>,
}

fn needles(issued: &Issued) -> Vec<Needle> {
    vec![
        secret("HTTP bearer token", &issued.http_token),
        name("entry name sent over HTTP", EGRET_NAME),
        secret("password sent over HTTP", EGRET_PASSWORD),
        secret("note sent over HTTP", EGRET_NOTE),
        secret("old login password", PASSWORD_OLD),
        secret("new login password", PASSWORD_NEW),
        secret("guessed login password", PASSWORD_GUESS),
        secret("guessed keyboard-interactive password", KEYBOARD_GUESS),
        secret("old PIN", PIN_OLD),
        secret("new PIN", PIN_NEW),
        secret("guessed PIN", PIN_GUESS),
        card_number("kept card number", MC_NUMBER),
        card_number("deleted card number", AMEX_NUMBER),
        name("card name", MC_NAME),
        name("renamed card name", MC_RENAMED),
        name("deleted card name", AMEX_NAME),
        secret("holder", MC_HOLDER),
        secret("deleted card's holder", AMEX_HOLDER),
        cvv("CVV", MC_CVV),
        cvv("deleted card's CVV", AMEX_CVV),
        secret("card note", MC_NOTE),
        secret("edited card note", MC_NOTE_NEW),
        secret("deleted card's note", AMEX_NOTE),
        name("password entry name", MAIL_NAME),
        name("deleted entry name", LYNX_NAME),
        name("generated entry name", HERON_NAME),
        secret("url", MAIL_URL),
        secret("deleted entry's url", LYNX_URL),
        secret("username", MAIL_USERNAME),
        secret("deleted entry's username", LYNX_USERNAME),
        secret("stored password", MAIL_PASSWORD),
        secret("changed stored password", MAIL_PASSWORD_NEW),
        secret("deleted stored password", LYNX_PASSWORD),
        secret("generated password", &issued.generated_password),
        secret("password note", MAIL_NOTE),
        name("note name", KIWI_NAME),
        secret("note text, first line", KIWI_LINE_1),
        secret("note text, second line", KIWI_LINE_2),
        secret("replaced note text", KIWI_NEW),
        name("deleted note name", DINGO_NAME),
        secret("deleted note text", DINGO_TEXT),
        name("note name sent over HTTP", IBIS_NAME),
        secret("note text sent over HTTP", IBIS_TEXT),
        name("one-time password name", MOTH_NAME),
        secret("one-time password secret", MOTH_SECRET),
        secret("one-time password issuer", MOTH_ISSUER),
        secret("one-time password account", MOTH_ACCOUNT),
        name("one-time password name sent over HTTP", WREN_NAME),
        secret("one-time password secret sent over HTTP", WREN_SECRET),
        secret("a password entry's seed", OWL_SECRET),
        name("identity name", OTTER_NAME),
        secret("identity's full name", OTTER_FULL_NAME),
        secret("identity's email", OTTER_EMAIL),
        secret("identity's phone", OTTER_PHONE),
        secret("identity's address", OTTER_ADDRESS),
        secret("document number", OTTER_DOCUMENT),
        secret("changed document number", OTTER_DOCUMENT_NEW),
        name("tag", TAMARIN_TAG),
        name("tag on a note", SERVAL_TAG),
        name("tag sent over HTTP", MARTEN_TAG),
        secret("custom field key", PANGOLIN_KEY),
        secret("custom field value", PANGOLIN_VALUE),
        secret("secret custom field key", CIVET_KEY),
        secret("secret custom field value", CIVET_VALUE),
        secret("changed secret custom field value", CIVET_VALUE_NEW),
        secret("removed custom field key", GENET_KEY),
        secret("removed custom field value", GENET_VALUE),
        secret("custom field key sent over HTTP", MARTEN_KEY),
        secret("custom field value sent over HTTP", MARTEN_VALUE),
        name("imported entry name", IMPALA_NAME),
        secret("imported password", IMPALA_PASSWORD),
        secret("imported note", IMPALA_NOTE),
        name("imported folder, now a tag", IMPALA_FOLDER),
        secret("imported hidden field", IMPALA_FIELD),
        name("imported card name", IMPALA_CARD_NAME),
        card_number("imported card number", IMPALA_CARD),
        secret("imported holder", IMPALA_HOLDER),
        name("entry name imported over HTTP", CARACAL_NAME),
        secret("password imported over HTTP", CARACAL_PASSWORD),
        secret("username imported over HTTP", CARACAL_USERNAME),
        secret("an export's archive passphrase", ARCHIVE_PASSPHRASE),
        secret("a password before recovery", GAUR_PASSWORD),
        secret("a password set by recovery", GAUR_NEW_PASSWORD),
        secret(
            "the recovery key given at registration",
            &issued.recovery_keys[0],
        ),
        secret(
            "the recovery key given at recovery",
            &issued.recovery_keys[1],
        ),
        secret(
            "the recovery key compact",
            &issued.recovery_keys[0].replace('-', ""),
        ),
    ]
}

/// Every (needle, form, file) found.
fn scan(files: &[PathBuf], needles: &[Needle]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).expect("read scanned file");
        for needle in needles {
            for (form, pattern) in &needle.forms {
                if contains(&bytes, pattern) {
                    found.push(format!("{} ({form}) in {}", needle.what, file.display()));
                }
            }
        }
    }
    found
}

/// The positive control: every form of every needle, planted in a scratch
/// file among other bytes, is found by `scan`.
fn assert_scanner_finds_every_form(needles: &[Needle]) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let file = scratch.path().join("planted.bin");
    let mut planted = Vec::new();
    let mut expected = Vec::new();
    for needle in needles {
        for (form, pattern) in &needle.forms {
            planted.extend_from_slice(b"\x00\xffSQLite filler\x00");
            planted.extend_from_slice(pattern);
            expected.push(format!("{} ({form}) in {}", needle.what, file.display()));
        }
    }
    std::fs::write(&file, &planted).expect("write scratch file");

    let found = scan(std::slice::from_ref(&file), needles);

    for e in &expected {
        assert!(found.contains(e), "the scanner misses {e}");
    }
}

/// One HTTP/1.1 request over a fresh connection: status and body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, String) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    http_as(addr, method, path, token, "application/json", body).await
}

/// `http` with a body of any type.
async fn http_as(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: String,
) -> (u16, String) {
    let exchange = async {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send request");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read response");
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        (status, body.to_owned())
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("HTTP request finishes in time")
}

/// Logs in with keyboard-interactive authentication (the way OpenSSH
/// clients prompt); returns whether the server accepted `password`.
async fn keyboard_interactive_login(addr: SocketAddr, password: &str) -> bool {
    let attempt = async {
        let config = Arc::new(russh::client::Config::default());
        let mut handle = russh::client::connect(config, addr, helpers::Client::default())
            .await
            .expect("connect");
        let mut reply = handle
            .authenticate_keyboard_interactive_start(LOGIN, None)
            .await
            .expect("keyboard-interactive");
        loop {
            reply = match reply {
                KeyboardInteractiveAuthResponse::Success => return true,
                KeyboardInteractiveAuthResponse::Failure { .. } => return false,
                KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => handle
                    .authenticate_keyboard_interactive_respond(
                        prompts.iter().map(|_| password.to_owned()).collect(),
                    )
                    .await
                    .expect("respond"),
            };
        }
    };
    tokio::time::timeout(Duration::from_secs(20), attempt)
        .await
        .expect("keyboard-interactive login finishes in time")
}

async fn run(addr: SocketAddr, password: &str, pin: &str, command: &str) -> helpers::Exec {
    let out = exec(addr, LOGIN, password, command, &format!("{pin}\n")).await;
    assert_eq!(out.status, Some(0), "`{command}`: {out:?}");
    out
}

/// Where a running server listens.
#[derive(Clone, Copy)]
struct Addrs {
    ssh: SocketAddr,
    http: SocketAddr,
}

/// Stores, edits, reveals and deletes the secrets above over SSH and HTTP;
/// changes password and PIN; fails a login and a PIN.
async fn store_secrets(addrs: Addrs) -> Issued {
    let addr = addrs.ssh;
    let (pw, pin) = (PASSWORD_OLD, PIN_OLD);
    register_at(addr, LOGIN, pw, pin).await;
    let commands = [
        format!(
            "card add --name {MC_NAME} --number '5555 5555 5555 4444' --holder '{MC_HOLDER}' \
             --expiry 11/29 --cvv {MC_CVV} --note '{MC_NOTE}'"
        ),
        format!(
            "card add --name {AMEX_NAME} --number 3782-822463-10005 --holder '{AMEX_HOLDER}' \
             --expiry 03/31 --cvv {AMEX_CVV} --note '{AMEX_NOTE}'"
        ),
        format!(
            "pass add --name {MAIL_NAME} --url {MAIL_URL} --username {MAIL_USERNAME} \
             --password '{MAIL_PASSWORD}' --note '{MAIL_NOTE}'"
        ),
        format!(
            "pass add --name {LYNX_NAME} --url {LYNX_URL} --username {LYNX_USERNAME} \
             --password '{LYNX_PASSWORD}'"
        ),
        format!("pass add --name {HERON_NAME} --generate --length 40"),
        format!("card show {MC_NAME} --reveal"),
        format!("card show {AMEX_NAME} --reveal --json"),
        format!("pass show {MAIL_NAME} --reveal"),
        format!("card edit {MC_NAME} --name {MC_RENAMED} --note '{MC_NOTE_NEW}'"),
        format!("pass edit {MAIL_NAME} --password '{MAIL_PASSWORD_NEW}'"),
        format!("card rm {AMEX_NAME} -f"),
        format!("pass rm {LYNX_NAME} -f"),
        "card list".to_owned(),
        "pass list --json".to_owned(),
        "log --json".to_owned(),
    ];
    for command in &commands {
        run(addr, pw, pin, command).await;
    }
    // Notes: the text from standard input after the PIN line.
    for (command, text) in [
        (
            format!("note add --name {KIWI_NAME}"),
            format!("{KIWI_LINE_1}\n{KIWI_LINE_2}\n"),
        ),
        (format!("note show {KIWI_NAME} --reveal"), String::new()),
        (
            format!("note edit {KIWI_NAME} --text -"),
            format!("{KIWI_NEW}\n"),
        ),
        (
            format!("note add --name {DINGO_NAME}"),
            format!("{DINGO_TEXT}\n"),
        ),
        (
            format!("note show {DINGO_NAME} --field text"),
            String::new(),
        ),
        (format!("note rm {DINGO_NAME} -f"), String::new()),
        ("note list --json".to_owned(), String::new()),
        (
            format!(
                "totp add --name {MOTH_NAME} --uri \
                 'otpauth://totp/{MOTH_ISSUER}:{MOTH_ACCOUNT}?secret={MOTH_SECRET}'"
            ),
            String::new(),
        ),
        (format!("totp show {MOTH_NAME} --reveal"), String::new()),
        (
            format!("pass edit {MAIL_NAME} --totp 'otpauth://totp/Owl?secret={OWL_SECRET}'"),
            String::new(),
        ),
        (format!("pass totp {MAIL_NAME}"), String::new()),
        (
            format!(
                "id add --name {OTTER_NAME} --full-name '{OTTER_FULL_NAME}' --email {OTTER_EMAIL} \
                 --phone '{OTTER_PHONE}' --address '{OTTER_ADDRESS}' --document {OTTER_DOCUMENT}"
            ),
            String::new(),
        ),
        (format!("id show {OTTER_NAME} --reveal"), String::new()),
        (
            format!("id edit {OTTER_NAME} --document {OTTER_DOCUMENT_NEW}"),
            String::new(),
        ),
        ("id list --json".to_owned(), String::new()),
        ("totp list --json".to_owned(), String::new()),
        (
            format!(
                "card edit {MC_RENAMED} --tag {TAMARIN_TAG} --field {PANGOLIN_KEY}={PANGOLIN_VALUE} \
                 --secret-field {CIVET_KEY}={CIVET_VALUE} --field {GENET_KEY}={GENET_VALUE}"
            ),
            String::new(),
        ),
        (
            format!(
                "card edit {MC_RENAMED} --secret-field {CIVET_KEY}={CIVET_VALUE_NEW} \
                 --field {GENET_KEY}="
            ),
            String::new(),
        ),
        (
            format!("card show {MC_RENAMED} --field {CIVET_KEY}"),
            String::new(),
        ),
        (
            format!("note edit {KIWI_NAME} --tag {SERVAL_TAG} --tag {TAMARIN_TAG}"),
            String::new(),
        ),
        (format!("card list --tag {TAMARIN_TAG}"), String::new()),
        (format!("find {PANGOLIN_VALUE} --json"), String::new()),
    ] {
        let out = exec(addr, LOGIN, pw, &command, &format!("{pin}\n{text}")).await;
        assert_eq!(out.status, Some(0), "`{command}`: {out:?}");
    }
    let heron = run(
        addr,
        pw,
        pin,
        &format!("pass show {HERON_NAME} --reveal --json"),
    )
    .await;
    let heron: serde_json::Value = serde_json::from_str(&heron.stdout).expect("JSON");
    let generated = heron["password"].as_str().expect("password").to_owned();
    assert_eq!(generated.chars().count(), 40);

    // The HTTP API: a token, an entry posted as JSON, a listing.
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/sessions",
        None,
        Some(serde_json::json!({"login": LOGIN, "password": pw, "pin": pin})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let session: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let token = session["token"].as_str().expect("token").to_owned();
    assert!(
        token.len() >= 20,
        "a token long enough to search for: {token}"
    );
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/passwords",
        Some(&token),
        Some(serde_json::json!({
            "name": EGRET_NAME,
            "password": EGRET_PASSWORD,
            "note": EGRET_NOTE,
            "tags": [MARTEN_TAG],
            "fields": [{"key": MARTEN_KEY, "value": MARTEN_VALUE, "secret": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(addrs.http, "GET", "/api/v1/passwords", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(EGRET_NAME), "{body}");
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/notes",
        Some(&token),
        Some(serde_json::json!({"name": IBIS_NAME, "text": IBIS_TEXT})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/totp",
        Some(&token),
        Some(serde_json::json!({"name": WREN_NAME, "secret": WREN_SECRET})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Imports: one through SSH exec, one through HTTP.
    let bitwarden = serde_json::json!({
        "encrypted": false,
        "folders": [{"id": "f1", "name": IMPALA_FOLDER}],
        "items": [
            {"type": 1, "name": IMPALA_NAME, "notes": IMPALA_NOTE, "folderId": "f1",
             "fields": [{"name": "hidden", "value": IMPALA_FIELD, "type": 1}],
             "login": {"uris": [], "username": null, "password": IMPALA_PASSWORD, "totp": null}},
            {"type": 3, "name": IMPALA_CARD_NAME,
             "card": {"cardholderName": IMPALA_HOLDER, "number": IMPALA_CARD,
                      "expMonth": "4", "expYear": "2031", "code": null}},
        ],
    });
    let imported = exec(
        addr,
        LOGIN,
        pw,
        "import --format bitwarden-json",
        &format!("{pin}\n{bitwarden}"),
    )
    .await;
    assert_eq!(imported.status, Some(0), "{imported:?}");
    let csv = format!(
        "name,url,username,password\n{CARACAL_NAME},https://caracal.example,\
         {CARACAL_USERNAME},{CARACAL_PASSWORD}\n"
    );
    let (status, body) = http_as(
        addrs.http,
        "POST",
        "/api/v1/import?format=chrome-csv",
        Some(&token),
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Exports: unencrypted through SSH, an archive through SSH and HTTP.
    let plain = exec(
        addr,
        LOGIN,
        pw,
        "export --format bitwarden-json --plaintext -f",
        &format!("{pin}\n"),
    )
    .await;
    assert_eq!(plain.status, Some(0), "{plain:?}");
    assert!(plain.stdout.contains(IMPALA_PASSWORD), "{plain:?}");
    let archive = exec(
        addr,
        LOGIN,
        pw,
        "export --format keeper",
        &format!("{pin}\n{ARCHIVE_PASSPHRASE}\n"),
    )
    .await;
    assert_eq!(archive.status, Some(0), "{archive:?}");
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/export",
        Some(&token),
        Some(serde_json::json!({"format": "keeper", "passphrase": ARCHIVE_PASSPHRASE})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{body}"
    );

    // A second account: registered over HTTP, recovered with its key.
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/users",
        None,
        Some(serde_json::json!({"login": GAUR_LOGIN, "password": GAUR_PASSWORD, "pin": GAUR_PIN})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let first_key = created["recovery_key"].as_str().expect("key").to_owned();
    let (status, body) = http(
        addrs.http,
        "POST",
        "/api/v1/recovery",
        None,
        Some(
            serde_json::json!({"login": GAUR_LOGIN, "recovery_key": first_key,
                                "password": GAUR_NEW_PASSWORD, "pin": GAUR_PIN}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let recovered: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let second_key = recovered["recovery_key"].as_str().expect("key").to_owned();

    // Logins by both methods, failed ones too, and a failed unlock.
    assert!(keyboard_interactive_login(addr, PASSWORD_OLD).await);
    assert!(!keyboard_interactive_login(addr, KEYBOARD_GUESS).await);
    assert!(
        helpers::connect(addr, LOGIN, Some(PASSWORD_GUESS))
            .await
            .is_err()
    );
    let wrong_pin = exec(addr, LOGIN, pw, "whoami", &format!("{PIN_GUESS}\n")).await;
    assert_ne!(wrong_pin.status, Some(0), "{wrong_pin:?}");

    // `passwd` and `pin` are dialogues: a PTY shell.
    let mut sh = Shell::connect(addr, LOGIN, Some(pw)).await.expect("login");
    sh.start_pty_shell().await;
    sh.expect("PIN: ").await;
    sh.line(pin).await;
    sh.expect(PROMPT).await;
    sh.line("passwd").await;
    sh.expect("Current password: ").await;
    sh.line(PASSWORD_OLD).await;
    sh.expect("New password: ").await;
    sh.line(PASSWORD_NEW).await;
    sh.expect("Repeat: ").await;
    sh.line(PASSWORD_NEW).await;
    let changed = sh.expect(PROMPT).await;
    assert!(changed.contains("Password changed."), "{changed:?}");
    sh.line("pin").await;
    sh.expect("Current PIN: ").await;
    sh.line(PIN_OLD).await;
    sh.expect("New PIN: ").await;
    sh.line(PIN_NEW).await;
    sh.expect("Repeat: ").await;
    sh.line(PIN_NEW).await;
    let changed = sh.expect(PROMPT).await;
    assert!(changed.contains("PIN changed."), "{changed:?}");
    sh.line("exit").await;
    sh.finish().await;
    assert_eq!(sh.exit_status, Some(0));

    Issued {
        generated_password: generated,
        http_token: token,
        recovery_keys: vec![first_key, second_key],
    }
}

/// The vault really holds what was stored, under the new credentials only:
/// the needles are not absent because nothing was written.
async fn assert_vault_holds_the_secrets(addr: SocketAddr, issued: &Issued) {
    assert!(
        helpers::connect(addr, LOGIN, Some(PASSWORD_OLD))
            .await
            .is_err(),
        "the old password no longer logs in"
    );
    let card = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("card show {MC_RENAMED} --reveal --json"),
    )
    .await;
    let card: serde_json::Value = serde_json::from_str(&card.stdout).expect("JSON");
    assert_eq!(card["number"], MC_NUMBER);
    assert_eq!(card["cvv"], MC_CVV);
    assert_eq!(card["holder"], MC_HOLDER);
    assert_eq!(card["note"], MC_NOTE_NEW);
    let entry = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("pass show {MAIL_NAME} --reveal --json"),
    )
    .await;
    let entry: serde_json::Value = serde_json::from_str(&entry.stdout).expect("JSON");
    assert_eq!(entry["password"], MAIL_PASSWORD_NEW);
    assert_eq!(entry["url"], MAIL_URL);
    assert_eq!(entry["username"], MAIL_USERNAME);
    assert!(
        entry["totp"]
            .as_str()
            .is_some_and(|uri| uri.contains(OWL_SECRET)),
        "{entry}"
    );
    let heron = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("pass show {HERON_NAME} --reveal --json"),
    )
    .await;
    let heron: serde_json::Value = serde_json::from_str(&heron.stdout).expect("JSON");
    assert_eq!(heron["password"], issued.generated_password.as_str());
    let egret = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("pass show {EGRET_NAME} --reveal --json"),
    )
    .await;
    let egret: serde_json::Value = serde_json::from_str(&egret.stdout).expect("JSON");
    assert_eq!(egret["password"], EGRET_PASSWORD);
    for (entry, password) in [
        (IMPALA_NAME, IMPALA_PASSWORD),
        (CARACAL_NAME, CARACAL_PASSWORD),
    ] {
        let shown = run(
            addr,
            PASSWORD_NEW,
            PIN_NEW,
            &format!("pass show {entry} --field password"),
        )
        .await;
        assert_eq!(shown.stdout, format!("{password}\n"), "{shown:?}");
    }
    let card = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("card show {IMPALA_CARD_NAME} --field number"),
    )
    .await;
    assert_eq!(card.stdout, format!("{IMPALA_CARD}\n"), "{card:?}");
    for (note, text) in [(KIWI_NAME, KIWI_NEW), (IBIS_NAME, IBIS_TEXT)] {
        let shown = run(
            addr,
            PASSWORD_NEW,
            PIN_NEW,
            &format!("note show {note} --field text"),
        )
        .await;
        assert_eq!(shown.stdout, format!("{text}\n"));
    }
    let otter = run(
        addr,
        PASSWORD_NEW,
        PIN_NEW,
        &format!("id show {OTTER_NAME} --field document"),
    )
    .await;
    assert_eq!(otter.stdout, format!("{OTTER_DOCUMENT_NEW}\n"));
    for (totp, secret) in [(MOTH_NAME, MOTH_SECRET), (WREN_NAME, WREN_SECRET)] {
        let shown = run(
            addr,
            PASSWORD_NEW,
            PIN_NEW,
            &format!("totp show {totp} --field secret"),
        )
        .await;
        assert_eq!(shown.stdout, format!("{secret}\n"));
    }
}

/// A server in a fresh directory, debug logging on, stderr in `serve.log`.
fn start(dir: &Path, log_format: &str) -> (Daemon, Addrs) {
    let mut server = Daemon::spawn(
        dir,
        &[
            "--ssh-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--log-format",
            log_format,
        ],
        &[("RUST_LOG", "debug")],
        &dir.join("serve.log"),
    );
    let ssh = server.wait_listening();
    let log = server.log_text();
    let http = log
        .lines()
        .filter(|l| l.contains("http listening"))
        .find_map(helpers::socket_addr_in)
        .unwrap_or_else(|| panic!("no `http listening` line:\n{log}"));
    (server, Addrs { ssh, http })
}

fn assert_debug_logging_is_on(log: &str) {
    assert!(
        log.contains("DEBUG"),
        "RUST_LOG=debug took effect, so debug logs are scanned too:\n{log}"
    );
}

fn assert_nothing_found(found: &[String], files: &[PathBuf]) {
    assert!(
        found.is_empty(),
        "secrets readable at rest:\n  {}\n(scanned {} files)",
        found.join("\n  "),
        files.len()
    );
}

#[test]
fn the_scanner_finds_every_encoding_of_every_needle_in_a_planted_file() {
    let needles = needles(&Issued {
        generated_password: "a-generated-password-stand-in".into(),
        http_token: "a-token-stand-in".into(),
        recovery_keys: vec![
            "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345-67ABC-DEFGH".into(),
            "HGFED-CBA76-5432Z-YXWVU-TSRQP-ONMLK-JIHGF-EDCBA".into(),
        ],
    });

    assert_scanner_finds_every_form(&needles);
    assert!(scan(&[], &needles).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_the_running_servers_database_wal_and_debug_log_reveals_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, addrs) = start(dir.path(), "text");
    let issued = store_secrets(addrs).await;
    assert_vault_holds_the_secrets(addrs.ssh, &issued).await;

    // Copy the live files, as a backup or an attacker would.
    let copy = tempfile::tempdir().expect("tempdir");
    for file in ["keeper.db", "keeper.db-wal", "keeper.db-shm"] {
        let from = dir.path().join("data").join(file);
        assert!(from.is_file(), "{file} exists while the server runs");
        std::fs::copy(&from, copy.path().join(file)).expect("copy");
    }
    std::fs::copy(dir.path().join("serve.log"), copy.path().join("serve.log")).expect("copy log");
    let files = files_under(copy.path());
    let needles = needles(&issued);

    let found = scan(&files, &needles);

    assert_scanner_finds_every_form(&needles);
    let size = |f: &str| {
        std::fs::metadata(copy.path().join(f))
            .expect("copied")
            .len()
    };
    assert!(size("keeper.db") > 0, "the database copy is not empty");
    assert!(
        size("keeper.db-wal") > 0,
        "the WAL copy holds the recent writes"
    );
    assert_debug_logging_is_on(&server.log_text());
    assert_eq!(files.len(), 4, "database, WAL, shared memory and log");
    assert_nothing_found(&found, &files);
    assert!(server.stop().success());
}

async fn after_a_clean_stop_nothing_secret_is_readable(log_format: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, addrs) = start(dir.path(), log_format);
    let issued = store_secrets(addrs).await;
    assert_vault_holds_the_secrets(addrs.ssh, &issued).await;
    let (status, server) = tokio::task::spawn_blocking(move || (server.stop(), server))
        .await
        .expect("stop thread");
    assert!(status.success(), "{}", server.log_text());
    let files = files_under(dir.path());
    let needles = needles(&issued);

    let found = scan(&files, &needles);

    assert_scanner_finds_every_form(&needles);
    let database = dir.path().join("data/keeper.db");
    assert!(std::fs::metadata(&database).expect("database").len() > 0);
    assert!(files.contains(&database));
    assert!(files.contains(&dir.path().join("serve.log")));
    let log = server.log_text();
    assert_debug_logging_is_on(&log);
    if log_format == "json" {
        assert!(
            log.lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
            "every log line is JSON"
        );
    }
    assert_nothing_found(&found, &files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_clean_stop_the_database_and_text_debug_log_reveal_no_secret() {
    after_a_clean_stop_nothing_secret_is_readable("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_clean_stop_the_database_and_json_debug_log_reveal_no_secret() {
    after_a_clean_stop_nothing_secret_is_readable("json").await;
}
