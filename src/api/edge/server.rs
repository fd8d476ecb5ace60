//! The accept loop: HTTP/1 connections served by hyper directly (axum's `serve` has no
//! connection cap or header/idle timeouts), each under its own timing ([`super::conn`]), and
//! a cap on open connections: past it a connection gets a canned `503 OVERLOADED` and is
//! closed at once, so a flood of sockets never starves the process of file descriptors.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use super::EdgeState;
use super::conn::{Activity, TimedIo};
use super::service::ConnService;

/// What a connection past the cap reads before it is closed.
const OVERLOADED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 100\r\n\
\r\n\
{\"error\":{\"code\":\"OVERLOADED\",\"message\":\"too many open connections; retry shortly\",\"retry_after\":1}}";

/// How long writing the canned 503 may take before the socket is dropped anyway.
const REJECT_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Pause after an accept error such as EMFILE, so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets every
/// connection finish its current request (idle ones close at once) and returns when all
/// have closed. Bounding that wait is the caller's business.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    edge: Arc<EdgeState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = edge.limits.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let (closing_tx, closing_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            edge.record_connection_shed();
            tokio::spawn(reject(stream));
            continue;
        };
        tokio::spawn(connection(
            stream,
            app.clone(),
            edge.clone(),
            slot,
            closing_rx.clone(),
        ));
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a slot until it closes.
    let _all = slots.acquire_many(max as u32).await;
    Ok(())
}

/// Serves one connection until it closes, times out, or shutdown asks it to finish.
async fn connection(
    stream: TcpStream,
    app: Router,
    edge: Arc<EdgeState>,
    _slot: OwnedSemaphorePermit,
    mut closing: watch::Receiver<bool>,
) {
    let _open = edge.connection_opened();
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    let limits = &edge.limits;
    let activity = Arc::new(Activity::new(
        limits.header_timeout,
        limits.idle_timeout,
        Instant::now(),
    ));
    let io = TokioIo::new(TimedIo::new(stream, activity.clone()));
    let service = ConnService::new(app, activity, limits.body_timeout)
        .with_upload_body_timeout(edge.upload_body_timeout);
    let conn = http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Timeouts and clients hanging up are routine at the edge: debug, not noise.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Tells a connection past the cap to come back later, then closes it.
async fn reject(mut stream: TcpStream) {
    let write = async {
        stream.write_all(OVERLOADED).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(REJECT_WRITE_TIMEOUT, write).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canned_answer_has_a_correct_content_length_and_json_body() {
        let text = std::str::from_utf8(OVERLOADED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "OVERLOADED");
        assert_eq!(json["error"]["retry_after"], 1);
    }
}
