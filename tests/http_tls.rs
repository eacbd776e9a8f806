//! SPEC §2: the HTTP API over TLS (`--tls-cert`, `--tls-key`, rustls), and
//! plain HTTP on a non-loopback address refused unless `--allow-plain-http`.
//!
//! Every test makes its own self-signed certificate for `localhost` and
//! `127.0.0.1` with `rcgen`; clients reach the server as
//! `https://localhost:PORT`, with `localhost` resolved to the bound address.

mod helpers;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use helpers::{Daemon, PASSWORD, PIN, TestServer, socket_addr_in, strip_ansi};
use serde_json::{Value, json};

/// Bound on every HTTP exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on waiting for the binary to start or stop.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A self-signed certificate and its key, as PEM files in a temporary dir.
struct SelfSigned {
    _dir: tempfile::TempDir,
    cert_pem: String,
    cert: PathBuf,
    key: PathBuf,
}

fn self_signed() -> SelfSigned {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("generate a certificate");
    let cert_pem = generated.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write key");
    SelfSigned {
        _dir: dir,
        cert_pem,
        cert,
        key,
    }
}

/// An in-process server whose HTTP API speaks TLS with `tls`.
async fn tls_server(tls: &SelfSigned) -> TestServer {
    let (cert, key) = (tls.cert.clone(), tls.key.clone());
    TestServer::start_with(move |a| {
        a.tls_cert = Some(cert);
        a.tls_key = Some(key);
    })
    .await
}

/// A client that trusts only `tls`'s certificate and finds `localhost` at `addr`.
fn trusting_client(tls: &SelfSigned, addr: SocketAddr) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(tls.cert_pem.as_bytes()).expect("certificate");
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([cert])
        .resolve("localhost", addr)
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("client")
}

fn https(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

/// The whole error chain, for messages and matching.
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "{response:?}");
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn an_https_request_from_a_client_trusting_the_certificate_gets_200_on_healthz() {
    let tls = self_signed();
    let server = tls_server(&tls).await;
    let client = trusting_client(&tls, server.http_addr);

    let response = client
        .get(https(server.http_addr, "/healthz"))
        .send()
        .await
        .expect("an HTTPS exchange");

    assert_eq!(response.status().as_u16(), 200, "{response:?}");
    assert_eq!(response.text().await.expect("body").trim(), "ok");
}

