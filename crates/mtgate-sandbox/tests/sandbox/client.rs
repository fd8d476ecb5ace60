//! The real grammers client against a real sandbox: identity, messages in every kind of
//! chat, history paging, peers. Every check is compared with the sandbox's ground truth.

use crate::support::*;

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
