//! Stall detection: calls are waiting on Telegram, yet nothing (no call, no probe) has
//! succeeded for a whole window. A connection can look alive (no I/O error, no close) while
//! every call hangs; only this notices, so the supervisor probes and health degrades.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts calls in flight and remembers when something last succeeded.
pub struct StallWatch {
    origin: Instant,
    window: Duration,
    in_flight: AtomicUsize,
    /// Milliseconds since `origin` at which `in_flight` last left 0.
    busy_since: AtomicU64,
    /// Milliseconds since `origin` of the last success.
    last_success: AtomicU64,
}

/// Held while a call is in flight; dropping it (however the call ends) counts it out.
pub struct InFlight<'a>(&'a StallWatch);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl StallWatch {
    pub fn new(window: Duration) -> Self {
        Self {
            origin: Instant::now(),
            window,
            in_flight: AtomicUsize::new(0),
            busy_since: AtomicU64::new(0),
            last_success: AtomicU64::new(0),
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// A call starts; keep the guard until it ends.
    pub fn begin(&self) -> InFlight<'_> {
        self.begin_at(Instant::now())
    }

    fn begin_at(&self, now: Instant) -> InFlight<'_> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            self.busy_since.store(self.millis(now), Ordering::Release);
        }
        InFlight(self)
    }

    /// A call or probe succeeded.
    pub fn succeeded(&self) {
        self.succeeded_at(Instant::now());
    }

    fn succeeded_at(&self, now: Instant) {
        self.last_success
            .fetch_max(self.millis(now), Ordering::AcqRel);
    }

    /// Whether calls are waiting and nothing succeeded for the window (at `now`).
    pub fn stalled(&self, now: Instant) -> bool {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            return false;
        }
        let waiting_since = self
            .busy_since
            .load(Ordering::Acquire)
            .max(self.last_success.load(Ordering::Acquire));
        self.millis(now).saturating_sub(waiting_since) >= self.window.as_millis() as u64
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(10);

    #[test]
    fn waiting_calls_without_success_for_the_window_are_a_stall() {
        let watch = StallWatch::new(WINDOW);
        let t0 = watch.origin + Duration::from_secs(100);
        let call = watch.begin_at(t0);
        assert!(!watch.stalled(t0 + Duration::from_secs(9)));
        assert!(watch.stalled(t0 + WINDOW));
        drop(call);
        assert!(
            !watch.stalled(t0 + WINDOW * 5),
            "no call waiting: idle, not stalled"
        );
    }

    #[test]
    fn a_success_restarts_the_window() {
        let watch = StallWatch::new(WINDOW);
        let t0 = watch.origin + Duration::from_secs(100);
        let _call = watch.begin_at(t0);
        watch.succeeded_at(t0 + Duration::from_secs(8));
        assert!(!watch.stalled(t0 + Duration::from_secs(17)));
        assert!(watch.stalled(t0 + Duration::from_secs(18)));
    }

    #[test]
    fn an_old_success_does_not_hide_a_new_stall_nor_does_busy_time_before_idle() {
        let watch = StallWatch::new(WINDOW);
        watch.succeeded_at(watch.origin);
        let t0 = watch.origin + Duration::from_secs(100);
        drop(watch.begin_at(t0));
        let t1 = t0 + Duration::from_secs(50);
        let _call = watch.begin_at(t1);
        assert!(!watch.stalled(t1 + Duration::from_secs(1)));
        assert!(watch.stalled(t1 + WINDOW));
    }
}
