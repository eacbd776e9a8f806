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

    /// The Prometheus exposition text; `active_tokens` is read by the caller.
    pub fn render(&self, active_tokens: Option<i64>) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP keeper_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE keeper_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "keeper_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP keeper_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE keeper_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "keeper_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "keeper_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "keeper_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "keeper_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.total
                );
            }
        }
        out.push_str("# HELP keeper_logins_total Login attempts by outcome.\n");
        out.push_str("# TYPE keeper_logins_total counter\n");
        let _ = writeln!(
            out,
            "keeper_logins_total{{outcome=\"ok\"}} {}",
            self.logins_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "keeper_logins_total{{outcome=\"failed\"}} {}",
            self.logins_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP keeper_ssh_sessions Open SSH sessions.\n");
        out.push_str("# TYPE keeper_ssh_sessions gauge\n");
        let _ = writeln!(
            out,
            "keeper_ssh_sessions {}",
            self.ssh_sessions.load(Ordering::Relaxed)
        );
        if let Some(tokens) = active_tokens {
            out.push_str("# HELP keeper_active_tokens Unexpired API tokens.\n");
            out.push_str("# TYPE keeper_active_tokens gauge\n");
            let _ = writeln!(out, "keeper_active_tokens {tokens}");
        }
        out
    }
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
        let text = m.render(Some(3));
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
    }
}
