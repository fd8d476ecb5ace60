//! The sandbox misbehaving on purpose, and live updates: floods, drops, going down, incoming
//! messages pushed to (or caught up by) the real grammers client, control API input errors.

use crate::support::*;

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
