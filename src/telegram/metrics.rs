//! Counters and histograms of Telegram traffic, rendered in the Prometheus text format.
//!
//! Hand-rolled: a handful of series does not justify a metrics framework. Label values are
//! static strings chosen by mtgate (TL method names, outcome kinds), never caller input, so
//! cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::health::ConnectionState;

/// Upper bounds (seconds) of the call latency histogram.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What became of a FLOOD_WAIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FloodOutcome {
    /// Short enough: mtgate slept through it and retried.
    Slept,
    /// Too long: handed back to the caller as 429.
    Returned,
}

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; LATENCY_BUCKETS.len()];
        }
        for (bucket, bound) in self.counts.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Process-wide Telegram metrics; shared by the client manager, its retry policy and
/// `/metrics`.
#[derive(Default)]
pub struct Metrics {
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    reconnects: AtomicU64,
    flood_slept: AtomicU64,
    flood_returned: AtomicU64,
    /// Flood memory by (method, scope kind, wait kind, outcome): see [`super::flood`].
    flood_scopes: Mutex<BTreeMap<FloodKey, u64>>,
}

/// (method, `chat`|`method`, wait kind, `remembered`|`refused`).
type FloodKey = (&'static str, &'static str, &'static str, &'static str);

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// One finished Telegram call. `latency` is `None` when the call never reached the
    /// network (not connected), so the histogram only measures real round trips.
    pub fn record_call(
        &self,
        method: &'static str,
        outcome: &'static str,
        latency: Option<Duration>,
    ) {
        *lock(&self.calls).entry((method, outcome)).or_default() += 1;
        if let Some(latency) = latency {
            lock(&self.latency)
                .entry(method)
                .or_default()
                .observe(latency.as_secs_f64());
        }
    }

    /// A connection re-established after it had been lost.
    pub fn record_reconnect(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_flood_wait(&self, outcome: FloodOutcome) {
        match outcome {
            FloodOutcome::Slept => &self.flood_slept,
            FloodOutcome::Returned => &self.flood_returned,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// A wait learned (`remembered`) or a call refused from memory (`refused`).
    pub fn record_flood_scope(
        &self,
        method: &'static str,
        scope: &'static str,
        kind: &'static str,
        outcome: &'static str,
    ) {
        *lock(&self.flood_scopes)
            .entry((method, scope, kind, outcome))
            .or_default() += 1;
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// Calls recorded so far for `method` with `outcome`.
    pub fn calls(&self, method: &str, outcome: &str) -> u64 {
        lock(&self.calls)
            .iter()
            .filter(|((m, o), _)| *m == method && *o == outcome)
            .map(|(_, n)| n)
            .sum()
    }

    /// The Prometheus text exposition of every series, with the current connection state.
    pub fn render(&self, state: ConnectionState) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP mtgate_telegram_calls_total Telegram API calls by method and outcome.\n\
             # TYPE mtgate_telegram_calls_total counter\n",
        );
        for ((method, outcome), n) in lock(&self.calls).iter() {
            let _ = writeln!(
                out,
                "mtgate_telegram_calls_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP mtgate_telegram_call_duration_seconds Latency of Telegram API calls that \
             reached the network.\n\
             # TYPE mtgate_telegram_call_duration_seconds histogram\n",
        );
        for (method, h) in lock(&self.latency).iter() {
            for (bound, n) in LATENCY_BUCKETS.iter().zip(&h.counts) {
                let _ = writeln!(
                    out,
                    "mtgate_telegram_call_duration_seconds_bucket{{method=\"{method}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "mtgate_telegram_call_duration_seconds_bucket{{method=\"{method}\",le=\"+Inf\"}} {}\n\
                 mtgate_telegram_call_duration_seconds_sum{{method=\"{method}\"}} {}\n\
                 mtgate_telegram_call_duration_seconds_count{{method=\"{method}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = write!(
            out,
            "# HELP mtgate_telegram_connection_state 0 connecting, 1 connected, 2 reconnecting, \
             3 unauthorized, 4 stopped, 5 failed.\n\
             # TYPE mtgate_telegram_connection_state gauge\n\
             mtgate_telegram_connection_state {}\n\
             # HELP mtgate_telegram_connected 1 when connected and authorized.\n\
             # TYPE mtgate_telegram_connected gauge\n\
             mtgate_telegram_connected {}\n\
             # HELP mtgate_telegram_reconnects_total Connections re-established after a loss.\n\
             # TYPE mtgate_telegram_reconnects_total counter\n\
             mtgate_telegram_reconnects_total {}\n\
             # HELP mtgate_telegram_flood_waits_total FLOOD_WAIT errors, slept through or \
             returned to the caller.\n\
             # TYPE mtgate_telegram_flood_waits_total counter\n\
             mtgate_telegram_flood_waits_total{{outcome=\"slept\"}} {}\n\
             mtgate_telegram_flood_waits_total{{outcome=\"returned\"}} {}\n",
            state.gauge_value(),
            u8::from(state == ConnectionState::Connected),
            self.reconnects(),
            self.flood_slept.load(Ordering::Relaxed),
            self.flood_returned.load(Ordering::Relaxed),
        );
        out.push_str(
            "# HELP mtgate_telegram_flood_scope_total Waits remembered per scope, and calls \
             refused from that memory without reaching Telegram.\n\
             # TYPE mtgate_telegram_flood_scope_total counter\n",
        );
        for ((method, scope, kind, outcome), n) in lock(&self.flood_scopes).iter() {
            let _ = writeln!(
                out,
                "mtgate_telegram_flood_scope_total{{method=\"{method}\",scope=\"{scope}\",kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

/// A poisoned metrics lock only means a panic elsewhere mid-update; the counts are still
/// worth serving.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_by_method_and_outcome() {
        let m = Metrics::new();
        m.record_call("messages.sendMessage", "ok", Some(Duration::from_millis(3)));
        m.record_call(
            "messages.sendMessage",
            "ok",
            Some(Duration::from_millis(300)),
        );
        m.record_call("messages.sendMessage", "unavailable", None);
        let text = m.render(ConnectionState::Connected);
        assert!(text.contains(
            "mtgate_telegram_calls_total{method=\"messages.sendMessage\",outcome=\"ok\"} 2"
        ));
        assert!(text.contains(
            "mtgate_telegram_calls_total{method=\"messages.sendMessage\",outcome=\"unavailable\"} 1"
        ));
        assert!(text.contains(
            "mtgate_telegram_call_duration_seconds_bucket{method=\"messages.sendMessage\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "mtgate_telegram_call_duration_seconds_bucket{method=\"messages.sendMessage\",le=\"0.5\"} 2"
        ));
        assert!(text.contains(
            "mtgate_telegram_call_duration_seconds_count{method=\"messages.sendMessage\"} 2"
        ));
        assert!(text.contains("mtgate_telegram_connected 1"));
    }

    #[test]
    fn reconnects_flood_waits_and_state_are_exposed() {
        let m = Metrics::new();
        m.record_reconnect();
        m.record_flood_wait(FloodOutcome::Slept);
        m.record_flood_wait(FloodOutcome::Returned);
        m.record_flood_wait(FloodOutcome::Returned);
        let text = m.render(ConnectionState::Reconnecting);
        assert!(text.contains("mtgate_telegram_reconnects_total 1"));
        assert!(text.contains("mtgate_telegram_flood_waits_total{outcome=\"slept\"} 1"));
        assert!(text.contains("mtgate_telegram_flood_waits_total{outcome=\"returned\"} 2"));
        assert!(text.contains("mtgate_telegram_connection_state 2"));
        assert!(text.contains("mtgate_telegram_connected 0"));
    }

    #[test]
    fn flood_memory_is_counted_by_scope() {
        let m = Metrics::new();
        m.record_flood_scope("messages.sendMessage", "chat", "FLOOD_WAIT", "remembered");
        m.record_flood_scope("messages.sendMessage", "chat", "FLOOD_WAIT", "refused");
        m.record_flood_scope("messages.sendMessage", "chat", "FLOOD_WAIT", "refused");
        let text = m.render(ConnectionState::Connected);
        assert!(text.contains(
            "mtgate_telegram_flood_scope_total{method=\"messages.sendMessage\",scope=\"chat\",kind=\"FLOOD_WAIT\",outcome=\"refused\"} 2"
        ));
    }

    #[test]
    fn every_sample_line_is_name_labels_value() {
        let m = Metrics::new();
        m.record_call("updates.getState", "ok", Some(Duration::from_millis(1)));
        for line in m.render(ConnectionState::Connected).lines() {
            if line.starts_with('#') {
                continue;
            }
            let (_, value) = line.rsplit_once(' ').expect("name and value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(line.starts_with("mtgate_"), "{line}");
        }
    }
}
