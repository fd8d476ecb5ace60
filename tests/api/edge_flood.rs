//! Flood memory: a wait Telegram handed back is remembered for its scope, and requests inside
//! it are answered 429 without calling Telegram again.

use crate::common;
use crate::messages_support;

use messages_support::*;
use serde_json::json;

fn send_calls(app: &common::TestApp) -> Vec<mtgate_sandbox::world::log::RequestLogEntry> {
    app.sandbox
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "messages.sendMessage")
        .collect()
}

#[tokio::test]
async fn after_a_long_flood_wait_the_same_chat_gets_429_without_a_second_call_and_another_chat_still_works()
 {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 420, "FLOOD_WAIT_120", 1);

    let first = send(&app, json!({"peer": w.channel, "text": "one"})).await;
    first.assert_error(429, "FLOOD_WAIT");
    assert_eq!(first.headers["retry-after"], "120");

    let second = send(&app, json!({"peer": w.channel, "text": "two"})).await;
    second.assert_error(429, "FLOOD_WAIT");
    let retry: u64 = second.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry), "Retry-After {retry}");
    assert_eq!(second.body["error"]["retry_after"], retry);
    assert_eq!(
        send_calls(&app).len(),
        1,
        "the second send never reached Telegram"
    );

    let elsewhere = send(&app, json!({"peer": w.supergroup, "text": "three"})).await;
    assert_eq!(elsewhere.status, 201, "{:?}", elsewhere.body);
    let calls = send_calls(&app);
    assert_eq!(calls.len(), 2);
    assert!(calls[1].ok);
    let posted = ground_truth(&app, &w.channel);
    assert!(
        !posted
            .iter()
            .any(|m| m["text"] == "one" || m["text"] == "two"),
        "neither refused send reached the channel"
    );

    let metrics = app
        .get_anonymous("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |outcome: &str| {
        format!(
            "mtgate_telegram_flood_scope_total{{account=\"default\",method=\"messages.sendMessage\",scope=\"chat\",kind=\"FLOOD_WAIT\",outcome=\"{outcome}\"}} 1"
        )
    };
    assert!(metrics.contains(&line("remembered")), "{metrics}");
    assert!(metrics.contains(&line("refused")), "{metrics}");
}

#[tokio::test]
async fn a_slowmode_wait_on_one_chat_is_remembered_as_slowmode() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox
        .control()
        .inject_rpc_error("messages.sendMessage", 420, "SLOWMODE_WAIT_60", 1);
    send(&app, json!({"peer": w.supergroup, "text": "one"}))
        .await
        .assert_error(429, "FLOOD_WAIT");
    let again = send(&app, json!({"peer": w.supergroup, "text": "two"})).await;
    again.assert_error(429, "FLOOD_WAIT");
    assert!(
        again.body["error"]["telegram"]
            .as_str()
            .unwrap()
            .starts_with("SLOWMODE_WAIT_"),
        "{:?}",
        again.body
    );
    assert_eq!(send_calls(&app).len(), 1);
}
