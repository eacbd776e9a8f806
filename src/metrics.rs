//! Process metrics in the Prometheus text format: requests by route and
//! status, request latency, logins, and live SSH sessions. Kept by hand: a
//! few counters do not justify a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

/// Counters shared by every front end.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    ssh_sessions: AtomicI64,
}

/// Decrements the live SSH session gauge when dropped.
#[derive(Debug)]
pub struct SessionGuard<'a>(&'a Metrics);

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        self.0.ssh_sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Records one HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        // A client picks the method: only the standard ones become labels,
        // so made-up methods cannot grow the table.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "TRACE"
            | "CONNECT" => method,
            _ => "OTHER",
        };
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_owned()).or_default();
            let secs = took.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.total += 1;
        }
    }

    /// Records a login attempt on any channel.
    pub fn login(&self, ok: bool) {
        let c = if ok {
            &self.logins_ok
        } else {
            &self.logins_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a live SSH session until the guard is dropped.
    pub fn ssh_session(&self) -> SessionGuard<'_> {
        self.ssh_sessions.fetch_add(1, Ordering::Relaxed);
        SessionGuard(self)
    }

    /// The Prometheus exposition text; `active_tokens` and the Argon2
    /// evaluations so far are read by the caller.
    pub fn render(&self, active_tokens: Option<i64>, argon2_evaluations: u64) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "keeper_http_requests_total",
            "counter",
            "HTTP requests by method, route and status.",
        );
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
                sample(&mut out, "keeper_http_requests_total", &labels, n);
            }
        }
        let latency = "keeper_http_request_duration_seconds";
        family(
            &mut out,
            latency,
            "histogram",
            "HTTP request latency by route.",
        );
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let bucket = format!("{latency}_bucket");
                for (bound, count) in BUCKETS.iter().zip(&h.counts) {
                    let labels = format!("route=\"{route}\",le=\"{bound}\"");
                    sample(&mut out, &bucket, &labels, count);
                }
                let labels = format!("route=\"{route}\",le=\"+Inf\"");
                sample(&mut out, &bucket, &labels, h.total);
                let labels = format!("route=\"{route}\"");
                sample(&mut out, &format!("{latency}_sum"), &labels, h.sum);
                sample(&mut out, &format!("{latency}_count"), &labels, h.total);
            }
        }
        let logins = "keeper_logins_total";
        family(&mut out, logins, "counter", "Login attempts by outcome.");
        for (outcome, n) in [("ok", &self.logins_ok), ("failed", &self.logins_failed)] {
            let labels = format!("outcome=\"{outcome}\"");
            sample(&mut out, logins, &labels, n.load(Ordering::Relaxed));
        }
        let sessions = "keeper_ssh_sessions";
        family(&mut out, sessions, "gauge", "Open SSH sessions.");
        let open = self.ssh_sessions.load(Ordering::Relaxed);
        sample(&mut out, sessions, "", open);
        let argon2 = "keeper_argon2_evaluations_total";
        family(
            &mut out,
            argon2,
            "counter",
            "Argon2 evaluations (password hashes and key derivations).",
        );
        sample(&mut out, argon2, "", argon2_evaluations);
        if let Some(tokens) = active_tokens {
            let name = "keeper_active_tokens";
            family(&mut out, name, "gauge", "Unexpired API tokens.");
            sample(&mut out, name, "", tokens);
        }
        out
    }
}

/// The `# HELP` and `# TYPE` lines of a metric.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample line; `labels` go between braces unless empty.
fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    let _ = if labels.is_empty() {
        writeln!(out, "{name} {value}")
    } else {
        writeln!(out, "{name}{{{labels}}} {value}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_latency_show_up_in_the_exposition() {
        let m = Metrics::default();
        m.http_request("GET", "/healthz", 200, Duration::from_millis(2));
        m.login(true);
        m.login(false);
        m.login(false);
        let _guard = m.ssh_session();
        let text = m.render(Some(3), 7);
        assert!(text.contains(
            "keeper_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "keeper_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains(
            "keeper_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 0"
        ));
        assert!(text.contains("keeper_logins_total{outcome=\"failed\"} 2"));
        assert!(text.contains("keeper_ssh_sessions 1"));
        assert!(text.contains("keeper_active_tokens 3"));
        assert!(text.contains("keeper_argon2_evaluations_total 7"));
        for line in [
            "# HELP keeper_logins_total Login attempts by outcome.",
            "# TYPE keeper_logins_total counter",
            "# TYPE keeper_http_request_duration_seconds histogram",
            "# TYPE keeper_ssh_sessions gauge",
            "keeper_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1",
            "keeper_http_request_duration_seconds_count{route=\"/healthz\"} 1",
            "keeper_logins_total{outcome=\"ok\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}");
        }
        assert!(
            text.contains("keeper_http_request_duration_seconds_sum{route=\"/healthz\"} 0.002")
        );
    }
}
