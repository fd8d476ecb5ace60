//! The scenarios of issue 6, each one closed-loop run at one concurrency:
//! (a) direct grammers send, (b) `POST /v1/messages`, (c0/c) edit direct / through mtgate,
//! (d0/d) history direct / through mtgate, (e) `GET /health` while sends run in the
//! background, (f) sends with an `Idempotency-Key` while the sandbox drops every connection
//! every N completed sends; (h) `GET /health/live` alone, the HTTP floor; (p) the same
//! send through a bare axum + grammers proxy, the floor of the stack (see `floor.rs`).
//!
//! Sends go to the channel (the ground truth audited afterwards); edits and history use the
//! supergroup, whose size stays fixed, so history pages cost the same in every run.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cpu::{self, Pids};
use crate::direct::Direct;
use crate::http::Mtgate;
use crate::load;
use crate::report::Row;
use crate::stats;
use crate::truth::{Ledger, message_text};

/// How much work each run does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Measured operations per scenario and concurrency.
    pub ops: usize,
    /// Untimed operations before each measured run (connections, caches, allocator).
    pub warmup: usize,
    pub concurrencies: Vec<usize>,
    /// (f): drop the sandbox's connections after every this many completed sends.
    pub drop_every: usize,
    /// (e): concurrent background senders while `/health` is measured.
    pub background_senders: usize,
    /// (d0/d): messages per history page.
    pub history_limit: usize,
    /// (g): extra reply delay the sandbox adds, standing in for a data centre's round trip.
    pub rtt_ms: u64,
    /// Run only these scenario keys (`--only a,b`), for profiling one of them.
    pub only: Option<Vec<String>>,
}

/// Everything the scenarios drive.
pub struct Bench {
    pub plan: Plan,
    pub run_id: String,
    pub direct_channel: Direct,
    pub direct_group: Direct,
    pub http_channel: Mtgate,
    pub http_group: Mtgate,
    /// Ids of supergroup messages the edit scenarios rewrite, round-robin.
    pub edit_ids: Arc<Vec<i64>>,
    pub ledger: Ledger,
    pub control_url: String,
    pub pids: Pids,
    /// (p): the floor proxy's client (writing to the channel) and its process id.
    pub floor: Option<(Mtgate, u32)>,
}

impl Bench {
    /// Runs every scenario at every concurrency, direct and mtgate rows side by side so
    /// they share the same moment of the machine; (f) last, because it disturbs the
    /// connection.
    pub async fn run_all(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for &c in &self.plan.concurrencies {
            if self.selected("a") {
                rows.push(self.direct_send(c).await);
            }
            if self.selected("b") {
                rows.push(self.http_send(c).await);
            }
            if self.selected("p") {
                rows.extend(self.floor_send(c).await);
            }
            if self.selected("c0") {
                rows.push(self.direct_edit(c).await);
            }
            if self.selected("c") {
                rows.push(self.http_edit(c).await);
            }
            if self.selected("d0") {
                rows.push(self.direct_history(c).await);
            }
            if self.selected("d") {
                rows.push(self.http_history(c).await);
            }
            if self.selected("e") {
                rows.push(self.health_under_load(c).await);
            }
            if self.selected("h") {
                rows.push(self.http_floor(c).await);
            }
        }
        if self.selected("g") {
            rows.extend(self.sends_with_rtt().await);
        }
        for &c in &self.plan.concurrencies {
            if self.selected("f") {
                rows.push(self.sends_with_drops(c).await);
            }
        }
        rows
    }

    fn selected(&self, key: &str) -> bool {
        selects(self.plan.only.as_deref(), key)
    }

    async fn direct_send(&self, c: usize) -> Row {
        let (direct, ledger, label) = (
            self.direct_channel.clone(),
            self.ledger.clone(),
            label("a", c),
        );
        let tags = self.tagger("a", c);
        self.measure("a", "direct send", c, None, true, move |i| {
            let (direct, ledger, label, tag) =
                (direct.clone(), ledger.clone(), label.clone(), tags(i));
            async move {
                let result = direct.send(message_text(&tag)).await;
                ledger.record(&label, tag, result.as_ref().ok().map(|&id| i64::from(id)));
                result.map(drop)
            }
        })
        .await
    }

    async fn http_send(&self, c: usize) -> Row {
        let (http, ledger, label) = (
            self.http_channel.clone(),
            self.ledger.clone(),
            label("b", c),
        );
        let tags = self.tagger("b", c);
        self.measure("b", "mtgate POST send", c, Some("a"), true, move |i| {
            let (http, ledger, label, tag) = (http.clone(), ledger.clone(), label.clone(), tags(i));
            async move {
                let result = http.send(&message_text(&tag)).await;
                ledger.record(&label, tag, result.as_ref().ok().copied());
                result.map(drop)
            }
        })
        .await
    }

