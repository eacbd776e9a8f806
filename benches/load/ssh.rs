//! SSH measurements with the russh client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client;
use russh::{ChannelMsg, Disconnect};

use super::server::Server;

const WAIT: Duration = Duration::from_secs(60);

/// Trusts any host key: the benchmark's server is a child of this process.
struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn config() -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(600)),
        // As OpenSSH's client does for interactive sessions: without it,
        // Nagle's algorithm holds back small packets behind unacknowledged
        // ones and a login waits out delayed ACKs.
        nodelay: true,
        ..Default::default()
    })
}

/// Connects and authenticates with a password.
async fn connect(
    addr: SocketAddr,
    login: &str,
    password: &str,
) -> Result<client::Handle<Trusting>, String> {
    let mut handle = client::connect(config(), addr, Trusting)
        .await
        .map_err(|e| format!("ssh connect: {e}"))?;
    let auth = handle
        .authenticate_password(login, password)
        .await
        .map_err(|e| format!("ssh auth: {e}"))?;
    if !auth.success() {
        return Err("ssh: password rejected".into());
    }
    Ok(handle)
}

/// An unlocked interactive session at its prompt.
pub struct Unlocked {
    handle: client::Handle<Trusting>,
    channel: russh::Channel<client::Msg>,
    prompt: String,
}

impl Unlocked {
    pub async fn open(
        addr: SocketAddr,
        login: &str,
        password: &str,
        pin: &str,
    ) -> Result<Self, String> {
        let handle = connect(addr, login, password).await?;
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .request_pty(true, "xterm", 200, 50, 0, 0, &[])
            .await
            .map_err(|e| e.to_string())?;
        channel
            .request_shell(true)
            .await
            .map_err(|e| e.to_string())?;
        let mut session = Self {
            handle,
            channel,
            prompt: format!("{login}@keeper> "),
        };
        session.read_until("PIN: ").await?;
        session.send(&format!("{pin}\r")).await?;
        let prompt = session.prompt.clone();
        session.read_until(&prompt).await?;
        Ok(session)
    }

    async fn send(&mut self, text: &str) -> Result<(), String> {
        self.channel
            .data(text.as_bytes())
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads until `needle` appears at the end of what arrived.
    async fn read_until(&mut self, needle: &str) -> Result<(), String> {
        let mut tail: Vec<u8> = Vec::new();
        loop {
            match tokio::time::timeout(WAIT, self.channel.wait()).await {
                Err(_) => return Err(format!("no {needle:?} in time")),
                Ok(None) => return Err(format!("channel closed before {needle:?}")),
                Ok(Some(ChannelMsg::Data { data })) => {
                    tail.extend_from_slice(&data);
                    if tail.ends_with(needle.as_bytes()) {
                        return Ok(());
                    }
                    let keep = tail.len().saturating_sub(needle.len());
                    tail.drain(..keep);
                }
                Ok(Some(_)) => {}
            }
        }
    }

    /// Runs `command` and waits for the next prompt.
    pub async fn command(&mut self, command: &str) -> Result<(), String> {
        self.send(&format!("{command}\r")).await?;
        let prompt = self.prompt.clone();
        self.read_until(&prompt).await
    }

    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Full logins to the first prompt: connect, password, PIN, prompt.
pub async fn login_times(
    addr: SocketAddr,
    login: &str,
    password: &str,
    pin: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        let session = Unlocked::open(addr, login, password, pin).await?;
        times.push(t.elapsed());
        session.close().await;
    }
    Ok(times)
}

/// `command` in one unlocked shell, `count` times.
pub async fn shell_command_times(
    addr: SocketAddr,
    login: &str,
    password: &str,
    pin: &str,
    command: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut session = Unlocked::open(addr, login, password, pin).await?;
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        session.command(command).await?;
        times.push(t.elapsed());
    }
    session.close().await;
    Ok(times)
}

/// `ssh host COMMAND` with the PIN on stdin, timed from connect to exit.
pub async fn exec_times(
    addr: SocketAddr,
    login: &str,
    password: &str,
    pin: &str,
    command: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        let handle = connect(addr, login, password).await?;
        let mut channel = handle
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| e.to_string())?;
        channel
            .data(format!("{pin}\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        channel.eof().await.map_err(|e| e.to_string())?;
        let mut status = None;
        let mut bytes = 0usize;
        loop {
            match tokio::time::timeout(WAIT, channel.wait()).await {
                Err(_) => return Err("exec timed out".into()),
                Ok(None) | Ok(Some(ChannelMsg::Close)) => break,
                Ok(Some(ChannelMsg::Data { data })) => bytes += data.len(),
                Ok(Some(ChannelMsg::ExitStatus { exit_status })) => status = Some(exit_status),
                Ok(Some(_)) => {}
            }
        }
        times.push(t.elapsed());
        if status != Some(0) || bytes == 0 {
            return Err(format!(
                "exec {command:?}: status {status:?}, {bytes} bytes"
            ));
        }
        let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
    }
    Ok(times)
}

