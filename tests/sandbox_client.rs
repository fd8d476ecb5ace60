//! The real grammers client against a real sandbox: every check goes over TCP, MTProto 2.0
//! and the world, and is compared with the sandbox's ground truth (control API).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::message::InputMessage;
use grammers_client::sender::UpdatesConfiguration;
use grammers_client::session::storages::MemorySession;
use grammers_client::session::types::PeerRef;
use grammers_client::session::updates::UpdatesLike;
use grammers_client::update::Update;
use grammers_client::{Client, InvocationError, SenderPool, SignInError, tl};
use mtgate::sandbox::Sandbox;
use mtgate::session_string::StringSession;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(15);
const API_ID: i32 = 12345;

/// A grammers client with the default (auto-sleeping) retry policy, its pool runner spawned.
struct Tg {
    client: Client,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: JoinHandle<()>,
}

impl Drop for Tg {
    fn drop(&mut self) {
        self.client.disconnect();
        self.runner.abort();
    }
}

fn connect(session: &str) -> Tg {
    let parsed = StringSession::parse(session, None).expect("the sandbox's session parses");
    let pool = SenderPool::new(
        Arc::new(MemorySession::from(parsed.to_session_data())),
        API_ID,
    );
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    Tg {
        client,
        updates: Some(pool.updates),
        runner,
    }
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Polls `check` until it returns `Some` or the deadline passes.
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    within(what, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

async fn peer(tg: &Tg, username: &str) -> PeerRef {
    let found = within("resolve", tg.client.resolve_username(username))
        .await
        .expect("resolve_username")
        .unwrap_or_else(|| panic!("{username} exists"));
    found
        .to_ref()
        .await
        .unwrap()
        .expect("a resolved peer is usable")
}

async fn get(sandbox: &Sandbox, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", sandbox.control_url()))
        .await
        .expect("control API answers")
}

async fn get_json(sandbox: &Sandbox, path: &str) -> Value {
    let response = get(sandbox, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn post(sandbox: &Sandbox, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", sandbox.control_url()))
        .json(&body)
        .send()
        .await
        .expect("control API answers")
}

async fn ground_truth(sandbox: &Sandbox, peer: &str) -> Vec<Value> {
    let messages = get_json(sandbox, &format!("/chats/{peer}/messages")).await;
    messages.as_array().unwrap().clone()
}

fn methods(requests: &Value, method: &str) -> Vec<Value> {
    requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == method)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_session_is_authorized_as_the_sandbox_account() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
    let me = within("get_me", tg.client.get_me()).await.unwrap();
    assert_eq!(
        Some(format!("@{}", me.username().unwrap())),
        Some(sandbox.world().user)
    );
    let anonymous = connect(sandbox.unauthorized_session());
    assert!(
        !within("is_authorized", anonymous.client.is_authorized())
            .await
            .unwrap()
    );
    assert!(
        within("resolve", tg.client.resolve_username("nobody_at_all"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn messages_are_sent_edited_and_deleted_in_a_user_chat_a_channel_and_a_supergroup() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    for name in [
        world.others[0].clone(),
        world.channel.clone(),
        world.supergroup.clone(),
    ] {
        let chat = peer(&tg, &name).await;
        let sent = within(
            "send",
            tg.client
                .send_message(chat, InputMessage::new().markdown("**hello** world")),
        )
        .await
        .unwrap();
        assert!(sent.id() > 0, "{name}: the sent message has its real id");
        let truth = ground_truth(&sandbox, &name).await;
        assert_eq!(truth[0]["id"], sent.id(), "{name}");
        assert_eq!(truth[0]["text"], "hello world");
        assert_eq!(truth[0]["entities"][0]["type"], "bold");

        within("edit", tg.client.edit_message(chat, sent.id(), "edited"))
            .await
            .unwrap();
        let truth = ground_truth(&sandbox, &name).await;
        assert_eq!(truth[0]["text"], "edited");
        assert!(truth[0]["edit_date"].is_string());

        let deleted = within("delete", tg.client.delete_messages(chat, &[sent.id()]))
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        let truth = ground_truth(&sandbox, &name).await;
        assert!(
            truth.iter().all(|m| m["id"] != sent.id()),
            "{name}: deleted"
        );
    }
    let readonly = peer(&tg, &world.readonly_channel).await;
    let refused = within("send", tg.client.send_message(readonly, "hi"))
        .await
        .unwrap_err();
    assert!(refused.is("CHAT_WRITE_FORBIDDEN"), "{refused:?}");
    let requests = get_json(&sandbox, "/requests").await;
    assert_eq!(methods(&requests, "messages.sendMessage").len(), 4);
    assert_eq!(methods(&requests, "channels.deleteMessages").len(), 2);
}

#[tokio::test]
async fn iterating_over_more_than_a_hundred_messages_sees_each_once_newest_first() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let name = &sandbox.world().others[2];
    let chat = peer(&tg, name).await;
    for i in 0..130 {
        tg.client.send_message(chat, format!("n{i}")).await.unwrap();
    }
    let mut iter = tg.client.iter_messages(chat);
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    while let Some(message) = within("next message", iter.next()).await.unwrap() {
        ids.push(message.id());
        texts.push(message.text().to_string());
    }
    assert_eq!(texts.len(), 130);
    assert_eq!(texts.first().unwrap(), "n129");
    assert_eq!(texts.last().unwrap(), "n0");
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
    let requests = get_json(&sandbox, "/requests").await;
    assert!(methods(&requests, "messages.getHistory").len() >= 2);
}

#[tokio::test]
async fn logging_in_with_2fa_survives_a_wrong_code_and_a_wrong_password() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.unauthorized_session());
    let token = within(
        "code",
        tg.client.request_login_code(&sandbox.phone(), "hash"),
    )
    .await
    .unwrap();
    let wrong = within("sign in", tg.client.sign_in(&token, "00000")).await;
    assert!(matches!(wrong, Err(SignInError::InvalidCode)), "{wrong:?}");
    let password = match within("sign in", tg.client.sign_in(&token, sandbox.login_code())).await {
        Err(SignInError::PasswordRequired(password)) => password,
        other => panic!("expected PasswordRequired, got {other:?}"),
    };
    let password = match within("password", tg.client.check_password(password, "wrong")).await {
        Err(SignInError::InvalidPassword(password)) => password,
        other => panic!("expected InvalidPassword, got {other:?}"),
    };
    let me = within(
        "password",
        tg.client.check_password(password, sandbox.password()),
    )
    .await
    .unwrap();
    assert_eq!(format!("@{}", me.username().unwrap()), sandbox.world().user);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn qr_login_completes_once_the_control_api_accepts_the_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.unauthorized_session());
    let export = tl::functions::auth::ExportLoginToken {
        api_id: API_ID,
        api_hash: "hash".into(),
        except_ids: Vec::new(),
    };
    let tl::enums::auth::LoginToken::Token(token) =
        within("export", tg.client.invoke(&export)).await.unwrap()
    else {
        panic!("a token to show first")
    };
    let nothing_else = post(&sandbox, "/login-tokens/accept", json!({"token": "AAAA"})).await;
    assert_eq!(nothing_else.status(), 404);
    let accepted = post(&sandbox, "/login-tokens/accept", json!({})).await;
    assert_eq!(accepted.status(), 204);
    let updates = tg.updates.as_mut().unwrap();
    within("updateLoginToken", async {
        loop {
            match updates.recv().await.expect("updates flow") {
                UpdatesLike::Updates(tl::enums::Updates::UpdateShort(short))
                    if short.update == tl::enums::Update::LoginToken =>
                {
                    break;
                }
                _ => continue,
            }
        }
    })
    .await;
    let done = within("export", tg.client.invoke(&export)).await.unwrap();
    assert!(
        matches!(done, tl::enums::auth::LoginToken::Success(_)),
        "{done:?}"
    );
    assert!(token.token.len() >= 16);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_short_flood_wait_is_slept_through_and_logged_as_two_attempts() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let chat = peer(&tg, &sandbox.world().others[0]).await;
    let fault = json!({"rpc_error": {"method": "messages.sendMessage", "code": 420, "message": "FLOOD_WAIT_1", "times": 1}});
    assert_eq!(post(&sandbox, "/faults", fault).await.status(), 204);
    let sent = within("send", tg.client.send_message(chat, "after the flood"))
        .await
        .unwrap();
    let requests = get_json(&sandbox, "/requests").await;
    let sends = methods(&requests, "messages.sendMessage");
    assert_eq!(sends.len(), 2);
    assert_eq!(
        (sends[0]["ok"].clone(), sends[0]["error"].clone()),
        (json!(false), json!("FLOOD_WAIT_1"))
    );
    assert_eq!(sends[1]["ok"], true);
    assert_eq!(sends[1]["text"], "after the flood");
    let truth = ground_truth(&sandbox, &sandbox.world().others[0]).await;
    assert_eq!(truth[0]["id"], sent.id());
}

#[tokio::test]
async fn a_connection_dropped_mid_request_leaves_the_message_exactly_once() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let name = sandbox.world().others[1].clone();
    let chat = peer(&tg, &name).await;
    // Replies are held back: the call reaches the world, its answer is lost in the drop.
    sandbox.control().set_delay(Duration::from_secs(30));
    let client = tg.client.clone();
    let send = tokio::spawn(async move { client.send_message(chat, "only once").await });
    eventually("the world to store the message", async || {
        let truth = ground_truth(&sandbox, &name).await;
        truth.iter().any(|m| m["text"] == "only once").then_some(())
    })
    .await;
    sandbox.control().set_delay(Duration::ZERO);
    sandbox.control().drop_connections();
    let sent = within("the re-sent message", send)
        .await
        .unwrap()
        .expect("the retry succeeds");
    let copies: Vec<Value> = ground_truth(&sandbox, &name)
        .await
        .into_iter()
        .filter(|m| m["text"] == "only once")
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0]["id"], sent.id());
    let requests = get_json(&sandbox, "/requests").await;
    assert_eq!(
        methods(&requests, "messages.sendMessage").len(),
        2,
        "sent twice, stored once"
    );
}

