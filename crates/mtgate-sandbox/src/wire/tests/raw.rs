//! The grammers mtp state machine driven by hand, to see each protocol step and the raw
//! messages the server sends.

use super::*;

struct RawClient {
    stream: TcpStream,
    transport: transport::Full,
    mtp: mtp::Encrypted,
    read: Vec<u8>,
}

impl RawClient {
    async fn connect(addr: SocketAddr, key: [u8; AUTH_KEY_LEN]) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            transport: transport::Full::new(),
            mtp: mtp::Encrypted::build().finish(key),
            read: Vec::new(),
        }
    }

    /// Pushes `bodies` (as far as the mtp lets them in) and sends one packet.
    async fn send(&mut self, bodies: &[Vec<u8>]) -> Vec<Option<grammers_mtproto::MsgId>> {
        let mut buf = DequeBuffer::with_capacity(4096, 128);
        let ids = bodies.iter().map(|b| self.mtp.push(&mut buf, b)).collect();
        self.mtp.finalize(&mut buf);
        self.transport.pack(&mut buf);
        self.stream.write_all(&buf[..]).await.unwrap();
        ids
    }

    /// Gets past bad_server_salt and get_future_salts (pinging, so the backend sees nothing),
    /// so that what is sent next is processed.
    async fn handshake(&mut self) {
        let ping = tl::functions::Ping { ping_id: 0 }.to_bytes();
        self.send(std::slice::from_ref(&ping)).await;
        self.recv().await; // bad_server_salt
        self.send(std::slice::from_ref(&ping)).await; // only get_future_salts goes out
        self.recv().await; // new_session_created + future_salts
    }

    /// Reads one server packet (the transport payload).
    async fn recv_packet(&mut self) -> Vec<u8> {
        within("a server packet", async {
            loop {
                match self.transport.unpack(&mut self.read) {
                    Ok(off) => {
                        let packet = self.read[off.data_range].to_vec();
                        self.read.drain(..off.next_offset);
                        return packet;
                    }
                    Err(transport::Error::MissingBytes) => {}
                    Err(err) => panic!("bad server frame: {err}"),
                }
                let mut chunk = [0u8; 4096];
                let n = self.stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "server closed the connection");
                self.read.extend_from_slice(&chunk[..n]);
            }
        })
        .await
    }

    /// Reads one server packet and returns what the grammers mtp made of it.
    async fn recv(&mut self) -> Vec<Deserialization> {
        let mut packet = self.recv_packet().await;
        self.mtp
            .deserialize(&mut packet)
            .expect("valid server packet")
    }

    /// Like `recv`, but also decrypts a copy with grammers-crypto to show the raw messages.
    async fn recv_inspected(&mut self) -> (Vec<Deserialization>, Inspected) {
        let mut packet = self.recv_packet().await;
        let mut copy = packet.clone();
        let auth_key = grammers_crypto::AuthKey::from_bytes(self.mtp.auth_key());
        let plain = grammers_crypto::decrypt_data_v2(&mut copy, &auth_key).expect("decrypts");
        let envelope = crate::wire::envelope::parse_plaintext(plain).expect("well-formed");
        let outer = envelope.message;
        let inner = crate::wire::envelope::flatten(outer.clone()).expect("well-formed");
        let got = self
            .mtp
            .deserialize(&mut packet)
            .expect("valid server packet");
        (got, Inspected { outer, inner })
    }
}

/// A server packet's top-level message and the messages it carries (itself if no container).
struct Inspected {
    outer: crate::wire::envelope::Message,
    inner: Vec<crate::wire::envelope::Message>,
}

impl Inspected {
    fn constructors(&self) -> Vec<u32> {
        self.inner
            .iter()
            .map(|m| m.constructor_id().unwrap())
            .collect()
    }
}

/// The number inside an opaque grammers `MsgId`.
fn raw_id(id: grammers_mtproto::MsgId) -> i64 {
    let text = format!("{id:?}");
    text.trim_start_matches("MsgId(")
        .trim_end_matches(')')
        .parse()
        .unwrap()
}

