//! Telegram's sending limits, enforced when asked (`POST /limits`, `mtgate sandbox --limits`):
//! per chat, per group and per account rates as token buckets, and slow mode on chosen
//! supergroups. Beyond them a send is answered FLOOD_WAIT_N (N from the bucket, longer for
//! repeated violation: each refusal while a wait is running adds to it, as Telegram does) or
//! SLOWMODE_WAIT_N. Off by default.
//!
//! Rates are written `chat=1/s,group=20/m,account=30/s` (units s, m, h; `scope=off`; `off`).
//! `N/unit` is a bucket of N sends refilled at N per unit; "group" is any supergroup (on top
//! of its chat limit), broadcast channels count as chats.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::model::ChatKey;

/// One limit: `count` sends per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

/// The configured limits; `None` is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub chat: Option<Rate>,
    pub group: Option<Rate>,
    pub account: Option<Rate>,
}

impl Rates {
    /// Parses `off` or `scope=N/unit[,…]` (scopes not named are unlimited).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let mut rates = Rates::default();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(rates);
        }
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (scope, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `scope=N/unit`"))?;
            let rate = if value.trim().eq_ignore_ascii_case("off") {
                None
            } else {
                let (count, unit) = value
                    .split_once('/')
                    .ok_or_else(|| format!("`{value}` is not `N/unit`"))?;
                let count: u32 = count
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("`{count}` is not a positive count"))?;
                let per = match unit.trim() {
                    "s" => Duration::from_secs(1),
                    "m" => Duration::from_secs(60),
                    "h" => Duration::from_secs(3600),
                    other => return Err(format!("unknown unit `{other}` (s, m or h)")),
                };
                Some(Rate { count, per })
            };
            match scope.trim() {
                "chat" => rates.chat = rate,
                "group" => rates.group = rate,
                "account" => rates.account = rate,
                other => return Err(format!("unknown scope `{other}` (chat, group, account)")),
            }
        }
        Ok(rates)
    }
}

#[derive(Clone, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// A wait was announced until then; sending inside it is a repeated violation.
    penalty_until: Option<Instant>,
    strikes: u32,
}

/// Where a bucket applies: one sender (the viewer) and a chat, or the sender as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scope {
    Chat(i64, ChatKey),
    Group(i64, ChatKey),
    Account(i64),
}

/// The limits and their live state.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    rates: Rates,
    buckets: HashMap<Scope, Bucket>,
    /// Supergroup → slow-mode seconds.
    slow_mode: HashMap<ChatKey, u32>,
    /// (sender, supergroup) → last accepted send.
    last_sent: HashMap<(i64, ChatKey), Instant>,
}

impl Limits {
    /// New limits (buckets start full), keeping slow mode.
    pub fn set_rates(&mut self, rates: Rates) {
        self.rates = rates;
        self.buckets.clear();
    }

    pub fn rates(&self) -> Rates {
        self.rates
    }

    /// Slow mode of `seconds` on `chat` (0 lifts it).
    pub fn set_slow_mode(&mut self, chat: ChatKey, seconds: u32) {
        if seconds == 0 {
            self.slow_mode.remove(&chat);
        } else {
            self.slow_mode.insert(chat, seconds);
        }
    }

    /// The same configuration, with nothing counted yet (after a reset).
    pub fn fresh(&self) -> Self {
        Self {
            rates: self.rates,
            slow_mode: self.slow_mode.clone(),
            ..Self::default()
        }
    }

    /// Admits one send by `sender` to `chat` at `now`, or says how long to wait:
    /// `Err(("FLOOD_WAIT", n))` or `Err(("SLOWMODE_WAIT", n))`.
    pub fn admit(
        &mut self,
        sender: i64,
        chat: ChatKey,
        is_group: bool,
        now: Instant,
    ) -> Result<(), (&'static str, u32)> {
        if let Some(&seconds) = self.slow_mode.get(&chat)
            && let Some(last) = self.last_sent.get(&(sender, chat))
        {
            let free_at = *last + Duration::from_secs(u64::from(seconds));
            if free_at > now {
                return Err(("SLOWMODE_WAIT", ceil_secs(free_at - now)));
            }
        }
        let mut scopes = Vec::with_capacity(3);
        if let Some(rate) = self.rates.chat {
            scopes.push((Scope::Chat(sender, chat), rate));
        }
        if is_group && let Some(rate) = self.rates.group {
            scopes.push((Scope::Group(sender, chat), rate));
        }
        if let Some(rate) = self.rates.account {
            scopes.push((Scope::Account(sender), rate));
        }
        // Every bucket must have a token; the longest wait is announced.
        let mut wait: Option<u32> = None;
        for (scope, rate) in &scopes {
            let bucket = self.bucket(*scope, *rate, now);
            if let Some(n) = bucket_wait(bucket, *rate, now) {
                wait = Some(wait.map_or(n, |w| w.max(n)));
            }
        }
        if let Some(n) = wait {
            for (scope, rate) in &scopes {
                let bucket = self.bucket(*scope, *rate, now);
                if bucket_wait(bucket, *rate, now).is_some() {
                    let until = now + Duration::from_secs(u64::from(n));
                    bucket.penalty_until =
                        Some(bucket.penalty_until.map_or(until, |t| t.max(until)));
                    bucket.strikes += 1;
                }
            }
            return Err(("FLOOD_WAIT", n));
        }
        for (scope, rate) in &scopes {
            let bucket = self.bucket(*scope, *rate, now);
            bucket.tokens -= 1.0;
            bucket.strikes = 0;
        }
        if self.slow_mode.contains_key(&chat) {
            self.last_sent.insert((sender, chat), now);
        }
        Ok(())
    }

