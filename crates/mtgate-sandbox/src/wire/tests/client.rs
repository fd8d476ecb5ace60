//! A full grammers client (and its Sender) against the server: calls, pings, gzip,
//! updates, keys, transports, concurrency.

use super::*;

#[tokio::test]
async fn a_grammers_client_completes_init_connection_and_a_call() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let me = within("get_me", tc.client.get_me()).await.expect("get_me");
    assert_eq!(me.id().bare_id(), Some(SELF_ID));
    let calls = fixture.calls();
    // The first call is the pool's invokeWithLayer(initConnection(help.getConfig)).
    assert_eq!(
        &calls[0][..4],
        &tl::functions::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID.to_le_bytes()
    );
    assert_eq!(
        &peel(&calls[0])[..4],
        &tl::functions::help::GetConfig::CONSTRUCTOR_ID.to_le_bytes()
    );
    assert_eq!(
        fixture.call_ids().last(),
        Some(&tl::functions::users::GetUsers::CONSTRUCTOR_ID)
    );
}

#[tokio::test]
async fn unknown_methods_come_back_as_rpc_errors() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let err = within(
        "getState",
        tc.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await
    .expect_err("the fixture does not know updates.getState");
    match err {
        InvocationError::Rpc(rpc) => {
            assert_eq!((rpc.code, rpc.name.as_str()), (400, "METHOD_INVALID"));
        }
        other => panic!("expected an rpc error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_backend_panic_becomes_an_internal_error_and_the_connection_survives() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let err = within(
        "getNearestDc",
        tc.client.invoke(&tl::functions::help::GetNearestDc {}),
    )
    .await
    .expect_err("the fixture panics");
    match err {
        InvocationError::Rpc(rpc) => assert_eq!((rpc.code, rpc.name.as_str()), (500, "INTERNAL")),
        other => panic!("expected an rpc error, got {other:?}"),
    }
    let me = within("get_me", tc.client.get_me())
        .await
        .expect("still served");
    assert_eq!(me.id().bare_id(), Some(SELF_ID));
}

#[tokio::test]
async fn pings_are_answered_with_pongs_and_never_reach_the_backend() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let tl::enums::Pong::Pong(pong) = within(
        "pong",
        tc.client.invoke(&tl::functions::Ping { ping_id: 4242 }),
    )
    .await
    .expect("ping");
    assert_eq!(pong.ping_id, 4242);
    let tl::enums::Pong::Pong(pong) = within(
        "pong",
        tc.client.invoke(&tl::functions::PingDelayDisconnect {
            ping_id: 99,
            disconnect_delay: 75,
        }),
    )
    .await
    .expect("ping_delay_disconnect");
    assert_eq!(pong.ping_id, 99);
    let ids = fixture.call_ids();
    assert!(!ids.contains(&tl::functions::Ping::CONSTRUCTOR_ID));
    assert!(!ids.contains(&tl::functions::PingDelayDisconnect::CONSTRUCTOR_ID));
}

#[tokio::test]
async fn large_requests_arrive_gzipped_and_reach_the_backend_inflated() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let request = tl::functions::users::GetUsers {
        id: (0..60)
            .map(|i| {
                tl::enums::InputUser::User(tl::types::InputUser {
                    user_id: i,
                    access_hash: 7,
                })
            })
            .collect(),
    };
    let body = request.to_bytes();
    assert!(body.len() >= 512, "grammers only gzips from 512 bytes");
    let users = within("getUsers", tc.client.invoke(&request))
        .await
        .expect("big getUsers");
    assert_eq!(users.len(), 60);
    assert_eq!(fixture.calls().last(), Some(&body));
}

