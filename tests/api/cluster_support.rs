//! Replicas for the cluster tests: several real `mtgate serve` processes on one PostgreSQL
//! database (the test process's own server) and one sandbox, with `default` and `alice`.

use std::net::SocketAddr;
use std::time::Duration;

use mtgate_sandbox::harness::Sandbox;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::accounts::alice_account;
use crate::common::{DEADLINE, MtgateProcess, TempDir, base_vars, eventually, random_api_key};

/// The lease TTL the tests run with: short, so failovers are quick, yet long enough for a
/// busy 2-core machine to renew in time.
pub const TTL: Duration = Duration::from_secs(3);

/// The accounts every replica serves.
pub const ACCOUNTS: [&str; 2] = ["default", "alice"];

pub struct Replica {
    pub id: String,
    pub process: Option<MtgateProcess>,
    pub address: SocketAddr,
}

pub struct Replicas {
    pub sandbox: Sandbox,
    pub key: String,
    pub client: reqwest::Client,
    pub replicas: Vec<Replica>,
    _dir: TempDir,
}

/// A failed cluster test shows what each replica logged: the processes are gone afterwards.
impl Drop for Replicas {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for replica in &self.replicas {
            if let Some(process) = &replica.process {
                let lines = process.stderr_lines();
                let tail = &lines[lines.len().saturating_sub(80)..];
                eprintln!(
                    "--- replica {} ({} log lines, the last {}):",
                    replica.id,
                    lines.len(),
                    tail.len()
                );
                for line in tail {
                    eprintln!("{line}");
                }
            }
        }
    }
}

impl Replicas {
    /// `count` replicas on a fresh database, with the sandbox's AUTH_KEY_DUPLICATED switch on
    /// (two replicas driving one account at once would kill its key); returns once every
    /// account is held.
    pub async fn start(count: usize) -> Self {
        Self::start_with(count, &[]).await
    }

    /// [`Self::start`] with more variables for every replica.
    pub async fn start_with(count: usize, extra: &[(&str, &str)]) -> Self {
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::start_each(count, |_| extra.clone()).await
    }

    /// [`Self::start`] with more variables for replica `i` from `extra(i)`.
    pub async fn start_each(count: usize, extra: impl Fn(usize) -> Vec<(String, String)>) -> Self {
        let url = tokio::task::spawn_blocking(|| {
            mtgate_testdb::shared()
                .and_then(|pg| pg.create_database())
                .expect("PostgreSQL for the cluster tests")
        })
        .await
        .unwrap();
        let sandbox = Sandbox::start().await.unwrap();
        sandbox.control().set_auth_key_duplicated(true);
        let dir = TempDir::new("cluster");
        let key = random_api_key();
        let mut replicas = Vec::new();
        for i in 0..count {
            let state_dir = dir.path().join(format!("r{i}"));
            let mut vars = base_vars(&sandbox, &state_dir, &key);
            vars.extend(alice_account(&sandbox, dir.path()));
            vars.extend([
                ("MTGATE_DATABASE_URL".into(), url.clone()),
                ("MTGATE_REPLICA_ID".into(), format!("r{i}")),
                ("MTGATE_LEASE_TTL".into(), format!("{}ms", TTL.as_millis())),
                ("MTGATE_LOG_FORMAT".into(), "json".into()),
            ]);
            vars.extend(extra(i));
            let process = MtgateProcess::spawn(&["serve"], &vars);
            let address = process.wait_for_listen_address().await;
            replicas.push(Replica {
                id: format!("r{i}"),
                process: Some(process),
                address,
            });
        }
        let cluster = Self {
            sandbox,
            key,
            // A frozen replica accepts connections but never answers: bound every request.
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
            replicas,
            _dir: dir,
        };
        cluster.wait_until_held(&ACCOUNTS, None).await;
        cluster
    }

    pub fn url(&self, replica: usize, path: &str) -> String {
        format!("http://{}{path}", self.replicas[replica].address)
    }

    /// `GET /v1/cluster` through `replica`.
    pub async fn cluster_view(&self, replica: usize) -> Option<Value> {
        self.get_json(replica, "/v1/cluster").await
    }

    /// A `GET` of `path` through `replica` with the key: its JSON when answered 200.
    pub async fn get_json(&self, replica: usize, path: &str) -> Option<Value> {
        let response = self
            .client
            .get(self.url(replica, path))
            .bearer_auth(&self.key)
            .send()
            .await
            .ok()?;
        if response.status() != StatusCode::OK {
            return None;
        }
        response.json().await.ok()
    }

    /// Which live replica holds each account, read through any running replica.
    pub async fn holders(&self) -> Vec<(String, String)> {
        for (i, replica) in self.replicas.iter().enumerate() {
            if replica.process.is_none() {
                continue;
            }
            if let Some(view) = self.cluster_view(i).await {
                return holders_in(&view);
            }
        }
        Vec::new()
    }

