//! The outbox with replicas on one PostgreSQL database: jobs enqueued through any replica are
//! sent once, by the account's holder; when the holder dies, the replica that takes the
//! account over sends what was still queued.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cluster_support::Replicas;
use crate::common::{DEADLINE, eventually};

async fn enqueue(cluster: &Replicas, replica: usize, body: Value) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let response = cluster
            .client
            .post(cluster.url(replica, "/v1/outbox"))
            .bearer_auth(&cluster.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status == StatusCode::ACCEPTED {
            return answer["job"].clone();
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "still 503: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn jobs_through_any_replica_are_sent_once_and_survive_the_holders_death() {
    let mut cluster = Replicas::start(2).await;
    let holder = cluster.holder_of("default").await;
    let standby = 1 - holder;
    for (n, replica) in [standby, holder].into_iter().enumerate() {
        let text = format!("cluster job {n}");
        enqueue(
            &cluster,
            replica,
            json!({"peer": "@sandbox_news", "text": text}),
        )
        .await;
    }
    for n in 0..2 {
        let text = format!("cluster job {n}");
        eventually(DEADLINE, "the job sent", || async {
            (cluster.copies("default", &text) == 1).then_some(())
        })
        .await;
    }
    // Due in a moment; the holder dies before: the other replica must send it.
    let send_at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let body = json!({"peer": "@sandbox_news", "text": "after the failover", "send_at": send_at});
    enqueue(&cluster, holder, body).await;
    cluster.kill(holder);
    eventually(
        Duration::from_secs(30),
        "the job sent by the new holder",
        || async { (cluster.copies("default", "after the failover") == 1).then_some(()) },
    )
    .await;
    for n in 0..2 {
        assert_eq!(cluster.copies("default", &format!("cluster job {n}")), 1);
    }
    cluster.assert_one_driver_at_a_time();
}
