//! Helpers for the event tests: an SSE reader over a plain reqwest response, and waiting
//! until the app's update pump has caught up with the sandbox (so a message injected next is
//! live, not before the account's starting point).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{DEADLINE, TestApp};

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
