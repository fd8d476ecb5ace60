//! Telegram's sending limits, enforced on request (`POST /limits`): FLOOD_WAIT_N beyond the
//! rates, SLOWMODE_WAIT_N in a supergroup in slow mode, off by default — as the real grammers
//! client sees them.

use crate::support::*;

/// The `(ok, error)` of every send the sandbox handled, in order.
async fn sends(sandbox: &Sandbox) -> Vec<(Value, Value)> {
    let requests = get_json(sandbox, "/requests").await;
    methods(&requests, "messages.sendMessage")
        .iter()
        .map(|r| (r["ok"].clone(), r["error"].clone()))
        .collect()
}

#[tokio::test]
async fn without_limits_sends_are_never_refused() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let chat = peer(&tg, &sandbox.world().others[0]).await;
    for i in 0..5 {
        within("send", tg.client.send_message(chat, format!("free {i}")))
            .await
            .unwrap();
    }
    assert!(sends(&sandbox).await.iter().all(|(ok, _)| *ok == true));
}

#[tokio::test]
async fn beyond_the_chat_rate_a_send_gets_a_flood_wait_and_goes_through_after_it() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let chat = peer(&tg, &sandbox.world().others[0]).await;
    let limits = json!({"rates": "chat=1/s"});
    assert_eq!(post(&sandbox, "/limits", limits).await.status(), 204);
    within("first", tg.client.send_message(chat, "first"))
        .await
        .unwrap();
    // The client sleeps through the wait and sends again.
    within("second", tg.client.send_message(chat, "second"))
        .await
        .unwrap();
    assert_eq!(
        sends(&sandbox).await,
        [
            (json!(true), Value::Null),
            (json!(false), json!("FLOOD_WAIT_1")),
            (json!(true), Value::Null),
        ]
    );
    let other = peer(&tg, &sandbox.world().others[1]).await;
    within("another chat", tg.client.send_message(other, "elsewhere"))
        .await
        .unwrap();
    assert_eq!(sends(&sandbox).await.last().unwrap().0, true);
}

#[tokio::test]
async fn a_supergroup_in_slow_mode_answers_slowmode_wait() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let group_name = sandbox.world().supergroup;
    let group = peer(&tg, &group_name).await;
    let slow = json!({"slow_mode": {"peer": group_name, "seconds": 2}});
    assert_eq!(post(&sandbox, "/limits", slow).await.status(), 204);
    within("first", tg.client.send_message(group, "one"))
        .await
        .unwrap();
    within("second", tg.client.send_message(group, "two"))
        .await
        .unwrap();
    let log = sends(&sandbox).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[1], (json!(false), json!("SLOWMODE_WAIT_2")));
    assert_eq!(log[2].0, true);
}

#[tokio::test]
async fn bad_limits_are_refused_and_change_nothing() {
    let sandbox = Sandbox::start().await.unwrap();
    let bad = post(&sandbox, "/limits", json!({"rates": "chat=fast"})).await;
    assert_eq!(bad.status(), 400);
    let user = sandbox.world().others[0].clone();
    let not_a_group = json!({"slow_mode": {"peer": user, "seconds": 5}});
    assert_eq!(post(&sandbox, "/limits", not_a_group).await.status(), 404);
    assert_eq!(post(&sandbox, "/limits", json!({})).await.status(), 400);
    assert!(sandbox.control().set_limits("account=0/s").is_err());
    assert!(sandbox.control().set_limits("off").is_ok());
}

#[tokio::test]
async fn a_populated_world_has_more_users_and_groups_to_write_to() {
    let sandbox = Sandbox::start().await.unwrap();
    let answer = post(&sandbox, "/population", json!({"users": 2, "groups": 1})).await;
    assert_eq!(answer.status(), 200);
    let names: Value = answer.json().await.unwrap();
    assert_eq!(
        names["users"],
        json!(["@crowd001_sandbox", "@crowd002_sandbox"])
    );
    assert_eq!(names["groups"], json!(["@crowd001_chat"]));
    let tg = connect(sandbox.session());
    for name in ["@crowd002_sandbox", "@crowd001_chat"] {
        let chat = peer(&tg, name).await;
        within("send", tg.client.send_message(chat, "hello crowd"))
            .await
            .unwrap();
        assert_eq!(ground_truth(&sandbox, name).await[0]["text"], "hello crowd");
    }
    let again = post(&sandbox, "/population", json!({"users": 2})).await;
    assert_eq!(again.status(), 200);
    let too_many = post(&sandbox, "/population", json!({"users": 5000})).await;
    assert_eq!(too_many.status(), 400);
}
