//! Fault switches (delay, drop, down, shutdown) and hostile bytes.

use super::*;

#[tokio::test]
async fn a_delayed_reply_does_not_hold_up_pings_on_the_same_connection() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    within("get_me", tc.client.get_me())
        .await
        .expect("connects");
    server.set_delay(Duration::from_secs(60));
    let slow_client = tc.client.clone();
    let slow = tokio::spawn(async move { slow_client.invoke(&get_self()).await });
    let before = fixture.calls().len();
    eventually("the slow call to reach the backend", || {
        fixture.calls().len() > before
    })
    .await;
    let tl::enums::Pong::Pong(pong) = within(
        "pong while a reply is delayed",
        tc.client.invoke(&tl::functions::Ping { ping_id: 1 }),
    )
    .await
    .expect("ping");
    assert_eq!(pong.ping_id, 1);
    assert!(!slow.is_finished(), "the delayed reply came early");
    slow.abort();
}

#[tokio::test]
async fn drop_connections_fails_the_in_flight_call_and_the_next_call_reconnects() {
    let (server, fixture, _bus) = start().await;
    let tc = client(server.local_addr(), fixture.key);
    within("get_me", tc.client.get_me())
        .await
        .expect("connects");

    server.set_delay(Duration::from_secs(60));
    let in_flight_client = tc.client.clone();
    let in_flight = tokio::spawn(async move { in_flight_client.invoke(&get_self()).await });
    let before = fixture.calls().len();
    eventually("the call to reach the backend", || {
        fixture.calls().len() > before
    })
    .await;
    server.drop_connections();
    let result = within("the in-flight call to fail", in_flight)
        .await
        .unwrap();
    assert!(result.is_err(), "the reply should have been lost");

    server.set_delay(Duration::ZERO);
    let init_calls = |f: &Fixture| {
        f.call_ids()
            .iter()
            .filter(|id| **id == tl::functions::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID)
            .count()
    };
    assert_eq!(init_calls(&fixture), 1);
    let me = within("get_me after the drop", tc.client.get_me())
        .await
        .expect("reconnects");
    assert_eq!(me.id().bare_id(), Some(SELF_ID));
    assert_eq!(
        init_calls(&fixture),
        2,
        "a new connection runs initConnection"
    );
}

#[tokio::test]
async fn going_down_refuses_connects_and_coming_back_serves_on_the_same_port() {
    let (server, fixture, _bus) = start().await;
    let addr = server.local_addr();
    let tc = client(addr, fixture.key);
    within("get_me", tc.client.get_me())
        .await
        .expect("connects");

    server.set_down(true).await.unwrap();
    assert!(server.is_down());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "connect while down"
    );
    assert!(
        within("get_me while down", tc.client.get_me())
            .await
            .is_err(),
        "calls fail while down"
    );

    server.set_down(false).await.unwrap();
    assert!(!server.is_down());
    assert_eq!(server.local_addr(), addr);
    let me = within("get_me after coming back", tc.client.get_me())
        .await
        .expect("serves again");
    assert_eq!(me.id().bare_id(), Some(SELF_ID));
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let (server, _fixture, _bus) = start().await;
    let addr = server.local_addr();
    server.shutdown();
    server.shutdown();
    eventually("the port to close", || {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;
    assert!(server.set_down(false).await.is_err(), "shutdown is final");
}

/// Sends raw bytes on a fresh connection and expects the server to hang up.
async fn garbage_closes(addr: SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    closed_by_server(&mut stream).await;
}

fn full_frame(seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut buf = DequeBuffer::with_capacity(payload.len(), 16);
    buf.extend(payload.iter().copied());
    let mut full = transport::Full::new();
    for _ in 0..seq {
        full.pack(&mut DequeBuffer::with_capacity(0, 16));
    }
    full.pack(&mut buf);
    buf[..].to_vec()
}

#[tokio::test]
async fn bad_bytes_close_only_their_own_connection() {
    let (server, fixture, _bus) = start().await;
    let addr = server.local_addr();
    let tc = client(addr, fixture.key);
    within("get_me", tc.client.get_me())
        .await
        .expect("connects");

    // Oversize length (with the first frame's seq 0: four bytes alone could still be the
    // start of an obfuscation header).
    garbage_closes(addr, &[(64u32 << 20).to_le_bytes(), [0; 4]].concat()).await;
    // Wrong CRC.
    let mut frame = full_frame(0, &[7u8; 64]);
    let last = frame.len() - 1;
    frame[last] ^= 0xff;
    garbage_closes(addr, &frame).await;
    // Wrong sequence number.
    garbage_closes(addr, &full_frame(3, &[7u8; 64])).await;
    // A well-framed packet that is not a valid encrypted message for a known key.
    let mut junk = auth_key_id(&fixture.key).to_le_bytes().to_vec();
    junk.extend([0x5a; 56]);
    garbage_closes(addr, &full_frame(0, &junk)).await;
    // Correctly encrypted for a known key, but the plaintext is not an MTProto message.
    let mut noise = DequeBuffer::with_capacity(64, 32);
    noise.extend([0x11u8; 64]);
    grammers_crypto::encrypt_data_v2(
        &mut noise,
        &grammers_crypto::AuthKey::from_bytes(fixture.key),
    );
    garbage_closes(addr, &full_frame(0, &noise[..])).await;
    // An unencrypted (key exchange) packet: the sandbox creates no keys.
    garbage_closes(addr, &full_frame(0, &[0u8; 40])).await;
    // Random garbage on the intermediate transport.
    let mut inter = vec![0xee; 4];
    inter.extend(3u32.to_le_bytes());
    garbage_closes(addr, &inter).await;
    // A truncated frame followed by the client hanging up must not disturb anyone.
    {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(&full_frame(0, &[1u8; 64])[..20])
            .await
            .unwrap();
    }

    // The established client still works on its connection, and new clients connect.
    let me = within("get_me after garbage", tc.client.get_me())
        .await
        .expect("still served");
    assert_eq!(me.id().bare_id(), Some(SELF_ID));
    let fresh = client(addr, fixture.key);
    within("a fresh client", fresh.client.get_me())
        .await
        .expect("new clients are served");
}
