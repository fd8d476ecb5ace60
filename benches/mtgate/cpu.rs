//! CPU time of the three processes (bench, service, sandbox) from `/proc/PID/stat`, so
//! each row can say where an operation's CPU went. On a 2-core box the saturated rows are
//! CPU-bound, and CPU per operation explains their throughput better than latency does.

use serde::Serialize;

/// `USER_HZ`: the unit of `utime`/`stime` in `/proc/PID/stat`, fixed at 100 by the Linux
/// ABI on x86 (what `getconf CLK_TCK` prints), so 10 ms per tick.
const TICK_US: f64 = 10_000.0;

/// User + system time of a whole process (all threads, living and exited) in ticks.
pub fn ticks(pid: u32) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    stat_ticks(&stat)
        .ok_or_else(|| std::io::Error::other(format!("/proc/{pid}/stat is not parsable")))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field
/// 2) may contain spaces and parentheses, so fields are counted after its last `)`.
pub fn stat_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The processes whose CPU a row accounts for.
#[derive(Clone, Copy, Debug)]
pub struct Pids {
    pub bench: u32,
    pub service: u32,
    pub sandbox: u32,
}

/// CPU ticks of each process at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub bench: u64,
    pub service: u64,
    pub sandbox: u64,
}

/// Microseconds of CPU per operation, per process, over one measured run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PerOp {
    pub bench_us: f64,
    pub service_us: f64,
    pub sandbox_us: f64,
}

impl PerOp {
    pub fn total_us(&self) -> f64 {
        self.bench_us + self.service_us + self.sandbox_us
    }
}

impl Pids {
    /// Reads all three; a process that is gone reads as 0 (the row's figure is then wrong,
    /// but the bench fails loudly elsewhere when the service dies).
    pub fn snapshot(&self) -> Snapshot {
        let read = |pid| ticks(pid).unwrap_or(0);
        Snapshot {
            bench: read(self.bench),
            service: read(self.service),
            sandbox: read(self.sandbox),
        }
    }
}

/// CPU per operation between two snapshots for `ops` operations; `None` for no operations.
pub fn per_op(before: Snapshot, after: Snapshot, ops: usize) -> Option<PerOp> {
    let us = |a: u64, b: u64| b.saturating_sub(a) as f64 * TICK_US / ops as f64;
    (ops > 0).then(|| PerOp {
        bench_us: us(before.bench, after.bench),
        service_us: us(before.service, after.service),
        sandbox_us: us(before.sandbox, after.sandbox),
    })
}

/// Whether the service and the sandbox were idle between two snapshots: at most one tick
/// each (a tick can fall into any window).
pub fn quiet(before: Snapshot, after: Snapshot) -> bool {
    after.service.saturating_sub(before.service) <= 1
        && after.sandbox.saturating_sub(before.sandbox) <= 1
}

/// The quiet window before a row's warm-up: long enough to see leftover work.
pub const SETTLE_WINDOW: std::time::Duration = std::time::Duration::from_millis(200);

/// The quiet window between a row's warm-up and its measured run. It must outlast
/// grammers' possible-gap timeout (500 ms): the direct rows send with the same auth key as
/// mtgate, so the sandbox (as Telegram) pushes those messages to neither connection, and
/// mtgate learns of them only when its own next update shows the gap, fetching them with
/// `getChannelDifference` half a second later. Its warm-up reveals the gap; this window
/// waits out the fetch and the logging, which would otherwise be charged to the measured
/// run.
pub const AFTER_WARMUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(800);

impl Pids {
    /// Waits until the service and the sandbox are idle over one `window`, for at most
    /// `limit`; returns whether they were. A row starts only once the work left over from
    /// the row before is done (see [`AFTER_WARMUP_WINDOW`] for the catch-up a direct row
    /// leaves behind).
    pub async fn settle(&self, window: std::time::Duration, limit: std::time::Duration) -> bool {
        let start = std::time::Instant::now();
        let deadline = start + limit;
        let mut before = self.snapshot();
        loop {
            tokio::time::sleep(window).await;
            let now = self.snapshot();
            if quiet(before, now) {
                eprintln!("  (idle after {} ms)", start.elapsed().as_millis());
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            before = now;
        }
    }
}
