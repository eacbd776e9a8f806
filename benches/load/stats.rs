//! Latency samples and the printed table.

use std::time::Duration;

/// What one load run did.
pub struct LoadResult {
    /// Requests answered with a 2xx.
    pub ok: usize,
    /// Requests answered otherwise, or failed.
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// The `q`-quantile (0..=1) of `samples`, nearest rank.
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One line of the table: what was measured and the figures.
pub struct Row {
    what: String,
    figures: String,
}

impl Row {
    pub fn throughput(what: &str, r: &LoadResult) -> Self {
        Self {
            what: what.into(),
            figures: format!(
                "{:.0} req/s ({} ok, {} errors in {:.1} s), p50 {}, p99 {}",
                r.per_second(),
                r.ok,
                r.errors,
                r.elapsed.as_secs_f64(),
                ms(quantile(&r.latencies, 0.5)),
                ms(quantile(&r.latencies, 0.99)),
            ),
        }
    }

    pub fn latency(what: &str, samples: &[Duration]) -> Self {
        Self {
            what: what.into(),
            figures: format!(
                "p50 {}, p99 {} ({} samples)",
                ms(quantile(samples, 0.5)),
                ms(quantile(samples, 0.99)),
                samples.len()
            ),
        }
    }

    pub fn memory(what: &str, kib: u64) -> Self {
        let figures = if kib >= 10 * 1024 {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        } else {
            format!("{kib} KiB")
        };
        Self {
            what: what.into(),
            figures,
        }
    }

    pub fn ratio(what: &str, ratio: f64) -> Self {
        Self {
            what: what.into(),
            figures: format!("{ratio:.2}"),
        }
    }

    pub fn text(what: &str, text: &str) -> Self {
        Self {
            what: what.into(),
            figures: text.into(),
        }
    }
}

/// Rows printed together at the end, aligned.
#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    pub fn push(&mut self, row: Row) {
        println!("{:<62} {}", row.what, row.figures);
        self.rows.push(row);
    }

    pub fn print(&self) {
        let width = self
            .rows
            .iter()
            .map(|r| r.what.chars().count())
            .max()
            .unwrap_or(0);
        println!();
        println!("| {:<width$} | result |", "measure");
        println!("|{}|--------|", "-".repeat(width + 2));
        for row in &self.rows {
            println!("| {:<width$} | {} |", row.what, row.figures);
        }
    }
}

/// Writes `csv` to `target/bench/NAME`, for `scripts/chart.py`, and says so.
pub fn write_csv(name: &str, csv: &str) -> Result<(), String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(name);
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    println!("  written to {}", file.display());
    Ok(())
}