    fn bucket(&mut self, scope: Scope, rate: Rate, now: Instant) -> &mut Bucket {
        let capacity = f64::from(rate.count);
        let bucket = self.buckets.entry(scope).or_insert(Bucket {
            tokens: capacity,
            at: now,
            penalty_until: None,
            strikes: 0,
        });
        let per_sec = capacity / rate.per.as_secs_f64();
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(capacity);
        bucket.at = bucket.at.max(now);
        bucket
    }
}

/// The seconds to announce when `bucket` cannot take a send at `now`: the time until its
/// next token (at least 1 s), longer by one period per repeated violation, and never less
/// than a wait already announced.
fn bucket_wait(bucket: &Bucket, rate: Rate, now: Instant) -> Option<u32> {
    let penalty = bucket.penalty_until.filter(|t| *t > now);
    if bucket.tokens >= 1.0 && penalty.is_none() {
        return None;
    }
    let per_sec = f64::from(rate.count) / rate.per.as_secs_f64();
    let refill = Duration::from_secs_f64(((1.0 - bucket.tokens).max(0.0)) / per_sec);
    let extra = rate.per.mul_f64(f64::from(bucket.strikes.min(60)));
    let wait = (refill + extra).max(penalty.map_or(Duration::ZERO, |t| t - now));
    Some(ceil_secs(wait))
}

fn ceil_secs(d: Duration) -> u32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: i64 = 1;

    fn limits(rates: &str) -> Limits {
        let mut limits = Limits::default();
        limits.set_rates(Rates::parse(rates).unwrap());
        limits
    }

    #[test]
    fn rates_parse_and_unnamed_scopes_are_unlimited() {
        let rates = Rates::parse("chat=2/s, account=30/m").unwrap();
        assert_eq!(rates.chat.unwrap().count, 2);
        assert_eq!(rates.account.unwrap().per, Duration::from_secs(60));
        assert!(rates.group.is_none());
        assert_eq!(Rates::parse("off").unwrap(), Rates::default());
        assert!(Rates::parse("chat=1/d").is_err());
        assert!(Rates::parse("room=1/s").is_err());
    }

    #[test]
    fn a_chat_gets_its_burst_then_flood_waits_that_grow_when_ignored() {
        let mut limits = limits("chat=2/s");
        let chat = ChatKey::User(7);
        let t0 = Instant::now();
        assert!(limits.admit(ME, chat, false, t0).is_ok());
        assert!(limits.admit(ME, chat, false, t0).is_ok());
        assert_eq!(limits.admit(ME, chat, false, t0), Err(("FLOOD_WAIT", 1)));
        // Asking again inside the wait is punished with a longer one.
        let again = limits.admit(ME, chat, false, t0 + Duration::from_millis(100));
        assert_eq!(again, Err(("FLOOD_WAIT", 2)));
        // Another chat is not limited by this one's bucket.
        assert!(limits.admit(ME, ChatKey::User(8), false, t0).is_ok());
        // After the wait it flows again.
        assert!(
            limits
                .admit(ME, chat, false, t0 + Duration::from_secs(3))
                .is_ok()
        );
    }

    #[test]
    fn the_account_rate_covers_every_chat_and_groups_have_their_own() {
        let mut limits = limits("account=3/s,group=1/m");
        let t0 = Instant::now();
        let group = ChatKey::Channel(5);
        assert!(limits.admit(ME, group, true, t0).is_ok());
        assert_eq!(limits.admit(ME, group, true, t0), Err(("FLOOD_WAIT", 60)));
        assert!(limits.admit(ME, ChatKey::User(2), false, t0).is_ok());
        assert!(limits.admit(ME, ChatKey::User(3), false, t0).is_ok());
        assert_eq!(
            limits.admit(ME, ChatKey::User(4), false, t0),
            Err(("FLOOD_WAIT", 1))
        );
        assert!(
            limits.admit(2, ChatKey::User(4), false, t0).is_ok(),
            "per sender"
        );
    }

    #[test]
    fn slow_mode_allows_one_message_per_period_per_sender() {
        let mut limits = Limits::default();
        let group = ChatKey::Channel(5);
        limits.set_slow_mode(group, 10);
        let t0 = Instant::now();
        assert!(limits.admit(ME, group, true, t0).is_ok());
        assert_eq!(
            limits.admit(ME, group, true, t0 + Duration::from_secs(4)),
            Err(("SLOWMODE_WAIT", 6))
        );
        assert!(limits.admit(2, group, true, t0).is_ok());
        assert!(
            limits
                .admit(ME, group, true, t0 + Duration::from_secs(10))
                .is_ok()
        );
        limits.set_slow_mode(group, 0);
        assert!(
            limits
                .admit(ME, group, true, t0 + Duration::from_secs(10))
                .is_ok()
        );
    }
}
