//! The connect/reconnect schedule: exponential backoff with jitter, never giving up.
//!
//! This is the only file that names the `backoff` crate, so replacing it touches nothing else.

use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::{ExponentialBackoff, ExponentialBackoffBuilder};

/// Delays between connection attempts: short at first, capped at `max`.
pub struct ReconnectSchedule {
    inner: ExponentialBackoff,
}

impl ReconnectSchedule {
    pub fn new(initial: Duration, max: Duration) -> Self {
        let inner = ExponentialBackoffBuilder::new()
            .with_initial_interval(initial)
            .with_max_interval(max)
            .with_multiplier(2.0)
            .with_randomization_factor(0.2)
            .with_max_elapsed_time(None)
            .build();
        Self { inner }
    }

    /// How long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        // With no max elapsed time the crate never returns `None`; fall back to the cap anyway.
        self.inner.next_backoff().unwrap_or(self.inner.max_interval)
    }

    /// Back to the initial delay (after a successful connection).
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_capped() {
        let max = Duration::from_millis(800);
        let mut schedule = ReconnectSchedule::new(Duration::from_millis(100), max);
        let first = schedule.next_delay();
        assert!(first <= Duration::from_millis(120), "{first:?}");
        let later: Vec<Duration> = (0..20).map(|_| schedule.next_delay()).collect();
        assert!(later.iter().all(|d| *d <= max + max / 5), "{later:?}");
        assert!(later.last().unwrap() >= &Duration::from_millis(600));
        schedule.reset();
        assert!(schedule.next_delay() <= Duration::from_millis(120));
    }
}
