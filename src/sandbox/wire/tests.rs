//! Wire tests: the real grammers client stack against [`MtprotoServer`] over loopback TCP,
//! with a small test-only [`Backend`] (help.getConfig, users.getUsers, 400 for the rest).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use grammers_client::Client;
use grammers_crypto::DequeBuffer;
use grammers_mtproto::mtp::{self, Deserialization, Mtp};
use grammers_mtproto::transport::{self, Transport};
use grammers_mtsender::{
    ConnectionParams, InvocationError, NoRetries, SenderPool, ServerAddr, connect_with_auth,
};
use grammers_session::storages::MemorySession;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{MtprotoServer, auth_key_id};
use crate::sandbox::rpc::{AUTH_KEY_LEN, Backend, CallOrigin, Push, RpcOutcome, UpdateBus};
use crate::session_string::{SessionFormat, StringSession};

/// Upper bound for anything a test waits for; never a sleep.
const DEADLINE: Duration = Duration::from_secs(10);
const SELF_ID: i64 = 1000;

// ---------------------------------------------------------------------------------------------
// Test backend

/// Knows one auth key; records every call (peeled of wrappers) it sees.
struct Fixture {
    key: [u8; AUTH_KEY_LEN],
    calls: Mutex<Vec<Vec<u8>>>,
}

