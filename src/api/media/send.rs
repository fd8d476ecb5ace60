//! `POST /v1/messages` with `multipart/form-data`: the `json` part, then `file` parts, each
//! streamed to Telegram part by part as its bytes arrive (never held whole), under a size
//! limit checked while streaming; then one send (an album for several files).
//!
//! With `Idempotency-Key`: the fingerprint is the JSON part (file bytes cannot be known before
//! they are read); the `random_id` comes from the key, so a send is never made twice; a body
//! that stops early (connection dropped) is not a final answer, so a retry runs again; and
//! uploads that finished are remembered ([`super::finished`]), so a retry after a failed send
//! does not upload again.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;

use super::compose::{media_spec, send_files, too_large, upload_error};
use super::finished::FinishedUploads;
use super::types::MediaSendRequest;
use crate::accounts::Account;
use crate::api::account::RequestAccount;
use crate::api::json::parse_json;
use crate::api::messages::input::{formatted, idempotency_of};
use crate::api::peers::{IntoLogged, Logged, peer_spec};
use crate::api::{ApiError, AppState};
use crate::domain::{MediaSpec, PeerSpec, SendOptions};
use crate::idempotency::{self, Claim, IdempotencyKey};
use crate::telegram::ops::{BIG_FILE_THRESHOLD, MAX_ALBUM, UploadedFile};
use crate::telegram::text::FormattedText;

/// Largest `json` part.
const MAX_JSON_PART: u64 = 64 * 1024;
/// Telegram's caption limit (UTF-16 code units).
pub const MAX_CAPTION_UTF16: usize = 1024;

type Parts = multer::Multipart<'static>;

/// Everything a media send needs once its JSON part is read.
#[derive(Clone)]
pub(super) struct Plan {
    pub(super) spec: PeerSpec,
    pub(super) caption: FormattedText,
    pub(super) options: SendOptions,
    pub(super) media: super::types::MediaRequest,
    pub(super) max_bytes: u64,
    /// The request's Content-Length: an upper bound on every file in it.
    pub(super) length_bound: Option<u64>,
}

pub async fn send_multipart(
    account: RequestAccount,
    state: AppState,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Logged> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| ApiError::invalid("multipart/form-data needs a `boundary` parameter"))?;
    let max_bytes = state.config.media.max_bytes;
    let length_bound = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length_bound.is_some_and(|n| n > max_bytes.saturating_mul(MAX_ALBUM as u64) + MAX_JSON_PART)
    {
        return Err(too_large(max_bytes).into());
    }
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["json", "file"])
        .size_limit(multer::SizeLimit::new().for_field("json", MAX_JSON_PART));
    let stream = body.into_data_stream();
    let mut parts: Parts = multer::Multipart::with_constraints(stream, boundary, constraints);

    let json = match parts.next_field().await.map_err(multipart_error)? {
        Some(field) if field.name() == Some("json") => {
            field.bytes().await.map_err(multipart_error)?
        }
        _ => return Err(ApiError::invalid("the first part must be `json` (the send body)").into()),
    };
    let request = parse_json::<MediaSendRequest>(json.to_vec())?;
    if request.value.media.url.is_some() {
        return Err(ApiError::invalid(
            "`media.url` is for JSON sends; a multipart send carries its files as `file` parts",
        )
        .into());
    }
    let plan = plan(&account, &request.value, max_bytes, length_bound)?;
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/messages#multipart",
        &request.canonical,
    )?;
    let random_id = match &idempotent {
        Some((key, fingerprint)) => idempotency::random_id(key, fingerprint),
        None => super::super::messages::fresh_random_id(),
    };
    let account = account.account().clone();
    let uploads = state.uploads.clone();
    let Some((key, fingerprint)) = idempotent else {
        return Ok(send(&account, &uploads, None, plan, parts, random_id)
            .await
            .unwrap_or_else(IntoLogged::into_logged));
    };
    // The body is handed to whichever attempt runs; a duplicate that only waited keeps it, so
    // it can run itself if the first attempt's answer was not final.
    let body = Arc::new(Mutex::new(Some(parts)));
    let plan = Arc::new(plan);
    for _ in 0..3 {
        let work = {
            let (account, uploads, body, plan, key) = (
                account.clone(),
                uploads.clone(),
                body.clone(),
                plan.clone(),
                key.clone(),
            );
            async move {
                let Some(parts) = body.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                    // Not final (5xx): a retry with its own body runs again.
                    return ApiError::Internal {
                        message: "this request's body was already used by an earlier attempt"
                            .into(),
                        telegram: None,
                        upstream: false,
                    }
                    .into_logged();
                };
                let plan = Plan::clone(&plan);
                send(&account, &uploads, Some(&key), plan, parts, random_id)
                    .await
                    .unwrap_or_else(IntoLogged::into_logged)
            }
        };
        match state.idempotency.run(key.clone(), fingerprint, work).await {
            Claim::Answer { response, replayed } => {
                let unread = body.lock().unwrap_or_else(|e| e.into_inner()).is_some();
                if replayed && unread && !response.is_final() {
                    continue;
                }
                return Ok(response.to_response(replayed));
            }
            Claim::Conflict => return Err(ApiError::IdempotencyConflict.into()),
            Claim::Abandoned => break,
        }
    }
    Err(ApiError::Internal {
        message: "the first request with this Idempotency-Key failed without an answer".into(),
        telegram: None,
        upstream: false,
    }
    .into())
}