    /// (p): the (b) send through the floor proxy instead of mtgate; `None` when the floor
    /// is not running.
    async fn floor_send(&self, c: usize) -> Option<Row> {
        let (http, _) = self.floor.clone()?;
        let (ledger, label) = (self.ledger.clone(), label("p", c));
        let tags = self.tagger("p", c);
        let row = self.measure("p", "floor proxy POST send", c, Some("a"), true, move |i| {
            let (http, ledger, label, tag) = (http.clone(), ledger.clone(), label.clone(), tags(i));
            async move {
                let result = http.send(&message_text(&tag)).await;
                ledger.record(&label, tag, result.as_ref().ok().copied());
                result.map(drop)
            }
        });
        Some(row.await)
    }

    /// The processes a row's CPU is read from: the floor's instead of mtgate's for (p).
    fn pids_for(&self, key: &str) -> Pids {
        match &self.floor {
            Some((_, floor)) if key == "p" => Pids {
                service: *floor,
                ..self.pids
            },
            _ => self.pids,
        }
    }

    async fn direct_edit(&self, c: usize) -> Row {
        let (direct, ids) = (self.direct_group.clone(), Arc::clone(&self.edit_ids));
        let tags = self.tagger("c0", c);
        self.measure("c0", "direct edit", c, None, true, move |i| {
            let (direct, id, text) = (direct.clone(), ids[i % ids.len()], message_text(&tags(i)));
            async move { direct.edit(id as i32, text).await }
        })
        .await
    }

    async fn http_edit(&self, c: usize) -> Row {
        let (http, ids) = (self.http_group.clone(), Arc::clone(&self.edit_ids));
        let tags = self.tagger("c", c);
        self.measure("c", "mtgate PATCH edit", c, Some("c0"), true, move |i| {
            let (http, id, text) = (http.clone(), ids[i % ids.len()], message_text(&tags(i)));
            async move { http.edit(id, &text).await }
        })
        .await
    }

    async fn direct_history(&self, c: usize) -> Row {
        let (direct, limit) = (self.direct_group.clone(), self.plan.history_limit);
        self.measure("d0", "direct history", c, None, true, move |_| {
            let direct = direct.clone();
            async move { full_page(direct.history(limit).await, limit) }
        })
        .await
    }

    async fn http_history(&self, c: usize) -> Row {
        let (http, limit) = (self.http_group.clone(), self.plan.history_limit);
        self.measure("d", "mtgate GET history", c, Some("d0"), true, move |_| {
            let http = http.clone();
            async move { full_page(http.history(limit).await, limit) }
        })
        .await
    }

    /// (h): `GET /health/live` with nothing else running: one HTTP round trip through the
    /// service's outer layers and no Telegram work, the floor under every mtgate row.
    async fn http_floor(&self, c: usize) -> Row {
        let http = self.http_channel.clone();
        self.measure("h", "mtgate /health/live", c, None, true, move |_| {
            let http = http.clone();
            async move { http.live().await }
        })
        .await
    }