#[tokio::test]
async fn an_incoming_message_arrives_as_a_live_update() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    let mut stream = tg
        .client
        .stream_updates(tg.updates.take().unwrap(), UpdatesConfiguration::default())
        .await
        .unwrap();
    let from = sandbox.world().others[0].clone();
    let delivered = post(
        &sandbox,
        "/incoming",
        json!({"from": from, "text": "knock knock"}),
    )
    .await;
    assert_eq!(delivered.status(), 201);
    let delivered: Value = delivered.json().await.unwrap();
    let message = within("the update", async {
        loop {
            if let Update::NewMessage(message) = stream.next().await.expect("updates flow") {
                break message;
            }
        }
    })
    .await;
    assert_eq!(message.text(), "knock knock");
    assert_eq!(message.id(), delivered["id"].as_i64().unwrap() as i32);
    assert!(!message.outgoing());
}

#[tokio::test]
async fn going_down_refuses_calls_and_coming_back_serves_on_the_same_port() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    assert_eq!(
        post(&sandbox, "/faults", json!({"down": true}))
            .await
            .status(),
        204
    );
    let refused = within("get_me while down", tg.client.get_me()).await;
    assert!(
        matches!(refused, Err(InvocationError::Io(_))),
        "{refused:?}"
    );
    assert_eq!(
        post(&sandbox, "/faults", json!({"down": false}))
            .await
            .status(),
        204
    );
    let me = eventually("get_me after coming back", async || {
        tg.client.get_me().await.ok()
    })
    .await;
    assert!(me.username().is_some());
}

