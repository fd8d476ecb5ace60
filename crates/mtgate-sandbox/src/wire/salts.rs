//! Server salts: one per hour, derived from a per-server secret, so any connection can check a
//! salt without shared state.

use grammers_tl_types as tl;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long one salt is the current one.
const PERIOD_SECS: i64 = 3600;
/// Most salts handed out by one `get_future_salts`, as Telegram caps it.
const MAX_FUTURE_SALTS: i32 = 64;

#[derive(Clone)]
pub struct Salts {
    secret: [u8; 32],
}

impl std::fmt::Debug for Salts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salts(..)")
    }
}

impl Salts {
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        Self { secret }
    }

    fn salt_of_period(&self, period: i64) -> i64 {
        let hash = Sha256::new()
            .chain_update(self.secret)
            .chain_update(period.to_le_bytes())
            .finalize();
        match i64::from_le_bytes(hash[..8].try_into().expect("8 bytes")) {
            0 => 1, // 0 means "no salt yet" to clients
            salt => salt,
        }
    }

    /// The salt valid at unix time `now`.
    pub fn current(&self, now: i32) -> i64 {
        self.salt_of_period(i64::from(now).div_euclid(PERIOD_SECS))
    }

    /// Whether a client may use `salt` at `now`: the current period's salt, or its neighbours
    /// (clients switch a little after a salt's `valid_since`, and clocks drift).
    pub fn accepts(&self, salt: i64, now: i32) -> bool {
        let period = i64::from(now).div_euclid(PERIOD_SECS);
        (period - 1..=period + 1).any(|p| self.salt_of_period(p) == salt)
    }

    /// The answer to `get_future_salts(num)`: up to 64 salts starting with the current one.
    pub fn future(&self, req_msg_id: i64, num: i32, now: i32) -> tl::enums::FutureSalts {
        let first = i64::from(now).div_euclid(PERIOD_SECS);
        let salts: Vec<_> = (0..i64::from(num.clamp(1, MAX_FUTURE_SALTS)))
            .map(|i| {
                let period = first + i;
                tl::types::FutureSalt {
                    valid_since: (period * PERIOD_SECS) as i32,
                    valid_until: ((period + 1) * PERIOD_SECS) as i32,
                    salt: self.salt_of_period(period),
                }
            })
            .collect();
        let salts = tl::RawVec(salts);
        tl::enums::FutureSalts::Salts(tl::types::FutureSalts {
            req_msg_id,
            now,
            salts,
        })
    }
}

impl Default for Salts {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_salt_is_accepted_and_zero_never_is() {
        let salts = Salts::new();
        let now = 1_700_000_000;
        assert!(salts.accepts(salts.current(now), now));
        assert!(!salts.accepts(0, now));
        assert!(!Salts::new().accepts(salts.current(now), now));
    }

    #[test]
    fn future_salts_cover_consecutive_periods_and_stay_valid_while_current() {
        let salts = Salts::new();
        let now = 1_700_000_123;
        let tl::enums::FutureSalts::Salts(future) = salts.future(42, 100, now);
        assert_eq!(future.req_msg_id, 42);
        assert_eq!(future.salts.0.len(), 64);
        assert_eq!(future.salts.0[0].salt, salts.current(now));
        for pair in future.salts.0.windows(2) {
            assert_eq!(pair[0].valid_until, pair[1].valid_since);
        }
        for s in &future.salts.0[..3] {
            assert!(salts.accepts(s.salt, s.valid_since + 1));
            assert!(salts.accepts(s.salt, s.valid_until + 60));
            assert!(s.salt != 0);
        }
    }
}
