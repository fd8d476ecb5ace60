//! `POST /v1/outbox` and `POST /v1/outbox/batch`: a send stored as a job (answered 202 once
//! it is durable) and delivered by the account's scheduler. `Idempotency-Key` makes an
//! enqueue idempotent: the job and its idempotency record are stored in one transaction.
//! Files (multipart `file` parts or `media.url`) are uploaded before the job is stored
//! ([`super::outbox_media`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::post;

use super::account::{CurrentAccount, RequestAccount};
use super::json::{Canonical, json_response};
use super::media::form::Form;
use super::messages::input::idempotency_of;
use super::openapi::ErrorBody;
use super::outbox_fields::{SendFields, send_fields_of};
use super::outbox_media::{Incoming, read_enqueue, upload_job_media};
use super::outbox_types::{
    BatchForm, BatchRequest, EnqueueForm, EnqueueRequest, JobAnswer, JobView, JobsAnswer,
};
use super::peers::{Logged, peer_spec};
use super::{ApiError, AppState};
use crate::domain::PeerSpec;
use crate::idempotency::REPLAYED_HEADER;
use crate::outbox::{MAX_BATCH, Outbox, now_ms};
use crate::store::{EnqueueKey, Enqueued, StoreError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/outbox", post(enqueue))
        .route("/v1/outbox/batch", post(enqueue_batch))
}

/// Queues a message for delivery by the outbox.
#[utoipa::path(
    post,
    path = "/v1/outbox",
    tag = "outbox",
    request_body(
        description = "A send as JSON, or files as `multipart/form-data` (a `json` part with this body and `media`, then one or more `file` parts; several form an album). A JSON body may name its file by `media.url` when MTGATE_MEDIA_URL_SCHEMES allows. Files are uploaded before the answer.",
        content(
            (EnqueueRequest = "application/json"),
            (EnqueueForm = "multipart/form-data"),
        ),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body give the same job instead of a second one (without reading or uploading files again)")),
    responses(
        (status = 202, description = "Stored; delivered by the scheduler", body = JobAnswer, headers(("Location" = String, description = "The job's URL"))),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "The key may not use this chat or write (KEY_SCOPE)", body = ErrorBody),
        (status = 408, description = "A multipart body ended early (BODY_INCOMPLETE); nothing was stored", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 413, description = "A file is over MTGATE_MEDIA_MAX_BYTES (PAYLOAD_TOO_LARGE); nothing was stored", body = ErrorBody),
        (status = 500, description = "The store failed (INTERNAL)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn enqueue(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Logged> {
    let headers = request.headers().clone();
    let Incoming { body, form } = read_enqueue::<EnqueueRequest>(&state, &headers, request).await?;
    let req = &body.value;
    let chats = vec![peer_spec(&account, req.peer.as_deref())?];
    let request = EnqueueInput {
        path: "/v1/outbox",
        canonical: &body.canonical,
        chats,
        fields: send_fields_of!(req),
        form,
    };
    let (jobs, replayed) = store_jobs(&account, &state, &headers, request).await?;
    let job = jobs
        .into_iter()
        .next()
        .ok_or_else(|| internal("the enqueued job is missing"))?;
    let location = job_location(&account, &job.id);
    let mut response = json_response(StatusCode::ACCEPTED, &JobAnswer { job });
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    if replayed {
        headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Queues one message for many chats, all or none.
#[utoipa::path(
    post,
    path = "/v1/outbox/batch",
    tag = "outbox",
    request_body(
        description = "As `POST /v1/outbox`, with `peers`: JSON, or `multipart/form-data` with files uploaded once for every peer.",
        content(
            (BatchRequest = "application/json"),
            (BatchForm = "multipart/form-data"),
        ),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body give the same jobs instead of new ones")),
    responses(
        (status = 202, description = "Stored, one job per peer in the order given", body = JobsAnswer),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "The key may not use one of the chats or write (KEY_SCOPE)", body = ErrorBody),
        (status = 408, description = "A multipart body ended early (BODY_INCOMPLETE); nothing was stored", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 413, description = "A file is over MTGATE_MEDIA_MAX_BYTES (PAYLOAD_TOO_LARGE); nothing was stored", body = ErrorBody),
        (status = 500, description = "The store failed (INTERNAL)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn enqueue_batch(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Logged> {
    let headers = request.headers().clone();
    let Incoming { body, form } = read_enqueue::<BatchRequest>(&state, &headers, request).await?;
    let req = &body.value;
    if req.peers.is_empty() || req.peers.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!("`peers` must hold 1 to {MAX_BATCH} peers")).into());
    }
    let chats = req
        .peers
        .iter()
        .map(|peer| peer_spec(&account, Some(peer)))
        .collect::<Result<Vec<_>, _>>()?;
    let request = EnqueueInput {
        path: "/v1/outbox/batch",
        canonical: &body.canonical,
        chats,
        fields: send_fields_of!(req),
        form,
    };
    let (jobs, replayed) = store_jobs(&account, &state, &headers, request).await?;
    let mut response = json_response(StatusCode::ACCEPTED, &JobsAnswer { jobs });
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// What one enqueue request asks for, validated as far as it can be without reading files.
struct EnqueueInput<'a> {
    /// The route, for the idempotency fingerprint.
    path: &'static str,
    canonical: &'a Canonical,
    chats: Vec<PeerSpec>,
    fields: SendFields<'a>,
    /// A multipart body's `file` parts, still unread.
    form: Option<Form>,
}

/// Checks every job, then (for files, unless the key replays an earlier enqueue) uploads,
/// then stores all jobs in one transaction: the jobs and whether it was a replay.
async fn store_jobs(
    account: &RequestAccount,
    state: &AppState,
    headers: &HeaderMap,
    input: EnqueueInput<'_>,
) -> Result<(Vec<JobView>, bool), ApiError> {
    let mut jobs = input
        .chats
        .into_iter()
        .map(|chat| input.fields.job(chat))
        .collect::<Result<Vec<_>, _>>()?;
    // A multipart enqueue's fingerprint is its `json` part, under a path of its own.
    let path = match &input.form {
        Some(_) => format!("{}#multipart", input.path),
        None => input.path.to_owned(),
    };
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        headers,
        Method::POST,
        &path,
        input.canonical,
    )?;
    let outbox = outbox_of(state, account)?;
    let key = idempotent.as_ref().map(|(key, fingerprint)| EnqueueKey {
        scope: key.scope(),
        key: key.as_str(),
        fingerprint: fingerprint.as_bytes(),
    });
    match (input.fields.media, input.form) {
        (Some(media), form) => {
            if let Some(key) = &key
                && let Some(earlier) = outbox.earlier_enqueue(key).await.map_err(store_failed)?
            {
                return stored(Ok(earlier));
            }
            let files = upload_job_media(account.account(), state, media, form).await?;
            for job in &mut jobs {
                job.body.media = Some(files.clone());
            }
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "a multipart enqueue needs `media` in its `json` part",
            ));
        }
        (None, None) => {}
    }
    stored(outbox.enqueue(jobs, key).await)
}

