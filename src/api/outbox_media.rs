//! Files in the outbox: an enqueue body as JSON or as a multipart form (its `json` part, then
//! `file` parts), and the files uploaded at enqueue time — streamed to Telegram as they arrive
//! (or fetched from `media.url`), then registered once for every chat of the request. The
//! jobs keep only Telegram's references, so a broadcast uploads each file once and a job
//! survives restarts.

use axum::extract::Request;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use super::json::{ApiJson, MAX_BODY_BYTES, check_content_type, parse_json, read_body};
use super::media::MediaRequest;
use super::media::compose::FilePlan;
use super::media::form::{Form, is_multipart, open_form, upload_parts};
use super::media::url::{checked_url, fetch_upload};
use super::{ApiError, AppState};
use crate::accounts::Account;
use crate::domain::{JobFile, JobMedia};

/// An enqueue body, and the unread `file` parts when it came as a multipart form.
pub struct Incoming<T> {
    pub body: ApiJson<T>,
    pub form: Option<Form>,
}

/// Reads an enqueue body: JSON, or a multipart form's `json` part (its files stay unread).
pub async fn read_enqueue<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    request: Request,
) -> Result<Incoming<T>, ApiError> {
    if is_multipart(headers) {
        let mut form =
            open_form(headers, request.into_body(), state.config.media.max_bytes).await?;
        let body = parse_json::<T>(std::mem::take(&mut form.json))?;
        return Ok(Incoming {
            body,
            form: Some(form),
        });
    }
    check_content_type(headers)?;
    let bytes = read_body(request.into_body(), MAX_BODY_BYTES).await?;
    Ok(Incoming {
        body: parse_json(bytes)?,
        form: None,
    })
}

/// Uploads a job's files — the form's `file` parts, or `media.url` for a JSON body — and
/// registers them with Telegram, once, whatever number of chats they go to.
pub async fn upload_job_media(
    account: &Account,
    state: &AppState,
    media: &MediaRequest,
    form: Option<Form>,
) -> Result<JobMedia, ApiError> {
    let plan = FilePlan {
        media: media.clone(),
        max_bytes: state.config.media.max_bytes,
        length_bound: form.as_ref().and_then(|f| f.length_bound),
    };
    let files = match form {
        Some(_) if media.url.is_some() => {
            return Err(ApiError::invalid(
                "`media.url` is for JSON bodies; a multipart body carries its files as `file` parts",
            ));
        }
        Some(form) => upload_parts(account, &plan, None, form.parts).await?,
        None => {
            let url = checked_url(media.url.as_deref(), &state.config.media.url_schemes)?;
            vec![fetch_upload(account, &plan, state.outgoing.media(), url).await?]
        }
    };
    let references = account.telegram().register_media(&files).await?;
    Ok(JobMedia {
        kind: media.kind,
        spoiler: media.spoiler.unwrap_or(false),
        force_document: media.force_document.unwrap_or(false),
        files: files
            .into_iter()
            .zip(references)
            .map(|((spec, file), reference)| JobFile {
                size: file.size,
                sha256: file.sha256,
                file_name: spec.file_name,
                mime_type: spec.mime_type,
                reference,
            })
            .collect(),
    })
}
