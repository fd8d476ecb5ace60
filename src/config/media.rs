//! Media limits (`MTGATE_MEDIA_*`), validated once with the rest of the configuration.

use std::time::Duration;

use super::ConfigError;
use super::edge::{parse_duration, value_or_default};

/// Each variable: name, default, and what it bounds (also the text of `serve --help`).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "MTGATE_MEDIA_MAX_BYTES",
        "2147483648",
        "largest file one upload may carry (checked while streaming; past it 413 PAYLOAD_TOO_LARGE)",
    ),
    (
        "MTGATE_MEDIA_BODY_TIMEOUT",
        "30m",
        "time a multipart upload's body has to arrive whole (instead of MTGATE_HTTP_BODY_TIMEOUT)",
    ),
    (
        "MTGATE_MEDIA_URL_SCHEMES",
        "off",
        "URL schemes a JSON send's `media.url` may use (`http`, `https` or `http,https`); `off`: no fetching",
    ),
];

/// Schemes mtgate can fetch (HTTPS trusting the roots of `crate::outgoing`).
pub const FETCHABLE_SCHEMES: &[&str] = &["http", "https"];

/// Telegram's own ceiling (4000 parts of 512 KiB; premium accounts may send twice that).
const TELEGRAM_MAX_BYTES: u64 = 4000 * 512 * 1024 * 2;

/// Validated media limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    pub max_bytes: u64,
    pub body_timeout: Duration,
    /// Schemes `media.url` may use; empty: URL media is off.
    pub url_schemes: Vec<String>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self::from_lookup(&|_| None).expect("the defaults are valid")
    }
}

impl MediaConfig {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| value_or_default(get, VARIABLES, name);
        let max_bytes = value("MTGATE_MEDIA_MAX_BYTES")
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=TELEGRAM_MAX_BYTES).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "MTGATE_MEDIA_MAX_BYTES",
                    format!("must be a number of bytes between 1 and {TELEGRAM_MAX_BYTES}"),
                )
            })?;
        let body_timeout = parse_duration(
            "MTGATE_MEDIA_BODY_TIMEOUT",
            &value("MTGATE_MEDIA_BODY_TIMEOUT"),
        )?;
        let url_schemes = parse_schemes(&value("MTGATE_MEDIA_URL_SCHEMES"))?;
        Ok(Self {
            max_bytes,
            body_timeout,
            url_schemes,
        })
    }
}

/// `off` (or nothing) or a comma-separated list of schemes this build can fetch.
fn parse_schemes(raw: &str) -> Result<Vec<String>, ConfigError> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() || raw == "off" {
        return Ok(Vec::new());
    }
    let schemes: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
    match schemes
        .iter()
        .find(|s| !FETCHABLE_SCHEMES.contains(&s.as_str()))
    {
        Some(bad) => Err(ConfigError::new(
            "MTGATE_MEDIA_URL_SCHEMES",
            format!(
                "`{bad}` cannot be fetched; use `off` or a list of: {}",
                FETCHABLE_SCHEMES.join(", ")
            ),
        )),
        None => Ok(schemes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_two_gib_and_thirty_minutes() {
        let media = MediaConfig::default();
        assert_eq!(media.max_bytes, 2 * 1024 * 1024 * 1024);
        assert_eq!(media.body_timeout, Duration::from_secs(1800));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, bad) in [
            ("MTGATE_MEDIA_MAX_BYTES", "0"),
            ("MTGATE_MEDIA_MAX_BYTES", "lots"),
            ("MTGATE_MEDIA_MAX_BYTES", "99999999999999"),
            ("MTGATE_MEDIA_BODY_TIMEOUT", "forever"),
        ] {
            let err = MediaConfig::from_lookup(&|name| (name == var).then(|| bad.to_owned()))
                .unwrap_err();
            assert!(err.to_string().contains(var), "{var}={bad}: {err}");
        }
        let small = MediaConfig::from_lookup(&|name| {
            (name == "MTGATE_MEDIA_MAX_BYTES").then(|| "1048576".to_owned())
        })
        .unwrap();
        assert_eq!(small.max_bytes, 1 << 20);
    }

    #[test]
    fn url_schemes_are_off_by_default_and_only_fetchable_ones_are_allowed() {
        assert!(MediaConfig::default().url_schemes.is_empty());
        let with = |v: &str| {
            let v = v.to_owned();
            MediaConfig::from_lookup(&move |name| {
                (name == "MTGATE_MEDIA_URL_SCHEMES").then(|| v.clone())
            })
        };
        assert_eq!(with("HTTP").unwrap().url_schemes, ["http"]);
        assert_eq!(with("https").unwrap().url_schemes, ["https"]);
        assert_eq!(
            with(" http , HTTPS ").unwrap().url_schemes,
            ["http", "https"]
        );
        assert!(with("off").unwrap().url_schemes.is_empty());
        for bad in ["file", "http,ftp", "ftp", "http,"] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains("MTGATE_MEDIA_URL_SCHEMES"), "{bad}: {err}");
        }
    }
}
