//! Peer-cache misses are coalesced per peer: one Telegram lookup for many concurrent requests
//! of the same unknown peer, and no lookup waits behind another peer's.

use crate::messages_support;

use std::time::{Duration, Instant};

use crate::common::{DEADLINE, eventually};
use messages_support::*;

#[tokio::test]
async fn two_concurrent_requests_for_one_unknown_username_make_one_resolve_call() {
    let app = ready_app().await;
    let w = world(&app);
    // Every reply held a little, so both requests miss the cache while the lookup runs.
    app.sandbox.control().set_delay(Duration::from_millis(300));
    let path = format!("/v1/peers/{}", w.channel);
    let (a, b) = tokio::join!(get(&app, &path), get(&app, &path));
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(b.status, 200, "{:?}", b.body);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), 1);
}

#[tokio::test]
async fn a_lookup_sleeping_through_a_flood_wait_does_not_hold_up_another_peer() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("contacts.resolveUsername", 420, "FLOOD_WAIT_2", 1);
    let slow = tokio::spawn(app.get(&format!("/v1/peers/{}", w.channel)).send());
    eventually(
        DEADLINE,
        "the first lookup to hit its flood wait",
        || async {
            let flooded = requests(&app)
                .iter()
                .any(|r| r["method"] == "contacts.resolveUsername" && r["ok"] == false);
            flooded.then_some(())
        },
    )
    .await;

    let started = Instant::now();
    let other = get(&app, &format!("/v1/peers/{}", w.supergroup)).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the other peer waited {:?}",
        started.elapsed()
    );
    assert!(!slow.is_finished(), "the flooded lookup ended too early");

    let slow = Answer::of(slow.await.unwrap().unwrap()).await;
    assert_eq!(slow.status, 200, "{:?}", slow.body);
    assert_eq!(slow.body["type"], "channel");
}
