//! Proactive pacing: one token bucket per limit (chat, group, account). A send takes a token
//! from each bucket that applies; a bucket without one says when it will have one, so the
//! scheduler sleeps until then instead of polling.
//!
//! Buckets refill slightly below the configured rate ([`SAFETY`]): Telegram counts arrivals,
//! and a request can arrive a little later or earlier than it left. A new bucket holds what
//! the quiet time before it earned: Telegram's own bucket was at least empty at the last
//! send and has refilled since, so a restart right after a burst does not burst again into
//! limits Telegram still counts, and a start after a quiet spell goes at full speed.

use std::time::Duration;

use tokio::time::Instant;

use crate::domain::Rate;

/// The share of the configured rate actually used.
pub const SAFETY: f64 = 0.97;

/// A token bucket: up to `capacity` sends at once, refilled at `per_sec`.
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A bucket for `rate` at `now`, holding what `quiet` (the time without a send before
    /// `now`) earned it — never quite all of a large burst: Telegram's count starts when the
    /// first send *arrives*, ours when it leaves, and the few tokens held back absorb that.
    pub fn new(rate: Rate, quiet: Duration, now: Instant) -> Self {
        let capacity = f64::from(rate.count.max(1));
        let per_sec = capacity / rate.per.as_secs_f64().max(1e-3) * SAFETY;
        let gained = quiet.as_secs_f64() * per_sec;
        let start_cap = (capacity * SAFETY).floor().max(1.0);
        Self {
            capacity,
            per_sec,
            tokens: gained.min(start_cap),
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.at = self.at.max(now);
    }

    /// When a token is (or will be) available.
    pub fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec)
        }
    }

    /// Whether it is full (a chat idle this long may be forgotten).
    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity
    }

    /// Takes a token; the caller checked [`Self::ready_at`].
    pub fn take(&mut self, now: Instant) {
        self.refill(now);
        self.tokens -= 1.0;
    }
}

/// When every bucket in `buckets` has a token (`now` if they all do).
pub fn ready_at<'a>(now: Instant, buckets: impl IntoIterator<Item = &'a mut Bucket>) -> Instant {
    buckets
        .into_iter()
        .map(|b| b.ready_at(now))
        .max()
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_second(n: u32) -> Rate {
        Rate::new(n, Duration::from_secs(1))
    }

    #[test]
    fn a_bucket_started_now_is_empty_and_fills_at_a_bit_under_the_rate() {
        let t0 = Instant::now();
        let mut bucket = Bucket::new(per_second(10), Duration::ZERO, t0);
        let ready = bucket.ready_at(t0);
        let wait = ready - t0;
        assert!(wait > Duration::from_millis(100), "{wait:?}");
        assert!(wait < Duration::from_millis(105), "{wait:?}");
    }

    #[test]
    fn a_rested_bucket_allows_most_of_its_burst_then_the_steady_rate() {
        let later = Instant::now();
        let quiet = Duration::from_secs(120);
        let mut bucket = Bucket::new(Rate::new(3, Duration::from_secs(60)), quiet, later);
        // 3 at most at once, one held back at the start.
        for _ in 0..2 {
            assert_eq!(bucket.ready_at(later), later);
            bucket.take(later);
        }
        let next = bucket.ready_at(later) - later;
        // 3 per minute at 96 %: one every 20.8 s.
        assert!(
            next > Duration::from_secs(20) && next < Duration::from_secs(21),
            "{next:?}"
        );
    }

    #[test]
    fn the_joint_readiness_is_the_latest_bucket() {
        let now = Instant::now();
        let quiet = Duration::from_secs(10);
        let mut fast = Bucket::new(per_second(100), quiet, now);
        let mut slow = Bucket::new(per_second(1), quiet, now);
        slow.take(now);
        let ready = ready_at(now, [&mut fast, &mut slow]);
        assert!(ready - now > Duration::from_millis(900));
        assert_eq!(ready_at(now, []), now);
    }
}
