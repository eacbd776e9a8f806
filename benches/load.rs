//! The load benchmark: `cargo bench --bench load` (see BENCHMARKS.md).
//!
//! Starts `keeper serve` (the release binary) on ephemeral ports with a fresh
//! data dir, drives it through real clients — an HTTP/1.1 client on
//! keep-alive connections and the russh client — and prints one table. With
//! OpenSSH's `sshd` at hand (and root, to make a throwaway user) it measures
//! the same login and idle-session figures for `sshd` in the same run.
//!
//! Flags (after `--`): `--quick` for a short run, `--sizes` to add the list
//! latency against vault size (100 to 100,000 items, CSV under
//! `target/bench/`), `--curves` to add the growth curves (reads per second
//! against concurrent clients, create latency against vault size; CSVs
//! there too), `--no-openssh` to skip the `sshd` comparison,
//! `--postgres URL` to run every Keeper server on PostgreSQL (a schema each
//! in the database at URL) instead of SQLite. `KEEPER_BENCH_BIN=PATH` runs
//! another build's `keeper` instead of this tree's, to compare two builds
//! on the same machine.
//!
//! The load generator runs on one thread, so on a two-core machine the
//! server has about one core and a half to itself.

mod load {
    pub mod curves;
    pub mod http;
    pub mod openssh;
    pub mod server;
    pub mod ssh;
    pub mod stats;
}

use std::time::Duration;

use load::http::{Request, run_load};
use load::server::Server;
use load::stats::{Row, Table};

const PASSWORD: &str = "correct horse battery";
const PIN: &str = "2580";

struct Options {
    quick: bool,
    sizes: bool,
    curves: bool,
    openssh: bool,
    postgres: Option<String>,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    Options {
        quick: has("--quick"),
        sizes: has("--sizes"),
        curves: has("--curves"),
        openssh: !has("--no-openssh"),
        postgres: args
            .iter()
            .position(|a| a == "--postgres")
            .and_then(|i| args.get(i + 1).cloned()),
    }
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = runtime.block_on(run(&options)) {
        eprintln!("load: {e}");
        std::process::exit(1);
    }
}

