//! Test harness: a Keeper server on ephemeral ports with a fresh data dir, and
//! a russh client that drives it like a person (PTY shell) or a script (exec).
#![allow(dead_code)]

pub mod scan;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keeper::app::App;
use keeper::config::{LimitArgs, LogFormat, ServeArgs};
use russh::client;
use russh::keys::PublicKey;
use russh::{ChannelMsg, Disconnect};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";
pub const PIN: &str = "2580";
const WAIT: Duration = Duration::from_secs(15);

/// A running in-process server.
pub struct TestServer {
    pub ssh_addr: SocketAddr,
    pub http_addr: SocketAddr,
    dir: Option<tempfile::TempDir>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// The PostgreSQL database the suite also runs against, from
/// `KEEPER_TEST_DATABASE_URL`; unset (or empty) means SQLite only.
pub fn postgres_base() -> Option<String> {
    std::env::var("KEEPER_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The database URL a server working in `dir` uses: `None` (SQLite in its
/// data dir) normally; when the suite runs on PostgreSQL, a schema of its
/// own, made on first use and remembered in `dir`, so that a restarted
/// server finds its data again.
pub fn database_for(dir: &std::path::Path) -> Option<String> {
    let base = postgres_base()?;
    let file = dir.join(".test-database-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = fresh_postgres_schema(&base);
    std::fs::write(&file, &url).expect("remember the test database");
    Some(url)
}

/// Makes an empty schema in the database at `base` and returns a URL whose
/// connections use it.
pub fn fresh_postgres_schema(base: &str) -> String {
    let schema = format!("t{:016x}", keeper::crypto::random_id().unsigned_abs());
    let (admin, name) = (base.to_owned(), schema.clone());
    // Its own thread and runtime: callers may be sync or inside a runtime.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to KEEPER_TEST_DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
                .execute(&mut conn)
                .await
                .expect("create a test schema");
            let _ = conn.close().await;
        });
    })
    .join()
    .expect("schema thread");
    let sep = if base.contains('?') { '&' } else { '?' };
    // `options=-c search_path=…`, which libpq's tools (pg_dump) read too.
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// Runs one SQL statement (tampering, counting) on the database of the
/// server that worked in `dir`, whichever engine it is.
pub async fn sql_at(dir: &std::path::Path, statement: &str) {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    match database_for(dir) {
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("db");
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .expect("sql");
            let _ = conn.close().await;
        }
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(dir))
                .await
                .expect("db");
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .expect("sql");
            let _ = conn.close().await;
        }
    }
}

/// One integer from the database of the server that worked in `dir`.
pub async fn scalar_at(dir: &std::path::Path, query: &str) -> i64 {
    let query = sqlx::AssertSqlSafe(query.to_owned());
    match database_for(dir) {
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("db");
            let v = sqlx::query_scalar(query)
                .fetch_one(&mut conn)
                .await
                .expect("query");
            let _ = conn.close().await;
            v
        }
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&sqlite_url(dir))
                .await
                .expect("db");
            let v = sqlx::query_scalar(query)
                .fetch_one(&mut conn)
                .await
                .expect("query");
            let _ = conn.close().await;
            v
        }
    }
}

/// `KEEPER_DB` for a `keeper serve` child working in `dir`: the test
/// schema when the suite runs on PostgreSQL, else nothing (SQLite in the data
/// dir). Tests about the data dir's files leave it out.
pub fn db_env(dir: &std::path::Path) -> Option<(&'static str, String)> {
    database_for(dir).map(|url| ("KEEPER_DB", url))
}

/// The `--db` flag (or nothing, for SQLite in the data dir) that points an
/// operator's command at the database of the server that worked in `dir`.
pub fn db_flag(dir: &std::path::Path) -> Vec<String> {
    database_for(dir).map_or_else(Vec::new, |url| vec!["--db".to_owned(), url])
}

/// The SQLite URL of the data dir under `dir`, for tests that open the
/// database file themselves.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("data/keeper.db").display())
}