/// Checks the JSON part before any file is read.
pub(super) fn plan(
    account: &RequestAccount,
    request: &MediaSendRequest,
    max_bytes: u64,
    length_bound: Option<u64>,
) -> Result<Plan, ApiError> {
    let caption = match (&request.text, &request.media.caption) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give the caption as `text` or as `media.caption`, not both",
            ));
        }
        (Some(c), None) | (None, Some(c)) if !c.is_empty() => formatted(c, request.parse_mode)?,
        _ => FormattedText {
            text: String::new(),
            entities: Vec::new(),
        },
    };
    let units = caption.text.encode_utf16().count();
    if units > MAX_CAPTION_UTF16 {
        return Err(ApiError::MessageTooLong {
            message: format!(
                "the caption is {units} UTF-16 code units after parsing; at most {MAX_CAPTION_UTF16}"
            ),
            telegram: None,
        });
    }
    let spec = peer_spec(account, request.peer.as_deref())?;
    if request.reply_to.is_some_and(|id| id <= 0) {
        return Err(ApiError::invalid(
            "`reply_to` must be a positive message id",
        ));
    }
    Ok(Plan {
        spec,
        caption,
        options: SendOptions {
            reply_to: request.reply_to,
            silent: request.silent.unwrap_or(false),
            link_preview: false,
        },
        media: request.media.clone(),
        max_bytes,
        length_bound,
    })
}

/// Streams every file part to Telegram (or reuses a finished upload), then sends.
async fn send(
    account: &Arc<Account>,
    uploads: &FinishedUploads,
    key: Option<&IdempotencyKey>,
    plan: Plan,
    mut parts: Parts,
    random_id: i64,
) -> Result<Response, ApiError> {
    let mut files: Vec<(MediaSpec, UploadedFile)> = Vec::new();
    // File bytes read so far: what remains of Content-Length bounds the next file.
    let mut read_so_far = 0u64;
    while let Some(mut field) = parts.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                "after `json`, only `file` parts may follow",
            ));
        }
        let index = files.len();
        if index == MAX_ALBUM {
            return Err(ApiError::invalid(format!(
                "at most {MAX_ALBUM} files per message (an album)"
            )));
        }
        let content_type = field.content_type().map(|m| m.essence_str().to_owned());
        let spec = media_spec(&plan, index, field.file_name(), content_type.as_deref());
        let file_name = spec.file_name.clone();
        let reused = key.and_then(|key| uploads.get(key, index));
        let file = match reused {
            Some(file) => {
                // Already with Telegram: read past this part without uploading it again.
                while field.chunk().await.map_err(multipart_error)?.is_some() {}
                file
            }
            None => {
                let may_be_big = plan
                    .length_bound
                    .is_none_or(|n| n.saturating_sub(read_so_far) > BIG_FILE_THRESHOLD);
                let mut upload =
                    account
                        .telegram()
                        .start_upload(&file_name, plan.max_bytes, may_be_big);
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    upload.push(&chunk).await.map_err(upload_error)?;
                }
                let file = upload.finish().await.map_err(upload_error)?;
                if let Some(key) = key {
                    uploads.put(key, index, file.clone());
                }
                file
            }
        };
        read_so_far += file.size;
        files.push((spec, file));
    }
    if files.is_empty() {
        return Err(ApiError::invalid(
            "no `file` part: attach at least one file",
        ));
    }
    send_files(account, &plan, &files, random_id).await
}

/// A body that stopped early is not the caller's mistake to replay; anything else about the
/// multipart syntax is.
fn multipart_error(e: multer::Error) -> ApiError {
    use multer::Error as E;
    match e {
        E::StreamReadFailed(_)
        | E::IncompleteStream
        | E::IncompleteFieldData { .. }
        | E::IncompleteHeaders => ApiError::BodyIncomplete(
            "the request body ended before the multipart form did (connection dropped or body \
             timeout); nothing was sent: retry with the same Idempotency-Key"
                .into(),
        ),
        E::FieldSizeExceeded { .. } => ApiError::invalid(format!(
            "the `json` part is larger than {MAX_JSON_PART} bytes"
        )),
        E::UnknownField { field_name } => ApiError::invalid(format!(
            "unknown part `{}`: only `json` then `file` parts",
            field_name.unwrap_or_default()
        )),
        other => ApiError::invalid(format!("invalid multipart body: {other}")),
    }
}
