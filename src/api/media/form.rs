//! Reading a `multipart/form-data` media body: the `json` part first, then `file` parts, each
//! streamed to Telegram part by part as its bytes arrive (never held whole), under a size
//! limit checked while streaming. Shared by sends (`POST /v1/messages`) and the outbox.
//!
//! Many clients cannot choose the order of a form's parts (neither can OpenAPI state it), so
//! `file` parts before `json` are accepted too while they are small: they are held in memory
//! (at most [`MAX_EARLY_FILE_BYTES`] together) until the body is known.

use axum::body::Body;
use axum::http::{HeaderMap, header};

use super::compose::{FilePlan, media_spec, too_large, upload_error};
use super::finished::FinishedUploads;
use crate::accounts::Account;
use crate::api::ApiError;
use crate::domain::MediaSpec;
use crate::idempotency::IdempotencyKey;
use crate::telegram::ops::{BIG_FILE_THRESHOLD, MAX_ALBUM, UploadedFile};

/// Largest `json` part.
const MAX_JSON_PART: u64 = 64 * 1024;

/// Bytes of `file` parts a form may carry before its `json` part, together.
pub const MAX_EARLY_FILE_BYTES: u64 = 1024 * 1024;

/// The `file` parts of a form: those read before `json` (held), then the rest of the stream.
pub struct Parts {
    early: std::collections::VecDeque<EarlyFile>,
    rest: multer::Multipart<'static>,
}

/// A `file` part that came before the `json` part.
struct EarlyFile {
    file_name: Option<String>,
    content_type: Option<String>,
    bytes: axum::body::Bytes,
}

/// A multipart body whose `json` part was read; its `file` parts are still to come.
pub struct Form {
    pub json: Vec<u8>,
    pub parts: Parts,
    /// The request's Content-Length: an upper bound on every file in it.
    pub length_bound: Option<u64>,
}

/// Whether a request carries `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Checks the form's boundary and declared length, then reads its `json` part.
pub async fn open_form(headers: &HeaderMap, body: Body, max_bytes: u64) -> Result<Form, ApiError> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
        .ok_or_else(|| ApiError::invalid("multipart/form-data needs a `boundary` parameter"))?;
    let length_bound = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length_bound.is_some_and(|n| n > max_bytes.saturating_mul(MAX_ALBUM as u64) + MAX_JSON_PART)
    {
        return Err(too_large(max_bytes));
    }
    let constraints = multer::Constraints::new()
        .allowed_fields(vec!["json", "file"])
        .size_limit(multer::SizeLimit::new().for_field("json", MAX_JSON_PART));
    let mut rest =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut early = std::collections::VecDeque::new();
    let mut early_bytes = 0u64;
    let json = loop {
        let Some(mut field) = rest.next_field().await.map_err(multipart_error)? else {
            return Err(ApiError::invalid("no `json` part (the send body)"));
        };
        if field.name() == Some("json") {
            break field.bytes().await.map_err(multipart_error)?;
        }
        if early.len() == MAX_ALBUM {
            return Err(ApiError::invalid(format!(
                "at most {MAX_ALBUM} files per message (an album)"
            )));
        }
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.essence_str().to_owned());
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            early_bytes += chunk.len() as u64;
            if early_bytes > MAX_EARLY_FILE_BYTES {
                return Err(ApiError::invalid(format!(
                    "put the `json` part first: `file` parts before it may carry at most \
                     {MAX_EARLY_FILE_BYTES} bytes together"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        early.push_back(EarlyFile {
            file_name,
            content_type,
            bytes: bytes.into(),
        });
    };
    let parts = Parts { early, rest };
    Ok(Form {
        json: json.to_vec(),
        parts,
        length_bound,
    })
}

/// A finished upload of file `index` under the request's key, if a retry left one.
fn reused(
    reuse: Option<(&FinishedUploads, &IdempotencyKey)>,
    index: usize,
) -> Option<UploadedFile> {
    reuse.and_then(|(uploads, key)| uploads.get(key, index))
}

/// Remembers file `index`'s finished upload under the request's key, for a retry to reuse.
fn keep(reuse: Option<(&FinishedUploads, &IdempotencyKey)>, index: usize, file: &UploadedFile) {
    if let Some((uploads, key)) = reuse {
        uploads.put(key, index, file.clone());
    }
}

/// Streams every `file` part to Telegram (or, with `reuse`, takes a finished upload of the
/// same request's key instead, reading past its bytes); at least one file, at most an album.
pub async fn upload_parts(
    account: &Account,
    plan: &FilePlan,
    reuse: Option<(&FinishedUploads, &IdempotencyKey)>,
    mut parts: Parts,
) -> Result<Vec<(MediaSpec, UploadedFile)>, ApiError> {
    let mut files: Vec<(MediaSpec, UploadedFile)> = Vec::new();
    // File bytes read so far: what remains of Content-Length bounds the next file.
    let mut read_so_far = 0u64;
    while let Some(early) = parts.early.pop_front() {
        let index = files.len();
        let spec = media_spec(
            plan,
            index,
            early.file_name.as_deref(),
            early.content_type.as_deref(),
        );
        let file = match reused(reuse, index) {
            Some(file) => file,
            None => {
                let mut upload =
                    account
                        .telegram()
                        .start_upload(&spec.file_name, plan.max_bytes, false);
                upload.push(&early.bytes).await.map_err(upload_error)?;
                let file = upload.finish().await.map_err(upload_error)?;
                keep(reuse, index, &file);
                file
            }
        };
        read_so_far += file.size;
        files.push((spec, file));
    }
    while let Some(mut field) = parts.rest.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                "only one `json` part; the others are `file` parts",
            ));
        }
        let index = files.len();
        if index == MAX_ALBUM {
            return Err(ApiError::invalid(format!(
                "at most {MAX_ALBUM} files per message (an album)"
            )));
        }
        let content_type = field.content_type().map(|m| m.essence_str().to_owned());
        let spec = media_spec(plan, index, field.file_name(), content_type.as_deref());
        let file = match reused(reuse, index) {
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
                        .start_upload(&spec.file_name, plan.max_bytes, may_be_big);
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    upload.push(&chunk).await.map_err(upload_error)?;
                }
                let file = upload.finish().await.map_err(upload_error)?;
                keep(reuse, index, &file);
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
    Ok(files)
}

/// A body that stopped early (the connection dropped, or it outlived its timeout) is not the
/// caller's mistake to replay; anything else about the multipart syntax is, including a body
/// that arrived whole but ends before the form's closing boundary.
fn multipart_error(e: multer::Error) -> ApiError {
    use multer::Error as E;
    match e {
        E::StreamReadFailed(_) => ApiError::BodyIncomplete(
            "the request body ended before the multipart form did (connection dropped or body \
             timeout); nothing was sent: retry with the same Idempotency-Key"
                .into(),
        ),
        E::IncompleteStream | E::IncompleteFieldData { .. } | E::IncompleteHeaders => {
            ApiError::invalid(
                "the multipart body ends before the form does (no closing boundary): it is \
                 malformed",
            )
        }
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
