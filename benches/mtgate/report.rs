//! The run's results: a plain-text table for the terminal and the same data as JSON
//! (`target/bench/mtgate.json`). Targets are shown as met / missed, never asserted: the only
//! failing outcome of the bench is a lost or duplicated message.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::cpu::PerOp;
use crate::rss::Memory;
use crate::stats::{self, Summary};
use crate::truth::Audit;

/// One scenario at one concurrency.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Short key (`a`, `b`, `c0`, …) and what it measures.
    pub key: &'static str,
    pub name: &'static str,
    pub concurrency: usize,
    /// Measured operations attempted (warm-up excluded).
    pub ops: usize,
    pub errors: BTreeMap<String, usize>,
    pub summary: Option<Summary>,
    /// The key of the direct-grammers row this one is compared with, if any.
    pub baseline: Option<&'static str>,
    /// `p50 / baseline p50` and `throughput / baseline throughput`.
    pub p50_ratio: Option<f64>,
    pub throughput_ratio: Option<f64>,
    /// Scenario-specific counters (retries, connection drops, background load).
    pub notes: BTreeMap<&'static str, f64>,
    /// CPU per measured operation of the bench, service and sandbox processes.
    pub cpu: Option<PerOp>,
    /// (f): what the bench client retried on, by error kind (successful sends only).
    pub retried_on: BTreeMap<String, usize>,
    /// Ground truth for sends (warm-up included), filled in after the last scenario.
    pub audit: Option<Audit>,
}

impl Row {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }
}

/// Fills `p50_ratio` / `throughput_ratio` from the baseline row at the same concurrency.
pub fn compute_ratios(rows: &mut [Row]) {
    let baselines: Vec<(&'static str, usize, Option<Summary>)> = rows
        .iter()
        .map(|r| (r.key, r.concurrency, r.summary.clone()))
        .collect();
    for row in rows.iter_mut() {
        let Some(base_key) = row.baseline else {
            continue;
        };
        let base = baselines
            .iter()
            .find(|(k, c, _)| *k == base_key && *c == row.concurrency)
            .and_then(|(_, _, s)| s.as_ref());
        if let (Some(base), Some(mine)) = (base, &row.summary) {
            row.p50_ratio = stats::ratio(mine.p50_ms, base.p50_ms);
            row.throughput_ratio = stats::ratio(mine.throughput, base.throughput);
        }
    }
}

/// The service process's startup and memory.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceFacts {
    /// Spawn to first `GET /health/ready` = 200, one per cold start (fresh state dir), ms.
    pub ready_ms: Vec<f64>,
    pub ready_median_ms: Option<f64>,
    /// After ready, before any request but the readiness probes.
    pub idle: Memory,
    /// After the last scenario; `hwm_kb` is the peak over the whole run.
    pub after_load: Memory,
    pub sandbox_after_load: Option<Memory>,
}

/// A target of issue 6 and what this run measured for it.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub name: &'static str,
    pub goal: &'static str,
    pub measured: String,
    /// `None` when the run could not measure it.
    pub met: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub run_id: String,
    pub quick: bool,
    pub unix_time: u64,
    pub cpus: usize,
    /// `/proc/loadavg` when the run started and ended: other work on the box shows here.
    pub loadavg_start: String,
    pub loadavg_end: String,
    pub rows: Vec<Row>,
    pub service: ServiceFacts,
    pub targets: Vec<Target>,
    /// Lost + duplicated messages over all send scenarios: the bench's pass/fail.
    pub lost: usize,
    pub duplicated: usize,
}

