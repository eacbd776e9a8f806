//! The growth curves (`--curves`): how throughput grows with concurrent
//! clients, and how a create's latency grows with the vault. Each writes a
//! CSV under `target/bench/` that `scripts/chart.py` draws.

use std::time::Duration;

use super::http::{Request, create_password, fill, register_and_login, run_load};
use super::server::Server;
use super::stats::quantile;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn write_csv(name: &str, csv: &str) -> Result<(), String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(name);
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    println!("  written to {}", file.display());
    Ok(())
}

/// Revealed-password reads per second, and their latency, against the
/// number of clients reading at once (each on a keep-alive connection).
pub async fn throughput_by_clients(quick: bool) -> Result<(), String> {
    let clients: &[usize] = if quick {
        &[1, 4, 16, 64]
    } else {
        &[1, 2, 4, 8, 16, 32, 64, 128]
    };
    let window = Duration::from_secs(if quick { 1 } else { 3 });
    let server = Server::start(&[])?;
    let token = register_and_login(
        server.http,
        "curves",
        super::super::PASSWORD,
        super::super::PIN,
    )
    .await?;
    let id = create_password(server.http, &token, "github").await?;
    let path = format!("/api/v1/passwords/{id}");
    let mut csv = String::from("clients,requests_per_s,p50_ms,p99_ms,errors\n");
    println!("revealed-password reads by concurrent clients:");
    for &n in clients {
        let run = run_load(server.http, n, window, |_| {
            Request::get(&path, Some(&token))
        })
        .await?;
        let line = format!(
            "{n},{:.0},{:.3},{:.3},{}\n",
            run.per_second(),
            ms(quantile(&run.latencies, 0.5)),
            ms(quantile(&run.latencies, 0.99)),
            run.errors
        );
        print!("  {line}");
        csv.push_str(&line);
    }
    write_csv("throughput-by-clients.csv", &csv)
}

/// The latency of one create (one client, back to back for a short
/// window) against the number of items already in the vault.
pub async fn create_latency_by_size(quick: bool) -> Result<(), String> {
    let sizes: &[usize] = if quick {
        &[0, 1_000, 10_000]
    } else {
        &[0, 1_000, 10_000, 30_000, 100_000]
    };
    let window = Duration::from_secs(if quick { 1 } else { 2 });
    // Room past the default limit of 100,000 items a kind.
    let server = Server::start(&["--items-per-kind", "1000000"])?;
    let token = register_and_login(
        server.http,
        "growing",
        super::super::PASSWORD,
        super::super::PIN,
    )
    .await?;
    let mut csv = String::from("items,p50_ms,p99_ms,creates_timed\n");
    let mut have = 0;
    println!("create latency by vault size:");
    for &size in sizes {
        if size > have {
            fill(server.http, &token, have, size).await?;
            have = size;
        }
        // Names past every filled one, so none collides.
        let run = run_load(server.http, 1, window, |n| {
            Request::post(
                "/api/v1/passwords",
                &token,
                format!(r#"{{"name":"timed-{size}-{n:07}","password":"pw-{n}-secret"}}"#),
            )
        })
        .await?;
        let line = format!(
            "{size},{:.3},{:.3},{}\n",
            ms(quantile(&run.latencies, 0.5)),
            ms(quantile(&run.latencies, 0.99)),
            run.ok
        );
        print!("  {line}");
        csv.push_str(&line);
    }
    write_csv("create-latency-by-size.csv", &csv)
}
