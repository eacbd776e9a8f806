//! The tamper-evident audit log: `keeper audit verify` finds the first record
//! that was changed, inserted or deleted behind the server's back, and
//! `keeper audit list` exports events for operators.

mod helpers;

use std::path::Path;
use std::process::Command;

use helpers::TestServer;

const BIN: &str = env!("CARGO_BIN_EXE_keeper");

/// A stopped server's directory after a few users did a few things.
async fn used_vault() -> tempfile::TempDir {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bobby").await;
    server
        .run(
            "alice",
            "card add --name visa --number 4111111111111111 --expiry 12/30",
        )
        .await;
    server.run("alice", "card show visa --reveal").await;
    server
        .run("bobby", "pass add --name github --password gh-Secret-1")
        .await;
    server.exec("alice", "card list", "9999\n").await;
    server.run("alice", "card rm visa -f").await;
    server.stop().await
}

fn audit(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("audit")
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--audit-key")
        .arg(dir.join("keys/audit_key"))
        .args(helpers::db_flag(dir))
        .output()
        .expect("keeper audit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

async fn sql(dir: &Path, statement: &str) {
    helpers::sql_at(dir, statement).await;
}

async fn scalar(dir: &Path, query: &str) -> i64 {
    helpers::scalar_at(dir, query).await
}

/// A record in the middle of alice's chain.
async fn middle_of_alices_chain(dir: &Path) -> i64 {
    scalar(
        dir,
        "SELECT id FROM audit_events WHERE user_id = (SELECT id FROM users WHERE login = 'alice') \
         ORDER BY id LIMIT 1 OFFSET 3",
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untouched_log_verifies() {
    let dir = used_vault().await;
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("intact"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_record_is_named() {
    let dir = used_vault().await;
    let id = middle_of_alices_chain(dir.path()).await;
    sql(
        dir.path(),
        &format!("UPDATE audit_events SET outcome = 'failed' WHERE id = {id}"),
    )
    .await;

    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));

    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("record #{id} was changed")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_record_is_named() {
    let dir = used_vault().await;
    let id = middle_of_alices_chain(dir.path()).await;
    sql(
        dir.path(),
        &format!("DELETE FROM audit_events WHERE id = {id}"),
    )
    .await;

    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));

    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("record #{id} was deleted")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inserted_record_is_named() {
    let dir = used_vault().await;
    let after = middle_of_alices_chain(dir.path()).await;
    // A forged event copying its neighbour's link, MAC and all.
    sql(
        dir.path(),
        &format!(
            "INSERT INTO audit_events (id, at, user_id, channel, remote_addr, action, target, outcome, prev_id, mac) \
             SELECT {after} * 1000, at, user_id, channel, remote_addr, 'card.delete', target, 'ok', prev_id, mac \
             FROM audit_events WHERE id = {after}"
        ),
    )
    .await;
    // Move it into the chain's middle: renumber so it sits right after `after`.
    let next = scalar(
        dir.path(),
        &format!(
            "SELECT id FROM audit_events WHERE user_id = (SELECT user_id FROM audit_events WHERE id = {after}) \
             AND id > {after} AND id < {after} * 1000 ORDER BY id LIMIT 1"
        ),
    )
    .await;
    sql(
        dir.path(),
        &format!("UPDATE audit_events SET prev_id = {after} WHERE id = {after} * 1000"),
    )
    .await;
    let forged = after * 1000;

    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));

    assert_eq!(code, 1, "{text}");
    // The forged record sorts after the whole chain here, so the verifier
    // meets it last; either way it must be the one named.
    assert!(
        text.contains(&format!("#{forged}")),
        "{text} (next genuine record was #{next})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_newest_records_is_detected() {
    let dir = used_vault().await;
    sql(
        dir.path(),
        "DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events \
         WHERE user_id = (SELECT id FROM users WHERE login = 'alice'))",
    )
    .await;

    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));

    assert_eq!(code, 1, "{text}");
    assert!(text.contains("was deleted"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_filters_and_exports_json_lines_without_names_or_secrets() {
    let dir = used_vault().await;

    let (code, text) =
        tokio::task::block_in_place(|| audit(dir.path(), &["list", "--user", "alice", "--json"]));
    let (_, failed) = tokio::task::block_in_place(|| {
        audit(dir.path(), &["list", "--outcome", "failed", "--json"])
    });

    assert_eq!(code, 0, "{text}");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert!(events.iter().all(|e| e["user"] == "alice"));
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    for expected in [
        "user.register",
        "card.create",
        "card.reveal",
        "card.delete",
        "session.unlock",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        // The card number's first eight digits: four alone turn up in
        // client ports (127.0.0.1:41112) and item ids.
        !text.contains("visa") && !text.contains("41111111") && !text.contains("gh-Secret-1"),
        "{text}"
    );
    let failed: Vec<serde_json::Value> = failed
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(!failed.is_empty() && failed.iter().all(|e| e["outcome"] == "failed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tail_cut_with_its_head_moved_back_is_detected() {
    let dir = used_vault().await;
    let alice = "(SELECT id FROM users WHERE login = 'alice')";
    let last = scalar(
        dir.path(),
        &format!("SELECT MAX(id) FROM audit_events WHERE user_id = {alice}"),
    )
    .await;
    // Cut the newest two records and point the head at what is left,
    // copying that record's MAC as anyone with the database can.
    sql(
        dir.path(),
        &format!(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events \
             WHERE user_id = {alice} ORDER BY id DESC LIMIT 2)"
        ),
    )
    .await;
    sql(
        dir.path(),
        &format!(
            "UPDATE audit_heads SET last_id = (SELECT MAX(id) FROM audit_events WHERE user_id = {alice}), \
             mac = (SELECT mac FROM audit_events WHERE id = \
                    (SELECT MAX(id) FROM audit_events WHERE user_id = {alice})), \
             count = count - 2 \
             WHERE chain = {alice}"
        ),
    )
    .await;

    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));

    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("TAMPERED"),
        "{text} (the cut ended at #{last})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_chain_and_a_wiped_log_are_detected() {
    let dir = used_vault().await;
    let alice = "(SELECT id FROM users WHERE login = 'alice')";
    sql(
        dir.path(),
        &format!("DELETE FROM audit_events WHERE user_id = {alice}"),
    )
    .await;
    sql(
        dir.path(),
        &format!("DELETE FROM audit_heads WHERE chain = {alice}"),
    )
    .await;
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 1, "a deleted chain: {text}");
    assert!(text.contains("no audit chain"), "{text}");

    sql(dir.path(), "DELETE FROM audit_events").await;
    sql(dir.path(), "DELETE FROM audit_heads").await;
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 1, "a wiped log: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_rolled_back_behind_a_checkpoint_is_detected_and_the_server_refuses_it() {
    let server = TestServer::start().await;
    server.register("alice").await;
    let dir = server.stop().await;
    // A copy of the database as it is now, and an operator's checkpoint.
    let (code, checkpoint) = tokio::task::block_in_place(|| audit(dir.path(), &["checkpoint"]));
    assert_eq!(code, 0, "{checkpoint}");
    let file = dir.path().join("operator-checkpoint.json");
    std::fs::write(&file, &checkpoint).expect("keep the checkpoint");
    let old_state = snapshot(dir.path()).await;

    // More happens, and the server keeps its own checkpoint.
    let server = TestServer::start_in(dir).await;
    server
        .run("alice", "pass add --name bank --password Secret-1")
        .await;
    let dir = server.stop().await;
    let (code, text) = tokio::task::block_in_place(|| {
        audit(
            dir.path(),
            &["verify", "--since", file.to_str().expect("path")],
        )
    });
    assert_eq!(code, 0, "the grown log extends the checkpoint: {text}");

    // The whole database goes back to the old copy.
    restore(dir.path(), &old_state).await;
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("does not extend"), "{text}");
    let mut args = helpers::serve_args(dir.path());
    args.db = helpers::database_for(dir.path());
    let refused = keeper::app::App::build(&args).await;
    let Err(why) = refused else {
        panic!("a server started on the rolled-back database");
    };
    assert!(why.to_string().contains("rolled back"), "{why}");
}

/// The audit tables' rows, to put back later (a rollback of the log).
async fn snapshot(dir: &Path) -> String {
    sql(dir, "DROP TABLE IF EXISTS old_events").await;
    sql(dir, "DROP TABLE IF EXISTS old_heads").await;
    sql(dir, "CREATE TABLE old_events AS SELECT * FROM audit_events").await;
    sql(dir, "CREATE TABLE old_heads AS SELECT * FROM audit_heads").await;
    "old".to_owned()
}

async fn restore(dir: &Path, name: &str) {
    sql(dir, "DELETE FROM audit_events").await;
    sql(dir, "DELETE FROM audit_heads").await;
    sql(
        dir,
        &format!("INSERT INTO audit_events SELECT * FROM {name}_events"),
    )
    .await;
    sql(
        dir,
        &format!("INSERT INTO audit_heads SELECT * FROM {name}_heads"),
    )
    .await;
}

/// A token for `login` over HTTP, and the id of a password it created.
async fn token_and_password(http: &reqwest::Client, base: &str, login: &str) -> (String, String) {
    let session: serde_json::Value = http
        .post(format!("{base}/api/v1/sessions"))
        .json(&serde_json::json!({"login": login, "password": helpers::PASSWORD, "pin": helpers::PIN}))
        .send()
        .await
        .expect("log in")
        .json()
        .await
        .expect("session body");
    let token = session["token"].as_str().expect("token").to_owned();
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/passwords"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "github", "password": "gh-Secret-1"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("created body");
    let id = created["id"].as_str().map(str::to_owned);
    (token, id.unwrap_or_else(|| panic!("created: {created}")))
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_committed_together_each_get_one_record_and_the_chains_verify() {
    let server = TestServer::start().await;
    server.register("alice").await;
    server.register("bobby").await;
    let base = format!("http://{}", server.http_addr);
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    let users = [
        token_and_password(&http, &base, "alice").await,
        token_and_password(&http, &base, "bobby").await,
    ];
    const READS: usize = 150;
    // Many reads at once from both users: the audit writer commits them in
    // groups that hold several records of each chain.
    let mut reads = tokio::task::JoinSet::new();
    for n in 0..READS {
        for (token, id) in &users {
            let (http, url, token) = (
                http.clone(),
                format!("{base}/api/v1/passwords/{id}"),
                token.clone(),
            );
            reads.spawn(async move {
                let reply = http.get(url).bearer_auth(token).send().await;
                (n, reply.map(|r| r.status().as_u16()))
            });
        }
    }
    while let Some(read) = reads.join_next().await {
        let (n, status) = read.expect("read task");
        assert_eq!(status.ok(), Some(200), "read {n}");
    }
    let dir = server.stop().await;

    for login in ["alice", "bobby"] {
        let recorded = scalar(
            dir.path(),
            &format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'password.reveal' \
                 AND user_id = (SELECT id FROM users WHERE login = '{login}')"
            ),
        )
        .await;
        assert_eq!(recorded, READS as i64, "{login}'s reads recorded");
    }
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 0, "{text}");

    // The records of one group are linked to each other: the chain holds
    // no gap an edit could hide in.
    let middle = scalar(
        dir.path(),
        "SELECT id FROM audit_events WHERE action = 'password.reveal' \
         AND user_id = (SELECT id FROM users WHERE login = 'bobby') ORDER BY id LIMIT 1 OFFSET 75",
    )
    .await;
    sql(
        dir.path(),
        &format!("UPDATE audit_events SET outcome = 'failed' WHERE id = {middle}"),
    )
    .await;
    let (code, text) = tokio::task::block_in_place(|| audit(dir.path(), &["verify"]));
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&middle.to_string()), "{text}");
}
