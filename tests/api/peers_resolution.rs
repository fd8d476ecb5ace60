//! `GET /v1/peers/{peer}` and peer resolution: every form, the cache, and a restart that
//! keeps what was learned.

use crate::common::{DEADLINE, eventually};
use crate::messages_support;

use messages_support::*;
use serde_json::json;

#[tokio::test]
async fn each_kind_of_peer_is_described() {
    let app = ready_app().await;
    let w = world(&app);

    let user = get(&app, &format!("/v1/peers/{}", w.other)).await;
    assert_eq!(user.status, 200, "{:?}", user.body);
    assert_eq!(user.body["type"], "user");
    assert_eq!(
        user.body["username"],
        w.other.trim_start_matches('@'),
        "{:?}",
        user.body
    );
    assert!(user.body["id"].as_i64().unwrap() > 0);
    assert!(user.body["title"].is_string());

    let channel = get(&app, &format!("/v1/peers/{}", w.channel)).await;
    assert_eq!(channel.body["type"], "channel");
    assert!(channel.body["id"].as_i64().unwrap() < -1_000_000_000_000);

    let group = get(&app, &format!("/v1/peers/{}", w.supergroup)).await;
    assert_eq!(group.body["type"], "group");
    assert!(group.body["title"].is_string());

    let me = get(&app, "/v1/peers/me").await;
    assert_eq!(me.body["type"], "user");
    assert_eq!(me.body["username"], w.me.trim_start_matches('@'));
}

#[tokio::test]
async fn every_written_form_names_the_same_peer() {
    let app = ready_app().await;
    let w = world(&app);
    let name = w.channel.trim_start_matches('@');
    let id = get(&app, &format!("/v1/peers/{}", w.channel)).await.body["id"].clone();
    for form in [
        name.to_string(),
        name.to_uppercase(),
        format!("t.me%2F{name}"),
        format!("https:%2F%2Ft.me%2F{name}"),
        id.to_string(),
    ] {
        let answer = get(&app, &format!("/v1/peers/{form}")).await;
        assert_eq!(answer.status, 200, "{form}: {:?}", answer.body);
        assert_eq!(answer.body["id"], id, "{form}");
    }
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), 1);
}

#[tokio::test]
async fn an_unknown_username_is_404_peer_not_found() {
    let app = ready_app().await;
    let answer = get(&app, "/v1/peers/@nobody_has_this_name").await;
    answer.assert_error(404, "PEER_NOT_FOUND");
    assert_eq!(answer.body["error"]["telegram"], "USERNAME_NOT_OCCUPIED");
    let send = send(&app, json!({"peer": "@nobody_has_this_name", "text": "hi"})).await;
    send.assert_error(404, "PEER_NOT_FOUND");
    assert_eq!(count_calls(&app, "messages.sendMessage"), 0);
}

#[tokio::test]
async fn an_id_never_seen_is_404_with_a_way_out() {
    let app = ready_app().await;
    let answer = get(&app, "/v1/peers/-1009999999999").await;
    answer.assert_error(404, "PEER_NOT_FOUND");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("@username"), "{message}");
}

#[tokio::test]
async fn odd_peers_are_400_with_a_message_and_reach_no_telegram_call() {
    let app = ready_app().await;
    let before = requests(&app).len();
    for peer in [
        "@",
        "-100",
        "1234567890123456789012345678901234567890",
        "%C3%A9t%C3%A9",
        "%F0%9F%98%80",
        "0",
        "t.me%2F%2Bjoinlink",
        "a%20b",
    ] {
        let answer = get(&app, &format!("/v1/peers/{peer}")).await;
        answer.assert_error(400, "INVALID_REQUEST");
        let history = get(&app, &format!("/v1/messages/{peer}")).await;
        history.assert_error(400, "INVALID_REQUEST");
    }
    for peer in [
        "@",
        "-100",
        "1234567890123456789012345678901234567890",
        "été",
        "😀",
        "",
    ] {
        send(&app, json!({"peer": peer, "text": "x"}))
            .await
            .assert_error(400, "INVALID_REQUEST");
    }
    assert_eq!(
        requests(&app).len(),
        before,
        "no Telegram call for bad input"
    );
}

