//! `cargo bench --bench mtgate [-- --quick] [-- --ops N] [-- --only media]`: what mtgate's HTTP layer costs
//! against the grammers client calling the sandbox directly, and how the service holds up
//! under load and connection drops (issue 6; see BENCHMARKS.md).
//!
//! Starts `mtgate sandbox`, `mtgate serve` and the floor proxy (this binary again, see
//! `floor.rs`) as separate processes on loopback, runs every
//! scenario at concurrency 1, 16 and 64, prints a table, writes `target/bench/mtgate.json`
//! (process logs under `target/bench/logs/`), and exits 1 only if a message was lost or
//! duplicated (2 if the bench itself could not run). Timings are reported, never asserted.
//! `--only outbox` runs the outbox broadcast instead (see `outbox.rs`); `--only failover` the
//! replicas failover row (see `failover.rs`).

mod cpu;
mod direct;
mod events;
mod failover;
mod floor;
mod http;
mod load;
mod media;
mod outbox;
mod procs;
mod report;
mod rss;
mod scenarios;
mod stats;
mod truth;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procs::{Error, Sandbox, Service};
use report::{Report, ServiceFacts};
use scenarios::{Bench, Plan};

/// Command-line / environment options.
struct Options {
    quick: bool,
    ops: Option<usize>,
    only: Option<Vec<String>>,
    concurrencies: Option<Vec<usize>>,
}

impl Options {
    /// `--quick` (or `MTGATE_BENCH_QUICK=1`) for a smoke run, `--ops N` to override the
    /// operation count, `--only a,b` and `--concurrency 64` to run a subset (for profiling).
    /// Other arguments (cargo adds `--bench`) are ignored.
    fn parse() -> Self {
        let mut quick = std::env::var("MTGATE_BENCH_QUICK").is_ok_and(|v| v == "1");
        let mut ops = None;
        let mut only = None;
        let mut concurrencies = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--ops" => ops = args.next().and_then(|n| n.parse().ok()),
                "--only" => {
                    only = args
                        .next()
                        .map(|l| l.split(',').map(str::to_owned).collect())
                }
                "--concurrency" => {
                    concurrencies = args
                        .next()
                        .map(|l| l.split(',').filter_map(|c| c.parse().ok()).collect())
                }
                _ => {}
            }
        }
        Self {
            quick,
            ops,
            only,
            concurrencies,
        }
    }

    fn plan(&self) -> Plan {
        let ops = self.ops.unwrap_or(if self.quick { 200 } else { 10_000 });
        Plan {
            ops,
            warmup: (ops / 10).max(10),
            concurrencies: self.concurrencies.clone().unwrap_or(vec![1, 16, 64]),
            drop_every: (ops / 10).max(10),
            background_senders: 4,
            history_limit: 20,
            rtt_ms: 20,
            only: self.only.clone(),
        }
    }

    /// Cold starts of `mtgate serve` timed to readiness (the last one is benchmarked).
    fn starts(&self) -> usize {
        if self.quick { 2 } else { 5 }
    }
}

fn main() -> ExitCode {
    // Started again by `floor::Floor::start`: this process is the (p) row's proxy.
    if let Some(code) = floor::serve_if_asked() {
        return code;
    }
    let options = Options::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    // `--only outbox`: the outbox broadcast alone (issue 12), its own report.
    if options
        .only
        .as_ref()
        .is_some_and(|o| o.iter().any(|k| k == "outbox"))
    {
        return match runtime.block_on(run_outbox(&options)) {
            Ok(report) if report.ok() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(error) => {
                eprintln!("mtgate outbox bench could not run: {error}");
                ExitCode::from(2)
            }
        };
    }
    if options.only.as_deref() == Some(&["events".to_string()][..]) {
        return runtime.block_on(run_events(&options));
    }
    // `--only failover`: replicas on PostgreSQL, the holder killed again and again (issue 16).
    if options.only.as_deref() == Some(&["failover".to_string()][..]) {
        return runtime.block_on(run_failover(&options));
    }
    // `--only media`: the media rows alone (they need their own processes and a quiet box).
    if options
        .only
        .as_ref()
        .is_some_and(|only| only.iter().any(|s| s == "media"))
    {
        return runtime.block_on(run_media());
    }
    match runtime.block_on(run(&options)) {
        Ok(report) if report.lost + report.duplicated == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(error) => {
            eprintln!("mtgate bench could not run: {error}");
            ExitCode::from(2)
        }
    }
}

