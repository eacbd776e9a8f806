//! Names as people and attackers write them: look-alike spellings, invisible
//! characters, terminal escapes offered back through Tab completion, huge
//! completion lists, and wide or combining characters in tables. Driven
//! over HTTP and a real SSH PTY.

mod helpers;

use helpers::{PASSWORD, PIN, TestServer};
use serde_json::{Value, json};

const PROMPT: &str = "alice@keeper> ";

struct Alice {
    server: TestServer,
    token: String,
}

impl Alice {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let http = reqwest::Client::new();
        let base = format!("http://{}/api/v1", server.http_addr);
        let created = http
            .post(format!("{base}/users"))
            .json(&json!({ "login": "alice", "password": PASSWORD, "pin": PIN }))
            .send()
            .await
            .expect("register");
        assert_eq!(created.status(), 201);
        let session: Value = http
            .post(format!("{base}/sessions"))
            .json(&json!({ "login": "alice", "password": PASSWORD, "pin": PIN }))
            .send()
            .await
            .expect("log in")
            .json()
            .await
            .expect("token");
        let token = session["token"].as_str().expect("token").to_owned();
        Self { server, token }
    }

    /// `POST /passwords` with `name`: the status and the body.
    async fn add_password(&self, name: &str) -> (u16, Value) {
        self.post(
            "/passwords",
            json!({ "name": name, "password": "a long enough one" }),
        )
        .await
    }

    async fn add_card(&self, name: &str) -> (u16, Value) {
        self.post(
            "/cards",
            json!({ "name": name, "number": "4111111111111111", "expiry": "12/30", "holder": "Ann" }),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let reply = reqwest::Client::new()
            .post(format!("http://{}/api/v1{path}", self.server.http_addr))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }
}

// ---- look-alike names ----

#[tokio::test]
async fn names_that_look_the_same_are_the_same_name() {
    let alice = Alice::start().await;
    for (first, second) in [
        ("caf\u{e9}", "cafe\u{301}"),              // NFC and NFD
        ("github", "\u{ff47}\u{ff49}\u{ff54}hub"), // fullwidth letters
        ("Stra\u{df}e", "STRASSE"),                // ß folds to ss
        ("office", "o\u{fb03}ce"),                 // the ffi ligature
    ] {
        assert_eq!(alice.add_password(first).await.0, 201, "{first:?}");
        let (status, body) = alice.add_password(second).await;
        assert_eq!(status, 409, "{first:?} then {second:?}: {body}");
    }
    // What is stored is what was typed, in NFC.
    let shown = alice
        .server
        .run("alice", "pass show cafe\u{301} --json")
        .await;
    assert_eq!(shown.status, Some(0), "{shown:?}");
    let entry: Value = serde_json::from_str(&shown.stdout).expect("json");
    assert_eq!(entry["name"], "caf\u{e9}");
}

#[tokio::test]
async fn invisible_characters_are_refused_in_names_but_emoji_keep_their_joiners() {
    let alice = Alice::start().await;
    for name in [
        "a\u{200b}b",
        "\u{feff}bank",
        "bank\u{200e}",
        "pay\u{200f}pal",
        "a\u{200d}b",
        "soft\u{ad}hyphen",
        "x\u{2060}y",
        "\u{202e}exe.txt",
    ] {
        let (status, body) = alice.add_password(name).await;
        assert_eq!(status, 400, "{name:?}: {body}");
        assert_eq!(body["field"], "name", "{body}");
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("invisible")),
            "{body}"
        );
    }
    for name in [
        "\u{1f469}\u{200d}\u{1f4bb} work",
        "\u{2764}\u{fe0f} home",
        "1\u{fe0f}\u{20e3} first",
        // The flag of England: a black flag and tag characters.
        "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} bank",
        // Persian "mi-khaham": a zero-width non-joiner between letters.
        "\u{645}\u{6cc}\u{200c}\u{62e}\u{648}\u{627}\u{647}\u{645}",
    ] {
        assert_eq!(alice.add_password(name).await.0, 201, "{name:?}");
    }
}

// ---- completion ----

async fn pty(alice: &Alice) -> helpers::Shell {
    alice.server.login("alice").await
}

#[tokio::test]
async fn completion_offers_stored_names_sanitised() {
    let alice = Alice::start().await;
    for name in ["\u{1b}]52;c;aGVsbG8=\u{7}clip", "\u{1b}[31mred"] {
        assert_eq!(alice.add_password(name).await.0, 201, "{name:?}");
    }
    let mut sh = pty(&alice).await;
    // Tab extends to the candidates' common prefix, rings, then lists.
    sh.send(b"pass show \t").await;
    sh.expect("pass show '").await;
    sh.send(b"\t\t").await;
    sh.expect("red").await;
    sh.send(b"\x15\r").await;
    sh.expect(PROMPT).await;
    let seen = String::from_utf8_lossy(&sh.transcript).into_owned();

    assert!(
        seen.contains("\\x1b]52"),
        "the name is listed visibly: {seen:?}"
    );
    assert!(!seen.contains("\u{1b}]52"), "raw OSC 52: {seen:?}");
    assert!(!seen.contains("\u{1b}[31m"), "raw colour: {seen:?}");
}

