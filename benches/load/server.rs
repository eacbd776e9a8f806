//! `keeper serve` as a child process on ephemeral ports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running server; dropping it kills the process and removes its data.
pub struct Server {
    child: std::process::Child,
    pub ssh: SocketAddr,
    pub http: SocketAddr,
    _dir: tempfile::TempDir,
    schema: Option<String>,
}

/// The PostgreSQL database servers keep their data in (a schema each), when
/// the benchmark runs with `--postgres URL`; otherwise SQLite in the data dir.
static POSTGRES: OnceLock<String> = OnceLock::new();

/// Runs every server started from now on on PostgreSQL at `url`.
pub fn use_postgres(url: String) {
    let _ = POSTGRES.set(url);
}

pub fn engine() -> &'static str {
    if POSTGRES.get().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// Runs `statement` on the benchmark's PostgreSQL database, from a thread of
/// its own (callers may be inside a runtime).
fn on_postgres(url: &str, statement: String) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| format!("cannot connect to {url}: {e}"))?;
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let _ = conn.close().await;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "postgres thread panicked".to_owned())?
}

impl Server {
    /// Starts the server with a fresh data dir, the bench's limits and
    /// `extra` flags: this tree's build, or the binary `KEEPER_BENCH_BIN`
    /// names (another build, to compare with).
    pub fn start(extra: &[&str]) -> Result<Self, String> {
        let binary = std::env::var_os("KEEPER_BENCH_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keeper")));
        Self::start_with_binary(binary, extra)
    }

    pub fn start_with_binary(binary: PathBuf, extra: &[&str]) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("keeper.log");
        let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut db = Vec::new();
        let mut schema = None;
        if let Some(base) = POSTGRES.get() {
            let name = format!("bench_{}_{:x}", std::process::id(), rand::random::<u32>());
            on_postgres(base, format!("CREATE SCHEMA {name}"))?;
            let sep = if base.contains('?') { '&' } else { '?' };
            db = vec![
                "--db".to_owned(),
                format!("{base}{sep}options=-c%20search_path%3D{name}"),
            ];
            schema = Some(name);
        }
        let child = std::process::Command::new(binary)
            .arg("serve")
            .args(&db)
            .args(["--ssh-addr", ":0", "--http-addr", ":0"])
            // A benchmark logs in far more often than people do.
            .args(["--login-failures", "1000000", "--sessions-per-user", "5000"])
            .args(["--tokens-per-user", "1000000", "--max-startups", "1024"])
            .args(extra)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start keeper: {e}"))?;
        let mut server = Self {
            child,
            ssh: "0.0.0.0:0".parse().expect("placeholder address"),
            http: "0.0.0.0:0".parse().expect("placeholder address"),
            _dir: dir,
            schema,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let ssh = logged_addr(&text, "ssh listening");
            let http = logged_addr(&text, "http listening");
            if let (Some(ssh), Some(http)) = (ssh, http) {
                server.ssh = ssh;
                server.http = http;
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("keeper serve exited ({status}):\n{text}"));
            }
            if Instant::now() > deadline {
                return Err(format!("keeper serve did not start:\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> Result<u64, String> {
        status_field(self.pid(), "VmRSS:")
    }

    /// Peak resident memory since start, in KiB.
    pub fn peak_kib(&self) -> Result<u64, String> {
        status_field(self.pid(), "VmHWM:")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let (Some(base), Some(schema)) = (POSTGRES.get(), self.schema.take()) {
            let _ = on_postgres(base, format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

/// A `kB` field of /proc/PID/status.
pub fn status_field(pid: u32, name: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read memory of {pid}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no {name} for {pid}"))
}

/// The address in the first log line that contains `tag`.
fn logged_addr(log: &str, tag: &str) -> Option<SocketAddr> {
    log.lines().filter(|l| l.contains(tag)).find_map(|line| {
        line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':')))
            .find_map(|token| token.parse().ok())
    })
}
