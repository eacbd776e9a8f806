//! A small HTTP/1.1 load generator on keep-alive connections (hyper's client
//! connection, no pool), and the API calls the benchmark needs.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::stats::LoadResult;

/// One request to send.
pub struct Request {
    method: hyper::Method,
    path: String,
    token: Option<String>,
    body: Option<String>,
}

impl Request {
    pub fn get(path: &str, token: Option<&str>) -> Self {
        Self {
            method: hyper::Method::GET,
            path: path.into(),
            token: token.map(str::to_owned),
            body: None,
        }
    }

    pub fn post(path: &str, token: &str, body: String) -> Self {
        Self {
            method: hyper::Method::POST,
            path: path.into(),
            token: Some(token.into()),
            body: Some(body),
        }
    }

    /// Sends no `authorization` header.
    pub fn clear_token(&mut self) {
        self.token = None;
    }

    fn build(&self, addr: SocketAddr) -> Result<hyper::Request<Full<Bytes>>, String> {
        let mut builder = hyper::Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header("host", addr.to_string());
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = match &self.body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(body.clone())
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).map_err(|e| e.to_string())
    }
}

/// One keep-alive connection.
pub struct Connection {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Self { addr, sender })
    }

    /// Sends `request`; returns the status and the body.
    pub async fn send(&mut self, request: &Request) -> Result<(u16, Bytes), String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request.build(self.addr)?)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
}

/// Runs `connections` clients, each sending requests back to back for
/// `window`; `make(n)` builds the n-th request (n counts over all clients).
pub async fn run_load(
    addr: SocketAddr,
    connections: usize,
    window: Duration,
    make: impl Fn(usize) -> Request,
) -> Result<LoadResult, String> {
    let counter = std::cell::Cell::new(0usize);
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(Connection::open(addr).await?);
    }
    let started = Instant::now();
    let results = std::cell::RefCell::new(LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    });
    let clients = conns.into_iter().map(|mut conn| {
        let (make, counter, results) = (&make, &counter, &results);
        async move {
            while started.elapsed() < window {
                let n = counter.get();
                counter.set(n + 1);
                let request = make(n);
                let t = Instant::now();
                let outcome = conn.send(&request).await;
                let took = t.elapsed();
                let mut r = results.borrow_mut();
                match outcome {
                    Ok((status, _)) if (200..300).contains(&status) => {
                        r.ok += 1;
                        r.latencies.push(took);
                    }
                    Ok(_) => r.errors += 1,
                    Err(_) => {
                        r.errors += 1;
                        break;
                    }
                }
            }
        }
    });
    futures_join_all(clients).await;
    let mut result = results.into_inner();
    result.elapsed = started.elapsed();
    Ok(result)
}

/// Polls every future to completion on the current task.
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Times `count` sequential GETs of `path`.
pub async fn sequential(
    addr: SocketAddr,
    path: &str,
    token: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut conn = Connection::open(addr).await?;
    let request = Request::get(path, Some(token));
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        let (status, _) = conn.send(&request).await?;
        times.push(t.elapsed());
        if status != 200 {
            return Err(format!("GET {path}: {status}"));
        }
    }
    Ok(times)
}

fn json_field(body: &[u8], field: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))?;
    value[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no `{field}` in {value}"))
}

/// Registers `login` and returns an API token.
pub async fn register_and_login(
    addr: SocketAddr,
    login: &str,
    password: &str,
    pin: &str,
) -> Result<String, String> {
    let mut conn = Connection::open(addr).await?;
    let body = serde_json::json!({ "login": login, "password": password, "pin": pin }).to_string();
    let mut register = Request::post("/api/v1/users", "", body.clone());
    register.clear_token();
    let (status, text) = conn.send(&register).await?;
    if status != 201 {
        return Err(format!(
            "register: {status} {}",
            String::from_utf8_lossy(&text)
        ));
    }
    let mut login = Request::post("/api/v1/sessions", "", body);
    login.clear_token();
    let (status, text) = conn.send(&login).await?;
    if status != 201 {
        return Err(format!(
            "login: {status} {}",
            String::from_utf8_lossy(&text)
        ));
    }
    json_field(&text, "token")
}

/// Creates one password entry; returns its id.
/// Registers `login` with the benchmark's password and PIN and logs in:
/// the token.
pub async fn bench_user(addr: SocketAddr, login: &str) -> Result<String, String> {
    register_and_login(addr, login, super::super::PASSWORD, super::super::PIN).await
}

pub async fn create_password(addr: SocketAddr, token: &str, name: &str) -> Result<String, String> {
    let mut conn = Connection::open(addr).await?;
    let body =
        serde_json::json!({ "name": name, "username": "alice", "password": "hunter2-but-longer" });
    let (status, text) = conn
        .send(&Request::post("/api/v1/passwords", token, body.to_string()))
        .await?;
    if status != 201 {
        return Err(format!(
            "create: {status} {}",
            String::from_utf8_lossy(&text)
        ));
    }
    json_field(&text, "id")
}

