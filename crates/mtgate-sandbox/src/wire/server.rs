//! The TCP side: listening, accepting, tracking live connections, and the fault switches
//! (drop connections, go down, delay replies).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::debug;

use super::connection;
use super::holders::{ConnectionRecord, KeyHolders};
use super::salts::Salts;
use crate::rpc::{Backend, UpdateBus};

/// State every connection task shares (never the handle's listener, so the last handle
/// dropping can shut everything down).
pub struct Shared {
    pub backend: Arc<dyn Backend>,
    pub bus: UpdateBus,
    pub salts: Salts,
    pub holders: KeyHolders,
    delay_nanos: AtomicU64,
    next_connection_id: AtomicU64,
    connections: Mutex<HashMap<u64, AbortHandle>>,
}

impl Shared {
    pub fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_nanos.load(Ordering::Relaxed))
    }

    fn spawn_connection(self: &Arc<Self>, stream: TcpStream) {
        let id = self.next_connection_id.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let shared = self.clone();
        let mut live = lock(&self.connections);
        let task = tokio::spawn(async move {
            let _registered = Registration {
                id,
                shared: shared.clone(),
            };
            connection::serve(stream, id, shared).await;
        });
        live.insert(id, task.abort_handle());
    }

    fn drop_connections(&self) {
        let live: Vec<AbortHandle> = lock(&self.connections).drain().map(|(_, h)| h).collect();
        debug!(count = live.len(), "dropping connections");
        for handle in live {
            handle.abort();
        }
    }
}

/// Removes a connection from the live set however its task ends (including abort).
struct Registration {
    id: u64,
    shared: Arc<Shared>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.shared.connections).remove(&self.id);
        self.shared.holders.detach(self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A real MTProto server on a TCP port, serving the [`Backend`]'s world.
#[derive(Clone)]
pub struct MtprotoServer {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    listener: Mutex<Listening>,
    down: AtomicBool,
}

/// The port is always held: by the accept loop while up, by a bound but not listening
/// socket while down (connects are refused, yet no other server can take the port).
enum Listening {
    Up(JoinHandle<()>),
    Down(Option<TcpSocket>),
    /// After `shutdown`: never listens again.
    Closed,
}

const BACKLOG: u32 = 1024;

/// Listens on `addr` again, on the socket that held the port while down when there is one.
/// The port can be briefly unavailable (a socket of a connection just dropped is still
/// being torn down), so an `AddrInUse` is retried for up to two seconds.
async fn listen_again(
    addr: SocketAddr,
    reserved: Option<TcpSocket>,
) -> std::io::Result<TcpListener> {
    let mut socket = reserved;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let attempt = match socket.take() {
            Some(socket) => socket.listen(BACKLOG),
            None => bound_socket(addr).and_then(|s| s.listen(BACKLOG)),
        };
        match attempt {
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && tokio::time::Instant::now() < deadline =>
            {
                debug!(%addr, "port still busy; listening again shortly");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// A socket bound to `addr` (address reuse on, as for any server) but not yet listening.
fn bound_socket(addr: SocketAddr) -> std::io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Inner {
    fn stop(&self) {
        self.down.store(true, Ordering::SeqCst);
        let previous = std::mem::replace(&mut *lock(&self.listener), Listening::Closed);
        if let Listening::Up(task) = previous {
            task.abort();
        }
        self.shared.drop_connections();
    }
}

impl std::fmt::Debug for MtprotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtprotoServer")
            .field("addr", &self.inner.addr)
            .field("down", &self.is_down())
            .finish()
    }
}

impl MtprotoServer {
    /// Binds `addr` (port 0 = random) and starts accepting connections in background tasks.
    pub async fn start(
        addr: SocketAddr,
        backend: Arc<dyn Backend>,
        bus: UpdateBus,
    ) -> std::io::Result<Self> {
        let listener = bound_socket(addr)?.listen(BACKLOG)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            backend,
            bus,
            salts: Salts::new(),
            holders: KeyHolders::default(),
            delay_nanos: AtomicU64::new(0),
            next_connection_id: AtomicU64::new(1),
            connections: Mutex::new(HashMap::new()),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        debug!(%addr, "mtproto server listening");
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                addr,
                listener: Mutex::new(Listening::Up(task)),
                down: AtomicBool::new(false),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `true`: a call on an auth key that another live connection also uses gets 406
    /// `AUTH_KEY_DUPLICATED` and the key is logged out, as Telegram does.
    pub fn set_auth_key_duplicated(&self, on: bool) {
        self.inner.shared.holders.set_detect(on);
    }

    /// Every connection's use of an auth key, oldest first.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.inner.shared.holders.log()
    }

    /// Forgets closed connections and turns duplicate detection off (a world reset).
    pub fn reset_connection_log(&self) {
        self.inner.shared.holders.set_detect(false);
        self.inner.shared.holders.clear_closed();
    }

    /// Closes every live connection now; in-flight replies are lost, as on a network drop.
    pub fn drop_connections(&self) {
        self.inner.shared.drop_connections();
    }

    /// `true`: stop listening (new TCP connects are refused) and drop all connections;
    /// `false`: listen again on the same address (same port).
    pub async fn set_down(&self, down: bool) -> std::io::Result<()> {
        let addr = self.inner.addr;
        if down {
            self.inner.down.store(true, Ordering::SeqCst);
            let previous = {
                let mut listening = lock(&self.inner.listener);
                match &*listening {
                    Listening::Up(_) => {
                        Some(std::mem::replace(&mut *listening, Listening::Down(None)))
                    }
                    Listening::Down(_) | Listening::Closed => None,
                }
            };
            if let Some(Listening::Up(task)) = previous {
                task.abort();
                // Wait until the listener is really closed, so connects are refused from now.
                let _ = task.await;
                let reserved = bound_socket(addr)
                    .inspect_err(|err| debug!(%err, "could not hold the port while down"))
                    .ok();
                *lock(&self.inner.listener) = Listening::Down(reserved);
            }
            self.inner.shared.drop_connections();
            return Ok(());
        }
        let reserved = {
            let mut listening = lock(&self.inner.listener);
            match &mut *listening {
                Listening::Down(reserved) => Some(reserved.take()),
                Listening::Closed => {
                    return Err(std::io::Error::other("the mtproto server was shut down"));
                }
                Listening::Up(_) => None,
            }
        };
        if let Some(reserved) = reserved {
            let listener = listen_again(addr, reserved).await?;
            let task = tokio::spawn(accept_loop(listener, self.inner.shared.clone()));
            let mut listening = lock(&self.inner.listener);
            if let Listening::Closed = &*listening {
                task.abort();
                return Err(std::io::Error::other("the mtproto server was shut down"));
            }
            *listening = Listening::Up(task);
            debug!(%addr, "mtproto server listening again");
        }
        self.inner.down.store(false, Ordering::SeqCst);
        Ok(())
    }

    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::SeqCst)
    }

    /// Delay before each RPC reply is written (`Duration::ZERO` = none). The call still
    /// reaches the backend immediately, so a drop during the delay loses only the reply.
    pub fn set_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.inner
            .shared
            .delay_nanos
            .store(nanos, Ordering::Relaxed);
    }

    /// Stops listening and closes all connections for good (idempotent; dropping the last
    /// handle does the same).
    pub fn shutdown(&self) {
        self.inner.stop();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => shared.spawn_connection(stream),
            Err(err) => {
                // E.g. out of file descriptors: back off instead of spinning.
                debug!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
