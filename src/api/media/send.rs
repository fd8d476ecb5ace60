//! `POST /v1/messages` with `multipart/form-data`: the form read by [`super::form`] (the `json`
//! part, then `file` parts streamed to Telegram as they arrive), then one send (an album for
//! several files).
//!
//! With `Idempotency-Key`: the fingerprint is the JSON part (file bytes cannot be known before
//! they are read) and the `random_id` comes from the key, so a send is never made twice. Only
//! a success is replayed ([`Keep::Successes`]): a refusal may be about the files (an empty
//! part, a photo Telegram cannot decode), which the fingerprint never saw, so a retry runs
//! again and uploads anew. After a failure that is not final (flood wait, outage, a body that
//! stopped early) the uploads that finished are remembered ([`super::finished`]), so the retry
//! does not upload them again.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::compose::{FilePlan, caption, send_files};
use super::finished::FinishedUploads;
use super::form::{Parts, open_form, upload_parts};
use super::types::MediaSendRequest;
use crate::accounts::Account;
use crate::api::account::RequestAccount;
use crate::api::json::parse_json;
use crate::api::messages::input::idempotency_of;
use crate::api::peers::{IntoLogged, Logged, peer_spec};
use crate::api::{ApiError, AppState};
use crate::domain::{PeerSpec, SendOptions};
use crate::idempotency::{self, Claim, IdempotencyKey, Keep};
use crate::telegram::text::FormattedText;

/// Everything a media send needs once its JSON part is read.
#[derive(Clone)]
pub(super) struct Plan {
    pub(super) spec: PeerSpec,
    pub(super) caption: FormattedText,
    pub(super) options: SendOptions,
    pub(super) files: FilePlan,
}

pub async fn send_multipart(
    account: RequestAccount,
    state: AppState,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Logged> {
    let max_bytes = state.config.media.max_bytes;
    let form = open_form(&headers, body, max_bytes).await?;
    let length_bound = form.length_bound;
    let parts = form.parts;
    let request = parse_json::<MediaSendRequest>(form.json)?;
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
        let claim = state
            .idempotency
            .run_keeping(key.clone(), fingerprint, Keep::Successes, work)
            .await;
        match claim {
            Claim::Answer { response, replayed } => {
                let unread = body.lock().unwrap_or_else(|e| e.into_inner()).is_some();
                if replayed && unread && !Keep::Successes.keeps(&response) {
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
    let caption = caption(
        request.text.as_deref(),
        request.media.caption.as_deref(),
        request.parse_mode,
    )?
    .1;
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
        files: FilePlan {
            media: request.media.clone(),
            max_bytes,
            length_bound,
        },
    })
}

/// Streams every file part to Telegram (or reuses a finished upload), then sends.
async fn send(
    account: &Arc<Account>,
    uploads: &FinishedUploads,
    key: Option<&IdempotencyKey>,
    plan: Plan,
    parts: Parts,
    random_id: i64,
) -> Result<Response, ApiError> {
    let reuse = key.map(|key| (uploads, key));
    let sent = match upload_parts(account, &plan.files, reuse, parts).await {
        Ok(files) => send_files(account, &plan, &files, random_id).await,
        Err(e) => Err(e),
    };
    if let (Err(e), Some(key)) = (&sent, key)
        && idempotency::is_final_status(e.status())
    {
        // Refused for good, maybe for these very files: a retry with this key uploads anew.
        uploads.forget(key);
    }
    sent
}
