//! A key's chat list names a chat in one form (a username or a Bot-API id); requests may
//! name it in the other once the account knows both stand for the same chat, and never
//! before: an unknown form is refused with nothing sent.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::keys_scope::{NEWS_BY_ID, NEWS_ONLY, OTHER_FULL, assert_key_scope, call, scoped_app};

/// The sandbox's broadcast channel `@sandbox_news`, by its Bot-API id.
const NEWS_ID: &str = "-1001500000001";

async fn get(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    call(app, key, Method::GET, path, Value::Null).await
}

#[tokio::test]
async fn a_chat_listed_in_one_form_may_be_named_in_the_other_once_the_account_knows_both() {
    let app = scoped_app().await;
    let by_id = format!("/v1/messages/{NEWS_ID}");
    let calls_before = app.sandbox.control().requests().len();

    // Not learned yet: refused both ways, and nothing reaches the sandbox.
    let answer = get(&app, NEWS_ONLY, &by_id).await;
    assert_key_scope(&answer, "the listed name's id, unknown");
    let answer = get(&app, NEWS_BY_ID, "/v1/messages/@sandbox_news").await;
    assert_key_scope(&answer, "the listed id's name, unknown");
    let calls = app.sandbox.control().requests();
    assert_eq!(calls.len(), calls_before, "{:?}", &calls[calls_before..]);

    // A request by the listed name teaches the account which id it is.
    let peer = get(&app, NEWS_ONLY, "/v1/peers/@sandbox_news").await;
    assert_eq!(peer.0, StatusCode::OK, "{}", peer.1);
    assert_eq!(peer.1["id"].as_i64().unwrap().to_string(), NEWS_ID);

    let read = get(&app, NEWS_ONLY, &by_id).await;
    assert_eq!(read.0, StatusCode::OK, "{}", read.1);
    let sent = call(
        &app,
        NEWS_BY_ID,
        Method::POST,
        "/v1/messages",
        json!({"peer": "@Sandbox_News", "text": "named by username"}),
    )
    .await;
    assert_eq!(sent.0, StatusCode::CREATED, "{}", sent.1);
    let texts: Vec<String> = app
        .sandbox
        .control()
        .chat_messages("@sandbox_news")
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(texts.iter().any(|t| t == "named by username"), "{texts:?}");
}

#[tokio::test]
async fn a_known_chat_outside_the_list_stays_refused_in_every_form() {
    let app = scoped_app().await;
    // A full key makes the account learn the group, name and id.
    let group = get(&app, OTHER_FULL, "/v1/peers/@sandbox_chat").await;
    assert_eq!(group.0, StatusCode::OK, "{}", group.1);
    let group_id = group.1["id"].as_i64().unwrap();
    let calls_before = app.sandbox.control().requests().len();
    for key in [NEWS_ONLY, NEWS_BY_ID] {
        for peer in ["@sandbox_chat".to_string(), group_id.to_string()] {
            let answer = call(
                &app,
                key,
                Method::POST,
                "/v1/messages",
                json!({"peer": peer, "text": "no"}),
            )
            .await;
            assert_key_scope(&answer, &format!("{peer} with a news-only key"));
        }
    }
    let calls = app.sandbox.control().requests();
    assert_eq!(calls.len(), calls_before, "{:?}", &calls[calls_before..]);
}