#[tokio::test]
async fn an_update_published_for_the_key_arrives_at_the_client() {
    let (server, fixture, bus) = start().await;
    let mut tc = client(server.local_addr(), fixture.key);
    within("get_me", tc.client.get_me())
        .await
        .expect("connects");

    // A push for another key must not reach this client; the bus keeps order, so the first
    // thing the client sees must be its own push.
    bus.publish(Push {
        auth_key_id: auth_key_id(&[1u8; AUTH_KEY_LEN]),
        updates: tl::enums::Updates::UpdateShort(tl::types::UpdateShort {
            update: tl::enums::Update::Config,
            date: 1,
        })
        .to_bytes(),
    });
    bus.publish(Push {
        auth_key_id: auth_key_id(&fixture.key),
        updates: tl::enums::Updates::TooLong.to_bytes(),
    });
    let got = within("the pushed update", tc.updates.recv())
        .await
        .expect("updates channel open");
    assert!(
        matches!(got, UpdatesLike::Updates(tl::enums::Updates::TooLong)),
        "got {got:?}"
    );
}

#[tokio::test]
async fn an_unknown_auth_key_gets_transport_error_404() {
    let (server, _fixture, _bus) = start().await;
    let mut other = [0u8; AUTH_KEY_LEN];
    rand::thread_rng().fill_bytes(&mut other);
    let mut sender = connect_with_auth(transport::Full::new(), server_addr(&server), other)
        .await
        .expect("tcp connect");
    let err = within("the 404", sender.invoke(&tl::functions::help::GetConfig {}))
        .await
        .expect_err("unknown key");
    assert!(
        matches!(
            err,
            InvocationError::Transport(transport::Error::BadStatus { status: 404 })
        ),
        "got {err:?}"
    );
}

#[tokio::test]
async fn intermediate_and_abridged_transports_are_served() {
    let (server, fixture, _bus) = start().await;
    let mut inter = connect_with_auth(
        transport::Intermediate::new(),
        server_addr(&server),
        fixture.key,
    )
    .await
    .unwrap();
    let users = within("intermediate call", inter.invoke(&get_self()))
        .await
        .expect("intermediate");
    assert_eq!(users.len(), 1);

    let mut abridged = connect_with_auth(
        transport::Abridged::new(),
        server_addr(&server),
        fixture.key,
    )
    .await
    .unwrap();
    let tl::enums::Config::Config(config) = within(
        "abridged call",
        abridged.invoke(&tl::functions::help::GetConfig {}),
    )
    .await
    .expect("abridged");
    assert!(config.dc_options.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_from_several_clients_each_get_their_own_reply() {
    let (server, fixture, _bus) = start().await;
    let mut calls = tokio::task::JoinSet::new();
    for c in 0..3i64 {
        let tc = client(server.local_addr(), fixture.key);
        for i in 0..20i64 {
            let client = tc.client.clone();
            let wanted = 10_000 + c * 100 + i;
            calls.spawn(async move {
                let request = tl::functions::users::GetUsers {
                    id: vec![tl::enums::InputUser::User(tl::types::InputUser {
                        user_id: wanted,
                        access_hash: 1,
                    })],
                };
                (wanted, client.invoke(&request).await)
            });
        }
    }
    let mut answered = 0;
    while let Some(joined) = within("all calls", calls.join_next()).await {
        let (wanted, result) = joined.unwrap();
        let users = result.expect("call succeeds");
        let [tl::enums::User::User(user)] = &users[..] else {
            panic!("expected one user, got {users:?}");
        };
        assert_eq!(user.id, wanted);
        answered += 1;
    }
    assert_eq!(answered, 60);
}

#[tokio::test]
async fn large_replies_are_delivered_whole() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    let ids: Vec<i64> = (1..=2000).collect();
    let request = tl::functions::users::GetUsers {
        id: ids
            .iter()
            .map(|&user_id| {
                tl::enums::InputUser::User(tl::types::InputUser {
                    user_id,
                    access_hash: 1,
                })
            })
            .collect(),
    };
    let users = within("a large reply", tc.client.invoke(&request))
        .await
        .expect("large reply");
    assert!(users.len() * 40 > 64 * 1024, "the reply is large");
    let got: Vec<i64> = users
        .iter()
        .map(|u| match u {
            tl::enums::User::User(u) => u.id,
            tl::enums::User::Empty(u) => u.id,
        })
        .collect();
    assert_eq!(got, ids);
}
