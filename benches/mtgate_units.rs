//! Unit tests of the `mtgate` benchmark's pure parts (percentiles, `/proc` parsing, the
//! ground-truth audit, the targets' arithmetic), which its `harness = false` target cannot run itself:
//! `cargo test --bench mtgate_units` (also part of plain `cargo test`).

// The modules are shared with the bench; these tests use only their pure parts.
#![allow(dead_code)]

#[path = "mtgate/stats.rs"]
mod stats;

#[path = "mtgate/rss.rs"]
mod rss;

#[path = "mtgate/cpu.rs"]
mod cpu;

/// Only what `truth.rs` needs from `procs.rs`, so the audit compiles without the process code.
mod procs {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
}

#[path = "mtgate/truth.rs"]
mod truth;

#[path = "mtgate/report.rs"]
mod report;

mod stats_tests {
    use std::time::Duration;

    use super::stats::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn percentiles_of_one_to_a_hundred_are_the_rank_itself() {
        let sorted = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&sorted, 0.50), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&sorted, 0.90), Some(Duration::from_millis(90)));
        assert_eq!(percentile(&sorted, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&sorted, 1.0), Some(Duration::from_millis(100)));
    }

    #[test]
    fn percentile_rounds_the_rank_up_and_never_leaves_the_slice() {
        let sorted = ms(&[10, 20, 30]);
        assert_eq!(percentile(&sorted, 0.50), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&sorted, 0.34), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&sorted, 0.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&sorted, 0.99), Some(Duration::from_millis(30)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn a_single_slow_outlier_shows_in_p99_and_max_but_not_p50() {
        let mut samples = ms(&[1; 199]);
        samples.push(Duration::from_millis(500));
        let s = summarize(samples, Duration::from_secs(2)).unwrap();
        assert_eq!(s.ok, 200);
        assert_eq!(s.p50_ms, 1.0);
        assert_eq!(s.p99_ms, 1.0);
        assert_eq!(s.max_ms, 500.0);
        assert_eq!(s.throughput, 100.0);
        assert!((s.mean_ms - (199.0 + 500.0) / 200.0).abs() < 1e-9);
    }

    #[test]
    fn summarize_sorts_its_input_first() {
        let s = summarize(ms(&[30, 10, 20]), Duration::from_secs(1)).unwrap();
        assert_eq!((s.p50_ms, s.max_ms), (20.0, 30.0));
    }

    #[test]
    fn nothing_succeeded_means_no_summary() {
        assert_eq!(summarize(Vec::new(), Duration::from_secs(1)), None);
    }

    #[test]
    fn throughput_and_ratio_handle_zero_denominators() {
        assert_eq!(throughput(10, Duration::ZERO), 0.0);
        assert_eq!(throughput(500, Duration::from_millis(250)), 2000.0);
        assert_eq!(ratio(3.0, 2.0), Some(1.5));
        assert_eq!(ratio(3.0, 0.0), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}

mod rss_tests {
    use super::rss::*;

    const STATUS: &str = "Name:\tmtgate\nVmPeak:\t  20000 kB\nVmHWM:\t    9876 kB\n\
                          VmRSS:\t    8192 kB\nRssAnon:\t    4000 kB\nThreads:\t3\n";

    #[test]
    fn reads_the_named_line_and_not_a_line_that_starts_alike() {
        assert_eq!(status_kb(STATUS, "VmRSS"), Some(8192));
        assert_eq!(status_kb(STATUS, "VmHWM"), Some(9876));
        assert_eq!(status_kb(STATUS, "Rss"), None);
    }

    #[test]
    fn a_line_without_the_kb_unit_is_not_a_memory_size() {
        assert_eq!(status_kb(STATUS, "Threads"), None);
        assert_eq!(status_kb(STATUS, "Missing"), None);
    }

    #[test]
    fn this_process_has_a_resident_size_and_a_peak_at_least_as_large() {
        let memory = read(std::process::id()).unwrap();
        assert!(memory.rss_kb > 0);
        assert!(memory.hwm_kb >= memory.rss_kb);
    }
}

mod truth_tests {
    use super::truth::*;

    fn entry(scenario: &str, tag: &str, acked_id: Option<i64>) -> Entry {
        Entry {
            scenario: scenario.into(),
            tag: tag.into(),
            acked_id,
        }
    }

    fn truth(rows: &[(i64, &str)]) -> Vec<(i64, String)> {
        rows.iter().map(|&(id, t)| (id, message_text(t))).collect()
    }

    #[test]
    fn every_acked_send_held_once_is_a_clean_audit() {
        let entries = [entry("s", "t1", Some(1)), entry("s", "t2", Some(2))];
        let audits = audit(&entries, &truth(&[(2, "t2"), (1, "t1"), (7, "other")]));
        let s = &audits["s"];
        assert_eq!(
            (s.sent, s.acked, s.lost, s.duplicated, s.wrong_id),
            (2, 2, 0, 0, 0)
        );
    }

    #[test]
    fn an_acked_tag_missing_from_the_sandbox_is_lost() {
        let audits = audit(&[entry("s", "t1", Some(1))], &truth(&[(1, "t10")]));
        assert_eq!(audits["s"].lost, 1);
    }

    #[test]
    fn a_tag_held_three_times_is_two_duplicates_even_when_unacked() {
        let entries = [entry("a", "t1", Some(1)), entry("b", "t2", None)];
        let held = truth(&[(1, "t1"), (2, "t1"), (3, "t1"), (4, "t2"), (5, "t2")]);
        let audits = audit(&entries, &held);
        assert_eq!(audits["a"].duplicated, 2);
        assert_eq!(audits["b"].duplicated, 1);
        assert_eq!(audits["b"].failed_but_delivered, 1);
    }

    #[test]
    fn an_ack_naming_another_message_is_a_wrong_id_not_a_loss() {
        let audits = audit(&[entry("s", "t1", Some(9))], &truth(&[(1, "t1")]));
        assert_eq!((audits["s"].lost, audits["s"].wrong_id), (0, 1));
    }

    #[test]
    fn a_failed_send_that_never_arrived_is_neither_lost_nor_delivered() {
        let audits = audit(&[entry("s", "t1", None)], &truth(&[]));
        let s = &audits["s"];
        assert_eq!(
            (s.sent, s.acked, s.lost, s.failed_but_delivered),
            (1, 0, 0, 0)
        );
    }

    #[test]
    fn the_tag_is_the_first_word_of_the_text() {
        assert_eq!(
            tag_of(&message_text("bench-1.f.c64.00012")),
            "bench-1.f.c64.00012"
        );
        assert_eq!(tag_of(""), "");
    }
}

mod cpu_tests {
    use super::cpu::*;

    const STAT: &str = "19508 (cat) R 19506 19506 13844 0 -1 4194304 99 0 0 0 7 3 0 0 20 0 1 0";

    #[test]
    fn utime_and_stime_are_fields_fourteen_and_fifteen() {
        assert_eq!(stat_ticks(STAT), Some(10));
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let odd = STAT.replace("(cat)", "(tokio (worker) 1)");
        assert_eq!(stat_ticks(&odd), Some(10));
        assert_eq!(stat_ticks("12 (cut short) R 1 2"), None);
    }

    #[test]
    fn per_op_turns_tick_deltas_into_microseconds_per_operation() {
        let before = Snapshot {
            bench: 1,
            service: 10,
            sandbox: 100,
        };
        let after = Snapshot {
            bench: 3,
            service: 20,
            sandbox: 100,
        };
        let cpu = per_op(before, after, 1000).unwrap();
        assert_eq!(
            (cpu.bench_us, cpu.service_us, cpu.sandbox_us),
            (20.0, 100.0, 0.0)
        );
        assert_eq!(cpu.total_us(), 120.0);
        assert_eq!(per_op(before, after, 0), None);
    }

    #[test]
    fn quiet_means_at_most_one_tick_of_service_and_sandbox() {
        let at = |service, sandbox| Snapshot {
            bench: 0,
            service,
            sandbox,
        };
        assert!(quiet(at(10, 10), at(11, 11)));
        assert!(!quiet(at(10, 10), at(12, 10)), "the service was busy");
        assert!(!quiet(at(10, 10), at(10, 13)), "the sandbox was busy");
        let busy_bench = Snapshot {
            bench: 99,
            ..at(10, 10)
        };
        assert!(
            quiet(at(10, 10), busy_bench),
            "the bench's own CPU is not counted"
        );
    }

    #[test]
    fn this_process_can_read_its_own_cpu_time() {
        assert!(ticks(std::process::id()).is_ok());
    }
}

mod target_tests {
    use std::collections::BTreeMap;

    use super::cpu::PerOp;
    use super::report::{Row, ServiceFacts, Target, targets};
    use super::rss::Memory;
    use super::stats::Summary;

    fn row(key: &'static str, concurrency: usize, p50_ms: f64, service_us: Option<f64>) -> Row {
        Row {
            key,
            name: "",
            concurrency,
            ops: 100,
            errors: BTreeMap::new(),
            summary: Some(Summary {
                ok: 100,
                throughput: 1.0,
                p50_ms,
                p90_ms: p50_ms,
                p99_ms: p50_ms,
                max_ms: p50_ms,
                mean_ms: p50_ms,
            }),
            baseline: None,
            p50_ratio: None,
            throughput_ratio: None,
            notes: BTreeMap::new(),
            cpu: service_us.map(|service_us| PerOp {
                bench_us: 0.0,
                service_us,
                sandbox_us: 0.0,
            }),
            retried_on: BTreeMap::new(),
            audit: None,
        }
    }

    fn facts() -> ServiceFacts {
        let memory = Memory {
            rss_kb: 10_000,
            hwm_kb: 10_000,
        };
        ServiceFacts {
            ready_ms: vec![],
            ready_median_ms: None,
            idle: memory,
            after_load: memory,
            sandbox_after_load: None,
        }
    }

    /// What the target called `name` measured, and whether it was met.
    fn verdict<'a>(all: &'a [Target], name: &str) -> (&'a str, Option<bool>) {
        let target = all.iter().find(|t| t.name == name).expect(name);
        (target.measured.as_str(), target.met)
    }

    #[test]
    fn the_c1_overhead_is_the_send_p50_less_the_live_and_direct_p50s() {
        let rows = [
            row("a", 1, 0.200, None),
            row("b", 1, 0.425, None),
            row("h", 1, 0.150, None),
            row("p", 1, 0.330, None),
        ];
        let all = targets(&rows, &facts(), 0, 0);
        assert_eq!(verdict(&all, "c=1 p50 b - (h + a)"), ("75 us", Some(false)));
        let floor = "(context) c=1 p50 floor p - (h + a)";
        assert_eq!(verdict(&all, floor), ("-20 us", Some(true)));
        let without_h = targets(&rows[..2], &facts(), 0, 0);
        assert_eq!(verdict(&without_h, "c=1 p50 b - (h + a)"), ("n/a", None));
    }

    #[test]
    fn the_c64_cpu_target_reads_the_service_column_at_c64_only() {
        let rows = [
            row("b", 1, 0.4, Some(300.0)),
            row("b", 64, 8.0, Some(40.0)),
            row("p", 64, 7.0, Some(41.0)),
        ];
        let all = targets(&rows, &facts(), 0, 0);
        assert_eq!(
            verdict(&all, "c=64 service CPU per send (b)"),
            ("40 us", Some(true))
        );
        let floor = "(context) c=64 floor CPU per send (p)";
        assert_eq!(verdict(&all, floor), ("41 us", Some(false)));
    }
}