/// The targets, evaluated on this run's rows.
pub fn targets(
    rows: &[Row],
    service: &ServiceFacts,
    lost: usize,
    duplicated: usize,
) -> Vec<Target> {
    let find = |key: &str, c: usize| rows.iter().find(|r| r.key == key && r.concurrency == c);
    let ratio_target =
        |name, goal, key, c, limit: f64, below: bool, pick: fn(&Row) -> Option<f64>| {
            let value = find(key, c).and_then(pick);
            Target {
                name,
                goal,
                measured: value.map_or("n/a".into(), |v| format!("{v:.2}x")),
                met: value.map(|v| if below { v <= limit } else { v >= limit }),
            }
        };
    let idle_mb = service.idle.rss_kb as f64 / 1024.0;
    let p50 = |key: &str| {
        find(key, 1)
            .and_then(|r| r.summary.as_ref())
            .map(|s| s.p50_ms)
    };
    // Issue 11: what a send adds at c=1 over a bare HTTP round trip plus the direct call.
    let overhead_target = |name, send: &str, live: &str, direct: &str| {
        let value = match (p50(send), p50(live), p50(direct)) {
            (Some(s), Some(h), Some(a)) => Some((s - h - a) * 1e3),
            _ => None,
        };
        Target {
            name,
            goal: "<= 30 us",
            measured: value.map_or("n/a".into(), |v| format!("{v:.0} us")),
            met: value.map(|v| v <= 30.0),
        }
    };
    // Issue 11: the service's CPU per send at c=64.
    let cpu_target = |name, key: &str| {
        let value = find(key, 64).and_then(|r| r.cpu).map(|c| c.service_us);
        Target {
            name,
            goal: "<= 40 us",
            measured: value.map_or("n/a".into(), |v| format!("{v:.0} us")),
            met: value.map(|v| v <= 40.0),
        }
    };
    vec![
        overhead_target("c=1 p50 b - (h + a)", "b", "h", "a"),
        overhead_target("(context) c=1 p50 floor p - (h + a)", "p", "h", "a"),
        cpu_target("c=64 service CPU per send (b)", "b"),
        cpu_target("(context) c=64 floor CPU per send (p)", "p"),
        ratio_target(
            "p50 send, mtgate/direct, c=1",
            "<= 1.15x",
            "b",
            1,
            1.15,
            true,
            |r| r.p50_ratio,
        ),
        ratio_target(
            "throughput, mtgate/direct, c=64",
            ">= 0.90x",
            "b",
            64,
            0.9,
            false,
            |r| r.throughput_ratio,
        ),
        ratio_target(
            "(context) p50 send ratio c=1, +RTT",
            "<= 1.15x",
            "gb",
            1,
            1.15,
            true,
            |r| r.p50_ratio,
        ),
        ratio_target(
            "(context) throughput ratio c=64, +RTT",
            ">= 0.90x",
            "gb",
            64,
            0.9,
            false,
            |r| r.throughput_ratio,
        ),
        Target {
            name: "idle RSS of mtgate serve",
            goal: "<= 15 MB",
            measured: format!("{idle_mb:.1} MiB"),
            met: Some(idle_mb <= 15.0),
        },
        Target {
            name: "start to /health/ready = 200 (median)",
            goal: "<= 100 ms",
            measured: service
                .ready_median_ms
                .map_or("n/a".into(), |v| format!("{v:.1} ms")),
            met: service.ready_median_ms.map(|v| v <= 100.0),
        },
        Target {
            name: "lost / duplicated messages (all sends)",
            goal: "0 / 0",
            measured: format!("{lost} / {duplicated}"),
            met: Some(lost == 0 && duplicated == 0),
        },
    ]
}