/// `--only failover`: the failover time row (see `failover`).
async fn run_failover(options: &Options) -> ExitCode {
    let out_dir = target_dir().join("bench");
    let logs = out_dir.join("logs");
    if let Err(e) = std::fs::create_dir_all(&logs) {
        eprintln!("mtgate bench could not run: {e}");
        return ExitCode::from(2);
    }
    eprintln!("mtgate bench: failover; load average {}", loadavg());
    match failover::run(&logs, options.quick).await {
        Ok(report) => {
            print!("{}", report.render());
            let path = out_dir.join("failover.json");
            match serde_json::to_string_pretty(&report).map(|json| std::fs::write(&path, json)) {
                Ok(Ok(())) => println!("JSON written to {}", path.display()),
                _ => eprintln!("could not write {}", path.display()),
            }
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("mtgate failover bench could not run: {error}");
            ExitCode::from(2)
        }
    }
}

/// `--only events`: the event latency and throughput rows (see `events`).
async fn run_events(options: &Options) -> ExitCode {
    let out_dir = target_dir().join("bench");
    let logs = out_dir.join("logs");
    if let Err(e) = std::fs::create_dir_all(&logs) {
        eprintln!("mtgate bench could not run: {e}");
        return ExitCode::from(2);
    }
    eprintln!("mtgate bench: events; load average {}", loadavg());
    match events::run(&logs, &out_dir, options.quick).await {
        Ok(report) => {
            let lost = report["sse"]["lost"].as_u64().unwrap_or(1)
                + report["webhook"]["lost"].as_u64().unwrap_or(1);
            let duplicated = report["sse"]["duplicated"].as_u64().unwrap_or(0);
            if lost + duplicated == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("mtgate bench could not run: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(options: &Options) -> Result<Report, Error> {
    let out_dir = target_dir().join("bench");
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let plan = options.plan();
    let loadavg_start = loadavg();
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    eprintln!(
        "mtgate bench {run_id}: {plan:?}; logs in {}",
        logs.display()
    );

    let sandbox = Sandbox::start(&logs).await?;
    let world = sandbox.info.world.clone();
    eprintln!(
        "sandbox at {} (control {}), world user {}",
        sandbox.info.mtproto_addr, sandbox.info.control_url, world.user
    );

    let mut ready_ms = Vec::new();
    let mut service = None;
    for nth in 0..options.starts() {
        let started = Service::start(&sandbox.info, &logs, nth).await?;
        ready_ms.push(started.ready_after.as_secs_f64() * 1e3);
        if let Some(previous) = service.replace(started) {
            previous.stop().await;
        }
    }
    let service = service.expect("at least one start");
    let service_pid = service.pid().ok_or("mtgate serve has no pid")?;
    // Let startup work (tasks, first ping) settle before calling the process idle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss::read(service_pid)?;
    eprintln!(
        "mtgate serve (pid {service_pid}) ready after {ready_ms:.1?} ms; idle RSS {} kB",
        idle.rss_kb
    );

    let client = direct::connect(&sandbox.info.session).await?;
    let direct_channel = direct::Direct::resolve(&client, &world.channel).await?;
    let direct_group = direct::Direct::resolve(&client, &world.supergroup).await?;
    let http_channel = http::Mtgate::new(&service.base_url, &service.api_key, &world.channel)?;
    let http_group = http_channel.with_peer(&world.supergroup);
    let floor = if scenarios::selects(options.only.as_deref(), "p") {
        Some(floor::Floor::start(&sandbox.info.session, &world.channel, &logs).await?)
    } else {
        None
    };
    let floor_client = match &floor {
        Some(floor) => Some((
            http::Mtgate::new(&floor.base_url, "", &world.channel)?,
            floor.pid().ok_or("the floor proxy has no pid")?,
        )),
        None => None,
    };

    // The messages the edit scenarios rewrite, and a supergroup history deep enough for
    // full pages; sent once, directly, before anything is measured.
    let mut edit_ids = Vec::new();
    for i in 0..100 {
        let text = truth::message_text(&format!("bench-{run_id}.setup.{i:03}"));
        edit_ids.push(i64::from(direct_group.send(text).await?));
    }

    let ledger = truth::Ledger::default();
    let bench = Bench {
        plan: plan.clone(),
        run_id: run_id.clone(),
        direct_channel,
        direct_group,
        http_channel,
        http_group,
        edit_ids: Arc::new(edit_ids),
        ledger: ledger.clone(),
        control_url: sandbox.info.control_url.clone(),
        pids: cpu::Pids {
            bench: std::process::id(),
            service: service_pid,
            sandbox: sandbox.pid().ok_or("mtgate sandbox has no pid")?,
        },
        floor: floor_client,
    };
    let mut rows = bench.run_all().await;
    report::compute_ratios(&mut rows);

    let after_load = rss::read(service_pid)?;
    let sandbox_after_load = sandbox.pid().and_then(|pid| rss::read(pid).ok());

    let held = truth::fetch(&sandbox.info.control_url, &world.channel).await?;
    let audits = truth::audit(&ledger.entries(), &held);
    for row in &mut rows {
        row.audit = audits
            .get(&scenarios::label(row.key, row.concurrency))
            .cloned();
    }
    let lost = audits.values().map(|a| a.lost).sum();
    let duplicated = audits.values().map(|a| a.duplicated).sum();

    let facts = ServiceFacts {
        ready_median_ms: stats::median(&ready_ms),
        ready_ms,
        idle,
        after_load,
        sandbox_after_load,
    };
    let report = Report {
        targets: report::targets(&rows, &facts, lost, duplicated),
        run_id,
        quick: options.quick,
        unix_time: SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg_start,
        loadavg_end: loadavg(),
        rows,
        service: facts,
        lost,
        duplicated,
    };
    service.stop().await;
    drop(sandbox);

    print!("{}", report::render(&report));
    let json_path = out_dir.join("mtgate.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    println!("JSON written to {}", json_path.display());
    Ok(report)
}

async fn run_outbox(options: &Options) -> Result<outbox::OutboxReport, Error> {
    let out_dir = target_dir().join("bench");
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let report = outbox::run(&logs, options.quick).await?;
    print!("{}", report.render());
    let json_path = out_dir.join("outbox.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    println!("JSON written to {}", json_path.display());
    Ok(report)
}

/// The media bench (see [`media`]): exit 1 if the download was not byte-identical.
async fn run_media() -> ExitCode {
    let out_dir = target_dir().join("bench");
    let logs = out_dir.join("logs");
    if let Err(e) = std::fs::create_dir_all(&logs) {
        eprintln!("mtgate bench could not run: {e}");
        return ExitCode::from(2);
    }
    match media::run(&logs).await {
        Ok(report) => {
            print!("{}", media::render(&report));
            let path = out_dir.join("media.json");
            match serde_json::to_string_pretty(&report).map(|json| std::fs::write(&path, json)) {
                Ok(Ok(())) => println!("JSON written to {}", path.display()),
                _ => eprintln!("could not write {}", path.display()),
            }
            if report.download_identical {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("mtgate media bench could not run: {error}");
            ExitCode::from(2)
        }
    }
}

/// `$CARGO_TARGET_DIR` when set, else the crate's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The first three fields of `/proc/loadavg` (1, 5 and 15 minute load averages).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
