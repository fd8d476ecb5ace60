//! Event log retention, SSE heartbeats and webhook delivery (`MTGATE_EVENTS_*`,
//! `MTGATE_WEBHOOK_*`), validated once with the rest of the configuration.

use std::time::Duration;

use super::ConfigError;
use super::edge::{parse_duration, value_or_default};

/// Each variable: name, default, and what it sets (also the text of `serve --help`).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "MTGATE_EVENTS_RETENTION_COUNT",
        "100000",
        "events kept per account in the log (older ones are deleted)",
    ),
    (
        "MTGATE_EVENTS_RETENTION_AGE",
        "7d",
        "events older than this are deleted (s, m, h or d; e.g. 12h, 30d)",
    ),
    (
        "MTGATE_EVENTS_HEARTBEAT",
        "15s",
        "an idle SSE stream gets a comment line this often, so proxies keep it open",
    ),
    (
        "MTGATE_EVENTS_COMMIT_WINDOW",
        "10ms",
        "while busy, the event log commits what arrives within this window together (group commit; 0 commits each batch at once, at most 1s)",
    ),
    (
        "MTGATE_WEBHOOK_TIMEOUT",
        "10s",
        "a webhook delivery not answered within this is a failed attempt",
    ),
    (
        "MTGATE_WEBHOOK_MAX_ATTEMPTS",
        "8",
        "attempts per event before it goes to the webhook's failures (dead letters)",
    ),
    (
        "MTGATE_WEBHOOK_RETRY_BASE",
        "500ms",
        "first retry delay; doubled per attempt (at most 5m), with jitter",
    ),
    (
        "MTGATE_WEBHOOK_BREAKER_THRESHOLD",
        "5",
        "failed attempts in a row that open a webhook's circuit breaker",
    ),
    (
        "MTGATE_WEBHOOK_BREAKER_COOLDOWN",
        "30s",
        "how long an open breaker waits before one probe delivery",
    ),
];

/// Validated event and webhook settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventsConfig {
    pub retention_count: i64,
    pub retention_age: Duration,
    pub heartbeat: Duration,
    /// How long the log's writer gathers batches before committing them together: every
    /// commit costs a round trip to the database's thread whatever its size, so sharing
    /// one between sends is what keeps a send cheap (BENCHMARKS.md, "Third pass").
    pub commit_window: Duration,
    pub webhook: WebhookPolicy,
}

/// How webhooks are delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookPolicy {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self::from_lookup(&|_| None).expect("the defaults are valid")
    }
}

impl EventsConfig {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| value_or_default(get, VARIABLES, name);
        let duration = |name: &str| parse_duration(name, &value(name));
        let count = |name: &str, max: u64| parse_count(name, &value(name), max);
        Ok(Self {
            retention_count: count("MTGATE_EVENTS_RETENTION_COUNT", 100_000_000)? as i64,
            retention_age: parse_age(
                "MTGATE_EVENTS_RETENTION_AGE",
                &value("MTGATE_EVENTS_RETENTION_AGE"),
            )?,
            heartbeat: duration("MTGATE_EVENTS_HEARTBEAT")?,
            commit_window: parse_window(
                "MTGATE_EVENTS_COMMIT_WINDOW",
                &value("MTGATE_EVENTS_COMMIT_WINDOW"),
            )?,
            webhook: WebhookPolicy {
                timeout: duration("MTGATE_WEBHOOK_TIMEOUT")?,
                max_attempts: count("MTGATE_WEBHOOK_MAX_ATTEMPTS", 100)? as u32,
                retry_base: duration("MTGATE_WEBHOOK_RETRY_BASE")?,
                breaker_threshold: count("MTGATE_WEBHOOK_BREAKER_THRESHOLD", 1000)? as u32,
                breaker_cooldown: duration("MTGATE_WEBHOOK_BREAKER_COOLDOWN")?,
            },
        })
    }
}

/// `0` (no window) or a duration up to one second.
fn parse_window(var: &str, raw: &str) -> Result<Duration, ConfigError> {
    if raw.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(var, raw)
        .ok()
        .filter(|window| *window <= Duration::from_secs(1))
        .ok_or_else(|| ConfigError::new(var, "must be 0 or a duration up to 1s, e.g. 2ms"))
}

/// `30s`, `15m`, `12h`, `7d` or bare seconds; between 1 second and 10 years.
fn parse_age(var: &str, raw: &str) -> Result<Duration, ConfigError> {
    let raw = raw.trim();
    let bad = || ConfigError::new(var, "must be an age like 3600, 90m, 12h or 7d");
    let (number, unit) = match raw.char_indices().last() {
        Some((i, 'd')) => (&raw[..i], 86_400),
        Some((i, 'h')) => (&raw[..i], 3_600),
        Some((i, 'm')) => (&raw[..i], 60),
        Some((i, 's')) => (&raw[..i], 1),
        _ => (raw, 1),
    };
    let seconds = number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|s| (1..=10 * 365 * 86_400).contains(s))
        .ok_or_else(bad)?;
    Ok(Duration::from_secs(seconds))
}

fn parse_count(var: &str, raw: &str, max: u64) -> Result<u64, ConfigError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| ConfigError::new(var, format!("must be a whole number between 1 and {max}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_keep_a_week_or_a_hundred_thousand_events() {
        let config = EventsConfig::default();
        assert_eq!(config.retention_count, 100_000);
        assert_eq!(config.retention_age, Duration::from_secs(7 * 86_400));
        assert_eq!(config.heartbeat, Duration::from_secs(15));
        assert_eq!(config.webhook.max_attempts, 8);
    }

    #[test]
    fn ages_take_days_hours_minutes_or_seconds() {
        let age = |raw| parse_age("X", raw);
        assert_eq!(age("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(age("3h").unwrap(), Duration::from_secs(10_800));
        assert_eq!(age("90m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(age("45").unwrap(), Duration::from_secs(45));
        for bad in ["", "0d", "-1h", "1w", "99999d"] {
            assert!(age(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_commit_window_is_zero_or_at_most_a_second() {
        let window = |raw| parse_window("X", raw);
        assert_eq!(window("0").unwrap(), Duration::ZERO);
        assert_eq!(window("2ms").unwrap(), Duration::from_millis(2));
        assert_eq!(window("1s").unwrap(), Duration::from_secs(1));
        for bad in ["", "0ms", "1001ms", "2s", "-1ms", "soon"] {
            assert!(window(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            EventsConfig::default().commit_window,
            Duration::from_millis(10)
        );
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let get = |name: &str| (name == "MTGATE_WEBHOOK_MAX_ATTEMPTS").then(|| "0".to_string());
        let error = EventsConfig::from_lookup(&get).unwrap_err();
        assert!(error.to_string().contains("MTGATE_WEBHOOK_MAX_ATTEMPTS"));
    }
}