#[tokio::test]
async fn revoked_sessions_are_unauthorized_until_reset() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(
        post(&sandbox, "/faults", json!({"revoke_sessions": true}))
            .await
            .status(),
        204
    );
    assert!(
        !within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(post(&sandbox, "/reset", json!({})).await.status(), 204);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_control_api_reports_bad_input_as_json_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let unknown = get(&sandbox, "/chats/@ghost_user/messages").await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "PEER_NOT_FOUND");
    assert_eq!(
        post(&sandbox, "/faults", json!({"explode": true}))
            .await
            .status(),
        400
    );
    assert_eq!(post(&sandbox, "/faults", json!({})).await.status(), 400);
    let bad_sender = post(
        &sandbox,
        "/incoming",
        json!({"from": "@ghost_user", "text": "x"}),
    )
    .await;
    assert_eq!(bad_sender.status(), 400);
    assert_eq!(get_json(&sandbox, "/info").await, sandbox.info());
    let readonly = ground_truth(&sandbox, &sandbox.world().readonly_channel).await;
    assert!(
        !readonly.is_empty(),
        "the read-only channel has something to read"
    );
}

#[tokio::test]
async fn messages_are_fetched_by_id_and_peers_resolved_by_reference() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let world = sandbox.world();
    for name in [world.others[0].clone(), world.supergroup.clone()] {
        let chat = peer(&tg, &name).await;
        let sent = tg.client.send_message(chat, "find me").await.unwrap();
        let found = within(
            "by id",
            tg.client.get_messages_by_id(chat, &[sent.id(), 999_999]),
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 2, "{name}");
        assert_eq!(
            found[0].as_ref().map(|m| m.text()),
            Some("find me"),
            "{name}"
        );
        // Telegram (and the sandbox) answer messageEmpty for a missing id; grammers keeps it
        // as an empty message of that chat.
        assert!(
            found[1].as_ref().is_none_or(|m| m.text().is_empty()),
            "{name}"
        );
        let resolved = within("resolve_peer", tg.client.resolve_peer(chat))
            .await
            .unwrap();
        assert_eq!(
            Some(format!("@{}", resolved.username().unwrap())),
            Some(name.clone())
        );
    }
    let alice = peer(&tg, &world.others[0]).await;
    let tl::enums::users::UserFull::Full(full) = within(
        "getFullUser",
        tg.client
            .invoke(&tl::functions::users::GetFullUser { id: alice.into() }),
    )
    .await
    .unwrap();
    let tl::enums::UserFull::Full(inner) = full.full_user;
    assert_eq!(Some(inner.id), alice.id.bare_id());
}

