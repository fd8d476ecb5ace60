//! `cargo bench --bench mtgate -- --only outbox`: a broadcast through the durable outbox
//! (issue 12). The sandbox enforces Telegram's limits scaled ×4 (`chat=4/s,group=80/m,
//! account=120/s`) and mtgate paces with the same rates; 40 messages (10 with `--quick`) go to
//! each of 50 chats (users, the channel, supergroups) through `POST /v1/outbox/batch`, and
//! the service is killed with SIGKILL halfway and restarted on the same store.
//!
//! Reported: completion time (first job created → last job sent, from the jobs themselves)
//! against the theoretical minimum the sandbox's buckets allow (they start full), FLOOD_WAITs
//! per 1,000 sends (the sandbox's request log), lost and duplicated messages and per-chat
//! order violations (the sandbox's ground truth).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::procs::{Error, Sandbox, Service};

/// Telegram's published limits ×4: (count, seconds) per chat, per group, per account.
const CHAT: (f64, f64) = (4.0, 1.0);
const GROUP: (f64, f64) = (80.0, 60.0);
const ACCOUNT: (f64, f64) = (120.0, 1.0);
const RATES: &str = "chat=4/s,group=80/m,account=120/s";

/// Added users and supergroups, with the world's 3 other users, its channel and its
/// supergroup: 50 chats.
const CROWD_USERS: u32 = 42;
const CROWD_GROUPS: u32 = 3;

#[derive(Debug, Serialize)]
pub struct OutboxReport {
    pub run_id: String,
    pub chats: usize,
    pub groups: usize,
    pub messages: usize,
    pub rates: &'static str,
    pub completion_s: f64,
    pub theoretical_min_s: f64,
    pub ratio: f64,
    /// From the kill to the restarted service answering ready.
    pub restart_s: f64,
    pub sends: usize,
    pub flood_waits: usize,
    pub flood_waits_per_1000: f64,
    pub lost: usize,
    pub duplicated: usize,
    pub order_violations: usize,
    pub failed_or_dead: usize,
}

impl OutboxReport {
    /// Whether every target of the issue is met.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.order_violations == 0
    }

    pub fn render(&self) -> String {
        let met = |ok: bool| if ok { "met" } else { "MISSED" };
        format!(
            "outbox broadcast ({run}): {n} messages to {chats} chats ({groups} groups), rates {rates}, kill -9 + restart halfway\n\
             \x20 completion {c:.2} s vs theoretical minimum {m:.2} s: {r:.3}x (target <= 1.1: {t1})\n\
             \x20 restart (kill to ready) {rs:.2} s\n\
             \x20 FLOOD_WAITs {f} in {s} sends: {fk:.2} per 1000 (target <= 1: {t2})\n\
             \x20 lost {l}, duplicated {d} (target 0/0: {t3}); per-chat order violations {o} (target 0: {t4}); failed/dead {fd}\n",
            run = self.run_id,
            n = self.messages,
            chats = self.chats,
            groups = self.groups,
            rates = self.rates,
            c = self.completion_s,
            m = self.theoretical_min_s,
            r = self.ratio,
            t1 = met(self.ratio <= 1.1),
            rs = self.restart_s,
            f = self.flood_waits,
            s = self.sends,
            fk = self.flood_waits_per_1000,
            t2 = met(self.flood_waits_per_1000 <= 1.0),
            l = self.lost,
            d = self.duplicated,
            t3 = met(self.lost + self.duplicated == 0),
            o = self.order_violations,
            t4 = met(self.order_violations == 0),
            fd = self.failed_or_dead,
        )
    }
}

