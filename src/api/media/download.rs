//! `GET /v1/messages/{peer}/{id}/media`: a message's photo (largest size) or document,
//! streamed from Telegram in 512 KiB `upload.getFile` windows as the caller reads (two read
//! ahead, so at most three in memory), with `Content-Type`, `Content-Length`,
//! `Content-Disposition` and a single `Range` (206 with `Content-Range`; 416 when it lies
//! outside the file).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::Account;
use crate::api::ApiError;
use crate::api::account::CurrentAccount;
use crate::api::json::ApiPath;
use crate::api::messages::input::message_id;
use crate::api::openapi::{ErrorBody, TelegramErrors};
use crate::api::peers::{Logged, peer_spec};
use crate::telegram::ops::FileLocation;

/// Bytes per `upload.getFile` call: divides 1 MiB, so aligned windows never cross a 1 MiB
/// block, and fits one MTProto packet.
pub const WINDOW: u64 = 512 * 1024;

/// Downloads a message's photo or document.
#[utoipa::path(
    get,
    path = "/v1/messages/{peer}/{id}/media",
    tag = "messages",
    params(
        ("peer" = String, Path, description = "The chat (any peer form)"),
        ("id" = i32, Path, description = "The message id"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-500`"),
    ),
    responses(
        (status = 200, description = "The whole file", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"), ("Accept-Ranges" = String, description = "`bytes`"))),
        (status = 206, description = "The requested range", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String, description = "`bytes start-end/size`"))),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "Telegram forbids it (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Unknown peer, or no message with a photo or document (MESSAGE_NOT_FOUND)", body = ErrorBody),
        (status = 416, description = "The range lies outside the file (RANGE_NOT_SATISFIABLE)", body = ErrorBody),
        (status = 504, description = "Timed out", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn download(
    CurrentAccount(account): CurrentAccount,
    path: Result<ApiPath<(String, String)>, ApiError>,
    headers: HeaderMap,
) -> Result<Response, Logged> {
    let ApiPath((peer, id)) = path?;
    let spec = peer_spec(&account, Some(&peer))?;
    let id = message_id(&id)?;
    let source = tokio::time::timeout(
        account.request_timeout(),
        account.telegram().media_of(&spec, id),
    )
    .await
    .map_err(|_| ApiError::Timeout("looking up the message timed out".into()))?
    .map_err(ApiError::from)?
    .ok_or_else(|| ApiError::MessageNotFound {
        message: format!("message {id} does not exist here or has no photo or document"),
        telegram: None,
    })?;
    let size = source.size;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(raw) => match parse_range(raw, size) {
            RangeAsk::Whole => None,
            RangeAsk::Part(start, end) => Some((start, end)),
            RangeAsk::Unsatisfiable => {
                let mut response = ApiError::RangeNotSatisfiable(format!(
                    "the range `{raw}` lies outside the file ({size} bytes)"
                ))
                .into_response();
                response.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}")).expect("ASCII"),
                );
                return Ok(response);
            }
        },
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let length = if size == 0 { 0 } else { end - start + 1 };
    let body = Body::from_stream(windows(
        account.account().clone(),
        source.location,
        start,
        length,
    ));
    let mut response = Response::new(body);
    *response.status_mut() = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = response.headers_mut();
    let content_type = HeaderValue::from_str(&source.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_DISPOSITION, disposition(&source.file_name));
    if range.is_some() {
        let value = format!("bytes {start}-{end}/{size}");
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).expect("ASCII"),
        );
    }
    Ok(response)
}

/// Windows read ahead of the one being sent: Telegram answers each in one round trip, so
/// a couple in flight keep the link busy while memory stays at a few windows.
const WINDOWS_AHEAD: usize = 2;

/// `length` bytes from `start`, read window by window (in order, [`WINDOWS_AHEAD`] ahead) as
/// the body is polled.
fn windows(
    account: Arc<Account>,
    location: FileLocation,
    start: u64,
    length: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    use futures_util::StreamExt;
    let end = start + length;
    let first = start - start % WINDOW;
    let offsets = (first..end).step_by(WINDOW as usize);
    futures_util::stream::iter(offsets)
        .map(move |window_start| {
            let (account, location) = (account.clone(), location.clone());
            async move {
                let bytes = account
                    .telegram()
                    .read_file(&location, window_start as i64, WINDOW as i32)
                    .await
                    .map_err(|e| {
                        tracing::warn!(error = %e, "a media download stopped half-way");
                        std::io::Error::other(e.to_string())
                    })?;
                let skip = start.saturating_sub(window_start) as usize;
                let stop = (end - window_start).min(bytes.len() as u64) as usize;
                if stop <= skip {
                    return Err(std::io::Error::other(
                        "Telegram's file is shorter than its size said",
                    ));
                }
                Ok(Bytes::from(bytes).slice(skip..stop))
            }
        })
        .buffered(WINDOWS_AHEAD + 1)
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable single range (absent, malformed, several): the whole file.
    Whole,
    /// Inclusive byte positions.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a single `bytes=` range (RFC 9110); several ranges or other units are ignored.
pub fn parse_range(raw: &str, size: u64) -> RangeAsk {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match parse(last) {
            Some(0) => RangeAsk::Unsatisfiable,
            Some(n) if size > 0 => RangeAsk::Part(size.saturating_sub(n), size - 1),
            Some(_) => RangeAsk::Unsatisfiable,
            None => RangeAsk::Whole,
        },
        (false, _) => {
            let Some(start) = parse(first) else {
                return RangeAsk::Whole;
            };
            let end = if last.is_empty() {
                Some(u64::MAX)
            } else {
                parse(last)
            };
            match end {
                None => RangeAsk::Whole,
                Some(end) if end < start => RangeAsk::Whole,
                Some(_) if start >= size => RangeAsk::Unsatisfiable,
                Some(end) => RangeAsk::Part(start, end.min(size - 1)),
            }
        }
        (true, true) => RangeAsk::Whole,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (a plain ASCII fallback and the exact name).
pub fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_are_read_and_clamped() {
        assert_eq!(parse_range("bytes=0-99", 1000), RangeAsk::Part(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), RangeAsk::Part(900, 999));
        assert_eq!(
            parse_range("bytes=900-5000", 1000),
            RangeAsk::Part(900, 999)
        );
        assert_eq!(parse_range("bytes=-100", 1000), RangeAsk::Part(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), RangeAsk::Part(0, 999));
        assert_eq!(parse_range(" bytes= 5 - 6 ", 1000), RangeAsk::Part(5, 6));
    }

    #[test]
    fn ranges_outside_the_file_are_unsatisfiable() {
        assert_eq!(parse_range("bytes=1000-", 1000), RangeAsk::Unsatisfiable);
        assert_eq!(
            parse_range("bytes=5000-6000", 1000),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=-0", 1000), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), RangeAsk::Unsatisfiable);
    }

    #[test]
    fn other_ranges_mean_the_whole_file() {
        for raw in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=9-3",
            "bytes=-",
            "0-1",
        ] {
            assert_eq!(parse_range(raw, 1000), RangeAsk::Whole, "{raw}");
        }
    }

    #[test]
    fn file_names_are_quoted_safely_and_exactly() {
        assert_eq!(
            disposition("report 2026.pdf"),
            "attachment; filename=\"report 2026.pdf\"; filename*=UTF-8''report%202026.pdf"
        );
        assert_eq!(
            disposition("a\"b\\ü.txt"),
            "attachment; filename=\"a_b__.txt\"; filename*=UTF-8''a%22b%5C%C3%BC.txt"
        );
    }
}
