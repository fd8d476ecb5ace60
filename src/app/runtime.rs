//! The async runtime `mtgate serve` runs on, shaped by `MTGATE_RUNTIME_THREADS`
//! ([`RuntimeThreads`]): one thread means a current-thread runtime, where the hand-offs of a
//! request between hyper, the handler and grammers' sender are local queue pushes instead of
//! cross-thread wake-ups. Blocking work keeps its own threads either way (Tokio's blocking
//! pool; sqlx runs each SQLite connection on a thread of its own).

use std::io;

use tokio::runtime::{Builder, Runtime};

use crate::config::RuntimeThreads;

/// Builds the runtime for this machine's core count.
pub fn build(threads: RuntimeThreads) -> io::Result<Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = threads.workers(cores);
    let mut builder = if workers == 1 {
        Builder::new_current_thread()
    } else {
        let mut builder = Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder.enable_all().build()
}