/// Names of what the mtp produced (its types have no `Debug`).
fn describe(got: &[Deserialization]) -> Vec<String> {
    got.iter()
        .map(|d| match d {
            Deserialization::Update(_) => "update".to_owned(),
            Deserialization::OwnUpdate { .. } => "own update".to_owned(),
            Deserialization::RpcResult(r) => format!("result {:?}", r.msg_id),
            Deserialization::RpcError(e) => format!("error {}", e.error.error_message),
            Deserialization::BadMessage(b) => format!("bad msg {}", b.code),
            Deserialization::Failure(f) => format!("failure {:?}", f.error),
        })
        .collect()
}

#[tokio::test]
async fn the_salt_handshake_follows_the_spec() {
    let (server, fixture, _bus) = start().await;
    let mut raw = RawClient::connect(server.local_addr(), fixture.key).await;
    let request = get_self().to_bytes();

    // 1. First request carries salt 0: rejected with bad_server_salt (code 48).
    let first = raw.send(std::slice::from_ref(&request)).await[0].expect("pushed");
    let got = raw.recv().await;
    assert!(
        matches!(&got[..], [Deserialization::BadMessage(bad)] if bad.code == 48 && bad.msg_id == first),
        "got {:?}",
        describe(&got)
    );
    assert!(
        fixture.calls().is_empty(),
        "a bad-salt request is not processed"
    );

    // 2. With a real salt the client first asks for future salts and sends nothing else.
    let second = raw.send(std::slice::from_ref(&request)).await;
    assert_eq!(second, vec![None], "the request waits for the salts");
    // new_session_created and the bare future_salts are consumed inside the mtp.
    let got = raw.recv().await;
    assert!(got.is_empty(), "got {:?}", describe(&got));

    // 3. Now the request goes through and its result comes back.
    let third = raw.send(std::slice::from_ref(&request)).await[0].expect("pushed");
    let got = raw.recv().await;
    match &got[..] {
        [Deserialization::RpcResult(result)] => {
            assert_eq!(result.msg_id, third);
            let users = Vec::<tl::enums::User>::from_bytes(&result.body).unwrap();
            assert_eq!(users.len(), 1);
        }
        other => panic!("expected the result, got {:?}", describe(other)),
    }
    assert_eq!(fixture.calls(), vec![request]);
}

#[tokio::test]
async fn server_messages_have_odd_increasing_msg_ids_and_spec_seq_nos() {
    let (server, fixture, bus) = start().await;
    let mut raw = RawClient::connect(server.local_addr(), fixture.key).await;
    let request = get_self().to_bytes();

    raw.send(std::slice::from_ref(&request)).await;
    let (_, bad_salt) = raw.recv_inspected().await;
    assert_eq!(
        bad_salt.constructors(),
        vec![tl::types::BadServerSalt::CONSTRUCTOR_ID]
    );
    assert_eq!(bad_salt.outer.seq_no, 0, "notices are not content-related");

    raw.send(std::slice::from_ref(&request)).await;
    let (_, handshake) = raw.recv_inspected().await;
    assert_eq!(
        handshake.outer.constructor_id(),
        Some(crate::wire::envelope::MSG_CONTAINER_ID)
    );
    assert_eq!(
        handshake.constructors(),
        vec![
            tl::types::NewSessionCreated::CONSTRUCTOR_ID,
            tl::types::FutureSalts::CONSTRUCTOR_ID
        ]
    );
    let seq: Vec<i32> = handshake.inner.iter().map(|m| m.seq_no).collect();
    assert_eq!(seq, vec![1, 3]);
    assert_eq!(
        handshake.outer.seq_no, 4,
        "a container is not content-related"
    );

    raw.send(std::slice::from_ref(&request)).await;
    let (_, result) = raw.recv_inspected().await;
    assert_eq!(
        result.constructors(),
        vec![crate::wire::envelope::RPC_RESULT_ID]
    );
    assert_eq!(result.outer.seq_no, 5);

    bus.publish(Push {
        auth_key_id: auth_key_id(&fixture.key),
        updates: tl::enums::Updates::TooLong.to_bytes(),
    });
    let (got, update) = raw.recv_inspected().await;
    assert!(matches!(&got[..], [Deserialization::Update(_)]));
    assert_eq!(update.outer.seq_no, 7);

    let responses = [
        bad_salt.outer.msg_id,
        handshake.inner[0].msg_id,
        handshake.inner[1].msg_id,
        handshake.outer.msg_id,
        result.outer.msg_id,
    ];
    for id in responses {
        assert_eq!(id % 4, 1, "responses are 1 mod 4");
    }
    assert_eq!(
        update.outer.msg_id % 4,
        3,
        "server-initiated messages are 3 mod 4"
    );
    let mut all = responses.to_vec();
    all.push(update.outer.msg_id);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
}

