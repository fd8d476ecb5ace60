//! A circuit breaker per webhook endpoint: after `threshold` failed attempts in a row it
//! opens and no request goes out until `cooldown` has passed; then one probe decides
//! (success closes it, failure opens it again for another cooldown).

use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    failures: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            failures: 0,
            open_until: None,
        }
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(until) if now < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// When the next request may go out (`now` unless open).
    pub fn ready_at(&self, now: Instant) -> Instant {
        match self.open_until {
            Some(until) if now < until => until,
            _ => now,
        }
    }

    pub fn on_success(&mut self) {
        self.failures = 0;
        self.open_until = None;
    }

    /// Counts a failure; true when this one opened (or re-opened) the breaker.
    pub fn on_failure(&mut self, now: Instant) -> bool {
        self.failures = self.failures.saturating_add(1);
        let probing = self.open_until.is_some();
        if probing || self.failures >= self.threshold {
            self.open_until = Some(now + self.cooldown);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_after_the_threshold_and_a_probe_decides_after_the_cooldown() {
        let t0 = Instant::now();
        let cooldown = Duration::from_secs(10);
        let mut b = Breaker::new(3, cooldown);
        assert!(!b.on_failure(t0));
        assert!(!b.on_failure(t0));
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert!(b.on_failure(t0));
        assert_eq!(b.state(t0), BreakerState::Open);
        assert_eq!(b.ready_at(t0), t0 + cooldown);
        let later = t0 + cooldown;
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert_eq!(b.ready_at(later), later);
        // A failed probe opens it again at once, for another cooldown.
        assert!(b.on_failure(later));
        assert_eq!(b.ready_at(later), later + cooldown);
        b.on_success();
        assert_eq!(b.state(later), BreakerState::Closed);
        assert!(!b.on_failure(later), "the count starts over");
    }
}
