//! (p): the floor under every mtgate send row. A bare HTTP-to-Telegram proxy: axum's own
//! server, one grammers client, the peer resolved once at start; no auth, no validation,
//! no store, no events, updates dropped unread. This bench binary runs it as a separate
//! process (started again with [`PEER_VAR`] set), so its CPU is counted apart from the
//! bench's, like the service's. What it spends per send is what any service built on this
//! stack pays before doing anything of its own.

use std::path::Path;
use std::process::{ExitCode, Stdio};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::direct::{self, Direct};
use crate::procs::{self, Error};

/// Set to the `@username` the floor writes to: this process is the floor, not the bench.
const PEER_VAR: &str = "MTGATE_BENCH_FLOOR_PEER";
/// The string session the floor logs in with.
const SESSION_VAR: &str = "TG_SESSION";

/// Serves the floor proxy when this process was started as one ([`Floor::start`]).
pub fn serve_if_asked() -> Option<ExitCode> {
    let peer = std::env::var(PEER_VAR).ok()?;
    let session = std::env::var(SESSION_VAR).unwrap_or_default();
    // One thread, as `mtgate serve` runs on a 2-core box (MTGATE_RUNTIME_THREADS=auto).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    Some(match runtime.block_on(serve(&session, &peer)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("floor proxy: {error}");
            ExitCode::from(2)
        }
    })
}

async fn serve(session: &str, peer: &str) -> Result<(), Error> {
    let client = direct::connect(session).await?;
    let target = Direct::resolve(&client, peer).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // The one line the bench waits for.
    println!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/v1/messages", post(send))
        .route("/health/live", get(|| async { "ok" }))
        .with_state(target);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The part of mtgate's send body the floor reads (the peer is fixed at start).
#[derive(Deserialize)]
struct SendBody {
    text: String,
}

async fn send(State(target): State<Direct>, Json(body): Json<SendBody>) -> Response {
    match target.client.send_message(target.peer, body.text).await {
        Ok(message) => (StatusCode::CREATED, Json(json!({ "id": message.id() }))).into_response(),
        Err(error) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": { "code": "FLOOR", "message": error.to_string() } })),
        )
            .into_response(),
    }
}

/// A running floor proxy.
pub struct Floor {
    pub base_url: String,
    child: Child,
}

impl Floor {
    /// Starts this binary again as the floor, logged in with `session`, writing to `peer`.
    pub async fn start(session: &str, peer: &str, logs: &Path) -> Result<Self, Error> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(PEER_VAR, peer)
            .env(SESSION_VAR, session)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(procs::log_file(logs, "floor.log")?)
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("floor stdout was not piped")?;
        let base_url = tokio::time::timeout(
            procs::START_DEADLINE,
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .map_err(|_| "the floor proxy printed no address within 30 s")??
        .ok_or("the floor proxy exited before printing its address (see floor.log)")?;
        Ok(Self { base_url, child })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}