/// The account's outbox (every account has one).
pub fn outbox_of(state: &AppState, account: &RequestAccount) -> Result<Arc<Outbox>, ApiError> {
    state
        .outboxes
        .get(account.name())
        .cloned()
        .ok_or_else(|| internal("this account has no outbox"))
}

/// The jobs an enqueue answers with, and whether it was a replay.
fn stored(outcome: Result<Enqueued, StoreError>) -> Result<(Vec<JobView>, bool), ApiError> {
    let now = now_ms();
    let views = |jobs: Vec<crate::domain::Job>| jobs.iter().map(|j| JobView::of(j, now)).collect();
    match outcome.map_err(store_failed)? {
        Enqueued::New(jobs) => Ok((views(jobs), false)),
        Enqueued::Replayed(jobs) => Ok((views(jobs), true)),
        Enqueued::Conflict => Err(ApiError::IdempotencyConflict),
    }
}

/// The URL of job `id` (under the account's prefix when it is not `default`).
pub fn job_location(account: &RequestAccount, id: &str) -> String {
    match account.name() {
        crate::accounts::DEFAULT_ACCOUNT => format!("/v1/jobs/{id}"),
        name => format!("/v1/accounts/{name}/jobs/{id}"),
    }
}

/// A store failure, as the caller sees it (500, logged where it is answered).
pub fn store_failed(error: StoreError) -> ApiError {
    internal(&format!("the outbox store failed: {error}"))
}

fn internal(message: &str) -> ApiError {
    ApiError::Internal {
        message: message.to_owned(),
        telegram: None,
        upstream: false,
    }
}