#[tokio::test]
async fn a_message_missed_while_down_is_caught_up_through_get_difference() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    within("get_me", tg.client.get_me()).await.unwrap();
    let mut stream = tg
        .client
        .stream_updates(tg.updates.take().unwrap(), UpdatesConfiguration::default())
        .await
        .unwrap();
    let from = sandbox.world().others[1].clone();
    // A first live message gives the client's update state a starting pts.
    sandbox.control().incoming(&from, None, "first").unwrap();
    let first = within("the first update", async {
        loop {
            if let Update::NewMessage(m) = stream.next().await.expect("updates flow") {
                break m;
            }
        }
    })
    .await;
    assert_eq!(first.text(), "first");
    sandbox.control().set_down(true).await.unwrap();
    sandbox
        .control()
        .incoming(&from, None, "while you were away")
        .unwrap();
    sandbox.control().set_down(false).await.unwrap();
    // The drop is a gap: the client asks updates.getDifference once it reconnects (errors
    // while reconnecting surface from next() and are retried).
    let missed = within("the missed message", async {
        loop {
            match stream.next().await {
                Ok(Update::NewMessage(m)) => break m,
                Ok(_) | Err(_) => continue,
            }
        }
    })
    .await;
    assert_eq!(missed.text(), "while you were away");
    let requests = sandbox.control().requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "updates.getDifference" && r.ok)
    );
}

#[tokio::test]
async fn a_supergroup_message_arrives_as_a_channel_update() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.session());
    let group = peer(&tg, &sandbox.world().supergroup).await;
    let mut stream = tg
        .client
        .stream_updates(tg.updates.take().unwrap(), UpdatesConfiguration::default())
        .await
        .unwrap();
    // Our own post first, so the channel's pts is known; the incoming one must follow it.
    tg.client.send_message(group, "mine").await.unwrap();
    let body = json!({"from": sandbox.world().others[2], "peer": sandbox.world().supergroup, "text": "theirs"});
    assert_eq!(post(&sandbox, "/incoming", body).await.status(), 201);
    let message = within("the channel update", async {
        loop {
            if let Update::NewMessage(m) = stream.next().await.expect("updates flow")
                && m.text() == "theirs"
            {
                break m;
            }
        }
    })
    .await;
    assert_eq!(message.peer_id(), group.id);
    assert!(!message.outgoing());
}

#[tokio::test]
async fn dialogs_list_the_accounts_chats() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let mut iter = tg.client.iter_dialogs();
    assert_eq!(within("total", iter.total()).await.unwrap(), 4);
    let mut iter = tg.client.iter_dialogs();
    let mut names = Vec::new();
    while let Some(dialog) = within("next dialog", iter.next()).await.unwrap() {
        names.push(format!("@{}", dialog.peer().username().unwrap()));
    }
    let world = sandbox.world();
    names.sort();
    let mut expected = vec![
        world.channel,
        world.supergroup,
        world.readonly_channel,
        world.others[0].clone(),
    ];
    expected.sort();
    assert_eq!(names, expected);
}
