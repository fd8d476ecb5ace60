//! The world's other users as real accounts: `other_sessions` log in as them, they talk to
//! each other and to the account, each holding its own copy of a private chat, and one can be
//! logged out without touching the others.

use crate::support::*;

async fn truth_as(sandbox: &Sandbox, viewer: &str, peer: &str) -> Vec<Value> {
    let messages = get_json(sandbox, &format!("/chats/{peer}/messages?as={viewer}")).await;
    messages.as_array().unwrap().clone()
}

#[tokio::test]
async fn every_other_user_has_a_session_logged_in_as_them() {
    let sandbox = Sandbox::start().await.unwrap();
    let info = sandbox.info();
    for user in sandbox.world().others {
        let session = info["other_sessions"][&user].as_str().unwrap();
        let tg = connect(session);
        let me = within("get_me", tg.client.get_me()).await.unwrap();
        assert_eq!(format!("@{}", me.username().unwrap()), user);
    }
}

#[tokio::test]
async fn two_other_users_and_the_account_send_to_and_receive_from_each_other() {
    let sandbox = Sandbox::start().await.unwrap();
    let world = sandbox.world();
    let (alice, bob) = (world.others[0].clone(), world.others[1].clone());
    let alice_tg = connect(sandbox.other_session(&alice).unwrap());
    let account_tg = connect(sandbox.session());

    let to_bob = peer(&alice_tg, &bob).await;
    let sent = within(
        "alice → bob",
        alice_tg.client.send_message(to_bob, "hi bob"),
    )
    .await
    .unwrap();
    let alice_view = truth_as(&sandbox, &alice, &bob).await;
    assert_eq!(alice_view[0]["id"], sent.id());
    assert_eq!(alice_view[0]["text"], "hi bob");
    assert_eq!(alice_view[0]["outgoing"], true);
    let bob_view = truth_as(&sandbox, &bob, &alice).await;
    assert_eq!(bob_view[0]["text"], "hi bob");
    assert_eq!(bob_view[0]["outgoing"], false);

    let to_account = peer(&alice_tg, &world.user).await;
    within(
        "alice → account",
        alice_tg.client.send_message(to_account, "hi sandy"),
    )
    .await
    .unwrap();
    let account_view = ground_truth(&sandbox, &alice).await;
    assert_eq!(account_view[0]["text"], "hi sandy");
    assert_eq!(account_view[0]["outgoing"], false);

    let to_alice = peer(&account_tg, &alice).await;
    within(
        "account → alice",
        account_tg.client.send_message(to_alice, "hi alice"),
    )
    .await
    .unwrap();
    let alice_view = truth_as(&sandbox, &alice, &world.user).await;
    assert_eq!(alice_view[0]["text"], "hi alice");
    assert_eq!(alice_view[0]["outgoing"], false);
    assert_eq!(alice_view[1]["text"], "hi sandy");
    assert_eq!(alice_view[1]["outgoing"], true);

    // Alice reads her chat with the account through the API, newest first.
    let history: Vec<String> = {
        let mut iter = alice_tg.client.iter_messages(to_account).limit(2);
        let mut texts = Vec::new();
        while let Some(message) = within("history", iter.next()).await.unwrap() {
            texts.push(message.text().to_string());
        }
        texts
    };
    assert_eq!(history, ["hi alice", "hi sandy"]);
}

#[tokio::test]
async fn other_users_may_read_but_not_post_in_the_accounts_broadcast_channel() {
    let sandbox = Sandbox::start().await.unwrap();
    let world = sandbox.world();
    let carol_tg = connect(sandbox.other_session(&world.others[2]).unwrap());
    let channel = peer(&carol_tg, &world.channel).await;
    let refused = within("post", carol_tg.client.send_message(channel, "mine now"))
        .await
        .unwrap_err();
    assert!(refused.is("CHAT_WRITE_FORBIDDEN"), "{refused:?}");
    let group = peer(&carol_tg, &world.supergroup).await;
    within("post", carol_tg.client.send_message(group, "hello group"))
        .await
        .unwrap();
    let truth = ground_truth(&sandbox, &world.supergroup).await;
    assert_eq!(truth[0]["text"], "hello group");
}

#[tokio::test]
async fn revoking_one_user_logs_out_only_that_users_sessions() {
    let sandbox = Sandbox::start().await.unwrap();
    let world = sandbox.world();
    let alice_tg = connect(sandbox.other_session(&world.others[0]).unwrap());
    let account_tg = connect(sandbox.session());
    within("get_me", alice_tg.client.get_me()).await.unwrap();
    let answer = post(&sandbox, "/faults", json!({"revoke_user": world.others[0]})).await;
    assert_eq!(answer.status(), 204);
    let error = within("get_me", alice_tg.client.get_me())
        .await
        .unwrap_err();
    assert!(error.is("AUTH_KEY_UNREGISTERED"), "{error:?}");
    within("get_me", account_tg.client.get_me()).await.unwrap();
    let bob_tg = connect(sandbox.other_session(&world.others[1]).unwrap());
    within("get_me", bob_tg.client.get_me()).await.unwrap();
    let unknown = post(&sandbox, "/faults", json!({"revoke_user": "@nobody_here"})).await;
    assert_eq!(unknown.status(), 404);
}
