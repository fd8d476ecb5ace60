//! How many threads run the service's async work (`MTGATE_RUNTIME_THREADS`).
//!
//! A send crosses several tasks: hyper's connection task (which runs the handler), grammers'
//! pool runner and its sender, then back. On a multi-thread runtime each hand-off may wake a
//! parked worker on another core (a futex, a context switch); on one thread the same hand-offs
//! are queue pushes. Read before the runtime exists, so it is parsed on its own rather than
//! as part of [`super::Config`].

use std::num::NonZeroUsize;

use super::ConfigError;

/// Name, default and meaning (also the text of `serve --help`).
pub const VARIABLES: &[(&str, &str, &str)] = &[(
    "MTGATE_RUNTIME_THREADS",
    "auto",
    "threads serving requests: 1 = one thread (no cross-thread hand-offs), N = N workers, \
     auto = 1 on a machine with 2 cores or fewer, else one per core",
)];

/// Largest worker count accepted.
const MAX_THREADS: usize = 1024;

/// Cores up to which `auto` picks one thread (measured: BENCHMARKS.md, issue 11).
const SINGLE_THREAD_UP_TO_CORES: usize = 2;

/// `MTGATE_RUNTIME_THREADS`, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeThreads {
    /// Decided from the machine's core count ([`Self::workers`]).
    Auto,
    /// Exactly this many (1 = a current-thread runtime).
    Fixed(NonZeroUsize),
}

impl RuntimeThreads {
    /// Reads the variable through `get` (empty counts as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let Some(raw) = get("MTGATE_RUNTIME_THREADS").filter(|v| !v.trim().is_empty()) else {
            return Ok(Self::Auto);
        };
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        raw.parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_THREADS)
            .and_then(NonZeroUsize::new)
            .map(Self::Fixed)
            .ok_or_else(|| {
                ConfigError::new(
                    "MTGATE_RUNTIME_THREADS",
                    format!("must be `auto` or a whole number between 1 and {MAX_THREADS}"),
                )
            })
    }

    /// How many threads to run on a machine with `cores` cores; 1 means a current-thread
    /// runtime.
    pub fn workers(self, cores: usize) -> usize {
        match self {
            Self::Fixed(n) => n.get(),
            Self::Auto if cores <= SINGLE_THREAD_UP_TO_CORES => 1,
            Self::Auto => cores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<RuntimeThreads, ConfigError> {
        let raw = raw.to_owned();
        RuntimeThreads::from_lookup(move |_| Some(raw.clone()))
    }

    #[test]
    fn unset_empty_and_auto_mean_auto() {
        assert_eq!(
            RuntimeThreads::from_lookup(|_| None).unwrap(),
            RuntimeThreads::Auto
        );
        assert_eq!(parse("  ").unwrap(), RuntimeThreads::Auto);
        assert_eq!(parse("AUTO").unwrap(), RuntimeThreads::Auto);
    }

    #[test]
    fn a_count_is_taken_as_is_within_bounds() {
        assert_eq!(parse(" 1 ").unwrap().workers(64), 1);
        assert_eq!(parse("4").unwrap().workers(1), 4);
        assert_eq!(parse("1024").unwrap().workers(2), 1024);
        for bad in ["0", "-1", "1025", "two", "1.5"] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.var, "MTGATE_RUNTIME_THREADS", "{bad}");
        }
    }

    #[test]
    fn auto_is_one_thread_on_small_boxes_and_one_per_core_above() {
        let auto = RuntimeThreads::Auto;
        assert_eq!(auto.workers(1), 1);
        assert_eq!(auto.workers(2), 1);
        assert_eq!(auto.workers(3), 3);
        assert_eq!(auto.workers(16), 16);
    }
}