async fn run(options: &Options) -> Result<(), String> {
    let window = if options.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(8)
    };
    let samples = if options.quick { 10 } else { 50 };
    let mut table = Table::default();
    print_machine();
    if let Some(url) = &options.postgres {
        load::server::use_postgres(url.clone());
    }
    println!("storage: {}", load::server::engine());

    // Idle memory of a fresh server, once Argon2 has let go of the working
    // memory of the hash it makes at start (kept 2 s for reuse).
    let server = Server::start(&[])?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    table.push(Row::memory("idle server RSS, fresh", server.rss_kib()?));

    // HTTP: one revealed password against /healthz, on the same server.
    let token = load::http::bench_user(server.http, "alice").await?;
    let id = load::http::create_password(server.http, &token, "github").await?;
    let health = run_load(server.http, 32, window, |_| Request::get("/healthz", None)).await?;
    let path = format!("/api/v1/passwords/{id}");
    let secret = run_load(server.http, 32, window, |_| {
        Request::get(&path, Some(&token))
    })
    .await?;
    table.push(Row::throughput("GET /healthz", &health));
    table.push(Row::throughput("GET one password (revealed)", &secret));
    table.push(Row::ratio(
        "  ratio password / healthz (target ≥ 0.25)",
        secret.per_second() / health.per_second(),
    ));

    // Sustained creates.
    let created = run_load(server.http, 32, window, |n| {
        Request::post(
            "/api/v1/passwords",
            &token,
            format!(r#"{{"name":"site-{n:07}","username":"u{n}","password":"pw-{n}-secret"}}"#),
        )
    })
    .await?;
    table.push(Row::throughput(
        "POST /passwords (create; target ≥ 2,000 req/s)",
        &created,
    ));
    table.push(Row::latency("  create latency", &created.latencies));

    // Listing a vault of 10,000 passwords.
    let bob = load::http::bench_user(server.http, "bob").await?;
    load::http::fill(server.http, &bob, 0, 10_000).await?;
    let list_http = load::http::sequential(server.http, "/api/v1/passwords", &bob, samples).await?;
    table.push(Row::latency(
        "list 10,000 over HTTP (target p50 ≤ 15 ms, p99 ≤ 40 ms)",
        &list_http,
    ));
    let list_exec = load::ssh::exec_times(
        server.ssh,
        "bob",
        PASSWORD,
        PIN,
        "pass list --json",
        samples / 2,
    )
    .await?;
    table.push(Row::latency(
        "list 10,000 over SSH exec (login included)",
        &list_exec,
    ));
    let list_shell =
        load::ssh::shell_command_times(server.ssh, "bob", PASSWORD, PIN, "pass list", samples)
            .await?;
    table.push(Row::latency(
        "list 10,000 in an unlocked SSH shell (target p50 ≤ 20 ms)",
        &list_shell,
    ));

    // SSH login to first prompt.
    let logins = load::ssh::login_times(server.ssh, "alice", PASSWORD, PIN, samples).await?;
    table.push(Row::latency(
        "SSH login to prompt (target p50 ≤ 60 ms)",
        &logins,
    ));

    table.push(Row::memory(
        "server RSS after the runs above (target ≤ 60 MiB)",
        server.rss_kib()?,
    ));
    drop(server);

    // Importing a 10,000-entry Bitwarden export in one request, on a fresh
    // server: how long, and what it does to the server's peak memory.
    let server = Server::start(&[])?;
    let token = load::http::bench_user(server.http, "carol").await?;
    let file = load::http::bitwarden_export(10_000);
    let file_kib = file.len() as u64 / 1024;
    let before = server.peak_kib()?;
    let took = load::http::import(server.http, &token, "bitwarden-json", file).await?;
    let after = server.peak_kib()?;
    table.push(Row::text(
        &format!("import 10,000 entries, Bitwarden JSON ({file_kib} KiB), one request"),
        &format!("{:.0} ms", took.as_secs_f64() * 1000.0),
    ));
    table.push(Row::memory("  server peak RSS before the import", before));
    table.push(Row::memory("  server peak RSS after it", after));
    drop(server);

    // Idle unlocked SSH sessions, on a fresh server: a heap just through
    // 10,000-item listings would blur what a session itself costs.
    let server = Server::start(&[])?;
    load::http::bench_user(server.http, "alice").await?;
    let sessions = if options.quick { 100 } else { 1000 };
    let (per_session, held) =
        load::ssh::idle_sessions(&server, "alice", PASSWORD, PIN, sessions).await?;
    table.push(Row::memory(
        &format!("server memory per idle unlocked SSH session ({sessions} held; target ≤ 48 KiB)"),
        per_session,
    ));
    // Disconnect each one: a dropped handle alone leaves the connection up,
    // and the next row claims the sessions are closed.
    for session in held {
        session.close().await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    table.push(Row::memory(
        "  server RSS after they closed",
        server.rss_kib()?,
    ));
    drop(server);

    // A flood of wrong logins on a fresh server, as if from many addresses.
    let server = Server::start(&["--address-failures", "1000000"])?;
    let flood = load::ssh::login_flood(&server, 500).await?;
    table.push(Row::memory(
        "peak RSS, flood of 500 wrong logins",
        flood.peak_kib,
    ));
    table.push(Row::text("  flood outcome", &flood.summary));
    drop(server);

    if options.openssh {
        match load::openssh::compare(samples.min(20)).await {
            Ok(rows) => rows.into_iter().for_each(|r| table.push(r)),
            Err(e) => table.push(Row::text("OpenSSH comparison", &format!("skipped: {e}"))),
        }
    }

    if options.sizes {
        load::http::list_by_size(options.quick).await?;
    }
    if options.curves {
        load::curves::throughput_by_clients(options.quick).await?;
        load::curves::create_latency_by_size(options.quick).await?;
    }

    table.print();
    Ok(())
}

fn print_machine() {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!("machine: {cpus} cores, {model}");
}