pub fn serve_args(dir: &std::path::Path) -> ServeArgs {
    ServeArgs {
        data_dir: dir.join("data"),
        db: database_for(dir),
        ssh_addr: "127.0.0.1:0".parse().expect("addr"),
        http_addr: "127.0.0.1:0".parse().expect("addr"),
        tls_cert: None,
        tls_key: None,
        allow_plain_http: false,
        host_key: dir.join("keys/ssh_host_ed25519_key"),
        audit_key: dir.join("keys/audit_key"),
        log_format: LogFormat::Text,
        config: None,
        idle_lock_secs: 600,
        durability: Default::default(),
        registration: None,
        metrics_token: None,
        breach_file: None,
        limits: LimitArgs::default(),
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServeArgs)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut args = serve_args(dir.path());
        tweak(&mut args);
        let app = App::build(&args).await.expect("server builds");
        let ssh_addr = app.ssh_addr();
        let http_addr = app.http_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self {
            ssh_addr,
            http_addr,
            dir: Some(dir),
            shutdown,
            task: Some(task),
        }
    }

    /// The server's working directory (data dir, keys).
    pub fn path(&self) -> &std::path::Path {
        self.dir.as_ref().expect("dir").path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// Stops the server and waits for it to close the database.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("server stops")
                .expect("server task");
        }
        self.dir.take().expect("dir")
    }

    /// Registers `login` through the `new@` dialogue and leaves the shell.
    pub async fn register(&self, login: &str) {
        register_at(self.ssh_addr, login, PASSWORD, PIN).await;
    }

    /// An API token of `login` (the harness password and PIN).
    pub async fn http_token(&self, login: &str) -> String {
        let resp: serde_json::Value = reqwest::Client::new()
            .post(format!("http://{}/api/v1/sessions", self.http_addr))
            .json(&serde_json::json!({"login": login, "password": PASSWORD, "pin": PIN}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        resp["token"].as_str().expect("token").to_owned()
    }

    /// `register`, returning what the dialogue showed (the recovery key).
    pub async fn register_showing(&self, login: &str) -> String {
        register_at(self.ssh_addr, login, PASSWORD, PIN).await
    }

    /// Logs in as `login` and unlocks: returns a shell at its first prompt.
    pub async fn login(&self, login: &str) -> Shell {
        login_at(self.ssh_addr, login).await
    }

    /// Runs one command through exec with `stdin` (the PIN line first).
    pub async fn exec(&self, login: &str, command: &str, stdin: &str) -> Exec {
        exec(self.ssh_addr, login, PASSWORD, command, stdin).await
    }

    /// Exec with the right PIN.
    pub async fn run(&self, login: &str, command: &str) -> Exec {
        self.exec(login, command, &format!("{PIN}\n")).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A client handler that trusts any host key and remembers it.
#[derive(Clone, Default)]
pub struct Client {
    pub host_key: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key {
            *self.host_key.lock().expect("lock") = Some(key.clone());
        }
        Ok(true)
    }
}

pub async fn connect(
    addr: SocketAddr,
    user: &str,
    password: Option<&str>,
) -> Result<(client::Handle<Client>, Client), String> {
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let handler = Client::default();
    let mut handle = client::connect(config, addr, handler.clone())
        .await
        .map_err(|e| e.to_string())?;
    let result = match password {
        Some(p) => handle.authenticate_password(user, p).await,
        None => handle.authenticate_none(user).await,
    }
    .map_err(|e| e.to_string())?;
    if !result.success() {
        return Err("authentication rejected".into());
    }
    Ok((handle, handler))
}

/// An interactive session over a PTY (or without, for `ssh -T`-like use).
pub struct Shell {
    pub handle: client::Handle<Client>,
    pub channel: russh::Channel<client::Msg>,
    /// Everything received and not yet consumed by `expect`.
    pub pending: Vec<u8>,
    /// Everything received.
    pub transcript: Vec<u8>,
    pub exit_status: Option<u32>,
    pub closed: bool,
}

impl Shell {
    pub async fn connect(
        addr: SocketAddr,
        user: &str,
        password: Option<&str>,
    ) -> Result<Self, String> {
        let (handle, _) = connect(addr, user, password).await?;
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            handle,
            channel,
            pending: Vec::new(),
            transcript: Vec::new(),
            exit_status: None,
            closed: false,
        })
    }

    pub async fn start_pty_shell(&mut self) {
        self.channel
            .request_pty(true, "xterm", 80, 24, 0, 0, &[])
            .await
            .expect("pty");
        self.channel.request_shell(true).await.expect("shell");
    }

    pub async fn start_plain_shell(&mut self) {
        self.channel.request_shell(true).await.expect("shell");
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.channel.data_bytes(bytes.to_vec()).await.expect("send");
    }

    /// Types a line and presses Enter (CR, as a terminal does).
    pub async fn line(&mut self, text: &str) {
        self.send(format!("{text}\r").as_bytes()).await;
    }

    async fn pump(&mut self) -> bool {
        match tokio::time::timeout(WAIT, self.channel.wait()).await {
            Err(_) => false,
            Ok(None) => {
                self.closed = true;
                false
            }
            Ok(Some(msg)) => {
                match msg {
                    ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                        self.pending.extend_from_slice(&data);
                        self.transcript.extend_from_slice(&data);
                    }
                    ChannelMsg::ExitStatus { exit_status } => self.exit_status = Some(exit_status),
                    ChannelMsg::Close => self.closed = true,
                    _ => {}
                }
                true
            }
        }
    }

    /// Waits for `needle`; returns the text up to and including it.
    pub async fn expect(&mut self, needle: &str) -> String {
        loop {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            if let Some(at) = text.find(needle) {
                let upto = &text[..at + needle.len()];
                let consumed = upto.len();
                // Lossy conversion may change lengths only for invalid UTF-8,
                // which the server never sends.
                self.pending.drain(..consumed.min(self.pending.len()));
                return upto.to_owned();
            }
            if self.closed || !self.pump().await {
                panic!(
                    "did not see {needle:?}; received so far:\n{}",
                    String::from_utf8_lossy(&self.pending)
                );
            }
        }
    }

    /// Runs a command at the prompt and returns its output (prompt excluded).
    pub async fn command(&mut self, line: &str, prompt: &str) -> String {
        self.line(line).await;
        let out = self.expect(prompt).await;
        out.trim_end_matches(prompt).to_owned()
    }

    /// Reads until the server closes the channel; returns what was left.
    pub async fn finish(&mut self) -> String {
        while !self.closed && self.pump().await {}
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
        rest
    }
}

