//! The outbox's `/metrics` families (one set per account; the endpoint adds the `account`
//! label): queue depth by state and priority, enqueue-to-sent latency, flood parks by scope,
//! state changes and dead jobs.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::domain::{JobState, Priority};

/// Upper bounds (seconds) of the latency histogram's buckets.
const LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Where a park applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParkScope {
    Chat,
    Account,
}

#[derive(Default)]
pub struct OutboxMetrics {
    enqueued: [AtomicU64; 3],
    parks_chat: AtomicU64,
    parks_account: AtomicU64,
    /// Changes into each state (by [`JobState::ALL`] index).
    transitions: [AtomicU64; 7],
    latency: Mutex<Histogram>,
}

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl OutboxMetrics {
    pub fn enqueued(&self, priority: Priority) {
        self.enqueued[priority.rank() as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn parked(&self, scope: ParkScope) {
        match scope {
            ParkScope::Chat => &self.parks_chat,
            ParkScope::Account => &self.parks_account,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub fn changed(&self, to: JobState) {
        if let Some(i) = JobState::ALL.iter().position(|s| *s == to) {
            self.transitions[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A job was sent `latency` after it was enqueued (or due, when scheduled).
    pub fn sent_after(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let mut h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        if h.counts.is_empty() {
            h.counts = vec![0; LATENCY_BUCKETS.len()];
        }
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The exposition, with the queue depth `counts` read from the store.
    pub fn render(&self, counts: &[(JobState, Priority, i64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mtgate_outbox_jobs Outbox jobs by state and priority (as stored)."
        );
        let _ = writeln!(out, "# TYPE mtgate_outbox_jobs gauge");
        for state in JobState::ALL {
            for priority in Priority::ALL {
                let n = counts
                    .iter()
                    .find(|(s, p, _)| *s == state && *p == priority)
                    .map_or(0, |(_, _, n)| *n);
                let _ = writeln!(
                    out,
                    "mtgate_outbox_jobs{{state=\"{}\",priority=\"{}\"}} {n}",
                    state.as_str(),
                    priority.as_str()
                );
            }
        }
        let _ = writeln!(out, "# HELP mtgate_outbox_enqueued_total Jobs enqueued.");
        let _ = writeln!(out, "# TYPE mtgate_outbox_enqueued_total counter");
        for priority in Priority::ALL {
            let n = self.enqueued[priority.rank() as usize].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mtgate_outbox_enqueued_total{{priority=\"{}\"}} {n}",
                priority.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# HELP mtgate_outbox_transitions_total Job state changes, by the state entered."
        );
        let _ = writeln!(out, "# TYPE mtgate_outbox_transitions_total counter");
        for (i, state) in JobState::ALL.iter().enumerate() {
            let n = self.transitions[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mtgate_outbox_transitions_total{{to=\"{}\"}} {n}",
                state.as_str()
            );
        }
        let dead = self.transitions[5].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP mtgate_outbox_dead_total Jobs that went dead (retry budget or deadline spent)."
        );
        let _ = writeln!(out, "# TYPE mtgate_outbox_dead_total counter");
        let _ = writeln!(out, "mtgate_outbox_dead_total {dead}");
        let _ = writeln!(
            out,
            "# HELP mtgate_outbox_flood_parks_total Times a chat or the whole account was parked on FLOOD_WAIT / SLOWMODE_WAIT."
        );
        let _ = writeln!(out, "# TYPE mtgate_outbox_flood_parks_total counter");
        for (scope, n) in [("chat", &self.parks_chat), ("account", &self.parks_account)] {
            let _ = writeln!(
                out,
                "mtgate_outbox_flood_parks_total{{scope=\"{scope}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP mtgate_outbox_send_latency_seconds From enqueue (or send_at) to sent."
        );
        let _ = writeln!(out, "# TYPE mtgate_outbox_send_latency_seconds histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let n = h.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "mtgate_outbox_send_latency_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "mtgate_outbox_send_latency_seconds_bucket{{le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "mtgate_outbox_send_latency_seconds_sum {}", h.sum);
        let _ = writeln!(out, "mtgate_outbox_send_latency_seconds_count {}", h.count);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_depth_parks_dead_and_latency() {
        let metrics = OutboxMetrics::default();
        metrics.enqueued(Priority::High);
        metrics.parked(ParkScope::Account);
        metrics.changed(JobState::Dead);
        metrics.sent_after(Duration::from_millis(300));
        let text = metrics.render(&[(JobState::Queued, Priority::Low, 4)]);
        for line in [
            "mtgate_outbox_jobs{state=\"queued\",priority=\"low\"} 4",
            "mtgate_outbox_jobs{state=\"sent\",priority=\"high\"} 0",
            "mtgate_outbox_enqueued_total{priority=\"high\"} 1",
            "mtgate_outbox_flood_parks_total{scope=\"account\"} 1",
            "mtgate_outbox_dead_total 1",
            "mtgate_outbox_send_latency_seconds_bucket{le=\"0.25\"} 0",
            "mtgate_outbox_send_latency_seconds_bucket{le=\"0.5\"} 1",
            "mtgate_outbox_send_latency_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }
}