/// A Bitwarden JSON export of `entries` logins, each with a URL, a
/// username, a note and a custom field, every fifth in a folder.
pub fn bitwarden_export(entries: usize) -> String {
    let items: Vec<serde_json::Value> = (0..entries)
        .map(|n| {
            serde_json::json!({
                "type": 1,
                "name": format!("site {n:05}"),
                "notes": format!("imported note {n}"),
                "folderId": if n % 5 == 0 { Some("f1") } else { None },
                "fields": [{"name": "account", "value": format!("A-{n}"), "type": 0}],
                "login": {
                    "uris": [{"match": null, "uri": format!("https://site{n}.example/login")}],
                    "username": format!("user{n}@example.com"),
                    "password": format!("imported-Password-{n}-Zq8!"),
                    "totp": null
                }
            })
        })
        .collect();
    serde_json::json!({
        "encrypted": false,
        "folders": [{"id": "f1", "name": "Work"}],
        "items": items
    })
    .to_string()
}

/// Imports `file` as `format` in one request; how long it took.
pub async fn import(
    addr: SocketAddr,
    token: &str,
    format: &str,
    file: String,
) -> Result<std::time::Duration, String> {
    let mut conn = Connection::open(addr).await?;
    let started = std::time::Instant::now();
    let (status, text) = conn
        .send(&Request::post(
            &format!("/api/v1/import?format={format}"),
            token,
            file,
        ))
        .await?;
    let took = started.elapsed();
    if status != 201 {
        return Err(format!(
            "import: {status} {}",
            String::from_utf8_lossy(&text)
        ));
    }
    Ok(took)
}

/// Creates entries `fill-{from}` … until the vault holds `total` passwords.
pub async fn fill(addr: SocketAddr, token: &str, from: usize, total: usize) -> Result<(), String> {
    if from >= total {
        return Ok(());
    }
    let next = std::cell::Cell::new(from);
    let mut conns = Vec::new();
    for _ in 0..16 {
        conns.push(Connection::open(addr).await?);
    }
    let failed = std::cell::RefCell::new(None);
    let workers = conns.into_iter().map(|mut conn| {
        let (next, failed) = (&next, &failed);
        async move {
            loop {
                let n = next.get();
                if n >= total || failed.borrow().is_some() {
                    break;
                }
                next.set(n + 1);
                let body = format!(
                    r#"{{"name":"fill-{n:07}","username":"user{n}","url":"https://example.com/{n}","password":"fill-secret-{n}"}}"#
                );
                match conn.send(&Request::post("/api/v1/passwords", token, body)).await {
                    Ok((201, _)) => {}
                    Ok((status, text)) => {
                        *failed.borrow_mut() =
                            Some(format!("fill: {status} {}", String::from_utf8_lossy(&text)));
                    }
                    Err(e) => *failed.borrow_mut() = Some(e),
                }
            }
        }
    });
    futures_join_all(workers).await;
    failed.into_inner().map_or(Ok(()), Err)
}

/// List latency against vault size, over HTTP and in an SSH shell; writes
/// `target/bench/list-latency.csv` for `scripts/chart.py`.
pub async fn list_by_size(quick: bool) -> Result<(), String> {
    let sizes: &[usize] = if quick {
        &[100, 1_000, 10_000]
    } else {
        &[100, 1_000, 10_000, 100_000]
    };
    let samples = if quick { 5 } else { 21 };
    let server = super::server::Server::start(&[])?;
    let token = bench_user(server.http, "sizes").await?;
    let mut csv = String::from("items,http_p50_ms,http_p99_ms,ssh_p50_ms,ssh_p99_ms\n");
    let mut have = 0;
    println!("list latency by vault size:");
    for &size in sizes {
        fill(server.http, &token, have, size).await?;
        have = size;
        let http = sequential(server.http, "/api/v1/passwords", &token, samples).await?;
        let ssh = super::ssh::shell_command_times(
            server.ssh,
            "sizes",
            super::super::PASSWORD,
            super::super::PIN,
            "pass list",
            samples,
        )
        .await?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let q = super::stats::quantile;
        let line = format!(
            "{size},{:.3},{:.3},{:.3},{:.3}\n",
            ms(q(&http, 0.5)),
            ms(q(&http, 0.99)),
            ms(q(&ssh, 0.5)),
            ms(q(&ssh, 0.99))
        );
        print!("  {line}");
        csv.push_str(&line);
    }
    super::stats::write_csv("list-latency.csv", &csv)
}
