//! The growth curves (`--curves`): how throughput grows with concurrent
//! clients, and how a create's latency grows with the vault. Each writes a
//! CSV under `target/bench/` that `scripts/chart.py` draws.

use std::time::Duration;

use super::http::{Request, bench_user, create_password, fill, run_load};
use super::server::Server;
use super::stats::{LoadResult, quantile, write_csv};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of a curve: printed as it is measured, and kept for the CSV.
fn point(csv: &mut String, run: &LoadResult, first: String, last: usize) {
    let line = format!(
        "{first},{:.3},{:.3},{last}\n",
        ms(quantile(&run.latencies, 0.5)),
        ms(quantile(&run.latencies, 0.99)),
    );
    print!("  {line}");
    csv.push_str(&line);
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
    let token = bench_user(server.http, "curves").await?;
    let id = create_password(server.http, &token, "github").await?;
    let path = format!("/api/v1/passwords/{id}");
    let mut csv = String::from("clients,requests_per_s,p50_ms,p99_ms,errors\n");
    println!("revealed-password reads by concurrent clients:");
    for &n in clients {
        let run = run_load(server.http, n, window, |_| {
            Request::get(&path, Some(&token))
        })
        .await?;
        point(
            &mut csv,
            &run,
            format!("{n},{:.0}", run.per_second()),
            run.errors,
        );
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
    let token = bench_user(server.http, "growing").await?;
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
        point(&mut csv, &run, size.to_string(), run.ok);
    }
    write_csv("create-latency-by-size.csv", &csv)
}
