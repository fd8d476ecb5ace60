//! Wire tests: the real grammers client stack against [`MtprotoServer`] over loopback TCP,
//! with a small test-only backend ([`fixture`]). Shared helpers live here; the tests are in
//! the submodules. Nothing sleeps a fixed time: waits poll with a deadline.

use std::net::SocketAddr;
use std::sync::Arc;
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
use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{MtprotoServer, auth_key_id};
use crate::rpc::{AUTH_KEY_LEN, Push, UpdateBus};
use mtgate_session::{SessionFormat, StringSession};

/// Upper bound for anything a test waits for; never a sleep.
const DEADLINE: Duration = Duration::from_secs(10);
const SELF_ID: i64 = 1000;

mod client;
mod faults;
mod fixture;
mod obfuscated;
mod raw;

use fixture::{Fixture, Rest, peel};

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
