//! Forwarding to a replica at an `https://` address: each replica sits behind a TLS front
//! (as a sidecar proxy would be) whose certificate comes from the test's own CA. Trusted
//! through `MTGATE_TLS_CA_FILE`, requests for the other replica's account go through its
//! front; untrusted, they are refused with nothing sent and the reason in the log.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cluster_support::Replicas;
use crate::tls_support::TestCa;

/// Two replicas, each advertising its TLS front's `https://` address, with `extra`
/// variables; returns them and, per replica, how many connections its front relayed.
async fn replicas_behind_fronts(
    ca: &TestCa,
    extra: &[(&str, &str)],
) -> (Replicas, Vec<Arc<AtomicUsize>>) {
    let backends: Vec<Arc<OnceLock<SocketAddr>>> =
        (0..2).map(|_| Arc::new(OnceLock::new())).collect();
    let mut fronts = Vec::new();
    for backend in &backends {
        fronts.push(ca.front(backend.clone()).await);
    }
    let cluster = Replicas::start_each(2, |i| {
        let mut vars = vec![("MTGATE_REPLICA_ADDRESS".to_string(), fronts[i].0.clone())];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        vars
    })
    .await;
    for (backend, replica) in backends.iter().zip(&cluster.replicas) {
        backend.set(replica.address).unwrap();
    }
    let relayed = fronts.into_iter().map(|(_, count)| count).collect();
    (cluster, relayed)
}

#[tokio::test]
async fn a_request_for_an_account_held_behind_a_trusted_tls_front_is_forwarded_through_it() {
    let ca = TestCa::new();
    let ca_file = ca.file();
    let (cluster, relayed) =
        replicas_behind_fronts(&ca, &[("MTGATE_TLS_CA_FILE", ca_file.as_str())]).await;
    let holder = cluster.holder_of("default").await;
    let other = 1 - holder;

    let (status, body) = cluster.send(other, "default", "forwarded over tls").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(cluster.copies("default", "forwarded over tls"), 1);
    assert!(
        relayed[holder].load(Ordering::SeqCst) >= 1,
        "the forward went through the holder's TLS front"
    );
}

#[tokio::test]
async fn a_tls_front_with_an_untrusted_certificate_gets_no_forward_and_nothing_is_sent() {
    let ca = TestCa::new();
    let (cluster, relayed) = replicas_behind_fronts(&ca, &[]).await;
    let holder = cluster.holder_of("default").await;
    let other = 1 - holder;

    let response = cluster
        .client
        .post(cluster.url(other, "/v1/accounts/default/messages"))
        .bearer_auth(&cluster.key)
        .json(&json!({"peer": "@sandbox_news", "text": "never forwarded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TELEGRAM_UNAVAILABLE", "{body}");
    assert_eq!(cluster.copies("default", "never forwarded"), 0);
    assert_eq!(
        relayed[holder].load(Ordering::SeqCst),
        0,
        "no handshake passed"
    );
    let log = cluster.replicas[other]
        .process
        .as_ref()
        .unwrap()
        .stderr_lines()
        .join("\n");
    assert!(
        log.contains("could not forward to the holder") && log.contains("is not trusted"),
        "the forwarding replica logs why: {log}"
    );
}
