//! Requests per API key name (never the key), account and outcome, for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use super::ApiError;

/// `mtgate_api_requests_total{key, account, outcome}`: `outcome` is `allowed` or the error
/// code the auth layer answered with (`KEY_SCOPE`, `ACCOUNT_NOT_FOUND`).
#[derive(Debug, Default)]
pub struct KeyMetrics {
    counts: Mutex<BTreeMap<(String, String, &'static str), u64>>,
}

impl KeyMetrics {
    /// Counts one authenticated request. `account` must be a configured account's name (or
    /// `-`), so callers cannot grow the label set.
    pub fn count(&self, key: &str, account: &str, refused: Option<&ApiError>) {
        let outcome = refused.map_or("allowed", ApiError::code);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts
            .entry((key.to_owned(), account.to_owned(), outcome))
            .or_default() += 1;
    }

    /// The Prometheus text of the family.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP mtgate_api_requests_total Authenticated API requests by key name, account \
             and outcome.\n# TYPE mtgate_api_requests_total counter\n",
        );
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for ((key, account, outcome), n) in counts.iter() {
            let _ = writeln!(
                out,
                "mtgate_api_requests_total{{key=\"{key}\",account=\"{account}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_key_account_and_outcome() {
        let metrics = KeyMetrics::default();
        metrics.count("ci", "default", None);
        metrics.count("ci", "default", None);
        metrics.count("ci", "alice", Some(&ApiError::KeyScope("no".into())));
        let text = metrics.render();
        assert!(text.contains(
            "mtgate_api_requests_total{key=\"ci\",account=\"default\",outcome=\"allowed\"} 2"
        ));
        assert!(text.contains(
            "mtgate_api_requests_total{key=\"ci\",account=\"alice\",outcome=\"KEY_SCOPE\"} 1"
        ));
    }
}