/// The terminal table.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(
        o,
        "mtgate benchmark  run {}  ({} mode, {} CPUs)",
        report.run_id,
        if report.quick { "quick" } else { "full" },
        report.cpus
    );
    let _ = writeln!(
        o,
        "load average at start: {}; at end: {}",
        report.loadavg_start, report.loadavg_end
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<28} {:>3} {:>5} {:>4} {:>8} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6}",
        "scenario", "c", "ops", "err", "ops/s", "p50ms", "p90ms", "p99ms", "maxms", "p50x", "thr x"
    );
    for row in &report.rows {
        let label = format!("{} {}", row.key, row.name);
        let (thr, p50, p90, p99, max) = row.summary.as_ref().map_or(
            ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
            |s| {
                (
                    format!("{:.0}", s.throughput),
                    format!("{:.3}", s.p50_ms),
                    format!("{:.3}", s.p90_ms),
                    format!("{:.3}", s.p99_ms),
                    format!("{:.2}", s.max_ms),
                )
            },
        );
        let x = |r: Option<f64>| r.map_or("-".into(), |v| format!("{v:.2}"));
        let _ = writeln!(
            o,
            "{:<28} {:>3} {:>5} {:>4} {:>8} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6}",
            label,
            row.concurrency,
            row.ops,
            row.error_count(),
            thr,
            p50,
            p90,
            p99,
            max,
            x(row.p50_ratio),
            x(row.throughput_ratio)
        );
    }

    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<28} {:>3} {:>9} {:>9} {:>9} {:>9}",
        "CPU us per operation", "c", "bench", "service", "sandbox", "total"
    );
    for row in &report.rows {
        let Some(cpu) = &row.cpu else { continue };
        let _ = writeln!(
            o,
            "{:<28} {:>3} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            format!("{} {}", row.key, row.name),
            row.concurrency,
            cpu.bench_us,
            cpu.service_us,
            cpu.sandbox_us,
            cpu.total_us()
        );
    }
    let _ = writeln!(
        o,
        "(10 ms clock ticks over the measured run; bench = load generator plus, for direct rows, the grammers client)"
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<28} {:>3} {:>6} {:>6} {:>5} {:>4} {:>6} {:>7} {:>8}",
        "ground truth (sends)", "c", "sent", "acked", "lost", "dup", "wrongid", "failed*", "notes"
    );
    for row in report.rows.iter() {
        let Some(a) = &row.audit else { continue };
        let notes: Vec<String> = row.notes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            o,
            "{:<28} {:>3} {:>6} {:>6} {:>5} {:>4} {:>6} {:>7}  {}",
            format!("{} {}", row.key, row.name),
            row.concurrency,
            a.sent,
            a.acked,
            a.lost,
            a.duplicated,
            a.wrong_id,
            a.failed_but_delivered,
            notes.join(" ")
        );
    }
    let _ = writeln!(
        o,
        "(* failed for the sender but delivered; sent/acked include warm-up sends)"
    );

    let errors: Vec<String> = report
        .rows
        .iter()
        .filter(|r| !r.errors.is_empty())
        .map(|r| format!("  {} c={}: {:?}", r.key, r.concurrency, r.errors))
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(o, "\nerrors by kind:\n{}", errors.join("\n"));
    }
    for row in report.rows.iter().filter(|r| !r.retried_on.is_empty()) {
        let _ = writeln!(
            o,
            "{} c={} retried on: {:?}",
            row.key, row.concurrency, row.retried_on
        );
    }

    let s = &report.service;
    let mib = |kb: u64| kb as f64 / 1024.0;
    let _ = writeln!(o);
    let ready: Vec<String> = s.ready_ms.iter().map(|v| format!("{v:.1}")).collect();
    let _ = writeln!(
        o,
        "mtgate serve: ready after [{}] ms (median {}), RSS idle {:.1} MiB, after load {:.1} MiB, peak (VmHWM) {:.1} MiB",
        ready.join(", "),
        s.ready_median_ms
            .map_or("n/a".into(), |v| format!("{v:.1}")),
        mib(s.idle.rss_kb),
        mib(s.after_load.rss_kb),
        mib(s.after_load.hwm_kb)
    );
    if let Some(sb) = &s.sandbox_after_load {
        let _ = writeln!(
            o,
            "mtgate sandbox: RSS after load {:.1} MiB, peak {:.1} MiB",
            mib(sb.rss_kb),
            mib(sb.hwm_kb)
        );
    }

    let _ = writeln!(o, "\ntargets (issues 6 and 11):");
    for t in &report.targets {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        let _ = writeln!(
            o,
            "  {:<40} goal {:<9} measured {:<12} {}",
            t.name, t.goal, t.measured, verdict
        );
    }
    let failed_ops: usize = report.rows.iter().map(Row::error_count).sum();
    let verdict = if report.lost + report.duplicated == 0 {
        "PASS"
    } else {
        "FAIL"
    };
    let _ = writeln!(
        o,
        "\nresult: {} lost, {} duplicated -> {verdict}",
        report.lost, report.duplicated
    );
    if failed_ops > 0 {
        let _ = writeln!(
            o,
            "warning: {failed_ops} measured operations failed (errors by kind above)"
        );
    }
    out
}
