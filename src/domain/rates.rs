//! Sending rates (`MTGATE_OUTBOX_RATES`): how fast the outbox may send per chat, per group and
//! per account, written `chat=1/s,group=20/m,account=30/s`, or `off`.
//!
//! `N/unit` is a token bucket: up to N sends at once, refilled at N per unit (`s`, `m`, `h`).
//! Scopes not named keep their default; `scope=off` lifts one limit.

use std::fmt;
use std::time::Duration;

/// One limit: `count` sends per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub const fn new(count: u32, per: Duration) -> Self {
        Self { count, per }
    }

    /// Time between two sends at the steady rate.
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            60 => "m",
            3600 => "h",
            _ => "s",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

/// The three limits; `None` is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    /// Any one chat.
    pub chat: Option<Rate>,
    /// Any one group (basic or supergroup), on top of `chat`.
    pub group: Option<Rate>,
    /// Everything the account sends.
    pub account: Option<Rate>,
}

/// The default: Telegram's published limits.
pub const DEFAULT_RATES: &str = "chat=1/s,group=20/m,account=30/s";

impl Default for Rates {
    fn default() -> Self {
        Self {
            chat: Some(Rate::new(1, Duration::from_secs(1))),
            group: Some(Rate::new(20, Duration::from_secs(60))),
            account: Some(Rate::new(30, Duration::from_secs(1))),
        }
    }
}

impl Rates {
    /// No proactive pacing.
    pub const OFF: Self = Self {
        chat: None,
        group: None,
        account: None,
    };

    /// Parses `off` or `scope=N/unit[,…]`; the error is a sentence naming the problem.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(Self::OFF);
        }
        let mut rates = Self::default();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (scope, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `scope=N/unit` (e.g. `chat=1/s`)"))?;
            let rate = parse_rate(value.trim())?;
            match scope.trim() {
                "chat" => rates.chat = rate,
                "group" => rates.group = rate,
                "account" => rates.account = rate,
                other => {
                    return Err(format!(
                        "unknown scope `{other}`: use chat, group or account"
                    ));
                }
            }
        }
        Ok(rates)
    }
}

impl fmt::Display for Rates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: Option<Rate>| r.map_or("off".to_string(), |r| r.to_string());
        write!(
            f,
            "chat={},group={},account={}",
            show(self.chat),
            show(self.group),
            show(self.account)
        )
    }
}

fn parse_rate(raw: &str) -> Result<Option<Rate>, String> {
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (count, unit) = raw
        .split_once('/')
        .ok_or_else(|| format!("`{raw}` is not `N/unit` (e.g. `20/m`)"))?;
    let count: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| format!("`{count}` is not a count from 1 to 1000000"))?;
    let per = match unit.trim() {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        other => return Err(format!("unknown unit `{other}`: use s, m or h")),
    };
    Ok(Some(Rate::new(count, per)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_telegrams_published_limits() {
        assert_eq!(Rates::parse(DEFAULT_RATES).unwrap(), Rates::default());
        assert_eq!(Rates::default().to_string(), DEFAULT_RATES);
    }

    #[test]
    fn unnamed_scopes_keep_their_default_and_off_lifts_one_or_all() {
        let rates = Rates::parse("account=10/s, chat=off").unwrap();
        assert_eq!(rates.account, Some(Rate::new(10, Duration::from_secs(1))));
        assert_eq!(rates.chat, None);
        assert_eq!(rates.group, Rates::default().group);
        assert_eq!(Rates::parse("OFF").unwrap(), Rates::OFF);
        assert_eq!(Rates::OFF.to_string(), "chat=off,group=off,account=off");
    }

    #[test]
    fn mistakes_are_named() {
        for (bad, says) in [
            ("chat=1", "N/unit"),
            ("chat=0/s", "count"),
            ("chat=1/d", "unit `d`"),
            ("room=1/s", "scope `room`"),
            ("chat", "scope=N/unit"),
        ] {
            let error = Rates::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn the_interval_is_the_steady_spacing() {
        assert_eq!(
            Rate::new(20, Duration::from_secs(60)).interval(),
            Duration::from_secs(3)
        );
    }
}