impl Fixture {
    fn new() -> Arc<Self> {
        let mut key = [0u8; AUTH_KEY_LEN];
        rand::thread_rng().fill_bytes(&mut key);
        Arc::new(Self {
            key,
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<Vec<u8>> {
        self.calls.lock().unwrap().clone()
    }

    fn call_ids(&self) -> Vec<u32> {
        self.calls()
            .iter()
            .map(|c| u32::from_le_bytes(c[..4].try_into().unwrap()))
            .collect()
    }
}

/// Everything after a wrapper's fields: the wrapped query, unparsed.
struct Rest(Vec<u8>);

impl Deserializable for Rest {
    fn deserialize(buf: &mut Cursor) -> tl::deserialize::Result<Self> {
        let mut rest = Vec::new();
        buf.read_to_end(&mut rest)?;
        Ok(Rest(rest))
    }
}

/// Peels invokeWithLayer / initConnection / invokeWithoutUpdates off a call body.
fn peel(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    loop {
        let mut cursor = Cursor::from_slice(&body);
        let inner = match u32::deserialize(&mut cursor) {
            Ok(tl::functions::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InvokeWithLayer::<Rest>::deserialize(&mut cursor).map(|f| f.query.0)
            }
            Ok(tl::functions::InitConnection::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InitConnection::<Rest>::deserialize(&mut cursor).map(|f| f.query.0)
            }
            Ok(tl::functions::InvokeWithoutUpdates::<Rest>::CONSTRUCTOR_ID) => {
                tl::functions::InvokeWithoutUpdates::<Rest>::deserialize(&mut cursor)
                    .map(|f| f.query.0)
            }
            _ => return body,
        };
        match inner {
            Ok(inner) => body = inner,
            Err(_) => return body,
        }
    }
}

impl Backend for Fixture {
    fn auth_key(&self, id: i64) -> Option<[u8; AUTH_KEY_LEN]> {
        (id == auth_key_id(&self.key)).then_some(self.key)
    }

    fn call(&self, _origin: CallOrigin, body: &[u8]) -> RpcOutcome {
        self.calls.lock().unwrap().push(body.to_vec());
        let inner = peel(body);
        match u32::from_le_bytes(inner[..4].try_into().unwrap()) {
            tl::functions::help::GetConfig::CONSTRUCTOR_ID => {
                RpcOutcome::Result(config().to_bytes())
            }
            tl::functions::users::GetUsers::CONSTRUCTOR_ID => {
                let Ok(request) = tl::functions::users::GetUsers::from_bytes(&inner[4..]) else {
                    return RpcOutcome::Error {
                        code: 400,
                        message: "INPUT_REQUEST_INVALID".into(),
                    };
                };
                // One user per requested id, so concurrent replies can be told apart.
                let users: Vec<tl::enums::User> = request
                    .id
                    .iter()
                    .map(|input| match input {
                        tl::enums::InputUser::User(u) => user(u.user_id),
                        _ => user(SELF_ID),
                    })
                    .collect();
                RpcOutcome::Result(users.to_bytes())
            }
            tl::functions::help::GetNearestDc::CONSTRUCTOR_ID => {
                panic!("the fixture's deliberate bug")
            }
            _ => RpcOutcome::Error {
                code: 400,
                message: "METHOD_INVALID".into(),
            },
        }
    }
}

fn config() -> tl::enums::Config {
    tl::enums::Config::Config(tl::types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: false,
        blocked_mode: false,
        force_try_ipv6: false,
        date: 1_700_000_000,
        expires: 1_700_003_600,
        test_mode: false,
        this_dc: 2,
        dc_options: Vec::new(),
        dc_txt_domain_name: String::new(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

fn user(id: i64) -> tl::enums::User {
    tl::enums::User::User(tl::types::User {
        is_self: id == SELF_ID,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id,
        access_hash: Some(77),
        first_name: Some("Wire".into()),
        last_name: None,
        username: Some("wire_test".into()),
        phone: None,
        photo: None,
        status: None,
        bot_info_version: None,
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn start() -> (MtprotoServer, Arc<Fixture>, UpdateBus) {
    let fixture = Fixture::new();
    let bus = UpdateBus::new();
    let server = MtprotoServer::start("127.0.0.1:0".parse().unwrap(), fixture.clone(), bus.clone())
        .await
        .expect("server starts");
    (server, fixture, bus)
}

/// A full grammers client (pool runner spawned) whose session points at `addr`.
struct TestClient {
    client: Client,
    updates: tokio::sync::mpsc::Receiver<UpdatesLike>,
}

fn client(addr: SocketAddr, key: [u8; AUTH_KEY_LEN]) -> TestClient {
    let session = StringSession {
        dc_id: 2,
        addr,
        auth_key: key,
        format: SessionFormat::Telethon,
    };
    let params = ConnectionParams {
        // Surface every failure to the test instead of retrying it away.
        retry_policy: Box::new(NoRetries),
        ..Default::default()
    };
    let pool = SenderPool::with_configuration(
        Arc::new(MemorySession::from(session.to_session_data())),
        12345,
        params,
    );
    let client = Client::new(pool.handle);
    tokio::spawn(pool.runner.run());
    TestClient {
        client,
        updates: pool.updates,
    }
}

fn server_addr(server: &MtprotoServer) -> ServerAddr {
    ServerAddr::Tcp {
        address: server.local_addr(),
    }
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Polls `check` until it holds or the deadline passes.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    within(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// Waits until the server closes `stream` (EOF or reset), discarding what it sends.
async fn closed_by_server(stream: &mut TcpStream) {
    within("the server to close the connection", async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await
}

fn get_self() -> tl::functions::users::GetUsers {
    tl::functions::users::GetUsers {
        id: vec![tl::enums::InputUser::UserSelf],
    }
}

// ---------------------------------------------------------------------------------------------
// Full client

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

// ---------------------------------------------------------------------------------------------
// Sender level: transports and keys

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

// ---------------------------------------------------------------------------------------------
// Raw MTProto: the grammers mtp state machine driven by hand, to see each step

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
        let envelope = super::envelope::parse_plaintext(plain).expect("well-formed");
        let outer = envelope.message;
        let inner = super::envelope::flatten(outer.clone()).expect("well-formed");
        let got = self
            .mtp
            .deserialize(&mut packet)
            .expect("valid server packet");
        (got, Inspected { outer, inner })
    }
}

/// A server packet's top-level message and the messages it carries (itself if no container).
struct Inspected {
    outer: super::envelope::Message,
    inner: Vec<super::envelope::Message>,
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

    // Oversize length.
    garbage_closes(addr, &(64u32 << 20).to_le_bytes()).await;
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
        Some(super::envelope::MSG_CONTAINER_ID)
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
    assert_eq!(result.constructors(), vec![super::envelope::RPC_RESULT_ID]);
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
    raw.send(std::slice::from_ref(&request)).await;
    raw.recv().await; // bad_server_salt
    raw.send(std::slice::from_ref(&request)).await;
    raw.recv().await; // new_session_created + future_salts

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
