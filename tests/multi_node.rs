//! Two `keeper serve` processes on one PostgreSQL database, as behind a load
//! balancer: whatever one node does, the other sees — tokens, items,
//! conflicts between concurrent creates, and throttling.
//!
//! These tests need PostgreSQL: they run when `KEEPER_TEST_DATABASE_URL`
//! names a database they may create schemas in (`.ci/run` sets it), and
//! otherwise say that they were skipped.

mod helpers;

use std::net::SocketAddr;

use helpers::{Daemon, PASSWORD, PIN, fresh_postgres_schema, postgres_base, register_at};
use serde_json::{Value, json};

/// `keeper serve` on `url` in `dir` (its `keys/` shared with the other nodes
/// there), on ephemeral ports, logging to `NODE.log`.
fn spawn_node(dir: &std::path::Path, url: &str, node: &str) -> Daemon {
    let args = [
        "--db",
        url,
        "--data-dir",
        node,
        "--ssh-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
    ];
    Daemon::spawn(dir, &args, &[], &dir.join(format!("{node}.log")))
}

/// Two nodes sharing one database and one `keys/` directory (host key and
/// audit key), each on its own ports.
struct Cluster {
    _dir: tempfile::TempDir,
    nodes: Vec<Daemon>,
    ssh: Vec<SocketAddr>,
    http: Vec<SocketAddr>,
    /// The `application_name` the nodes' connections carry, and the
    /// database they use, to find their connections in `pg_stat_activity`.
    application: String,
    url: String,
}

impl Cluster {
    /// Starts two nodes, or returns `None` when no PostgreSQL is configured.
    fn start() -> Option<Self> {
        let Some(base) = postgres_base() else {
            eprintln!("skipped: KEEPER_TEST_DATABASE_URL is not set");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let application = format!(
            "keeper-test-{:x}",
            keeper::crypto::random_id().unsigned_abs()
        );
        let url = format!(
            "{}&application_name={application}",
            fresh_postgres_schema(&base)
        );
        let mut cluster = Self {
            _dir: dir,
            nodes: Vec::new(),
            ssh: Vec::new(),
            http: Vec::new(),
            application,
            url: url.clone(),
        };
        for node in ["a", "b"] {
            let mut daemon = spawn_node(cluster._dir.path(), &url, node);
            cluster.ssh.push(daemon.wait_logged_addr("ssh listening"));
            cluster.http.push(daemon.wait_logged_addr("http listening"));
            cluster.nodes.push(daemon);
        }
        Some(cluster)
    }

    /// Ends the database connections the nodes listen for credential
    /// changes on, as a database restart or a network fault would; how many.
    async fn drop_listen_connections(&self) -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url)
            .await
            .expect("connect to the cluster's database");
        let ended: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND query LIKE 'LISTEN%') AS ended",
        )
        .bind(&self.application)
        .fetch_one(&mut conn)
        .await
        .expect("terminate the listening connections");
        let _ = conn.close().await;
        ended
    }

    fn api(&self, node: usize, path: &str) -> String {
        format!("http://{}/api/v1{path}", self.http[node])
    }

    /// One API request to `node` with a bearer token: its status and JSON
    /// body (`null` when there is none).
    async fn call(
        &self,
        node: usize,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, self.api(node, path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.expect("request");
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, node: usize, login: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.api(node, "/sessions"))
            .json(&json!({ "login": login, "password": PASSWORD, "pin": PIN }))
            .send()
            .await
            .expect("request")
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn a_token_issued_by_one_node_works_on_the_other() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let issued = cluster.token(0, "alice").await;
    assert_eq!(issued.status(), 201);
    let token = json_of(issued).await["token"]
        .as_str()
        .expect("token")
        .to_owned();

    use reqwest::Method;
    let created = cluster
        .call(
            1,
            Method::POST,
            "/passwords",
            &token,
            Some(json!({ "name": "github", "password": "gh-Secret-1" })),
        )
        .await;
    assert_eq!(created.0, 201);
    let (status, listed) = cluster
        .call(0, Method::GET, "/passwords", &token, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // Revoked on B, refused on A.
    let revoked = cluster
        .call(1, Method::DELETE, "/sessions/current", &token, None)
        .await;
    assert_eq!(revoked.0, 204);
    let refused = cluster
        .call(0, Method::GET, "/passwords", &token, None)
        .await;
    assert_eq!(refused.0, 401);
}

#[tokio::test]
async fn sixteen_concurrent_creates_of_one_name_across_two_nodes_make_one_item() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let tokens = [
        json_of(cluster.token(0, "alice").await).await["token"].clone(),
        json_of(cluster.token(1, "alice").await).await["token"].clone(),
    ];

    let client = reqwest::Client::new();
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..16 {
        let node = i % 2;
        let request = client
            .post(cluster.api(node, "/passwords"))
            .bearer_auth(tokens[node].as_str().expect("token"))
            .json(&json!({ "name": "github", "password": format!("attempt-{i}") }));
        creates.spawn(async move { request.send().await.expect("request").status().as_u16() });
    }
    let mut statuses = creates.join_all().await;
    statuses.sort_unstable();

    let mut expected = vec![201];
    expected.extend([409; 15]);
    assert_eq!(statuses, expected);
    let listed = client
        .get(cluster.api(1, "/passwords"))
        .bearer_auth(tokens[1].as_str().expect("token"))
        .send()
        .await
        .expect("request");
    assert_eq!(json_of(listed).await.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_item_written_over_ssh_on_one_node_is_read_over_http_on_the_other() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let added = helpers::exec(
        cluster.ssh[0],
        "alice",
        PASSWORD,
        "pass add --name 'Git Forge' --username ada --password 'Forge-Secret-42'",
        &format!("{PIN}\n"),
    )
    .await;
    assert_eq!(added.status, Some(0), "{}", added.stderr);

    let token = json_of(cluster.token(1, "alice").await).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, listed) = cluster
        .call(1, reqwest::Method::GET, "/passwords", &token, None)
        .await;
    let id = listed[0]["id"].as_str().expect("id").to_owned();
    let (status, item) = cluster
        .call(
            1,
            reqwest::Method::GET,
            &format!("/passwords/{id}"),
            &token,
            None,
        )
        .await;

    assert_eq!(status, 200, "{item}");
    assert_eq!(item["name"], "Git Forge");
    assert_eq!(item["username"], "ada");
    assert_eq!(item["password"], "Forge-Secret-42");
}

