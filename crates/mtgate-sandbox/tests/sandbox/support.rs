//! Helpers shared by the sandbox integration tests: a real grammers client built from a
//! sandbox session string, deadlines, and the control API over HTTP.
// Each test binary uses a different part of these helpers.
#![allow(dead_code, unused_imports)]

pub use std::future::Future;
pub use std::sync::Arc;
pub use std::time::Duration;

pub use grammers_client::message::InputMessage;
pub use grammers_client::sender::UpdatesConfiguration;
pub use grammers_client::session::storages::MemorySession;
pub use grammers_client::session::types::PeerRef;
pub use grammers_client::session::updates::UpdatesLike;
pub use grammers_client::update::Update;
pub use grammers_client::{Client, InvocationError, SenderPool, SignInError, tl};
pub use mtgate_sandbox::Sandbox;
pub use mtgate_session::StringSession;
pub use serde_json::{Value, json};
pub use tokio::sync::mpsc;
pub use tokio::task::JoinHandle;

pub const DEADLINE: Duration = Duration::from_secs(15);
pub const API_ID: i32 = 12345;

/// A grammers client with the default (auto-sleeping) retry policy, its pool runner spawned.
pub struct Tg {
    pub client: Client,
    pub updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: JoinHandle<()>,
}

impl Drop for Tg {
    fn drop(&mut self) {
        self.client.disconnect();
        self.runner.abort();
    }
}

pub fn connect(session: &str) -> Tg {
    let parsed = StringSession::parse(session, None).expect("the sandbox's session parses");
    let pool = SenderPool::new(
        Arc::new(MemorySession::from(parsed.to_session_data())),
        API_ID,
    );
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    Tg {
        client,
        updates: Some(pool.updates),
        runner,
    }
}

pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Polls `check` until it returns `Some` or the deadline passes.
pub async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    within(what, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

pub async fn peer(tg: &Tg, username: &str) -> PeerRef {
    let found = within("resolve", tg.client.resolve_username(username))
        .await
        .expect("resolve_username")
        .unwrap_or_else(|| panic!("{username} exists"));
    found
        .to_ref()
        .await
        .unwrap()
        .expect("a resolved peer is usable")
}

pub async fn get(sandbox: &Sandbox, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", sandbox.control_url()))
        .await
        .expect("control API answers")
}

pub async fn get_json(sandbox: &Sandbox, path: &str) -> Value {
    let response = get(sandbox, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

pub async fn post(sandbox: &Sandbox, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", sandbox.control_url()))
        .json(&body)
        .send()
        .await
        .expect("control API answers")
}

pub async fn ground_truth(sandbox: &Sandbox, peer: &str) -> Vec<Value> {
    let messages = get_json(sandbox, &format!("/chats/{peer}/messages")).await;
    messages.as_array().unwrap().clone()
}

pub fn methods(requests: &Value, method: &str) -> Vec<Value> {
    requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == method)
        .cloned()
        .collect()
}
