//! The outbox's settings (`MTGATE_OUTBOX_*`): pacing rates and the retry budget, validated
//! once with the rest of the configuration.

use std::time::Duration;

use super::ConfigError;
use super::edge::{parse_duration, value_or_default};
use crate::domain::Rates;
use crate::domain::rates::DEFAULT_RATES;

/// Each variable: name, default, and what it sets (also the text of `serve --help`).
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "MTGATE_OUTBOX_RATES",
        DEFAULT_RATES,
        "outbox pacing: sends per chat, per group, per account (N/s, N/m, N/h; `off`)",
    ),
    (
        "MTGATE_OUTBOX_RETRY_BUDGET",
        "8",
        "transient failures of one job before it goes `dead`",
    ),
    (
        "MTGATE_OUTBOX_RETRY_BASE",
        "2s",
        "first retry delay after a transient failure (doubles each time, with jitter)",
    ),
    ("MTGATE_OUTBOX_RETRY_MAX", "5m", "longest retry delay"),
];

/// Validated outbox settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    pub rates: Rates,
    pub retry_budget: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self::from_lookup(&|_| None).expect("the defaults are valid")
    }
}

impl OutboxConfig {
    /// Reads every `MTGATE_OUTBOX_*` variable through `get` (empty values count as unset).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| value_or_default(get, VARIABLES, name);
        let rates = Rates::parse(&value("MTGATE_OUTBOX_RATES")).map_err(|why| {
            ConfigError::new(
                "MTGATE_OUTBOX_RATES",
                format!("{why} (e.g. `{DEFAULT_RATES}`, or `off`)"),
            )
        })?;
        let retry_budget = value("MTGATE_OUTBOX_RETRY_BUDGET")
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "MTGATE_OUTBOX_RETRY_BUDGET",
                    "must be a whole number between 1 and 1000",
                )
            })?;
        let retry_base = parse_duration(
            "MTGATE_OUTBOX_RETRY_BASE",
            &value("MTGATE_OUTBOX_RETRY_BASE"),
        )?;
        let retry_max =
            parse_duration("MTGATE_OUTBOX_RETRY_MAX", &value("MTGATE_OUTBOX_RETRY_MAX"))?;
        if retry_max < retry_base {
            return Err(ConfigError::new(
                "MTGATE_OUTBOX_RETRY_MAX",
                "must not be shorter than MTGATE_OUTBOX_RETRY_BASE",
            ));
        }
        Ok(Self {
            rates,
            retry_budget,
            retry_base,
            retry_max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_telegrams_limits_and_a_budget_of_eight() {
        let config = OutboxConfig::default();
        assert_eq!(config.rates, Rates::default());
        assert_eq!(config.retry_budget, 8);
        assert_eq!(config.retry_base, Duration::from_secs(2));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let with = |name: &'static str, raw: &'static str| {
            OutboxConfig::from_lookup(&move |n| (n == name).then(|| raw.to_owned()))
        };
        let e = with("MTGATE_OUTBOX_RATES", "chat=fast").unwrap_err();
        assert!(e.to_string().contains("MTGATE_OUTBOX_RATES"), "{e}");
        assert!(with("MTGATE_OUTBOX_RETRY_BUDGET", "0").is_err());
        assert!(with("MTGATE_OUTBOX_RETRY_MAX", "1ms").is_err());
        assert_eq!(
            with("MTGATE_OUTBOX_RATES", "off").unwrap().rates,
            Rates::OFF
        );
    }
}