    /// Waits until every account in `accounts` is held by a live replica (other than
    /// `not_by`, when given); returns the holders.
    pub async fn wait_until_held(
        &self,
        accounts: &[&str],
        not_by: Option<&str>,
    ) -> Vec<(String, String)> {
        eventually(DEADLINE, "every account to be held", || async {
            let holders = self.holders().await;
            let all = accounts.iter().all(|account| {
                holders
                    .iter()
                    .any(|(a, r)| a == account && Some(r.as_str()) != not_by)
            });
            all.then_some(holders)
        })
        .await
    }

    /// The index of the replica holding `account`.
    pub async fn holder_of(&self, account: &str) -> usize {
        let holders = self.wait_until_held(&[account], None).await;
        let id = &holders.iter().find(|(a, _)| a == account).unwrap().1;
        self.replicas.iter().position(|r| &r.id == id).unwrap()
    }

    /// A send through `replica` with an idempotency key, retried on 503 and on a failed
    /// request (no answer within the client's timeout, or a dropped kept-alive connection), as a client should (the account may be moving, and a
    /// request forwarded to a holder that just froze waits for it); the final status and
    /// body. Retrying is safe: the key makes it one send.
    pub async fn send(&self, replica: usize, account: &str, text: &str) -> (StatusCode, Value) {
        let path = format!("/v1/accounts/{account}/messages");
        let peer = if account == "alice" {
            "@bob_sandbox"
        } else {
            "@sandbox_news"
        };
        let body = json!({"peer": peer, "text": text});
        let idempotency_key = format!("k-{}", text.replace(' ', "-"));
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let sent = self
                .client
                .post(self.url(replica, &path))
                .bearer_auth(&self.key)
                .header("Idempotency-Key", &idempotency_key)
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // No answer in time, or a kept-alive connection the replica closed while it
                // was frozen: retry, as a client would.
                Err(_) if tokio::time::Instant::now() < deadline => continue,
                Err(e) => panic!("replica {replica} did not answer: {e}"),
            };
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if status != StatusCode::SERVICE_UNAVAILABLE || tokio::time::Instant::now() > deadline {
                return (status, answer);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many times `text` was posted (ground truth), in the account's chat.
    pub fn copies(&self, account: &str, text: &str) -> usize {
        let control = self.sandbox.control();
        let messages = if account == "alice" {
            control.chat_messages_as("@alice_sandbox", "@bob_sandbox")
        } else {
            control.chat_messages("@sandbox_news")
        }
        .expect("the sandbox's chat");
        messages.iter().filter(|m| m.text == text).count()
    }

    /// Asserts, from the sandbox's connection log, that no two connections of one auth key
    /// ever made API calls at overlapping times and that none was caught as a duplicate.
    pub fn assert_one_driver_at_a_time(&self) {
        let log = serde_json::to_value(self.sandbox.control().connections()).unwrap();
        let log = log.as_array().unwrap();
        assert!(
            log.iter().all(|c| c["duplicate"] == false),
            "AUTH_KEY_DUPLICATED was triggered: {log:#?}"
        );
        let mut by_key: std::collections::BTreeMap<String, Vec<(u64, u64)>> = Default::default();
        for c in log {
            if let (Some(first), Some(last)) =
                (c["first_call_ms"].as_u64(), c["last_call_ms"].as_u64())
            {
                by_key
                    .entry(c["auth_key_id"].as_str().unwrap().to_owned())
                    .or_default()
                    .push((first, last));
            }
        }
        for (key, mut spans) in by_key {
            spans.sort();
            for pair in spans.windows(2) {
                assert!(
                    pair[1].0 >= pair[0].1,
                    "two connections of key {key} made calls at the same time: {spans:?}"
                );
            }
        }
    }

    /// Kills replica `i` with SIGKILL (it releases nothing).
    pub fn kill(&mut self, i: usize) {
        signal(&self.replicas[i], "-KILL");
        self.replicas[i].process = None;
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) replica `i`.
    pub fn freeze(&self, i: usize, frozen: bool) {
        signal(&self.replicas[i], if frozen { "-STOP" } else { "-CONT" });
    }
}

fn signal(replica: &Replica, signal: &str) {
    let pid = replica.process.as_ref().expect("a running replica").pid();
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
}

/// (account, replica id) for every held account in a `/v1/cluster` answer.
pub fn holders_in(view: &Value) -> Vec<(String, String)> {
    let mut holders = Vec::new();
    for replica in view["replicas"].as_array().into_iter().flatten() {
        if replica["alive"] != true {
            continue;
        }
        for account in replica["accounts"].as_array().into_iter().flatten() {
            holders.push((
                account.as_str().unwrap_or_default().to_owned(),
                replica["id"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    holders
}