#[tokio::test]
async fn a_delayed_call_is_acknowledged_at_once() {
    let (server, fixture, _bus) = start().await;
    let mut raw = RawClient::connect(server.local_addr(), fixture.key).await;
    let request = get_self().to_bytes();
    raw.handshake().await;

    server.set_delay(Duration::from_secs(60));
    let sent = raw.send(std::slice::from_ref(&request)).await[0].expect("pushed");
    let (_, ack) = raw.recv_inspected().await;
    assert_eq!(ack.constructors(), vec![tl::types::MsgsAck::CONSTRUCTOR_ID]);
    let tl::enums::MsgsAck::Ack(ack) = tl::enums::MsgsAck::from_bytes(&ack.inner[0].body).unwrap();
    assert_eq!(ack.msg_ids, vec![raw_id(sent)]);
    eventually("the call to reach the backend", || {
        fixture.calls() == vec![request.clone()]
    })
    .await;
}

#[tokio::test]
async fn service_requests_are_answered_by_the_wire_alone() {
    let (server, fixture, _bus) = start().await;
    let mut raw = RawClient::connect(server.local_addr(), fixture.key).await;
    raw.handshake().await;

    let bodies = vec![
        tl::functions::DestroySession { session_id: 12345 }.to_bytes(),
        tl::enums::MsgsStateReq::Req(tl::types::MsgsStateReq {
            msg_ids: vec![4, 8],
        })
        .to_bytes(),
        tl::functions::RpcDropAnswer { req_msg_id: 4 }.to_bytes(),
        tl::functions::Ping { ping_id: 7 }.to_bytes(),
    ];
    raw.send(&bodies).await;
    let (_, answers) = raw.recv_inspected().await;
    assert_eq!(
        answers.constructors(),
        vec![
            tl::types::DestroySessionNone::CONSTRUCTOR_ID,
            tl::types::MsgsStateInfo::CONSTRUCTOR_ID,
            crate::wire::envelope::RPC_RESULT_ID,
            tl::types::Pong::CONSTRUCTOR_ID,
        ]
    );
    let tl::enums::MsgsStateInfo::Info(info) =
        tl::enums::MsgsStateInfo::from_bytes(&answers.inner[1].body).unwrap();
    assert_eq!(info.info, vec![1, 1], "ids the server never saw");
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&answers.inner[3].body).unwrap();
    assert_eq!(pong.ping_id, 7);
    assert!(fixture.calls().is_empty(), "nothing reached the backend");
}

#[tokio::test]
async fn ping_delay_disconnect_closes_a_connection_that_stops_pinging() {
    let (server, fixture, _bus) = start().await;
    let mut raw = RawClient::connect(server.local_addr(), fixture.key).await;
    raw.handshake().await;
    let ping = tl::functions::PingDelayDisconnect {
        ping_id: 3,
        disconnect_delay: 1,
    };
    raw.send(&[ping.to_bytes()]).await;
    let got = raw.recv().await;
    assert!(
        matches!(&got[..], [Deserialization::RpcResult(_)]),
        "the pong"
    );
    closed_by_server(&mut raw.stream).await;
}