#[tokio::test]
async fn tab_on_a_huge_vault_asks_before_listing_everything() {
    let alice = Alice::start().await;
    for n in 0..150 {
        assert_eq!(alice.add_password(&format!("site{n:03}")).await.0, 201);
    }
    let mut sh = pty(&alice).await;
    // The first Tab extends `s` to `site`, the second rings the bell, the
    // third would list.
    sh.send(b"pass show s\t\t\t").await;
    let asked = sh.expect("(y or n)").await;
    sh.send(b"n").await;
    sh.send(b"\x15whoami\r").await;
    let after_no = sh.expect(PROMPT).await;
    sh.send(b"pass show s\t\t\ty").await;
    let listed = sh.expect("site149").await;

    assert!(
        asked.contains("Display all 150 possibilities? (y or n)"),
        "{asked:?}"
    );
    assert!(
        !after_no.contains("site100"),
        "listed after `n`: {after_no:?}"
    );
    assert!(
        listed.contains("site000") && listed.contains("site077"),
        "{listed:?}"
    );
}

// ---- tables ----

#[tokio::test]
async fn card_list_columns_align_by_display_width() {
    let alice = Alice::start().await;
    for name in ["plain", "Zoe\u{301}", "\u{1f3e6} bank", "\u{9280}\u{884c}"] {
        assert_eq!(alice.add_card(name).await.0, 201, "{name:?}");
    }
    let out = alice.server.run("alice", "card list").await;
    assert_eq!(out.status, Some(0), "{out:?}");

    // The second column (the brand) starts at one display column on every row.
    let starts: Vec<usize> = out
        .stdout
        .lines()
        .map(|line| {
            let at = line
                .find("Visa")
                .or_else(|| line.find("BRAND").or_else(|| line.find("Brand")))
                .unwrap_or_else(|| panic!("no brand column in {line:?}"));
            unicode_width::UnicodeWidthStr::width(&line[..at])
        })
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "{starts:?}\n{}",
        out.stdout
    );
}

// ---- passwords ----

#[tokio::test]
async fn a_password_logs_in_however_its_accents_were_typed() {
    let server = TestServer::start().await;
    let base = format!("http://{}/api/v1", server.http_addr);
    let http = reqwest::Client::new();
    let nfd = "cre\u{300}me bru\u{302}le\u{301}e pass";
    let nfc = "cr\u{e8}me br\u{fb}l\u{e9}e pass";
    let created = http
        .post(format!("{base}/users"))
        .json(&json!({ "login": "zoe", "password": nfd, "pin": PIN }))
        .send()
        .await
        .expect("register");
    assert_eq!(created.status(), 201);

    for typed in [nfc, nfd] {
        let session = http
            .post(format!("{base}/sessions"))
            .json(&json!({ "login": "zoe", "password": typed, "pin": PIN }))
            .send()
            .await
            .expect("log in");
        assert_eq!(session.status(), 201, "{typed:?}");
        let over_ssh =
            helpers::exec(server.ssh_addr, "zoe", typed, "whoami", &format!("{PIN}\n")).await;
        assert_eq!(over_ssh.status, Some(0), "{typed:?}: {over_ssh:?}");
    }
}

/// A PIN typed in full-width digits (as some input methods give them) is
/// the PIN in ASCII digits, in a login, an unlock and a PIN change.
#[tokio::test]
async fn a_pin_typed_in_full_width_digits_is_the_same_pin() {
    let server = TestServer::start().await;
    server.register("zoe").await;
    let wide: String = PIN
        .chars()
        .map(|c| char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap_or(c))
        .collect();
    assert_ne!(wide, PIN);
    let base = format!("http://{}/api/v1", server.http_addr);
    let http = reqwest::Client::new();

    let session = http
        .post(format!("{base}/sessions"))
        .json(&json!({ "login": "zoe", "password": PASSWORD, "pin": wide }))
        .send()
        .await
        .expect("log in");
    assert_eq!(session.status(), 201);
    let over_ssh = helpers::exec(
        server.ssh_addr,
        "zoe",
        PASSWORD,
        "whoami",
        &format!("{wide}\n"),
    )
    .await;
    assert_eq!(over_ssh.status, Some(0), "{over_ssh:?}");

    let token = session.json::<serde_json::Value>().await.expect("token")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let changed = http
        .put(format!("{base}/users/current/pin"))
        .bearer_auth(&token)
        .json(&json!({ "password": PASSWORD, "current_pin": wide, "new_pin": "\u{ff17}\u{ff14}\u{ff11}\u{ff13}" }))
        .send()
        .await
        .expect("change PIN");
    assert_eq!(changed.status(), 200);
    let session = http
        .post(format!("{base}/sessions"))
        .json(&json!({ "login": "zoe", "password": PASSWORD, "pin": "7413" }))
        .send()
        .await
        .expect("log in");
    assert_eq!(
        session.status(),
        201,
        "the new PIN is stored in ASCII digits"
    );
}
