//! A JSON send naming its file by `media.url`: mtgate fetches it (schemes as
//! `MTGATE_MEDIA_URL_SCHEMES` allows, off by default; redirects not followed; HTTPS trusting
//! the roots of [`crate::outgoing`]) and streams the
//! response body to Telegram as it arrives, under `MTGATE_MEDIA_MAX_BYTES`, then sends it like
//! an uploaded file. With `Idempotency-Key`, the fingerprint is the JSON body and a finished
//! upload is reused by a retry, as for multipart sends.

use std::sync::Arc;

use axum::http::{HeaderMap, Method, header};
use axum::response::Response;

use super::compose::{FilePlan, media_spec, send_files, too_large, upload_error};
use super::finished::FinishedUploads;
use super::send::{Plan, plan};
use super::types::MediaSendRequest;
use crate::accounts::Account;
use crate::api::account::RequestAccount;
use crate::api::json::ApiJson;
use crate::api::messages::input::idempotency_of;
use crate::api::peers::Logged;
use crate::api::{ApiError, AppState};
use crate::domain::MediaSpec;
use crate::idempotency::{self, IdempotencyKey};
use crate::telegram::ops::{BIG_FILE_THRESHOLD, UploadedFile};

pub async fn send_from_url(
    account: RequestAccount,
    state: AppState,
    headers: HeaderMap,
    body: ApiJson<MediaSendRequest>,
) -> Result<Response, Logged> {
    let url = checked_url(
        body.value.media.url.as_deref(),
        &state.config.media.url_schemes,
    )?;
    let plan = plan(&account, &body.value, state.config.media.max_bytes, None)?;
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/messages#url",
        &body.canonical,
    )?;
    let random_id = match &idempotent {
        Some((key, fingerprint)) => idempotency::random_id(key, fingerprint),
        None => crate::api::messages::fresh_random_id(),
    };
    let key = idempotent.as_ref().map(|(key, _)| key.clone());
    let uploads = state.uploads.clone();
    let client = state.outgoing.media().clone();
    crate::api::messages::run(
        account.account(),
        &state.idempotency,
        idempotent,
        move |account| async move {
            let fetch = Fetch {
                client: &client,
                url,
            };
            send(&account, &uploads, key.as_ref(), &plan, fetch, random_id).await
        },
    )
    .await
}

/// The URL, if it parses and its scheme is allowed.
pub fn checked_url(raw: Option<&str>, schemes: &[String]) -> Result<reqwest::Url, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::invalid(
            "a JSON send with `media` needs `media.url` (or send multipart/form-data)",
        )
    })?;
    if schemes.is_empty() {
        return Err(ApiError::MediaUrlDisabled(
            "`media.url` is off here (MTGATE_MEDIA_URL_SCHEMES); send the file as multipart/form-data".into(),
        ));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| ApiError::invalid(format!("`media.url` is not a URL: {e}")))?;
    if !schemes.iter().any(|s| s == url.scheme()) {
        return Err(ApiError::MediaUrlDisabled(format!(
            "`media.url` scheme `{}` is not allowed here (allowed: {})",
            url.scheme(),
            schemes.join(", ")
        )));
    }
    Ok(url)
}

/// What to fetch, and with which client.
struct Fetch<'a> {
    client: &'a reqwest::Client,
    url: reqwest::Url,
}

async fn send(
    account: &Arc<Account>,
    uploads: &FinishedUploads,
    key: Option<&IdempotencyKey>,
    plan: &Plan,
    fetch: Fetch<'_>,
    random_id: i64,
) -> Result<Response, ApiError> {
    if let Some(file) = key.and_then(|key| uploads.get(key, 0)) {
        let spec = media_spec(&plan.files, 0, file_name(&fetch.url).as_deref(), None);
        return send_files(account, plan, &[(spec, file)], random_id).await;
    }
    let (spec, file) = fetch_upload(account, &plan.files, fetch.client, fetch.url).await?;
    if let Some(key) = key {
        uploads.put(key, 0, file.clone());
    }
    send_files(account, plan, &[(spec, file)], random_id).await
}

/// The URL's last path segment, the file name it suggests.
fn file_name(url: &reqwest::Url) -> Option<String> {
    url.path_segments()
        .and_then(|mut s| s.next_back().map(str::to_owned))
        .filter(|s| !s.is_empty())
}

/// Fetches `url` with `client` (the media client of [`crate::outgoing::Outgoing`]) and
/// streams its body to Telegram as it arrives (size-capped by `plan`).
pub async fn fetch_upload(
    account: &Account,
    plan: &FilePlan,
    client: &reqwest::Client,
    url: reqwest::Url,
) -> Result<(MediaSpec, UploadedFile), ApiError> {
    let name = file_name(&url);
    let mut response = client.get(url).send().await.map_err(|e| {
        let why = crate::outgoing::describe(&e);
        ApiError::MediaUrlFailed(format!("could not fetch `media.url`: {why}"))
    })?;
    if !response.status().is_success() {
        return Err(ApiError::MediaUrlFailed(format!(
            "`media.url` answered {} (redirects are not followed)",
            response.status()
        )));
    }
    let length = response.content_length();
    if length.is_some_and(|n| n > plan.max_bytes) {
        return Err(too_large(plan.max_bytes));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_owned());
    let spec = media_spec(plan, 0, name.as_deref(), content_type.as_deref());
    let may_be_big = length.is_none_or(|n| n > BIG_FILE_THRESHOLD);
    let mut upload = account
        .telegram()
        .start_upload(&spec.file_name, plan.max_bytes, may_be_big);
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        let why = crate::outgoing::describe(&e);
        ApiError::MediaUrlFailed(format!("`media.url` stopped half-way: {why}"))
    })? {
        upload.push(&chunk).await.map_err(upload_error)?;
    }
    let file = upload.finish().await.map_err(upload_error)?;
    Ok((spec, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_an_allowed_scheme() {
        let http = vec!["http".to_string()];
        let both = vec!["http".to_string(), "https".to_string()];
        assert!(checked_url(Some("http://127.0.0.1:9/a.png"), &http).is_ok());
        assert!(checked_url(Some("https://files.example/a.png"), &both).is_ok());
        for (raw, schemes, code) in [
            (
                Some("https://example.com/a"),
                http.clone(),
                "MEDIA_URL_DISABLED",
            ),
            (
                Some("file:///etc/passwd"),
                both.clone(),
                "MEDIA_URL_DISABLED",
            ),
            (Some("not a url"), http.clone(), "INVALID_REQUEST"),
            (None, http.clone(), "INVALID_REQUEST"),
            (Some("http://127.0.0.1/a"), Vec::new(), "MEDIA_URL_DISABLED"),
        ] {
            let e = checked_url(raw, &schemes).unwrap_err();
            assert_eq!(e.code(), code, "{raw:?}");
        }
    }
}