pub async fn run(logs: &Path, quick: bool) -> Result<OutboxReport, Error> {
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let per_chat = if quick { 10 } else { 40 };
    let sandbox = Sandbox::start(logs).await?;
    let control = sandbox.info.control_url.clone();
    let http = reqwest::Client::new();
    post_ok(&http, &format!("{control}/limits"), json!({"rates": RATES})).await?;
    let crowd: Value = http
        .post(format!("{control}/population"))
        .json(&json!({"users": CROWD_USERS, "groups": CROWD_GROUPS}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let names = |key: &str| -> Vec<String> {
        crowd[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let world = &sandbox.info.world;
    let mut groups = vec![world.supergroup.clone()];
    groups.extend(names("groups"));
    let mut chats = world.others.clone();
    chats.extend(names("users"));
    chats.push(world.channel.clone());
    chats.extend(groups.iter().cloned());
    let total = chats.len() * per_chat;

    let state_dir = std::env::temp_dir().join(format!("mtgate-bench-outbox-{run_id}"));
    let _ = std::fs::remove_dir_all(&state_dir);
    let api_key = format!("bench-{:016x}", rand::random::<u64>());
    let env = [("MTGATE_OUTBOX_RATES", RATES)];
    let start = |name: &'static str| {
        Service::start_with(&sandbox.info, logs, name, &state_dir, &api_key, &env)
    };
    let first = start("serve-outbox-1").await?;
    eprintln!(
        "outbox bench {run_id}: {total} messages to {} chats",
        chats.len()
    );
    for k in 0..per_chat {
        let body = json!({"peers": chats, "text": format!("ob {run_id} {k:03}")});
        let response = http
            .post(format!("{}/v1/outbox/batch", first.base_url))
            .bearer_auth(&api_key)
            .json(&body)
            .send()
            .await?;
        if response.status() != 202 {
            return Err(format!("enqueue answered {}", response.status()).into());
        }
    }
    wait_until(&http, &first.base_url, &api_key, total / 2).await?;
    let killed = Instant::now();
    first.kill().await;
    let second = start("serve-outbox-2").await?;
    let restart_s = killed.elapsed().as_secs_f64();
    wait_until(&http, &second.base_url, &api_key, total).await?;

    let jobs = all_jobs(&http, &second.base_url, &api_key).await?;
    let created = jobs.iter().filter_map(|j| time_of(&j["created_at"])).min();
    let finished = jobs
        .iter()
        .filter(|j| j["state"] == "sent")
        .filter_map(|j| time_of(&j["updated_at"]))
        .max();
    let completion_s = match (created, finished) {
        (Some(a), Some(b)) => (b - a).num_milliseconds() as f64 / 1e3,
        _ => f64::NAN,
    };
    let failed_or_dead = jobs
        .iter()
        .filter(|j| j["state"] == "failed" || j["state"] == "dead")
        .count();

    let requests: Vec<Value> = http
        .get(format!("{control}/requests"))
        .send()
        .await?
        .json()
        .await?;
    let sends: Vec<&Value> = requests
        .iter()
        .filter(|r| r["method"] == "messages.sendMessage")
        .collect();
    let flood_waits = sends
        .iter()
        .filter(|r| {
            r["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("FLOOD_WAIT") || e.starts_with("SLOWMODE_WAIT"))
        })
        .count();
    let ok_sends = sends.iter().filter(|r| r["ok"] == true).count();
    for (i, r) in sends.iter().enumerate().filter(|(_, r)| r["ok"] == false) {
        eprintln!(
            "send {i} of {}: {} in chat {}",
            sends.len(),
            r["error"],
            r["peer"]
        );
    }

    let prefix = format!("ob {run_id} ");
    let (mut lost, mut duplicated, mut order_violations) = (0, 0, 0);
    for chat in &chats {
        let held: Vec<Value> = http
            .get(format!("{control}/chats/{chat}/messages"))
            .send()
            .await?
            .json()
            .await?;
        // Newest first: reversed, the order of delivery.
        let seen: Vec<usize> = held
            .iter()
            .rev()
            .filter_map(|m| m["text"].as_str()?.strip_prefix(&prefix)?.parse().ok())
            .collect();
        order_violations += seen.windows(2).filter(|w| w[1] < w[0]).count();
        for k in 0..per_chat {
            match seen.iter().filter(|s| **s == k).count() {
                0 => lost += 1,
                n => duplicated += n - 1,
            }
        }
    }
    second.stop().await;
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&state_dir);

    let theoretical_min_s = theoretical_min(total, per_chat);
    Ok(OutboxReport {
        run_id,
        chats: chats.len(),
        groups: groups.len(),
        messages: total,
        rates: RATES,
        completion_s,
        theoretical_min_s,
        ratio: completion_s / theoretical_min_s,
        restart_s,
        sends: ok_sends + flood_waits,
        flood_waits,
        flood_waits_per_1000: flood_waits as f64 * 1000.0 / ok_sends.max(1) as f64,
        lost,
        duplicated,
        order_violations,
        failed_or_dead,
    })
}

/// The least time the sandbox's buckets (starting full) allow: for each bucket, the sends
/// beyond its capacity at its rate; the slowest bucket decides.
fn theoretical_min(total: usize, per_chat: usize) -> f64 {
    let bucket = |n: usize, (count, secs): (f64, f64)| ((n as f64 - count).max(0.0)) * secs / count;
    bucket(total, ACCOUNT)
        .max(bucket(per_chat, CHAT))
        .max(bucket(per_chat, GROUP))
}

async fn post_ok(http: &reqwest::Client, url: &str, body: Value) -> Result<(), Error> {
    http.post(url)
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Polls the queue depth in `/metrics` until `target` jobs are settled (sent, failed or dead).
async fn wait_until(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    target: usize,
) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let text = http
            .get(format!("{base}/metrics"))
            .bearer_auth(key)
            .send()
            .await?
            .text()
            .await?;
        let settled: f64 = text
            .lines()
            .filter(|l| l.starts_with("mtgate_outbox_jobs{"))
            .filter(|l| {
                ["sent", "failed", "dead"]
                    .iter()
                    .any(|s| l.contains(&format!("state=\"{s}\"")))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if settled as usize >= target {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("only {settled} of {target} jobs settled in 600 s").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn all_jobs(http: &reqwest::Client, base: &str, key: &str) -> Result<Vec<Value>, Error> {
    let mut jobs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/jobs?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http.get(url).bearer_auth(key).send().await?.json().await?;
        jobs.extend(page["jobs"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(jobs),
        }
    }
}

fn time_of(value: &Value) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()
}
