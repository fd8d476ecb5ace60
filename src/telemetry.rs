//! Tracing setup: bunyan JSON or pretty logs on stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Logs go to stderr so stdout stays machine-readable (`serve --sandbox` prints its JSON line
//! there). grammers' own crates are capped at `info` (or the filter's default level, when
//! that is quieter) unless `RUST_LOG` names them: at `debug` and `trace` they print request
//! bodies, which would put message text in the logs.

use std::io::IsTerminal;

use tracing_bunyan_formatter::{BunyanFormattingLayer, JsonStorageLayer};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{Directive, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{ConfigError, LogFormat};

/// `RUST_LOG` when unset.
pub const DEFAULT_FILTER: &str = "info";

const GRAMMERS_CRATES: &[&str] = &[
    "grammers_client",
    "grammers_mtsender",
    "grammers_mtproto",
    "grammers_session",
    "grammers_crypto",
    "grammers_tl_types",
];

/// Builds the log filter from `RUST_LOG` (or [`DEFAULT_FILTER`]), with grammers capped at
/// `info` — never louder than the filter's default level — unless the filter names it.
pub fn build_filter(rust_log: Option<&str>) -> Result<EnvFilter, ConfigError> {
    let text = rust_log
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(DEFAULT_FILTER);
    let mut filter = EnvFilter::builder()
        .parse(text)
        .map_err(|e| ConfigError::new("RUST_LOG", format!("is not a valid filter: {e}")))?;
    if !text.contains("grammers") {
        let cap = default_level(text).min(LevelFilter::INFO);
        for krate in GRAMMERS_CRATES {
            let directive: Directive = format!("{krate}={cap}")
                .parse()
                .expect("a static directive parses");
            filter = filter.add_directive(directive);
        }
    }
    Ok(filter)
}

/// The level of the filter's bare directive (`warn` in `mtgate=debug,warn`); without one,
/// targets the filter does not name are off.
fn default_level(text: &str) -> LevelFilter {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.contains('=') && !d.contains('['))
        .filter_map(|d| d.parse::<LevelFilter>().ok())
        .next_back()
        .unwrap_or(LevelFilter::OFF)
}

/// The configured log format, and whether `MTGATE_LOG_FORMAT` set it.
#[derive(Clone, Copy, Debug)]
pub struct LogChoice {
    pub format: LogFormat,
    pub chosen: bool,
}

impl LogChoice {
    /// Unless chosen: pretty for a person at a terminal, bunyan JSON for log collectors.
    pub fn resolve(self, stderr_is_terminal: bool) -> LogFormat {
        match (self.chosen, stderr_is_terminal) {
            (true, _) => self.format,
            (false, true) => LogFormat::Pretty,
            (false, false) => LogFormat::Json,
        }
    }
}

/// Installs the global subscriber. Returns an error naming `RUST_LOG` when the filter is
/// invalid; a second call in the same process (tests) leaves the first subscriber in place.
/// Pretty logs carry colours only when stderr is a terminal (never into pipes or files).
pub fn init(choice: LogChoice, rust_log: Option<&str>) -> Result<(), ConfigError> {
    let filter = build_filter(rust_log)?;
    let terminal = std::io::stderr().is_terminal();
    let registry = tracing_subscriber::registry().with(filter);
    let _already_installed = match choice.resolve(terminal) {
        LogFormat::Json => registry
            .with(JsonStorageLayer)
            .with(BunyanFormattingLayer::new("mtgate".into(), std::io::stderr))
            .try_init(),
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(terminal)
                    .with_target(true),
            )
            .try_init(),
    };
    install_panic_hook();
    Ok(())
}

/// Replaces the default panic hook (multi-line text on stderr, a backtrace per panic with
/// `RUST_BACKTRACE=1`) with one log line through tracing: JSON like every other line, and
/// inside the current span, so it carries the request id. The payload is left out: it may
/// quote input (message text), which never goes to the logs.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "a panic was contained (its message is not logged)");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_filter_names_rust_log() {
        let error = build_filter(Some("info,[[[")).unwrap_err();
        assert_eq!(error.var, "RUST_LOG");
    }

    #[test]
    fn grammers_is_capped_unless_named() {
        let capped = build_filter(Some("trace")).unwrap().to_string();
        assert!(capped.contains("grammers_mtsender=info"), "{capped}");
        let chosen = build_filter(Some("grammers_mtsender=trace"))
            .unwrap()
            .to_string();
        assert!(!chosen.contains("grammers_mtsender=info"), "{chosen}");
    }

    #[test]
    fn grammers_is_never_louder_than_the_default_level() {
        let quiet = build_filter(Some("warn")).unwrap().to_string();
        assert!(quiet.contains("grammers_mtsender=warn"), "{quiet}");
        let targeted = build_filter(Some("mtgate=debug")).unwrap().to_string();
        assert!(targeted.contains("grammers_mtsender=off"), "{targeted}");
    }

    #[test]
    fn an_unchosen_format_follows_the_terminal_and_a_chosen_one_wins() {
        let unset = LogChoice {
            format: LogFormat::Json,
            chosen: false,
        };
        assert_eq!(unset.resolve(true), LogFormat::Pretty);
        assert_eq!(unset.resolve(false), LogFormat::Json);
        for format in [LogFormat::Json, LogFormat::Pretty] {
            let chosen = LogChoice {
                format,
                chosen: true,
            };
            assert_eq!(chosen.resolve(true), format);
            assert_eq!(chosen.resolve(false), format);
        }
    }

    #[test]
    fn the_default_filter_is_info() {
        let filter = build_filter(None).unwrap().to_string();
        assert!(filter.contains("info"), "{filter}");
    }
}
