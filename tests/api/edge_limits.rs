//! The HTTP edge under hostile or bursty clients: idle and trickling connections are closed
//! after their timeouts, connections and requests past the caps get 503 OVERLOADED at once,
//! and answers given before the body was read close the connection properly.

use std::time::{Duration, Instant};

use crate::common;

use common::{AppOptions, TestApp, eventually, spawn_app_with};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (or `limit` passes: then panics); returns
/// what was read and how long it took.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit
            .checked_sub(started.elapsed())
            .unwrap_or_else(|| panic!("still open after {limit:?}; read {seen:?}"));
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after {limit:?}; read {seen:?}"),
        }
    }
    (
        String::from_utf8_lossy(&seen).into_owned(),
        started.elapsed(),
    )
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address).await.expect("connect")
}

async fn live_is_fast(app: &TestApp) {
    let started = Instant::now();
    let response = reqwest::Client::new()
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("GET /health/live");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

fn short_timeouts() -> AppOptions {
    AppOptions::default()
        .var("MTGATE_HTTP_HEADER_TIMEOUT", "300ms")
        .var("MTGATE_HTTP_IDLE_TIMEOUT", "700ms")
        .var("MTGATE_HTTP_BODY_TIMEOUT", "400ms")
}

#[tokio::test]
async fn idle_and_trickling_connections_are_closed_after_their_timeouts_while_a_fresh_client_stays_fast()
 {
    let app = spawn_app_with(short_timeouts()).await;

    let mut silent = connect(&app).await;
    let mut trickling = connect(&app).await;
    let trickle = tokio::spawn(async move {
        // One byte every 50 ms of a head that would take 1.6 s to finish.
        for byte in b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n" {
            if trickling.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        read_until_closed(&mut trickling, Duration::from_secs(3)).await
    });
    let mut keep_alive = connect(&app).await;
    keep_alive
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let asked = Instant::now();

    live_is_fast(&app).await;

    let (read, took) = read_until_closed(&mut silent, Duration::from_secs(3)).await;
    assert!(read.is_empty(), "{read}");
    assert!(took >= Duration::from_millis(200), "{took:?}");

    let (read, _) = read_until_closed(&mut keep_alive, Duration::from_secs(3)).await;
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    assert!(read.contains("alive"), "{read}");
    let idle = asked.elapsed();
    assert!(
        idle >= Duration::from_millis(650),
        "kept for the idle timeout, not the header one: {idle:?}"
    );

    let (read, _) = trickle.await.unwrap();
    assert!(
        !read.contains("200 OK"),
        "the trickled head was never answered: {read}"
    );
    live_is_fast(&app).await;
}

#[tokio::test]
async fn a_body_trickling_past_the_body_timeout_is_refused_and_the_connection_closed() {
    let app = spawn_app_with(short_timeouts()).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"text\":",
        app.api_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (read, took) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(read.starts_with("HTTP/1.1 400"), "{read}");
    assert!(
        read.to_ascii_lowercase().contains("connection: close"),
        "{read}"
    );
    assert!(read.contains("did not arrive within 400 ms"), "{read}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

#[tokio::test]
async fn an_answer_given_before_the_body_is_read_says_connection_close_and_the_client_carries_on() {
    let app = spawn_app_with(AppOptions::default()).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client
            .post(app.url("/v1/messages"))
            .json(&serde_json::json!({"peer": "me", "text": "no key"}))
            .send()
            .await
            .expect("each request gets an answer, none a broken connection");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["connection"], "close");
    }
    let live = client.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(
        live.headers().get("connection").is_none(),
        "a request without a body keeps the connection"
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_gets_503_overloaded_at_once() {
    let app = spawn_app_with(AppOptions::default().var("MTGATE_HTTP_MAX_CONNECTIONS", "3")).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&app).await);
    }
    let mut extra = connect(&app).await;
    let (read, took) = read_until_closed(&mut extra, Duration::from_secs(2)).await;
    assert!(read.starts_with("HTTP/1.1 503"), "{read}");
    assert!(read.contains("\"OVERLOADED\""), "{read}");
    assert!(read.contains("retry-after: 1"), "{read}");
    assert!(took < Duration::from_millis(500), "{took:?}");
    drop(held);
    eventually(common::DEADLINE, "a slot to free up", || async {
        let r = reqwest::Client::new()
            .get(app.url("/health/live"))
            .send()
            .await
            .ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
}

async fn in_flight(app: &TestApp) -> Option<u64> {
    let text = app
        .get_anonymous("/metrics")
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("mtgate_http_requests_in_flight "))?
        .parse()
        .ok()
}

#[tokio::test]
async fn past_the_in_flight_cap_requests_get_503_overloaded_at_once() {
    let app = spawn_app_with(AppOptions::default().var("MTGATE_HTTP_MAX_IN_FLIGHT", "2")).await;
    app.wait_until_healthy().await;
    app.sandbox.control().set_delay(Duration::from_secs(3));
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(app.get("/telegram/session/status").send()))
        .collect();
    eventually(common::DEADLINE, "two requests in flight", || async {
        (in_flight(&app).await == Some(2)).then_some(())
    })
    .await;

    let started = Instant::now();
    let shed = app.get("/v1/peers/me").send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    let body: serde_json::Value = shed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "OVERLOADED");
    live_is_fast(&app).await;

    app.sandbox.control().set_delay(Duration::ZERO);
    for request in slow {
        let _ = request.await;
    }
    assert_eq!(in_flight(&app).await, Some(0));
}

#[tokio::test]
async fn a_request_waiting_on_telegram_longer_than_the_idle_and_header_timeouts_still_gets_its_answer()
 {
    let app = spawn_app_with(short_timeouts()).await;
    app.wait_until_healthy().await;
    app.sandbox.control().set_delay(Duration::from_millis(1200));
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app.sandbox.control().set_delay(Duration::ZERO);
}
