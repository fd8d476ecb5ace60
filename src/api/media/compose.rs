//! What multipart and URL sends share once their files are uploaded: how each file is
//! presented, the send itself, and the upload errors as HTTP errors.

use axum::http::StatusCode;
use axum::response::Response;

use super::send::Plan;
use super::types::MediaRequest;
use crate::accounts::Account;
use crate::api::ApiError;
use crate::api::json::json_response;
use crate::api::messages::input::formatted;
use crate::api::schemas::SentMedia;
use crate::domain::{MediaSpec, ParseMode};
use crate::telegram::ops::{UploadError, UploadedFile, guess_mime};
use crate::telegram::text::FormattedText;

/// Telegram's caption limit (UTF-16 code units).
pub const MAX_CAPTION_UTF16: usize = 1024;

/// How the files of one request are to be uploaded and shown.
#[derive(Clone, Debug)]
pub struct FilePlan {
    pub media: MediaRequest,
    pub max_bytes: u64,
    /// The request's Content-Length: an upper bound on every file in it.
    pub length_bound: Option<u64>,
}

/// The caption, given as the body's `text` or as `media.caption` (not both): as written
/// (empty when none) and parsed, checked against Telegram's caption limit. A caption that is
/// given must not be blank, as the document states for both fields (leave it out for none).
pub fn caption<'a>(
    text: Option<&'a str>,
    media_caption: Option<&'a str>,
    mode: Option<ParseMode>,
) -> Result<(&'a str, FormattedText), ApiError> {
    let raw = match (text, media_caption) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give the caption as `text` or as `media.caption`, not both",
            ));
        }
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => {
            let none = FormattedText {
                text: String::new(),
                entities: Vec::new(),
            };
            return Ok(("", none));
        }
    };
    if raw.trim().is_empty() {
        return Err(ApiError::invalid(
            "the caption (`text` or `media.caption`) is empty; leave it out for none",
        ));
    }
    let parsed = formatted(raw, mode)?;
    let units = parsed.text.encode_utf16().count();
    if units > MAX_CAPTION_UTF16 {
        return Err(ApiError::MessageTooLong {
            message: format!(
                "the caption is {units} UTF-16 code units after parsing; at most {MAX_CAPTION_UTF16}"
            ),
            telegram: None,
        });
    }
    Ok((raw, parsed))
}

/// Sends uploaded files as `plan` says; the 201 answer.
pub(super) async fn send_files(
    account: &Account,
    plan: &Plan,
    files: &[(MediaSpec, UploadedFile)],
    random_id: i64,
) -> Result<Response, ApiError> {
    let views = account
        .telegram()
        .send_media(&plan.spec, &plan.caption, plan.options, files, random_id)
        .await?;
    Ok(json_response(StatusCode::CREATED, &SentMedia::from(views)))
}

/// How file `index` of a send is presented: `plan`'s choices, else what the file itself says.
pub(super) fn media_spec(
    plan: &FilePlan,
    index: usize,
    given_name: Option<&str>,
    given_type: Option<&str>,
) -> MediaSpec {
    let file_name = plan
        .media
        .file_name
        .clone()
        .filter(|_| index == 0)
        .or_else(|| given_name.map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("file{}", index + 1));
    let mime_type = plan
        .media
        .mime_type
        .clone()
        .or_else(|| {
            given_type
                .filter(|m| *m != "application/octet-stream")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| guess_mime(&file_name));
    MediaSpec {
        kind: plan.media.kind,
        file_name,
        mime_type: Some(mime_type),
        spoiler: plan.media.spoiler.unwrap_or(false),
        force_document: plan.media.force_document.unwrap_or(false),
    }
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "a file is larger than {limit} bytes (MTGATE_MEDIA_MAX_BYTES); nothing was sent"
    ))
}

pub fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge { limit } => too_large(limit),
        UploadError::Empty => ApiError::invalid("a `file` part is empty"),
        UploadError::Telegram(e) => e.into(),
    }
}
