//! `--only events`: how fast what happens in a chat reaches apps (issue 13). Starts the
//! sandbox and one `mtgate serve`, subscribes a webhook receiver (an axum server in this
//! process) and opens an SSE stream, then measures:
//!
//! - latency, one message at a time: the control API's `POST /incoming` (the sandbox pushes
//!   the update before answering) → the event's arrival on the SSE stream and at the
//!   webhook receiver (p50 / p99);
//! - throughput: `POST /incoming/burst` of N messages → the last of them on each side, and
//!   whether every one arrived exactly once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::procs::{Error, Sandbox, Service};
use crate::stats;

/// Arrival times by message text, and a bell rung on each arrival.
#[derive(Clone, Default)]
struct Arrivals {
    seen: Arc<Mutex<HashMap<String, (Instant, usize)>>>,
    bell: Arc<Notify>,
}

impl Arrivals {
    fn record(&self, text: &str) {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap();
        seen.entry(text.to_string()).or_insert((now, 0)).1 += 1;
        drop(seen);
        self.bell.notify_waiters();
    }

    fn at(&self, text: &str) -> Option<Instant> {
        self.seen.lock().unwrap().get(text).map(|(t, _)| *t)
    }

    /// `(distinct, duplicated)` among texts starting with `prefix`, and the latest arrival.
    fn count(&self, prefix: &str) -> (usize, usize, Option<Instant>) {
        let seen = self.seen.lock().unwrap();
        let mut distinct = 0;
        let mut duplicated = 0;
        let mut last = None;
        for (text, (at, n)) in seen.iter().filter(|(t, _)| t.starts_with(prefix)) {
            let _ = text;
            distinct += 1;
            duplicated += n - 1;
            last = last.max(Some(*at));
        }
        (distinct, duplicated, last)
    }

    async fn wait(&self, deadline: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let rung = self.bell.notified();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(until, rung).await.is_err() {
                return done(self);
            }
        }
    }
}

fn text_of(event: &Value) -> Option<String> {
    (event["type"] == "message.new")
        .then(|| event["data"]["text"].as_str().map(str::to_owned))
        .flatten()
}

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> StatusCode {
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && let Some(text) = text_of(&event)
    {
        arrivals.record(&text);
    }
    StatusCode::NO_CONTENT
}

/// Reads the SSE stream and records every `message.new`.
async fn read_sse(mut response: reqwest::Response, arrivals: Arrivals) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            for line in block.lines() {
                if let Some(data) = line.strip_prefix("data:")
                    && let Ok(event) = serde_json::from_str::<Value>(data.trim())
                    && let Some(text) = text_of(&event)
                {
                    arrivals.record(&text);
                }
            }
        }
    }
}