    /// (e): `/health` at concurrency `c` while `background_senders` keep posting messages.
    async fn health_under_load(&self, c: usize) -> Row {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let senders: Vec<_> = (0..self.plan.background_senders)
            .map(|_| {
                let (http, ledger, label) = (
                    self.http_channel.clone(),
                    self.ledger.clone(),
                    label("e", c),
                );
                let (stop, sent, failed) =
                    (Arc::clone(&stop), Arc::clone(&sent), Arc::clone(&failed));
                let tags = self.tagger("e", c);
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let tag = tags(sent.fetch_add(1, Ordering::Relaxed));
                        let result = http.send(&message_text(&tag)).await;
                        if result.is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        ledger.record(&label, tag, result.ok());
                    }
                })
            })
            .collect();
        let http = self.http_channel.clone();
        let mut row = self
            .measure("e", "mtgate /health +sends", c, None, true, move |_| {
                let http = http.clone();
                async move { http.health().await }
            })
            .await;
        stop.store(true, Ordering::Relaxed);
        for sender in senders {
            sender.await.expect("a background sender panicked");
        }
        let elapsed = started.elapsed();
        let failed = failed.load(Ordering::Relaxed);
        let ok = sent.load(Ordering::Relaxed) - failed;
        row.notes
            .insert("bg_senders", self.plan.background_senders as f64);
        row.notes
            .insert("bg_sends_per_s", stats::throughput(ok, elapsed).round());
        if failed > 0 {
            row.notes.insert("bg_send_errors", failed as f64);
        }
        row
    }

    /// (g): (a) and (b) again while the sandbox holds every reply back by `rtt_ms`, as a
    /// real data centre's round trip would: the same absolute HTTP cost against a
    /// Telegram-like latency. At c=1 fewer operations (each takes the delay).
    async fn sends_with_rtt(&self) -> Vec<Row> {
        let rtt = self.plan.rtt_ms;
        let mut rows = Vec::new();
        if let Err(e) = self.set_delay(rtt).await {
            eprintln!("  g skipped: the sandbox refused delay_ms: {e}");
            return rows;
        }
        for &c in &self.plan.concurrencies {
            let ops = self.plan.ops.min(250 * c);
            let (direct, tags) = (self.direct_channel.clone(), self.tagger("ga", c));
            let (ledger, label_a) = (self.ledger.clone(), label("ga", c));
            rows.push(
                self.measure_n(ops, "ga", "direct send +RTT", c, None, true, move |i| {
                    let (direct, ledger, label, tag) =
                        (direct.clone(), ledger.clone(), label_a.clone(), tags(i));
                    async move {
                        let result = direct.send(message_text(&tag)).await;
                        ledger.record(&label, tag, result.as_ref().ok().map(|&id| i64::from(id)));
                        result.map(drop)
                    }
                })
                .await,
            );
            let (http, tags) = (self.http_channel.clone(), self.tagger("gb", c));
            let (ledger, label_b) = (self.ledger.clone(), label("gb", c));
            rows.push(
                self.measure_n(
                    ops,
                    "gb",
                    "mtgate send +RTT",
                    c,
                    Some("ga"),
                    true,
                    move |i| {
                        let (http, ledger, label, tag) =
                            (http.clone(), ledger.clone(), label_b.clone(), tags(i));
                        async move {
                            let result = http.send(&message_text(&tag)).await;
                            ledger.record(&label, tag, result.as_ref().ok().copied());
                            result.map(drop)
                        }
                    },
                )
                .await,
            );
        }
        if let Err(e) = self.set_delay(0).await {
            eprintln!("  warning: could not clear the sandbox delay: {e}");
        }
        for row in &mut rows {
            row.notes.insert("rtt_ms", rtt as f64);
        }
        rows
    }

    async fn set_delay(&self, ms: u64) -> Result<(), String> {
        let url = format!("{}/faults", self.control_url.trim_end_matches('/'));
        let response = reqwest::Client::new()
            .post(url)
            .json(&json!({ "delay_ms": ms }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match response.status() {
            s if s.is_success() => Ok(()),
            s => Err(format!("HTTP {s}")),
        }
    }

    /// (f): the (b) load with an `Idempotency-Key` per message, retried on 5xx with the same
    /// key, while a side task drops every sandbox connection after each `drop_every` sends.
    async fn sends_with_drops(&self, c: usize) -> Row {
        let drop_every = self.plan.drop_every.max(1);
        let completed = Arc::new(AtomicUsize::new(0));
        let retries = Arc::new(AtomicUsize::new(0));
        let drops: Arc<Mutex<Vec<tokio::task::JoinHandle<bool>>>> = Arc::default();
        let retry_reasons: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let control = reqwest::Client::new();
        let faults_url = format!("{}/faults", self.control_url.trim_end_matches('/'));
        let (http, ledger, label) = (
            self.http_channel.clone(),
            self.ledger.clone(),
            label("f", c),
        );
        let tags = self.tagger("f", c);
        let (completed2, retries2, drops2, reasons2) = (
            Arc::clone(&completed),
            Arc::clone(&retries),
            Arc::clone(&drops),
            Arc::clone(&retry_reasons),
        );
        let mut row = self
            .measure("f", "mtgate send +drops", c, Some("a"), false, move |i| {
                let (http, ledger, label, tag) =
                    (http.clone(), ledger.clone(), label.clone(), tags(i));
                let (completed, retries, drops, reasons) = (
                    completed2.clone(),
                    retries2.clone(),
                    drops2.clone(),
                    reasons2.clone(),
                );
                let (control, faults_url) = (control.clone(), faults_url.clone());
                async move {
                    let result = http.send_idempotent(&message_text(&tag), &tag).await;
                    if let Ok(sent) = &result {
                        retries.fetch_add(sent.retried_on.len(), Ordering::Relaxed);
                        let mut reasons = reasons.lock().unwrap();
                        for kind in &sent.retried_on {
                            *reasons.entry(kind.clone()).or_default() += 1;
                        }
                    }
                    ledger.record(&label, tag, result.as_ref().ok().map(|s| s.id));
                    if (completed.fetch_add(1, Ordering::Relaxed) + 1) % drop_every == 0 {
                        let task = tokio::spawn(async move {
                            let body = json!({ "drop_connections": true });
                            let response = control.post(&faults_url).json(&body).send().await;
                            matches!(response, Ok(r) if r.status().is_success())
                        });
                        drops.lock().unwrap().push(task);
                    }
                    result.map(drop)
                }
            })
            .await;
        let tasks: Vec<_> = std::mem::take(&mut *drops.lock().unwrap());
        let (mut ok, mut failed) = (0, 0);
        for task in tasks {
            if task.await.unwrap_or(false) {
                ok += 1
            } else {
                failed += 1
            }
        }
        row.notes.insert("drops", f64::from(ok));
        if failed > 0 {
            row.notes.insert("drop_requests_failed", f64::from(failed));
        }
        row.notes.insert("drop_every", drop_every as f64);
        row.notes
            .insert("retries", retries.load(Ordering::Relaxed) as f64);
        row.retried_on = std::mem::take(&mut *retry_reasons.lock().unwrap());
        row
    }

    /// A function from operation index to this scenario's unique message tag.
    fn tagger(
        &self,
        key: &'static str,
        c: usize,
    ) -> impl Fn(usize) -> String + Clone + Send + Sync + 'static {
        let prefix = format!("bench-{}.{key}.c{c}.", self.run_id);
        move |i| format!("{prefix}{i:06}")
    }

    /// Warm-up (indices after the measured range, so tags stay unique), then the measured
    /// run of `ops` operations at concurrency `c`.
    async fn measure<F, Fut>(
        &self,
        key: &'static str,
        name: &'static str,
        c: usize,
        baseline: Option<&'static str>,
        warm_up: bool,
        op: F,
    ) -> Row
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.measure_n(self.plan.ops, key, name, c, baseline, warm_up, op)
            .await
    }

    /// [`Self::measure`] with its own operation count.
    #[allow(clippy::too_many_arguments)]
    async fn measure_n<F, Fut>(
        &self,
        ops: usize,
        key: &'static str,
        name: &'static str,
        c: usize,
        baseline: Option<&'static str>,
        warm_up: bool,
        op: F,
    ) -> Row
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let op = Arc::new(op);
        let pids = self.pids_for(key);
        let mut notes = BTreeMap::new();
        if !pids.settle(cpu::SETTLE_WINDOW, SETTLE_LIMIT).await {
            notes.insert("not_settled", 1.0);
        }
        if warm_up {
            let warm = Arc::clone(&op);
            let outcome = load::run(self.plan.warmup.min(ops), c, move |i| warm(ops + i)).await;
            if outcome.error_count() > 0 {
                notes.insert("warmup_errors", outcome.error_count() as f64);
            }
            if !pids.settle(cpu::AFTER_WARMUP_WINDOW, SETTLE_LIMIT).await {
                notes.insert("not_settled_after_warmup", 1.0);
            }
        }
        eprintln!("  {key:>2} {name:<24} c={c:<3} {ops} ops ...");
        let before = pids.snapshot();
        let outcome = load::run(ops, c, move |i| op(i)).await;
        let cpu = cpu::per_op(before, pids.snapshot(), ops);
        Row {
            key,
            name,
            concurrency: c,
            ops,
            summary: stats::summarize(outcome.latencies, outcome.elapsed),
            errors: outcome.errors,
            baseline,
            p50_ratio: None,
            throughput_ratio: None,
            notes,
            cpu,
            retried_on: BTreeMap::new(),
            audit: None,
        }
    }
}

/// How long a row waits for the service and the sandbox to go idle before it measures anyway
/// (and says so in its notes).
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// Whether `--only` (`None`: not given, so every scenario) includes scenario `key`.
pub fn selects(only: Option<&[String]>, key: &str) -> bool {
    only.is_none_or(|keys| keys.iter().any(|k| k == key))
}

/// The ledger label of a send scenario's row (matches [`Row`] key and concurrency).
pub fn label(key: &str, c: usize) -> String {
    format!("{key} c={c}")
}

/// A history read only counts when it returned a full page: an empty page is an error.
fn full_page(result: Result<usize, String>, limit: usize) -> Result<(), String> {
    match result? {
        n if n == limit => Ok(()),
        n => Err(format!("history page of {n}, asked {limit}")),
    }
}
