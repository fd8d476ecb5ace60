//! The app's side of mtgate: one keep-alive HTTP client (reqwest keeps a pool of idle
//! connections per host, so concurrency C settles on C connections) calling the contract's
//! endpoints.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// How long a send with an `Idempotency-Key` keeps retrying 5xx / 429 / transport errors.
const RETRY_BUDGET: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Mtgate {
    http: reqwest::Client,
    base: String,
    key: String,
    peer: String,
}

#[derive(Deserialize)]
struct MessageBody {
    id: i64,
}

#[derive(Deserialize)]
struct HistoryBody {
    messages: Vec<serde_json::Value>,
}

/// What a send with retries came to.
pub struct Sent {
    pub id: i64,
    /// The error kind of every failed attempt before the one that succeeded.
    pub retried_on: Vec<String>,
}

impl Mtgate {
    /// A client for the service at `base` (e.g. `http://127.0.0.1:PORT`) writing to `peer`.
    pub fn new(base: &str, key: &str, peer: &str) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base.to_owned(),
            key: key.to_owned(),
            peer: peer.to_owned(),
        })
    }

    /// The same client (and connection pool) writing to another peer.
    pub fn with_peer(&self, peer: &str) -> Self {
        Self {
            peer: peer.to_owned(),
            ..self.clone()
        }
    }

    /// `POST /v1/messages` once; the new message's id.
    pub async fn send(&self, text: &str) -> Result<i64, String> {
        let response = self.post_message(text, None).await.map_err(transport)?;
        Ok(expect::<MessageBody>(response, StatusCode::CREATED)
            .await?
            .id)
    }

    /// `POST /v1/messages` with `Idempotency-Key: key`, retried with the same key on 5xx, 429
    /// and transport errors (with a short capped backoff) until it succeeds, a 4xx says it
    /// never will, or the retry budget runs out.
    pub async fn send_idempotent(&self, text: &str, key: &str) -> Result<Sent, String> {
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut retried_on = Vec::new();
        let mut backoff = Duration::from_millis(10);
        loop {
            attempts += 1;
            let error = match self.post_message(text, Some(key)).await {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::CREATED {
                        let body = expect::<MessageBody>(response, StatusCode::CREATED).await?;
                        return Ok(Sent {
                            id: body.id,
                            retried_on,
                        });
                    }
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    let error = expect::<MessageBody>(response, StatusCode::CREATED)
                        .await
                        .err()
                        .unwrap_or_default();
                    if !retryable {
                        return Err(error);
                    }
                    error
                }
                Err(e) => transport(e),
            };
            if started.elapsed() + backoff > RETRY_BUDGET {
                return Err(format!("gave up after {attempts} attempts: {error}"));
            }
            retried_on.push(error);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }

    /// `PATCH /v1/messages/{peer}/{id}`.
    pub async fn edit(&self, id: i64, text: &str) -> Result<(), String> {
        let response = self
            .http
            .patch(format!("{}/v1/messages/{}/{id}", self.base, self.peer))
            .bearer_auth(&self.key)
            .json(&json!({ "text": text }))
            .send()
            .await
            .map_err(transport)?;
        expect::<MessageBody>(response, StatusCode::OK)
            .await
            .map(drop)
    }

    /// `GET /v1/messages/{peer}?limit=N`; how many messages came back.
    pub async fn history(&self, limit: usize) -> Result<usize, String> {
        let response = self
            .http
            .get(format!("{}/v1/messages/{}", self.base, self.peer))
            .query(&[("limit", limit)])
            .bearer_auth(&self.key)
            .send()
            .await
            .map_err(transport)?;
        Ok(expect::<HistoryBody>(response, StatusCode::OK)
            .await?
            .messages
            .len())
    }

    /// `GET /health` (no key); 200 is success.
    pub async fn health(&self) -> Result<(), String> {
        let response = self
            .http
            .get(format!("{}/health", self.base))
            .send()
            .await
            .map_err(transport)?;
        expect::<serde_json::Value>(response, StatusCode::OK)
            .await
            .map(drop)
    }

    /// `GET /health/live` (no key, no Telegram work); 200 is success.
    pub async fn live(&self) -> Result<(), String> {
        let response = self
            .http
            .get(format!("{}/health/live", self.base))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        response.bytes().await.map_err(transport)?;
        match status {
            StatusCode::OK => Ok(()),
            other => Err(format!("HTTP {}", other.as_u16())),
        }
    }

    async fn post_message(
        &self,
        text: &str,
        idempotency_key: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .http
            .post(format!("{}/v1/messages", self.base))
            .bearer_auth(&self.key)
            .json(&json!({ "peer": self.peer, "text": text }));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await
    }
}

/// The body as `T` when the status is `want`; otherwise an error kind naming the status and
/// the contract's error code (`HTTP 503 TELEGRAM_UNAVAILABLE`).
async fn expect<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    want: StatusCode,
) -> Result<T, String> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("HTTP {} body: {}", status.as_u16(), transport(e)))?;
    if status != want {
        let code = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(format!("HTTP {} {code}", status.as_u16()));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("HTTP {} bad body: {e}", status.as_u16()))
}

fn transport(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "transport timeout".into()
    } else if error.is_connect() {
        "transport connect".into()
    } else {
        "transport other".into()
    }
}