#[tokio::test]
async fn after_a_restart_a_numeric_id_learned_before_works_without_any_resolve() {
    let mut app = ready_app().await;
    let w = world(&app);
    let sent = send_text(&app, &w.other, "before restart").await;
    let user_id = sent["peer"]["id"].clone();
    let channel = get(&app, &format!("/v1/peers/{}", w.channel)).await.body["id"].clone();
    let resolves_before = count_calls(&app, "contacts.resolveUsername");
    assert_eq!(resolves_before, 2);

    app.restart().await;
    app.wait_until_healthy().await;
    let requests_at_restart = requests(&app).len();

    let again = send_text(&app, &user_id.to_string(), "after restart").await;
    assert_eq!(again["peer"]["id"], user_id);
    let posted = send_text(&app, &channel.to_string(), "channel after restart").await;
    assert_eq!(posted["peer"]["id"], channel);
    // Usernames learned before are cached too.
    send_text(&app, &w.other, "by name after restart").await;

    let after: Vec<_> = requests(&app)[requests_at_restart..].to_vec();
    assert!(
        after
            .iter()
            .all(|r| r["method"] != "contacts.resolveUsername"),
        "no resolve after the restart: {after:?}"
    );
    assert_eq!(
        ground_truth(&app, &w.other)[0]["text"],
        "by name after restart"
    );
    assert_eq!(ground_truth(&app, &w.other)[1]["text"], "after restart");
    assert_eq!(
        ground_truth(&app, &w.channel)[0]["text"],
        "channel after restart"
    );
}

#[tokio::test]
async fn what_was_learned_is_kept_under_the_state_dir() {
    let app = ready_app().await;
    let w = world(&app);
    send_text(&app, &w.other, "learn").await;
    app.state.store.flush().await.unwrap();
    let store = mtgate::store::Store::open(app.state_dir.path())
        .await
        .expect("the store under the state dir");
    let names = store
        .account(mtgate::accounts::DEFAULT_ACCOUNT)
        .usernames()
        .await
        .unwrap();
    let name = w.other.trim_start_matches('@').to_ascii_lowercase();
    assert!(names.iter().any(|(n, _)| *n == name), "{names:?}");
}

#[tokio::test]
async fn a_user_seen_in_a_chats_history_can_be_messaged_by_id() {
    let app = ready_app().await;
    let w = world(&app);
    // The seeded supergroup holds a message from another user, whose id we learn from it.
    let author = ground_truth(&app, &w.supergroup)
        .iter()
        .find_map(|m| m["from"].as_i64())
        .expect("a seeded message with an author");
    let unknown = get(&app, &format!("/v1/peers/{author}")).await;
    unknown.assert_error(404, "PEER_NOT_FOUND");

    let history = get(&app, &format!("/v1/messages/{}", w.supergroup)).await;
    assert_eq!(history.status, 200, "{:?}", history.body);
    let resolves = count_calls(&app, "contacts.resolveUsername");
    let sent = send_text(&app, &author.to_string(), "hello, author").await;
    assert_eq!(sent["peer"]["id"], author);
    assert_eq!(count_calls(&app, "contacts.resolveUsername"), resolves);
}

#[tokio::test]
async fn a_user_who_wrote_to_the_account_is_addressed_by_id_without_asking_telegram() {
    let app = ready_app().await;
    let w = world(&app);
    assert_eq!(get(&app, "/v1/peers/me").await.status, 200);
    let incoming = app
        .sandbox
        .control()
        .incoming(&w.other, None, "hello from a stranger")
        .unwrap();
    let author = incoming.from.expect("a private message has an author");
    // The grammers session learns the writer, access hash included, from the update alone.
    let store = app.state.store.account(mtgate::accounts::DEFAULT_ACCOUNT);
    eventually(
        DEADLINE,
        "the writer of the update to be stored",
        || async {
            app.state.store.flush().await.ok()?;
            store
                .peer(author)
                .await
                .ok()?
                .filter(|p| p.access_hash.is_some())
        },
    )
    .await;
    let lookups =
        || count_calls(&app, "users.getUsers") + count_calls(&app, "contacts.resolveUsername");
    let before = lookups();

    let described = get(&app, &format!("/v1/peers/{author}")).await;
    assert_eq!(described.status, 200, "{:?}", described.body);
    assert_eq!(described.body["id"], author);
    assert_eq!(described.body["type"], "user");
    let sent = send_text(&app, &author.to_string(), "hello back").await;
    assert_eq!(sent["peer"]["id"], author);
    assert_eq!(lookups(), before, "the store answered, not Telegram");
    assert!(
        ground_truth(&app, &w.other)
            .iter()
            .any(|m| m["text"] == "hello back")
    );
}
