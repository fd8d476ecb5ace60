//! Latency percentiles and throughput: the only arithmetic the report rests on, kept pure so
//! it can be checked by unit tests (`cargo test --bench mtgate_units`).

use std::time::Duration;

use serde::Serialize;

/// What one measured run looked like, in milliseconds (floats, so sub-millisecond loopback
/// latencies keep their precision in the JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Successful operations the latencies were taken from.
    pub ok: usize,
    /// Operations per second of wall time (successes only).
    pub throughput: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Nearest-rank percentile of an ascending slice: the smallest sample with at least
/// `q` of all samples at or below it. `q` is in `0.0..=1.0`; `None` for no samples.
pub fn percentile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Summarizes the latencies of the successful operations of one run that took `elapsed`
/// wall time; `None` when nothing succeeded.
pub fn summarize(mut latencies: Vec<Duration>, elapsed: Duration) -> Option<Summary> {
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let total: Duration = latencies.iter().sum();
    let ok = latencies.len();
    Some(Summary {
        ok,
        throughput: throughput(ok, elapsed),
        p50_ms: ms(percentile(&latencies, 0.50)?),
        p90_ms: ms(percentile(&latencies, 0.90)?),
        p99_ms: ms(percentile(&latencies, 0.99)?),
        max_ms: ms(*latencies.last()?),
        mean_ms: ms(total) / ok as f64,
    })
}

/// Operations per second; zero when no time passed (nothing ran).
pub fn throughput(ops: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { ops as f64 / secs } else { 0.0 }
}

/// `value / baseline`, or `None` when the baseline is zero or missing.
pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0).then(|| value / baseline)
}

/// The median of a few whole measurements (e.g. startup times); `None` for none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