pub async fn run(logs: &Path, out: &Path, quick: bool) -> Result<Value, Error> {
    let (latency_n, burst_n) = if quick { (50, 1_000) } else { (300, 5_000) };
    let sandbox = Sandbox::start(logs).await?;
    let service = Service::start(&sandbox.info, logs, 0).await?;
    let http = reqwest::Client::new();
    let control = sandbox.info.control_url.clone();
    let from = sandbox
        .info
        .world
        .others
        .first()
        .cloned()
        .ok_or("the sandbox names no other users")?;

    // One bell for both sides, so a wait for "both arrived" wakes on either.
    let bell = Arc::new(Notify::new());
    let webhook_arrivals = Arrivals {
        bell: bell.clone(),
        ..Arrivals::default()
    };
    let receiver = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(webhook_arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let created = http
        .post(format!("{}/v1/webhooks", service.base_url))
        .bearer_auth(&service.api_key)
        .json(&json!({"url": hook_url, "events": ["message.new"]}))
        .send()
        .await?;
    if created.status() != StatusCode::CREATED {
        return Err(format!("webhook subscription failed: {}", created.status()).into());
    }

    let sse_arrivals = Arrivals {
        bell,
        ..Arrivals::default()
    };
    let stream = http
        .get(format!("{}/v1/events?types=message.new", service.base_url))
        .bearer_auth(&service.api_key)
        .send()
        .await?;
    tokio::spawn(read_sse(stream, sse_arrivals.clone()));

    let incoming = |text: String| {
        let http = http.clone();
        let url = format!("{control}/incoming");
        let from = from.clone();
        async move {
            http.post(url)
                .json(&json!({"from": from, "text": text}))
                .send()
                .await?
                .error_for_status()?;
            Ok::<(), Error>(())
        }
    };

    // Warm up until both sides hear (the update pump starts once connected).
    let mut warm = false;
    for i in 0..100 {
        let text = format!("warmup {i}");
        incoming(text.clone()).await?;
        let both = |a: &Arrivals, b: &Arrivals| a.at(&text).is_some() && b.at(&text).is_some();
        if sse_arrivals
            .wait(Duration::from_millis(500), |s| both(s, &webhook_arrivals))
            .await
        {
            warm = true;
            break;
        }
    }
    if !warm {
        return Err("no event reached the SSE stream and the webhook during warm-up".into());
    }

    let mut sse_ms = Vec::with_capacity(latency_n);
    let mut hook_ms = Vec::with_capacity(latency_n);
    for i in 0..latency_n {
        let text = format!("latency {i}");
        let sent = Instant::now();
        incoming(text.clone()).await?;
        let arrived = sse_arrivals
            .wait(Duration::from_secs(10), |s| {
                s.at(&text).is_some() && webhook_arrivals.at(&text).is_some()
            })
            .await;
        if !arrived {
            let missing = match (sse_arrivals.at(&text), webhook_arrivals.at(&text)) {
                (None, None) => "on the stream and at the webhook",
                (None, Some(_)) => "on the stream",
                _ => "at the webhook",
            };
            return Err(format!("message {i} did not arrive {missing} within 10 s").into());
        }
        let since = |at: Option<Instant>| at.map_or(Duration::ZERO, |t| t - sent);
        sse_ms.push(since(sse_arrivals.at(&text)));
        hook_ms.push(since(webhook_arrivals.at(&text)));
    }
    sse_ms.sort();
    hook_ms.sort();
    let ms =
        |sorted: &[Duration], q: f64| stats::percentile(sorted, q).map(|d| d.as_secs_f64() * 1e3);

    let started = Instant::now();
    http.post(format!("{control}/incoming/burst"))
        .json(&json!({"from": from, "text": "burst", "count": burst_n}))
        .send()
        .await?
        .error_for_status()?;
    let injected_s = started.elapsed().as_secs_f64();
    let all = |a: &Arrivals| a.count("burst #").0 >= burst_n;
    sse_arrivals.wait(Duration::from_secs(120), all).await;
    webhook_arrivals.wait(Duration::from_secs(300), all).await;
    let side = |a: &Arrivals| {
        let (distinct, duplicated, last) = a.count("burst #");
        let seconds = last.map_or(f64::NAN, |t| (t - started).as_secs_f64());
        json!({
            "received": distinct,
            "lost": burst_n - distinct.min(burst_n),
            "duplicated": duplicated,
            "seconds": seconds,
            "per_second": distinct as f64 / seconds,
        })
    };
    let report = json!({
        "latency_messages": latency_n,
        "sse_ms": {"p50": ms(&sse_ms, 0.5), "p99": ms(&sse_ms, 0.99)},
        "webhook_ms": {"p50": ms(&hook_ms, 0.5), "p99": ms(&hook_ms, 0.99)},
        "burst": burst_n,
        "burst_injected_seconds": injected_s,
        "sse": side(&sse_arrivals),
        "webhook": side(&webhook_arrivals),
    });
    std::fs::write(out.join("events.json"), serde_json::to_vec_pretty(&report)?)?;
    println!("{}", table(&report));
    service.stop().await;
    Ok(report)
}

fn table(r: &Value) -> String {
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x:.1}"));
    format!(
        "events: latency over {n} messages (sandbox push -> arrival)\n\
         | path    | p50 ms | p99 ms | burst of {b}: received | lost | dup | seconds | per s |\n\
         | SSE     | {} | {} | {} | {} | {} | {} | {} |\n\
         | webhook | {} | {} | {} | {} | {} | {} | {} |",
        f(&r["sse_ms"]["p50"]),
        f(&r["sse_ms"]["p99"]),
        r["sse"]["received"],
        r["sse"]["lost"],
        r["sse"]["duplicated"],
        f(&r["sse"]["seconds"]),
        f(&r["sse"]["per_second"]),
        f(&r["webhook_ms"]["p50"]),
        f(&r["webhook_ms"]["p99"]),
        r["webhook"]["received"],
        r["webhook"]["lost"],
        r["webhook"]["duplicated"],
        f(&r["webhook"]["seconds"]),
        f(&r["webhook"]["per_second"]),
        n = r["latency_messages"],
        b = r["burst"],
    )
}