/// The result of one exec.
#[derive(Debug)]
pub struct Exec {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<u32>,
}

pub async fn exec(
    addr: SocketAddr,
    user: &str,
    password: &str,
    command: &str,
    stdin: &str,
) -> Exec {
    exec_bytes(addr, user, password, command.as_bytes(), stdin.as_bytes()).await
}

pub async fn exec_bytes(
    addr: SocketAddr,
    user: &str,
    password: &str,
    command: &[u8],
    stdin: &[u8],
) -> Exec {
    let (handle, _) = connect(addr, user, Some(password)).await.expect("login");
    let mut channel = handle.channel_open_session().await.expect("channel");
    channel.exec(true, command.to_vec()).await.expect("exec");
    if !stdin.is_empty() {
        channel.data_bytes(stdin.to_vec()).await.expect("stdin");
    }
    channel.eof().await.expect("eof");
    let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
    loop {
        match tokio::time::timeout(WAIT, channel.wait())
            .await
            .expect("exec finishes in time")
        {
            Some(ChannelMsg::Data { data }) => stdout.extend_from_slice(&data),
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => stderr.extend_from_slice(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
    Exec {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        status,
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Whether `needle` occurs in `haystack` as raw bytes.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------
// The real binary as a child process, and registration against any address.
// ---------------------------------------------------------------------------

/// Logs in as `login` at `addr` and unlocks: a PTY shell at its first prompt.
pub async fn login_at(addr: SocketAddr, login: &str) -> Shell {
    let mut sh = Shell::connect(addr, login, Some(PASSWORD))
        .await
        .expect("login");
    sh.start_pty_shell().await;
    sh.expect("PIN: ").await;
    sh.line(PIN).await;
    sh.expect(&format!("{login}@keeper> ")).await;
    sh
}

/// Registers `login` through the `new@` dialogue at `addr` and leaves the
/// shell; what the dialogue showed up to the first prompt.
pub async fn register_at(addr: SocketAddr, login: &str, password: &str, pin: &str) -> String {
    let mut sh = Shell::connect(addr, "new", None)
        .await
        .expect("connect as new");
    sh.start_pty_shell().await;
    sh.expect("Login: ").await;
    sh.line(login).await;
    sh.expect("Password").await;
    sh.line(password).await;
    sh.expect("Repeat: ").await;
    sh.line(password).await;
    sh.expect("PIN").await;
    sh.line(pin).await;
    sh.expect("Repeat: ").await;
    sh.line(pin).await;
    let shown = sh.expect(&format!("{login}@keeper> ")).await;
    sh.line("exit").await;
    sh.finish().await;
    shown
}

/// Text with ANSI escape sequences (`ESC [ … letter`) removed.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first `HOST:PORT` in a log line, text or JSON.
pub fn socket_addr_in(line: &str) -> Option<SocketAddr> {
    strip_ansi(line)
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))
        .find_map(|token| token.parse().ok())
}

/// `keeper serve` running as a child process in `dir`, stderr in a file.
/// Dropping it kills the process.
pub struct Daemon {
    pub child: std::process::Child,
    pub log: PathBuf,
}

/// The `keeper` binary a daemon runs: this build's, or the one
/// `KEEPER_TEST_BIN` names, to run a black-box suite against another build
/// (an earlier commit, to see a test fail before its fix).
fn keeper_bin() -> std::ffi::OsString {
    std::env::var_os("KEEPER_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_keeper").into())
}

impl Daemon {
    /// Starts `keeper serve ARGS` with `dir` as working directory and stderr
    /// going to `log`. `KEEPER_*` and `RUST_LOG` come only from `envs`.
    pub fn spawn(
        dir: &std::path::Path,
        args: &[&str],
        envs: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Self {
        let mut cmd = std::process::Command::new(keeper_bin());
        cmd.arg("serve").args(args);
        Self::run(cmd, dir, envs, log)
    }

    /// `spawn`, through `sh -c 'PREFIX; exec keeper serve ARGS'`, so that
    /// a shell command (`ulimit -n 256`) sets the process up first.
    pub fn spawn_via_shell(
        dir: &std::path::Path,
        prefix: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Self {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{prefix}; exec \"$0\" serve \"$@\""))
            .arg(keeper_bin())
            .args(args);
        Self::run(cmd, dir, envs, log)
    }

    fn run(
        mut cmd: std::process::Command,
        dir: &std::path::Path,
        envs: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Self {
        let stderr = std::fs::File::create(log).expect("create log file");
        cmd.current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr);
        for (key, _) in std::env::vars() {
            if key.starts_with("KEEPER_") || key == "RUST_LOG" || key == "NO_COLOR" {
                cmd.env_remove(key);
            }
        }
        cmd.envs(envs.iter().copied());
        let child = cmd.spawn().expect("spawn keeper serve");
        Self {
            child,
            log: log.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to stderr so far.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits (bounded) for the `ssh listening` line and returns its address.
    pub fn wait_listening(&mut self) -> SocketAddr {
        self.wait_logged_addr("ssh listening")
    }

    /// Waits (bounded) for a log line containing `tag` and returns the
    /// address it names (`ssh listening`, `http listening`).
    pub fn wait_logged_addr(&mut self, tag: &str) -> SocketAddr {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let log = self.log_text();
            if let Some(addr) = log
                .lines()
                .filter(|l| l.contains(tag))
                .find_map(socket_addr_in)
            {
                return addr;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("keeper serve exited ({status}) before listening; log:\n{log}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "keeper serve did not log `{tag}` in time; log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Sends a signal by name (`TERM`, `INT`, …) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "keeper serve did not exit in time; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// SIGTERM, then waits for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.wait_exit()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Restarting an in-process server on the same working directory.
// ---------------------------------------------------------------------------

impl TestServer {
    /// Starts a server on an existing working directory, e.g. the one that
    /// `stop` returned: same data dir, same host key, new ports.
    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_in_with(dir, |_| {}).await
    }

    /// `start_in`, with `tweak` applied to the arguments first.
    pub async fn start_in_with(dir: tempfile::TempDir, tweak: impl FnOnce(&mut ServeArgs)) -> Self {
        let mut args = serve_args(dir.path());
        tweak(&mut args);
        let app = App::build(&args).await.expect("server builds");
        let ssh_addr = app.ssh_addr();
        let http_addr = app.http_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self {
            ssh_addr,
            http_addr,
            dir: Some(dir),
            shutdown,
            task: Some(task),
        }
    }
}
