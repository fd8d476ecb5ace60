//! A bounded closed-loop load generator: `concurrency` workers share a counter of `ops`
//! operations; each takes the next index, runs the operation, records how long it took, and
//! only then takes another. Closed loop means the offered load adapts to the server (no
//! coordinated-omission queue builds up in the client), which is what a pool of app workers
//! calling mtgate does.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one run produced: latencies of the successes, failures by kind, and wall time from
/// the first operation started to the last one finished.
#[derive(Debug, Default)]
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub errors: BTreeMap<String, usize>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }
}

/// Runs `op(0..ops)` with at most `concurrency` in flight. An operation reports failure as a
/// short error *kind* (e.g. `HTTP 503`), so the error table stays small.
pub async fn run<F, Fut>(ops: usize, concurrency: usize, op: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (op, next) = (Arc::clone(&op), Arc::clone(&next));
            tokio::spawn(async move {
                let mut mine = Outcome::default();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= ops {
                        break mine;
                    }
                    let t0 = Instant::now();
                    match op(index).await {
                        Ok(()) => mine.latencies.push(t0.elapsed()),
                        Err(kind) => *mine.errors.entry(kind).or_default() += 1,
                    }
                }
            })
        })
        .collect();
    let mut total = Outcome::default();
    for worker in workers {
        let mine = worker.await.expect("a load worker panicked");
        total.latencies.extend(mine.latencies);
        for (kind, n) in mine.errors {
            *total.errors.entry(kind).or_default() += n;
        }
    }
    total.elapsed = started.elapsed();
    total
}
