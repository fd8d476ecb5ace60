//! `POST /v1/outbox` and `POST /v1/outbox/batch`: a send stored as a job (answered 202 once
//! it is durable) and delivered by the account's scheduler. `Idempotency-Key` makes an
//! enqueue idempotent: the job and its idempotency record are stored in one transaction.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};

use super::account::{CurrentAccount, RequestAccount};
use super::json::{ApiJson, json_response};
use super::messages::input::{formatted, idempotency_of};
use super::openapi::ErrorBody;
use super::outbox_types::{
    BatchRequest, EnqueueRequest, JobAnswer, JobView, JobsAnswer, PriorityName,
};
use super::peers::{Logged, peer_spec};
use super::{ApiError, AppState};
use crate::domain::{NewJob, ParseMode, PeerSpec, SendBody};
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
    request_body = EnqueueRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body give the same job instead of a second one")),
    responses(
        (status = 202, description = "Stored; delivered by the scheduler", body = JobAnswer, headers(("Location" = String, description = "The job's URL"))),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "The key may not use this chat or write (KEY_SCOPE)", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 500, description = "The store failed (INTERNAL)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn enqueue(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<EnqueueRequest>, ApiError>,
) -> Result<Response, Logged> {
    let body = body?;
    let req = &body.value;
    let chat = peer_spec(&account, req.peer.as_deref())?;
    let fields = SendFields {
        text: &req.text,
        parse_mode: req.parse_mode,
        reply_to: req.reply_to,
        silent: req.silent,
        link_preview: req.link_preview,
        priority: req.priority,
        send_at: req.send_at,
        deadline: req.deadline,
    };
    let jobs = vec![fields.job(chat)?];
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/outbox",
        &body.canonical,
    )?;
    let outbox = outbox_of(&state, &account)?;
    let key = idempotent.as_ref().map(|(key, fingerprint)| EnqueueKey {
        scope: key.scope(),
        key: key.as_str(),
        fingerprint: fingerprint.as_bytes(),
    });
    let (jobs, replayed) = stored(outbox.enqueue(jobs, key).await)?;
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
    request_body = BatchRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and body give the same jobs instead of new ones")),
    responses(
        (status = 202, description = "Stored, one job per peer in the order given", body = JobsAnswer),
        (status = 400, description = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "The key may not use one of the chats or write (KEY_SCOPE)", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body (IDEMPOTENCY_KEY_REUSED)", body = ErrorBody),
        (status = 500, description = "The store failed (INTERNAL)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn enqueue_batch(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<BatchRequest>, ApiError>,
) -> Result<Response, Logged> {
    let body = body?;
    let req = &body.value;
    if req.peers.is_empty() || req.peers.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!("`peers` must hold 1 to {MAX_BATCH} peers")).into());
    }
    let fields = SendFields {
        text: &req.text,
        parse_mode: req.parse_mode,
        reply_to: req.reply_to,
        silent: req.silent,
        link_preview: req.link_preview,
        priority: req.priority,
        send_at: req.send_at,
        deadline: req.deadline,
    };
    let mut jobs = Vec::with_capacity(req.peers.len());
    for peer in &req.peers {
        jobs.push(fields.job(peer_spec(&account, Some(peer))?)?);
    }
    let idempotent = idempotency_of(
        account.idempotency_scope(),
        &headers,
        Method::POST,
        "/v1/outbox/batch",
        &body.canonical,
    )?;
    let outbox = outbox_of(&state, &account)?;
    let key = idempotent.as_ref().map(|(key, fingerprint)| EnqueueKey {
        scope: key.scope(),
        key: key.as_str(),
        fingerprint: fingerprint.as_bytes(),
    });
    let (jobs, replayed) = stored(outbox.enqueue(jobs, key).await)?;
    let mut response = json_response(StatusCode::ACCEPTED, &JobsAnswer { jobs });
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The send fields both bodies share, validated into a job for one chat.
struct SendFields<'a> {
    text: &'a str,
    parse_mode: Option<ParseMode>,
    reply_to: Option<i32>,
    silent: Option<bool>,
    link_preview: Option<bool>,
    priority: Option<PriorityName>,
    send_at: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
}

impl SendFields<'_> {
    fn job(&self, chat: PeerSpec) -> Result<NewJob, ApiError> {
        // Checked now, so a text Telegram would refuse is refused before it is queued.
        formatted(self.text, self.parse_mode)?;
        if self.reply_to.is_some_and(|id| id <= 0) {
            return Err(ApiError::invalid(
                "`reply_to` must be a positive message id",
            ));
        }
        let send_at = self.send_at.map(|t| t.timestamp_millis());
        let deadline = self.deadline.map(|t| t.timestamp_millis());
        if let (Some(deadline), Some(start)) = (deadline, send_at.or(Some(now_ms())))
            && deadline <= start
        {
            return Err(ApiError::invalid(
                "`deadline` must be later than `send_at` (or than now)",
            ));
        }
        Ok(NewJob {
            chat,
            priority: self.priority.unwrap_or_default().into(),
            send_at,
            deadline,
            body: SendBody {
                text: self.text.to_owned(),
                parse_mode: self.parse_mode.unwrap_or_default(),
                reply_to: self.reply_to,
                silent: self.silent.unwrap_or(false),
                link_preview: self.link_preview.unwrap_or(true),
            },
        })
    }
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
