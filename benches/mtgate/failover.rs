//! `--only failover` (issue 16): three `mtgate serve` replicas on one PostgreSQL database (a
//! throwaway server the bench starts, `mtgate_testdb`), the sandbox's AUTH_KEY_DUPLICATED
//! switch on. Repeatedly: `kill -9` the replica holding `default`, then send through a
//! surviving replica until the send is delivered; the failover time is kill → delivered. A
//! fresh replica replaces the dead one each round. Ground truth: every message once.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::procs::{Error, Sandbox, Service};
use super::stats::percentile;

/// What one run measured.
#[derive(Debug, serde::Serialize)]
pub struct FailoverReport {
    pub lease_ttl_ms: u64,
    pub kills: usize,
    pub failover_ms: Vec<f64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub lost: usize,
    pub duplicated: usize,
    /// Connections the sandbox caught driving a key another connection drove at once.
    pub double_holders: usize,
}

impl FailoverReport {
    pub fn ok(&self) -> bool {
        self.lost + self.duplicated + self.double_holders == 0
    }

    pub fn render(&self) -> String {
        format!(
            "failover (lease TTL {} ms, {} kills): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; \
             lost {}, duplicated {}, double holders {}\n",
            self.lease_ttl_ms,
            self.kills,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.lost,
            self.duplicated,
            self.double_holders
        )
    }
}

pub async fn run(logs: &Path, quick: bool) -> Result<FailoverReport, Error> {
    let ttl = Duration::from_secs(if quick { 2 } else { 5 });
    let kills = if quick { 3 } else { 10 };
    let url =
        tokio::task::spawn_blocking(|| mtgate_testdb::shared().and_then(|pg| pg.create_database()))
            .await??;
    let sandbox = Sandbox::start(logs).await?;
    let control = sandbox.info.control_url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    http.post(format!("{control}/faults"))
        .json(&json!({"auth_key_duplicated": true}))
        .send()
        .await?
        .error_for_status()?;
    let key = format!("bench-{:016x}", rand::random::<u64>());
    let dir = std::env::temp_dir().join(format!("mtgate-bench-failover-{}", std::process::id()));
    let ttl_text = format!("{}ms", ttl.as_millis());
    let mut next_id = 0;
    let start = async |next_id: &mut usize| -> Result<(String, Service), Error> {
        let id = format!("r{next_id}");
        *next_id += 1;
        let env = [
            ("MTGATE_DATABASE_URL", url.as_str()),
            ("MTGATE_REPLICA_ID", id.as_str()),
            ("MTGATE_LEASE_TTL", ttl_text.as_str()),
        ];
        let service =
            Service::start_with(&sandbox.info, logs, &id, &dir.join(&id), &key, &env).await?;
        Ok((id, service))
    };
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(start(&mut next_id).await?);
    }
    let mut texts = Vec::new();
    let mut failover_ms = Vec::new();
    for round in 0..kills {
        let before = format!("failover {round} before");
        send(&http, &replicas[0].1, &key, &before).await?;
        texts.push(before);
        let holder_id = holder(&http, &replicas[0].1, &key).await?;
        let at = replicas
            .iter()
            .position(|(id, _)| *id == holder_id)
            .ok_or("the holder is not one of the replicas")?;
        let (_, dead) = replicas.remove(at);
        let killed = Instant::now();
        dead.kill().await;
        let after = format!("failover {round} after");
        send(&http, &replicas[0].1, &key, &after).await?;
        failover_ms.push(killed.elapsed().as_secs_f64() * 1000.0);
        texts.push(after);
        replicas.push(start(&mut next_id).await?);
    }
    let truth: Vec<Value> = http
        .get(format!("{control}/chats/@sandbox_news/messages"))
        .send()
        .await?
        .json()
        .await?;
    let count = |text: &str| truth.iter().filter(|m| m["text"] == text).count();
    let lost = texts.iter().filter(|t| count(t) == 0).count();
    let duplicated = texts.iter().filter(|t| count(t) > 1).count();
    let connections: Vec<Value> = http
        .get(format!("{control}/connections"))
        .send()
        .await?
        .json()
        .await?;
    let double_holders = connections
        .iter()
        .filter(|c| c["duplicate"] == true)
        .count();
    for (_, replica) in replicas {
        replica.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut sorted: Vec<Duration> = failover_ms
        .iter()
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .collect();
    sorted.sort();
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    Ok(FailoverReport {
        lease_ttl_ms: ttl.as_millis() as u64,
        kills,
        p50_ms: ms(percentile(&sorted, 0.5)),
        p99_ms: ms(percentile(&sorted, 0.99)),
        max_ms: ms(sorted.last().copied()),
        failover_ms,
        lost,
        duplicated,
        double_holders,
    })
}

/// Sends `text` to the channel through `replica` (with an idempotency key), retrying 503s
/// (no holder yet) until it is delivered.
async fn send(
    http: &reqwest::Client,
    replica: &Service,
    key: &str,
    text: &str,
) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let response = http
            .post(format!("{}/v1/messages", replica.base_url))
            .bearer_auth(key)
            .header("Idempotency-Key", text.replace(' ', "-"))
            .json(&json!({"peer": "@sandbox_news", "text": text}))
            .send()
            .await;
        match response.map(|r| r.status()) {
            Ok(status) if status.is_success() => return Ok(()),
            Ok(status) if status != reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                return Err(format!("a send answered {status}").into());
            }
            _ if Instant::now() > deadline => return Err("a send never got through".into()),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// The replica holding `default`, read from `GET /v1/cluster`.
async fn holder(http: &reqwest::Client, replica: &Service, key: &str) -> Result<String, Error> {
    let view: Value = http
        .get(format!("{}/v1/cluster", replica.base_url))
        .bearer_auth(key)
        .send()
        .await?
        .json()
        .await?;
    view["replicas"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            r["alive"] == true
                && r["accounts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|n| n == "default"))
        })
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .ok_or_else(|| "nobody holds default".into())
}