/// Longer than the server keeps Argon2 memory for reuse (2 s, swept every 2 s).
const ARGON2_RELEASED: Duration = Duration::from_secs(5);

/// Opens `count` unlocked shells and leaves them idle; returns the server's
/// memory per session (KiB) and the sessions, to be dropped by the caller.
pub async fn idle_sessions(
    server: &Server,
    login: &str,
    password: &str,
    pin: &str,
    count: usize,
) -> Result<(u64, Vec<Unlocked>), String> {
    // Warm up: as many concurrent logins as later, so that every allocator
    // arena and worker is already in the baseline.
    let mut held = open_many(server.ssh, login, password, pin, 16).await?;
    for session in held.drain(..) {
        session.close().await;
    }
    // Argon2's working memory stays mapped for 2 s after the last login
    // (for the next one to reuse): both measurements wait it out.
    tokio::time::sleep(ARGON2_RELEASED).await;
    let before = server.rss_kib()?;
    let held = open_many(server.ssh, login, password, pin, count).await?;
    tokio::time::sleep(ARGON2_RELEASED).await;
    let after = server.rss_kib()?;
    Ok((after.saturating_sub(before) / count as u64, held))
}

async fn open_many(
    addr: SocketAddr,
    login: &str,
    password: &str,
    pin: &str,
    count: usize,
) -> Result<Vec<Unlocked>, String> {
    let mut held = Vec::with_capacity(count);
    let mut pending = tokio::task::JoinSet::new();
    let mut started = 0;
    while held.len() < count {
        while started < count && pending.len() < 8 {
            let (login, password, pin) = (login.to_owned(), password.to_owned(), pin.to_owned());
            pending.spawn(async move { Unlocked::open(addr, &login, &password, &pin).await });
            started += 1;
        }
        match pending.join_next().await {
            Some(Ok(Ok(session))) => held.push(session),
            Some(Ok(Err(e))) => return Err(e),
            Some(Err(e)) => return Err(e.to_string()),
            None => break,
        }
    }
    Ok(held)
}

/// What a flood of wrong logins did to the server.
pub struct Flood {
    pub peak_kib: u64,
    pub summary: String,
}

/// `count` wrong logins at once, half over SSH and half over HTTP, from
/// distinct logins; the server's peak memory sampled every 10 ms.
pub async fn login_flood(server: &Server, count: usize) -> Result<Flood, String> {
    let mut attempts = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..count {
        let login = format!("ghost{i:04}");
        if i % 2 == 0 {
            let addr = server.ssh;
            attempts.spawn(async move {
                match tokio::time::timeout(WAIT, connect(addr, &login, "wrong password")).await {
                    Ok(Err(e)) if e.contains("rejected") => "rejected",
                    Ok(Err(_)) => "dropped",
                    Ok(Ok(_)) => "accepted",
                    Err(_) => "hung",
                }
            });
        } else {
            let addr = server.http;
            attempts.spawn(async move {
                let body = serde_json::json!({ "login": login, "password": "wrong password", "pin": "0000" });
                let attempt = async {
                    let mut conn = super::http::Connection::open(addr).await?;
                    let mut request = super::http::Request::post("/api/v1/sessions", "", body.to_string());
                    request.clear_token();
                    conn.send(&request).await
                };
                match tokio::time::timeout(WAIT, attempt).await {
                    Ok(Ok((401, _))) => "rejected",
                    Ok(Ok((503, _))) => "busy (503)",
                    Ok(Ok((429, _))) => "throttled",
                    Ok(Ok(_)) => "unexpected",
                    Ok(Err(_)) => "dropped",
                    Err(_) => "hung",
                }
            });
        }
    }
    let mut peak = server.rss_kib()?;
    let mut counts = std::collections::BTreeMap::new();
    while !attempts.is_empty() {
        tokio::select! {
            done = attempts.join_next() => {
                if let Some(Ok(outcome)) = done {
                    *counts.entry(outcome).or_insert(0) += 1;
                }
            }
            () = tokio::time::sleep(Duration::from_millis(10)) => {
                peak = peak.max(server.rss_kib()?);
            }
        }
    }
    let took = started.elapsed();
    peak = peak.max(server.peak_kib()?);
    let summary = counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Flood {
        peak_kib: peak,
        summary: format!("{summary}; over in {:.1} s", took.as_secs_f64()),
    })
}
