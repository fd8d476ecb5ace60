//! Editing and deleting messages, checked against the sandbox's ground truth.

use crate::messages_support;

use messages_support::*;
use serde_json::json;

#[tokio::test]
async fn editing_a_message_changes_its_text_and_sets_edit_date() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.channel, "first draft").await;
    let path = format!("/v1/messages/{}/{}", w.channel, sent["id"]);

    let edited = patch(
        &app,
        &path,
        json!({"text": "<b>final</b>", "parse_mode": "html"}),
    )
    .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(edited.body["id"], sent["id"]);
    assert_eq!(edited.body["text"], "final");
    assert!(edited.body["edit_date"].is_string(), "{:?}", edited.body);

    let stored = &ground_truth(&app, &w.channel)[0];
    assert_eq!(stored["text"], "final");
    assert_eq!(
        stored["entities"],
        json!([{"type": "bold", "offset": 0, "length": 5}])
    );
    assert!(stored["edit_date"].is_string());
}

#[tokio::test]
async fn editing_a_private_chat_message_works_too() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "typo").await;
    let path = format!("/v1/messages/{}/{}", sent["peer"]["id"], sent["id"]);
    let edited = patch(&app, &path, json!({"text": "fixed"})).await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(ground_truth(&app, &w.other)[0]["text"], "fixed");
}

#[tokio::test]
async fn editing_with_the_same_text_is_409_not_modified() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.channel, "same").await;
    let path = format!("/v1/messages/{}/{}", w.channel, sent["id"]);
    let answer = patch(&app, &path, json!({"text": "same"})).await;
    answer.assert_error(409, "MESSAGE_NOT_MODIFIED");
    assert_eq!(answer.body["error"]["telegram"], "MESSAGE_NOT_MODIFIED");
}

#[tokio::test]
async fn deleting_one_message_answers_204_and_removes_only_it() {
    let app = ready_app().await;
    let w = world(&app);
    let before = ground_truth(&app, &w.channel).len();
    let keep = send_text(&app, &w.channel, "keep").await;
    let gone = send_text(&app, &w.channel, "gone").await;

    let answer = delete(&app, &format!("/v1/messages/{}/{}", w.channel, gone["id"])).await;
    assert_eq!(answer.status, 204, "{:?}", answer.body);
    assert_eq!(answer.body, serde_json::Value::Null);
    let truth = ground_truth(&app, &w.channel);
    assert_eq!(truth.len(), before + 1);
    assert_eq!(truth[0]["id"], keep["id"]);
}

#[tokio::test]
async fn a_deleted_message_can_be_neither_deleted_nor_edited_again() {
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "short-lived").await;
    let path = format!("/v1/messages/{}/{}", w.other, sent["id"]);
    assert_eq!(delete(&app, &path).await.status, 204);

    delete(&app, &path)
        .await
        .assert_error(404, "MESSAGE_NOT_FOUND");
    let edit = patch(&app, &path, json!({"text": "too late"})).await;
    edit.assert_error(404, "MESSAGE_NOT_FOUND");
    assert_eq!(edit.body["error"]["telegram"], "MESSAGE_ID_INVALID");
}

#[tokio::test]
async fn deleting_in_the_wrong_private_chat_deletes_nothing() {
    // Private-chat ids are per account: the id of a message with one user must not delete
    // anything when named with another chat.
    let app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "mine").await;
    let answer = delete(&app, &format!("/v1/messages/me/{}", sent["id"])).await;
    answer.assert_error(404, "MESSAGE_NOT_FOUND");
    assert_eq!(ground_truth(&app, &w.other)[0]["id"], sent["id"]);
}

#[tokio::test]
async fn deleting_many_reports_how_many_were_deleted() {
    let app = ready_app().await;
    let w = world(&app);
    let seeded: Vec<_> = ground_truth(&app, &w.channel)
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    let mut ids = Vec::new();
    for text in ["a", "b", "c"] {
        ids.push(send_text(&app, &w.channel, text).await["id"].clone());
    }
    let keep = send_text(&app, &w.channel, "d").await;
    // Two real ids, one twice, and one that does not exist.
    let answer = delete_many(
        &app,
        json!({"peer": w.channel, "ids": [ids[0], ids[1], ids[1], 999_999]}),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body, json!({"deleted": 2}));

    let left: Vec<_> = ground_truth(&app, &w.channel)
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    let mut expected = vec![keep["id"].clone(), ids[2].clone()];
    expected.extend(seeded);
    assert_eq!(left, expected);
}

#[tokio::test]
async fn deleting_many_in_a_private_chat_counts_only_that_chats_messages() {
    let app = ready_app().await;
    let w = world(&app);
    let before = ground_truth(&app, &w.other).len();
    let a = send_text(&app, &w.other, "x").await;
    let b = send_text(&app, &w.other, "y").await;
    let elsewhere = send_text(&app, "me", "not in that chat").await;

    let answer = delete_many(
        &app,
        json!({"peer": w.other, "ids": [a["id"], b["id"], elsewhere["id"]], "revoke": true}),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["deleted"], 2);
    assert_eq!(ground_truth(&app, &w.other).len(), before);
    assert_eq!(ground_truth(&app, &w.me)[0]["id"], elsewhere["id"]);
}

#[tokio::test]
async fn deleting_in_a_read_only_channel_is_forbidden() {
    let app = ready_app().await;
    let w = world(&app);
    let seeded = ground_truth(&app, &w.readonly_channel);
    let id = &seeded[0]["id"];
    let answer = delete(&app, &format!("/v1/messages/{}/{id}", w.readonly_channel)).await;
    answer.assert_error(403, "FORBIDDEN");
    assert_eq!(ground_truth(&app, &w.readonly_channel).len(), seeded.len());
}
