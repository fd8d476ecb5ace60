//! Helpers for the event tests: an SSE reader over a plain reqwest response, waiting until
//! the app's update pump has caught up with the sandbox (so a message injected next is live,
//! not before the account's starting point), and a webhook receiver with the Standard
//! Webhooks check.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine;
use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{DEADLINE, TestApp, eventually};

/// One SSE frame (comments are skipped).
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

pub struct SseClient {
    response: reqwest::Response,
    buffer: String,
}

impl SseClient {
    /// Opens `path` (e.g. `/v1/events?types=message.new`) with an optional `Last-Event-ID`.
    pub async fn open(app: &TestApp, path: &str, last_event_id: Option<i64>) -> Self {
        Self::open_with_key(app, &app.api_key, path, last_event_id).await
    }

    /// [`Self::open`] with another API key.
    pub async fn open_with_key(
        app: &TestApp,
        key: &str,
        path: &str,
        last_event_id: Option<i64>,
    ) -> Self {
        let mut request = app.request_with_key(key, reqwest::Method::GET, path);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("open the event stream");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame, or `None` when the stream ended; panics after `DEADLINE`.
    pub async fn next(&mut self) -> Option<Frame> {
        tokio::time::timeout(DEADLINE, self.read_frame())
            .await
            .expect("timed out waiting for an SSE frame")
    }

    /// The next `n` frames.
    pub async fn take(&mut self, n: usize) -> Vec<Frame> {
        let mut frames = Vec::with_capacity(n);
        while frames.len() < n {
            frames.push(self.next().await.expect("the stream ended early"));
        }
        frames
    }

    async fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(frame) = parse(&block) {
                    return Some(frame);
                }
                continue;
            }
            let chunk = self.response.chunk().await.expect("read the stream")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn parse(block: &str) -> Option<Frame> {
    let mut id = None;
    let mut event = String::from("message");
    let mut data = String::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    (!data.is_empty()).then(|| Frame {
        id,
        event,
        data: serde_json::from_str(&data).expect("data is JSON"),
    })
}

/// Waits until the app is connected and its update pump caught up: from then on every
/// update reaches the log.
pub async fn wait_for_pump(app: &TestApp) {
    app.wait_until_healthy().await;
}

/// Delivers a message from `from` (private chat, or `peer`) through the control API.
pub async fn incoming(app: &TestApp, from: &str, peer: Option<&str>, text: &str) -> i32 {
    let view = app
        .sandbox
        .control()
        .incoming(from, peer, text)
        .expect("deliver an incoming message");
    view.id
}

/// Every event of `account` in the log, oldest first (the store's ground truth).
pub async fn logged(app: &TestApp, account: &str) -> Vec<Value> {
    app.state
        .events
        .store()
        .events_after(account, 0, 1_000_000)
        .await
        .expect("read the log")
        .iter()
        .map(|e| e.to_json())
        .collect()
}

/// `(type, data.id or ids, data.text)` of frames, for compact assertions.
pub fn summary(frames: &[Frame]) -> Vec<Value> {
    frames
        .iter()
        .map(|f| {
            json!([
                f.event,
                f.data["data"].get("id").or(f.data["data"].get("ids")),
                f.data["data"].get("text")
            ])
        })
        .collect()
}

/// A delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
}

/// A webhook receiver: answers 500 to the first `fail_first` requests (or to all while
/// `down`), 204 otherwise, and keeps what it accepted.
#[derive(Clone, Default)]
pub struct Receiver {
    accepted: Arc<Mutex<Vec<Delivery>>>,
    /// Requests received, accepted or not.
    pub seen: Arc<AtomicUsize>,
    fail_first: Arc<AtomicUsize>,
    /// While set, every request gets 500.
    pub down: Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    /// A receiver on a loopback port over plain HTTP; its URL.
    pub async fn start(fail_first: usize) -> (Self, String) {
        let receiver = Self::default();
        receiver.fail_first.store(fail_first, Ordering::SeqCst);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = receiver.router();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    /// Its routes (`POST /hook`), to serve some other way (e.g. over TLS).
    pub fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/hook", post(receive))
            .with_state(self.clone())
    }

    pub fn accepted(&self) -> Vec<Delivery> {
        self.accepted.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        eventually(DEADLINE, "webhook deliveries", || async {
            let got = self.accepted();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.seen.fetch_add(1, Ordering::SeqCst);
    if n < r.fail_first.load(Ordering::SeqCst) || r.down.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = |name: &str| headers[name].to_str().unwrap().to_string();
    r.accepted.lock().unwrap().push(Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    StatusCode::NO_CONTENT
}

/// The Standard Webhooks check, written here independently of mtgate's signer.
pub fn verify(secret: &str, d: &Delivery) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", d.id, d.timestamp).as_bytes());
    mac.update(&d.body);
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    d.signature.split(' ').any(|s| s == expected)
}

pub async fn subscribe(app: &TestApp, body: Value) -> Value {
    let response = app.post("/v1/webhooks").json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("location"));
    response.json().await.unwrap()
}

/// `GET /v1/webhooks`: the webhooks listed.
pub async fn listed_webhooks(app: &TestApp) -> Vec<Value> {
    let response = app.get("/v1/webhooks").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut list: Value = response.json().await.unwrap();
    serde_json::from_value(list["webhooks"].take()).unwrap()
}

pub fn body(d: &Delivery) -> Value {
    serde_json::from_slice(&d.body).unwrap()
}