#[tokio::test]
async fn a_lock_taken_on_one_node_holds_on_the_other() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let refused = client
            .post(cluster.api(0, "/sessions"))
            .json(&json!({ "login": "alice", "password": "wrong password", "pin": PIN }))
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), 401);
    }

    // The right password, on the node that saw no failure.
    let locked = cluster.token(1, "alice").await;
    assert_eq!(locked.status(), 429);
    assert!(
        helpers::connect(cluster.ssh[1], "alice", Some(PASSWORD))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn nodes_starting_at_once_on_an_empty_database_migrate_it_once() {
    let Some(base) = postgres_base() else {
        eprintln!("skipped: KEEPER_TEST_DATABASE_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_postgres_schema(&base);
    let mut nodes: Vec<Daemon> = ["a", "b", "c"]
        .iter()
        .map(|node| spawn_node(dir.path(), &url, node))
        .collect();
    let ssh: Vec<SocketAddr> = nodes.iter_mut().map(Daemon::wait_listening).collect();

    register_at(ssh[2], "alice", PASSWORD, PIN).await;
    let whoami = helpers::exec(ssh[1], "alice", PASSWORD, "whoami", &format!("{PIN}\n")).await;
    assert_eq!(whoami.status, Some(0), "{}", whoami.stderr);
    assert!(whoami.stdout.contains("alice"), "{}", whoami.stdout);
}

#[tokio::test]
async fn sixty_wrong_passwords_at_once_across_two_nodes_get_at_most_five_checked() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let client = reqwest::Client::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(60));
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (client, url, barrier) = (
            client.clone(),
            cluster.api(i % 2, "/sessions"),
            barrier.clone(),
        );
        attempts.spawn(async move {
            barrier.wait().await;
            client
                .post(url)
                .json(&json!({ "login": "alice", "password": "wrong password", "pin": PIN }))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        });
    }
    let statuses = attempts.join_all().await;

    let checked = statuses.iter().filter(|s| **s == 401).count();
    println!("60 wrong passwords across two nodes: {checked} checked");
    assert!(checked <= 5, "{checked} checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429 | 503)),
        "{statuses:?}"
    );
}

/// A node that loses the connection it hears of other nodes' credential
/// changes on cannot know what it missed: its sessions end, and a new
/// login works once it has listened again.
#[tokio::test]
async fn a_lost_listening_connection_ends_the_nodes_sessions() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let mut open = helpers::login_at(cluster.ssh[1], "alice").await;

    let ended = cluster.drop_listen_connections().await;

    assert!(ended >= 1, "no listening connection found");
    open.expect("changed in another session").await;
    let rest = open.finish().await;
    assert_eq!(open.exit_status, Some(1), "{rest}");
    let mut again = helpers::login_at(cluster.ssh[1], "alice").await;
    let whoami = again.command("whoami", "alice@keeper> ").await;
    assert!(whoami.contains("alice"), "{whoami}");
}

#[tokio::test]
async fn a_pin_change_on_one_node_ends_the_users_sessions_on_the_other() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    register_at(cluster.ssh[0], "alice", PASSWORD, PIN).await;
    let mut at_prompt = helpers::login_at(cluster.ssh[1], "alice").await;
    let mut at_question = helpers::login_at(cluster.ssh[1], "alice").await;
    at_question.line("card add").await;
    at_question.expect("Name: ").await;
    at_question.line("visa").await;
    at_question.expect("Card number: ").await;

    let token = json_of(cluster.token(0, "alice").await).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, _) = cluster
        .call(
            0,
            reqwest::Method::PUT,
            "/users/current/pin",
            &token,
            Some(json!({ "password": PASSWORD, "current_pin": PIN, "new_pin": "7413" })),
        )
        .await;
    assert_eq!(status, 200);

    for session in [&mut at_prompt, &mut at_question] {
        session.expect("changed in another session").await;
        let rest = session.finish().await;
        assert_eq!(session.exit_status, Some(1), "{rest}");
    }
}
