//! What the sandbox does not model is reported as a sandbox limitation, never blamed on the
//! caller; basic groups get a clear answer.

use crate::messages_support;

use messages_support::*;
use serde_json::json;

#[tokio::test]
async fn a_method_the_sandbox_does_not_model_is_501_not_supported_by_sandbox() {
    let app = ready_app().await;
    let w = world(&app);
    app.sandbox.control().inject_rpc_error(
        "messages.sendMessage",
        400,
        "METHOD_NOT_SUPPORTED_BY_SANDBOX",
        1,
    );
    let answer = send(&app, json!({"peer": w.channel, "text": "hi"})).await;
    answer.assert_error(501, "NOT_SUPPORTED_BY_SANDBOX");
    assert_eq!(
        answer.body["error"]["telegram"],
        "METHOD_NOT_SUPPORTED_BY_SANDBOX"
    );
    assert!(
        ground_truth(&app, &w.channel)
            .iter()
            .all(|m| m["text"] != "hi")
    );
}

#[tokio::test]
async fn a_basic_group_the_account_is_not_in_is_404_naming_it_a_basic_group() {
    let app = ready_app().await;
    let answer = get(&app, "/v1/peers/-123").await;
    answer.assert_error(404, "PEER_NOT_FOUND");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("basic group -123"), "{message}");
    assert_eq!(answer.body["error"]["telegram"], "CHAT_ID_INVALID");

    let send = send(&app, json!({"peer": "-123", "text": "hi"})).await;
    send.assert_error(404, "PEER_NOT_FOUND");
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}