#[tokio::test]
async fn register_session_and_card_flow_works_over_https() {
    let tls = self_signed();
    let server = tls_server(&tls).await;
    let client = trusting_client(&tls, server.http_addr);
    let addr = server.http_addr;
    let card = json!({
        "name": "visa", "number": "4111111111111111", "holder": "Ada Lovelace",
        "expiry": "12/30", "cvv": "123", "note": "over tls",
    });

    let user = client
        .post(https(addr, "/api/v1/users"))
        .json(&json!({"login": "alice", "password": PASSWORD, "pin": PIN}))
        .send()
        .await
        .expect("register");
    let user = json_of(user, 201).await;
    let session = client
        .post(https(addr, "/api/v1/sessions"))
        .json(&json!({"login": "alice", "password": PASSWORD, "pin": PIN}))
        .send()
        .await
        .expect("log in");
    let token = json_of(session, 201).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = client
        .post(https(addr, "/api/v1/cards"))
        .bearer_auth(&token)
        .json(&card)
        .send()
        .await
        .expect("create a card");
    let created = json_of(created, 201).await;
    let id = created["id"].as_str().expect("id");
    let read = client
        .get(https(addr, &format!("/api/v1/cards/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read the card");
    let listed = client
        .get(https(addr, "/api/v1/cards"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list cards");

    assert_eq!(user["login"], "alice");
    assert_eq!(created["number"], "4111111111111111");
    assert_eq!(created["cvv"], "123");
    assert_eq!(json_of(read, 200).await, created);
    let listed = json_of(listed, 200).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["last4"], "1111");
}

#[tokio::test]
async fn a_plain_http_request_to_the_tls_port_fails_at_once() {
    let tls = self_signed();
    let server = tls_server(&tls).await;
    let plain = reqwest::Client::builder()
        .no_proxy()
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("client");

    let result = plain
        .get(format!("http://{}/healthz", server.http_addr))
        .send()
        .await;

    let error = result.expect_err("plain HTTP must not be answered on the TLS port");
    assert!(
        !error.is_timeout(),
        "it failed by hanging: {}",
        chain(&error)
    );
    let healthy = trusting_client(&tls, server.http_addr)
        .get(https(server.http_addr, "/healthz"))
        .send()
        .await
        .expect("the listener still serves HTTPS");
    assert_eq!(healthy.status().as_u16(), 200);
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails() {
    let tls = self_signed();
    let server = tls_server(&tls).await;
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", server.http_addr)
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("client");
    let other = self_signed();
    let trusting_another = trusting_client(&other, server.http_addr);

    let system_roots = untrusting
        .get(https(server.http_addr, "/healthz"))
        .send()
        .await;
    let another_cert = trusting_another
        .get(https(server.http_addr, "/healthz"))
        .send()
        .await;

    for result in [system_roots, another_cert] {
        let error = result.expect_err("an untrusted certificate must be refused");
        assert!(error.is_connect(), "{}", chain(&error));
        assert!(
            chain(&error).to_lowercase().contains("certificate"),
            "{}",
            chain(&error)
        );
    }
    let healthy = trusting_client(&tls, server.http_addr)
        .get(https(server.http_addr, "/healthz"))
        .send()
        .await
        .expect("the listener still serves HTTPS");
    assert_eq!(healthy.status().as_u16(), 200);
}

#[tokio::test]
async fn a_client_trusting_the_certificate_refuses_a_name_it_was_not_issued_for() {
    let tls = self_signed();
    let server = tls_server(&tls).await;
    let cert = reqwest::Certificate::from_pem(tls.cert_pem.as_bytes()).expect("certificate");
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([cert])
        .resolve("vault.example.test", server.http_addr)
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("client");

    let result = client
        .get(format!(
            "https://vault.example.test:{}/healthz",
            server.http_addr.port()
        ))
        .send()
        .await;

    let error = result.expect_err("a certificate for another name must be refused");
    assert!(error.is_connect(), "{}", chain(&error));
}

// ---------------------------------------------------------------------------
// The binary: plain HTTP on a non-loopback address
// ---------------------------------------------------------------------------

/// `keeper serve --ssh-addr 127.0.0.1:0 --data-dir DIR/data --host-key DIR/key ARGS`
/// in `dir`, stderr in `dir/serve.log`.
fn spawn(dir: &Path, args: &[&str]) -> Daemon {
    let data = dir.join("data");
    let key = dir.join("key");
    let mut all = vec![
        "--ssh-addr",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().expect("utf-8 path"),
        "--host-key",
        key.to_str().expect("utf-8 path"),
    ];
    all.extend_from_slice(args);
    Daemon::spawn(dir, &all, &[], &dir.join("serve.log"))
}

/// Waits (bounded) for the `http listening` log line; returns it.
async fn wait_http_listening(daemon: &mut Daemon) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let log = strip_ansi(&daemon.log_text());
        if let Some(line) = log.lines().find(|l| l.contains("http listening")) {
            return line.to_owned();
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("keeper serve exited ({status}) before listening; log:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "keeper serve did not log `http listening` in time; log:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The loopback address of a listener that logged `line` (bound to 0.0.0.0).
fn loopback_of(line: &str) -> SocketAddr {
    let bound = socket_addr_in(line).unwrap_or_else(|| panic!("no address in {line:?}"));
    assert!(bound.ip().is_unspecified(), "bound to {bound}, not 0.0.0.0");
    SocketAddr::from(([127, 0, 0, 1], bound.port()))
}

#[test]
fn the_binary_refuses_plain_http_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().expect("tempdir");

    let mut daemon = spawn(dir.path(), &["--http-addr", "0.0.0.0:0"]);
    let status = daemon.wait_exit();

    assert!(!status.success(), "it started: {status}");
    let log = strip_ansi(&daemon.log_text());
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {log}");
    assert!(lines[0].contains("--tls-cert"), "names the TLS way: {log}");
    assert!(
        lines[0].contains("--allow-plain-http"),
        "names the other way: {log}"
    );
    assert!(!log.contains("listening"), "{log}");
}

#[tokio::test]
async fn the_binary_serves_plain_http_on_a_non_loopback_address_with_allow_plain_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut daemon = spawn(
        dir.path(),
        &[
            "--http-addr",
            "0.0.0.0:0",
            "--allow-plain-http",
            "--registration",
            "open",
        ],
    );

    let line = wait_http_listening(&mut daemon).await;
    let addr = loopback_of(&line);
    let response = reqwest::Client::builder()
        .no_proxy()
        .timeout(HTTP_TIMEOUT)
        .build()
        .expect("client")
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("plain HTTP is served");
    let stopped = daemon.stop();

    assert!(line.contains("scheme=http"), "{line}");
    assert_eq!(response.status().as_u16(), 200);
    assert!(stopped.success(), "{stopped}; log:\n{}", daemon.log_text());
}

#[tokio::test]
async fn the_binary_serves_https_on_a_non_loopback_address_with_a_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tls = self_signed();
    let mut daemon = spawn(
        dir.path(),
        &[
            "--http-addr",
            "0.0.0.0:0",
            "--registration",
            "open",
            "--tls-cert",
            tls.cert.to_str().expect("utf-8 path"),
            "--tls-key",
            tls.key.to_str().expect("utf-8 path"),
        ],
    );

    let line = wait_http_listening(&mut daemon).await;
    let addr = loopback_of(&line);
    let response = trusting_client(&tls, addr)
        .get(https(addr, "/healthz"))
        .send()
        .await
        .expect("HTTPS is served");
    let stopped = daemon.stop();

    assert!(line.contains("scheme=https"), "{line}");
    assert_eq!(response.status().as_u16(), 200);
    assert!(stopped.success(), "{stopped}; log:\n{}", daemon.log_text());
}

#[tokio::test]
async fn a_certificate_or_key_that_is_not_pem_stops_the_start_with_the_file_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tls = self_signed();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate, nor a key\n").expect("write");
    for (cert, key) in [
        (junk.clone(), tls.key.clone()),
        (tls.cert.clone(), junk.clone()),
    ] {
        let mut args = helpers::serve_args(dir.path());
        args.tls_cert = Some(cert);
        args.tls_key = Some(key);
        let refused = keeper::app::App::build(&args).await.err().expect("refused");
        let message = refused.to_string();
        assert!(
            message.contains("cannot load TLS certificate or key"),
            "{message}"
        );
        assert!(message.contains("junk.pem"), "{message}");
    }
}
