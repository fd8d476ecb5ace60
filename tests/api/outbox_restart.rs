//! Durability: `kill -9` with jobs queued and in `sending`, then a restart on the same state
//! directory: every job is sent exactly once (the sandbox's ground truth), in order.

use std::time::Duration;

use mtgate_sandbox::harness::Sandbox;
use serde_json::{Value, json};

use crate::common::{MtgateProcess, TempDir, base_vars, eventually, random_api_key};

struct Running {
    /// Held for its drop, which is `kill -9`.
    _process: MtgateProcess,
    base: String,
}

async fn start(vars: &[(String, String)]) -> Running {
    let process = MtgateProcess::spawn(&["serve"], vars);
    let address = process.wait_for_listen_address().await;
    Running {
        _process: process,
        base: format!("http://{address}"),
    }
}

#[tokio::test]
async fn jobs_queued_and_in_flight_at_a_kill_are_each_sent_exactly_once_after_a_restart() {
    let sandbox = Sandbox::start().await.unwrap();
    let state = TempDir::new("outbox-restart");
    let key = random_api_key();
    let mut vars = base_vars(&sandbox, state.path(), &key);
    vars.extend(
        [
            ("MTGATE_OUTBOX_RATES", "off"),
            ("MTGATE_LOG_FORMAT", "json"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let client = reqwest::Client::new();
    let first = start(&vars).await;
    let ready = |base: String| {
        let client = client.clone();
        async move {
            eventually(Duration::from_secs(15), "mtgate to be ready", || async {
                let r = client
                    .get(format!("{base}/health/ready"))
                    .send()
                    .await
                    .ok()?;
                r.status().is_success().then_some(())
            })
            .await
        }
    };
    ready(first.base.clone()).await;

    // Replies take 3 s: the first job of each chat is `sending` when the process dies.
    sandbox.control().set_delay(Duration::from_secs(3));
    let names = sandbox.world();
    let chats = [
        names.others[0].clone(),
        names.others[1].clone(),
        names.channel.clone(),
    ];
    let peers: Vec<&String> = (0..4).flat_map(|_| chats.iter()).collect();
    let answer: Value = client
        .post(format!("{}/v1/outbox/batch", first.base))
        .bearer_auth(&key)
        .json(&json!({"peers": peers, "text": "durable"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = answer["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 12);
    let sending = eventually(Duration::from_secs(10), "jobs in flight", || async {
        let page: Value = client
            .get(format!("{}/v1/jobs?state=sending", first.base))
            .bearer_auth(&key)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let n = page["jobs"].as_array()?.len();
        (n == chats.len()).then_some(n)
    })
    .await;
    assert_eq!(sending, 3);
    // kill -9 (dropping the process kills it) while the sandbox holds the replies.
    drop(first);
    sandbox.control().set_delay(Duration::ZERO);

    let second = start(&vars).await;
    ready(second.base.clone()).await;
    for id in &ids {
        eventually(Duration::from_secs(15), "every job sent", || async {
            let job: Value = client
                .get(format!("{}/v1/jobs/{id}", second.base))
                .bearer_auth(&key)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (job["job"]["state"] == "sent").then_some(())
        })
        .await;
    }
    for chat in &chats {
        let truth = sandbox.control().chat_messages(chat).unwrap();
        let durable = truth.iter().filter(|m| m.text == "durable").count();
        assert_eq!(durable, 4, "{chat}: each job exactly once");
    }
    drop(second);
}

#[tokio::test]
async fn a_graceful_restart_finishes_the_sends_in_flight_and_resumes_the_queue() {
    use crate::outbox_support::{delivered_with, outbox_options, wait_for_state};
    let mut app = crate::messages_support::ready_app_with(outbox_options()).await;
    let chat = app.sandbox.world().others[0].clone();
    app.sandbox.control().set_delay(Duration::from_millis(800));
    let mut ids = Vec::new();
    for i in 0..3 {
        let job = crate::outbox_support::enqueue_text(&app, &chat, &format!("graceful {i}")).await;
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    wait_for_state(&app, &ids[0], "sending", Duration::from_secs(5)).await;
    app.restart().await;
    app.sandbox.control().set_delay(Duration::ZERO);
    // The send in flight finished before the stop: it was not left `sending`.
    let first = crate::outbox_support::job(&app, &ids[0]).await;
    assert_eq!(first["state"], "sent", "{first}");
    assert_eq!(first["attempts"], 1);
    app.wait_until_healthy().await;
    for id in &ids {
        wait_for_state(&app, id, "sent", crate::common::DEADLINE).await;
    }
    assert_eq!(
        delivered_with(&app, &chat, "graceful"),
        ["graceful 0", "graceful 1", "graceful 2"]
    );
}
