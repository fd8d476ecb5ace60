//! Proactive pacing: one token bucket per limit (chat, group, account). A send takes a token
//! from each bucket that applies; a bucket without one says when it will have one, so the
//! scheduler sleeps until then instead of polling.
//!
//! Buckets refill slightly below the configured rate ([`SAFETY`]): Telegram counts arrivals,
//! and a request can arrive a little later or earlier than it left. Shared buckets (group,
//! account) also keep [`JITTER`]'s worth of tokens in reserve: sends bound for different chats
//! leave at their paced times but can bunch up on the way (a store write before the call, a
//! busy core), and the reserve is what lets a bunch arrive without crossing the limit. At start-up a bucket is
//! rebuilt from the sends the store remembers within its period ([`Bucket::replayed`]):
//! starting empty at the period's beginning, which Telegram's own bucket was at least, so a
//! restart mid-broadcast neither bursts into limits Telegram still counts nor waits for
//! allowance it still has. A scope with no send within its period starts (nearly) full.

use std::time::Duration;

use tokio::time::Instant;

use crate::domain::Rate;

/// The share of the configured rate actually used.
pub const SAFETY: f64 = 0.97;

/// How much bunching on the way to Telegram a bucket absorbs: it never lets the last
/// `JITTER × rate` tokens of its capacity go (at least one, and never all of them).
pub const JITTER: Duration = Duration::from_millis(100);

/// Tokens held back from `capacity` at `per_sec` (see [`JITTER`]); none for a bucket of one,
/// whose sends go one at a time anyway (a chat's next job waits for the previous answer).
fn reserve(capacity: f64, per_sec: f64) -> f64 {
    if capacity < 2.0 {
        return 0.0;
    }
    (per_sec * JITTER.as_secs_f64())
        .ceil()
        .clamp(1.0, (capacity / 4.0).floor().max(1.0))
}

/// A token bucket: up to `capacity` sends at once (the limit less its reserve), refilled at
/// `per_sec`.
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A rested bucket for `rate` at `now` — never quite all of a large burst: Telegram's
    /// count starts when the first send *arrives*, ours when it leaves, and the few tokens
    /// held back absorb that.
    pub fn new(rate: Rate, now: Instant) -> Self {
        Self::replayed(rate, &[], 0, now)
    }

    /// The bucket for `rate` after the sends at `sent_ms` (Unix ms, ascending), at `now_ms` /
    /// `now`: empty at `now_ms - rate.per` (a bucket refills completely within its period, so
    /// Telegram's held at least that), refilled and drawn by every send since (never below
    /// zero: Telegram accepted them).
    pub fn replayed(rate: Rate, sent_ms: &[i64], now_ms: i64, now: Instant) -> Self {
        let limit = f64::from(rate.count.max(1));
        let per_sec = limit / rate.per.as_secs_f64().max(1e-3) * SAFETY;
        let capacity = limit - reserve(limit, per_sec);
        let start_cap = (limit * SAFETY).floor().clamp(1.0, capacity);
        let window_start = now_ms - i64::try_from(rate.per.as_millis()).unwrap_or(i64::MAX);
        let mut tokens = 0.0_f64;
        let mut at = window_start;
        let mut recent = false;
        for &t in sent_ms
            .iter()
            .filter(|t| **t > window_start && **t <= now_ms)
        {
            recent = true;
            tokens = (tokens + (t - at) as f64 / 1e3 * per_sec).min(capacity);
            tokens = (tokens - 1.0).max(0.0);
            at = t;
        }
        let tokens = if recent {
            (tokens + (now_ms - at) as f64 / 1e3 * per_sec).min(start_cap)
        } else {
            start_cap
        };
        Self {
            capacity,
            per_sec,
            tokens,
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
    fn a_rested_bucket_allows_most_of_its_burst_then_the_steady_rate() {
        let now = Instant::now();
        let mut bucket = Bucket::new(Rate::new(100, Duration::from_secs(1)), now);
        // 90 at once: ten (100 ms at 97 per second) held back for bunching on the way.
        for _ in 0..90 {
            assert_eq!(bucket.ready_at(now), now);
            bucket.take(now);
        }
        let next = bucket.ready_at(now) - now;
        // 100 per second at 97 %: one every 10.3 ms.
        assert!(
            next > Duration::from_millis(10) && next < Duration::from_millis(11),
            "{next:?}"
        );
    }

    #[test]
    fn a_replayed_bucket_keeps_what_recent_sends_left_of_its_period() {
        let now = Instant::now();
        let minute = Rate::new(20, Duration::from_secs(60));
        let now_ms = 1_000_000;
        // Five sends in the last 30 s: empty 60 s ago, 9.7 earned by then, 5 spent, 9.7 more.
        let sends: Vec<i64> = (0..5).map(|i| now_ms - 30_000 + i * 100).collect();
        let mut bucket = Bucket::replayed(minute, &sends, now_ms, now);
        let mut burst = 0;
        while bucket.ready_at(now) == now {
            bucket.take(now);
            burst += 1;
        }
        assert_eq!(burst, 14);
        // Sends older than the period do not count: a full (rested) bucket.
        let old = [now_ms - 61_000];
        let mut rested = Bucket::replayed(minute, &old, now_ms, now);
        assert!(rested.is_full(now) || rested.ready_at(now) == now);
    }

    #[test]
    fn a_bucket_right_after_a_burst_is_empty() {
        let now = Instant::now();
        let now_ms = 5_000;
        let sends: Vec<i64> = (0..10).map(|i| now_ms - 10 + i).collect();
        let mut bucket =
            Bucket::replayed(Rate::new(10, Duration::from_secs(1)), &sends, now_ms, now);
        assert!(bucket.ready_at(now) > now);
    }

    #[test]
    fn shared_buckets_keep_a_reserve_but_a_bucket_of_one_does_not() {
        let now = Instant::now();
        let burst = |rate: Rate| {
            let mut bucket = Bucket::new(rate, now);
            let mut n = 0;
            while bucket.ready_at(now) == now {
                bucket.take(now);
                n += 1;
            }
            n
        };
        assert_eq!(burst(per_second(1)), 1);
        assert_eq!(burst(per_second(2)), 1);
        assert_eq!(burst(per_second(10)), 9);
        assert_eq!(burst(per_second(30)), 27);
        assert_eq!(burst(Rate::new(20, Duration::from_secs(60))), 19);
        // Refilled after a rest, it still stops short of the limit.
        let mut bucket = Bucket::new(per_second(10), now);
        let later = now + Duration::from_secs(60);
        assert!(bucket.is_full(later));
        let mut n = 0;
        while bucket.ready_at(later) == later {
            bucket.take(later);
            n += 1;
        }
        assert_eq!(n, 9);
    }

    #[test]
    fn the_joint_readiness_is_the_latest_bucket() {
        let now = Instant::now();
        let mut fast = Bucket::new(per_second(100), now);
        let mut slow = Bucket::new(per_second(1), now);
        slow.take(now);
        let ready = ready_at(now, [&mut fast, &mut slow]);
        assert!(ready - now > Duration::from_millis(900));
        assert_eq!(ready_at(now, []), now);
    }
}
