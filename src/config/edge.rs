//! The HTTP edge's limits (`MTGATE_HTTP_*`) and the Telegram stall window, validated once with
//! the rest of the configuration. Defaults hold on a small box: a few hundred sockets, a few
//! dozen concurrent Telegram-bound requests, slow clients cut off within seconds.

use std::time::Duration;

use super::ConfigError;

/// Each variable: name, default, and what it bounds (also the text of `serve --help`).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "MTGATE_HTTP_HEADER_TIMEOUT",
        "10s",
        "time a client has to send a whole request head once it started one",
    ),
    (
        "MTGATE_HTTP_BODY_TIMEOUT",
        "15s",
        "time a client has to send a whole request body",
    ),
    (
        "MTGATE_HTTP_IDLE_TIMEOUT",
        "60s",
        "idle keep-alive connections (and new ones that send nothing) are closed after this",
    ),
    (
        "MTGATE_HTTP_MAX_CONNECTIONS",
        "256",
        "open connections; past it new ones get 503 OVERLOADED and are closed",
    ),
    (
        "MTGATE_HTTP_MAX_IN_FLIGHT",
        "128",
        "/v1 and /telegram requests being served at once; past it 503 OVERLOADED at once",
    ),
    (
        "MTGATE_HEALTH_STALL_WINDOW",
        "30s",
        "calls waiting with nothing succeeding this long trigger a probe; health degrades if it fails",
    ),
];

/// Validated edge limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeConfig {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_in_flight: usize,
    pub stall_window: Duration,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self::from_lookup(&|_| None).expect("the defaults are valid")
    }
}

impl EdgeConfig {
    /// Reads every `MTGATE_HTTP_*` variable (and the stall window) through `get`, which
    /// treats empty values as unset.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| value_or_default(get, VARIABLES, name);
        let duration = |name: &str| parse_duration(name, &value(name));
        let count = |name: &str| parse_count(name, &value(name));
        Ok(Self {
            header_timeout: duration("MTGATE_HTTP_HEADER_TIMEOUT")?,
            body_timeout: duration("MTGATE_HTTP_BODY_TIMEOUT")?,
            idle_timeout: duration("MTGATE_HTTP_IDLE_TIMEOUT")?,
            max_connections: count("MTGATE_HTTP_MAX_CONNECTIONS")?,
            max_in_flight: count("MTGATE_HTTP_MAX_IN_FLIGHT")?,
            stall_window: duration("MTGATE_HEALTH_STALL_WINDOW")?,
        })
    }
}

/// A variable's value through `get`, or else its default from `table` (name, default, doc).
pub fn value_or_default(
    get: &dyn Fn(&str) -> Option<String>,
    table: &[(&str, &str, &str)],
    name: &str,
) -> String {
    get(name).unwrap_or_else(|| {
        table
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, default, _)| (*default).to_owned())
            .unwrap_or_default()
    })
}

/// `250ms`, `10s`, `2m`, or a bare number of seconds; between 1 ms and 1 hour.
pub fn parse_duration(var: &str, raw: &str) -> Result<Duration, ConfigError> {
    let raw = raw.trim();
    let bad = || {
        ConfigError::new(
            var,
            "must be a duration between 1ms and 1h, e.g. 500ms, 10s or 2m",
        )
    };
    let (number, unit_ms) = if let Some(n) = raw.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = raw.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = raw.strip_suffix('m') {
        (n, 60_000)
    } else {
        (raw, 1000)
    };
    let number: u64 = number.trim().parse().map_err(|_| bad())?;
    let millis = number.checked_mul(unit_ms).ok_or_else(bad)?;
    if !(1..=3_600_000).contains(&millis) {
        return Err(bad());
    }
    Ok(Duration::from_millis(millis))
}

/// A whole number between 1 and 1,000,000.
fn parse_count(var: &str, raw: &str) -> Result<usize, ConfigError> {
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| ConfigError::new(var, "must be a whole number between 1 and 1000000"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_on_a_small_box() {
        let edge = EdgeConfig::default();
        assert_eq!(edge.header_timeout, Duration::from_secs(10));
        assert_eq!(edge.body_timeout, Duration::from_secs(15));
        assert_eq!(edge.idle_timeout, Duration::from_secs(60));
        assert_eq!(edge.max_connections, 256);
        assert_eq!(edge.max_in_flight, 128);
        assert_eq!(edge.stall_window, Duration::from_secs(30));
    }

    #[test]
    fn durations_take_ms_s_m_or_bare_seconds() {
        let d = |raw| parse_duration("X", raw);
        assert_eq!(d("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(d("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(d(" 2m ").unwrap(), Duration::from_secs(120));
        assert_eq!(d("7").unwrap(), Duration::from_secs(7));
        for bad in [
            "",
            "0",
            "0ms",
            "-1s",
            "1.5s",
            "2h",
            "61m",
            "abc",
            "99999999999999999999m",
        ] {
            let e = d(bad).unwrap_err();
            assert_eq!(e.var, "X", "{bad}");
        }
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let lookup = |name: &str| (name == "MTGATE_HTTP_MAX_IN_FLIGHT").then(|| "0".to_owned());
        let e = EdgeConfig::from_lookup(&lookup).unwrap_err();
        assert_eq!(e.var, "MTGATE_HTTP_MAX_IN_FLIGHT");
        let lookup = |name: &str| (name == "MTGATE_HTTP_IDLE_TIMEOUT").then(|| "soon".to_owned());
        assert_eq!(
            EdgeConfig::from_lookup(&lookup).unwrap_err().var,
            "MTGATE_HTTP_IDLE_TIMEOUT"
        );
    }

    #[test]
    fn set_values_replace_the_defaults() {
        let lookup = |name: &str| match name {
            "MTGATE_HTTP_MAX_CONNECTIONS" => Some("8".to_owned()),
            "MTGATE_HTTP_HEADER_TIMEOUT" => Some("300ms".to_owned()),
            _ => None,
        };
        let edge = EdgeConfig::from_lookup(&lookup).unwrap();
        assert_eq!(edge.max_connections, 8);
        assert_eq!(edge.header_timeout, Duration::from_millis(300));
        assert_eq!(edge.max_in_flight, 128);
    }
}
