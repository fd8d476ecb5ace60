//! Helpers of the media tests: multipart bodies written by hand (every byte visible), test
//! files, and the sandbox's stored bytes.
#![allow(dead_code)]

use axum::Router;
use axum::http::header;
use axum::routing::get;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::TestApp;
use crate::messages_support::Answer;

pub const BOUNDARY: &str = "mtgate-test-boundary-7c1f";

/// One `file` part: file name, content type, bytes.
pub struct FilePart<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// A `multipart/form-data` body: the `json` part, then `files`.
pub fn form(json: &Value, files: &[FilePart]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"json\"\r\n\
         Content-Type: application/json\r\n\r\n{json}\r\n"
    )
    .into_bytes();
    for file in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: {}\r\n\r\n",
                file.name, file.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Posts `files` with `json` as one multipart send (with an Idempotency-Key when given).
pub async fn send_files(
    app: &TestApp,
    path: &str,
    json: &Value,
    files: &[FilePart<'_>],
    key: Option<&str>,
) -> Answer {
    let mut request = app
        .post(path)
        .header("content-type", content_type())
        .body(form(json, files));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    Answer::of(request.send().await.expect("POST multipart")).await
}

/// `image/png` file parts named `names`, over `files` (one each, same order).
pub fn png_parts<'a>(files: &'a [Vec<u8>], names: &[&'a str]) -> Vec<FilePart<'a>> {
    files
        .iter()
        .zip(names)
        .map(|(bytes, name)| FilePart {
            name,
            content_type: "image/png",
            bytes,
        })
        .collect()
}

/// A PNG header of `w`×`h` followed by `len` pseudo-random bytes (the sandbox, like
/// Telegram's first check, reads the header).
pub fn png(w: u32, h: u32, len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend_from_slice(&w.to_be_bytes());
    bytes.extend_from_slice(&h.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend(noise(len, w as u64));
    bytes
}

/// `len` pseudo-random bytes (xorshift), different per `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bytes the sandbox holds under `sha256`.
pub fn stored_bytes(app: &TestApp, sha256: &str) -> Vec<u8> {
    app.sandbox
        .control()
        .file(sha256)
        .unwrap_or_else(|| panic!("the sandbox holds no file {sha256}"))
        .bytes
        .clone()
}

/// Serves `bytes` as `application/pdf` at `/files/report.pdf` (404 elsewhere) on a loopback
/// port; its base URL.
pub async fn file_server(bytes: Vec<u8>) -> String {
    let app = file_routes(bytes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

/// The routes of [`file_server`], to serve some other way (e.g. over TLS).
pub fn file_routes(bytes: Vec<u8>) -> Router {
    Router::new().route(
        "/files/report.pdf",
        get(move || {
            let bytes = bytes.clone();
            async move { ([(header::CONTENT_TYPE, "application/pdf")], bytes) }
        }),
    )
}
