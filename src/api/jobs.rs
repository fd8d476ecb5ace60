//! `GET /v1/jobs`, `GET|DELETE /v1/jobs/{id}`, `POST /v1/jobs/{id}/retry`: the outbox's jobs
//! of the request's account. A chat-scoped key sees (and touches) only its chats' jobs.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::account::{CurrentAccount, RequestAccount};
use super::json::{ApiPath, ApiQuery, json_response};
use super::openapi::ErrorBody;
use super::outbox::{outbox_of, store_failed};
use super::outbox_types::{JobAnswer, JobPage, JobView, JobsQuery};
use super::peers::{Logged, peer_spec};
use super::{ApiError, AppState};
use crate::domain::{Job, PeerSpec};
use crate::outbox::{Outbox, now_ms};
use crate::store::{JobFilter, Transitioned};

/// Page size when `limit` is not given, and the largest allowed.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{job_id}", get(get_job).delete(cancel_job))
        .route("/v1/jobs/{job_id}/retry", post(retry_job))
}

/// Lists jobs, oldest first.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "outbox",
    params(JobsQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 403, description = "The key may not use this chat (KEY_SCOPE)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_jobs(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    query: Result<ApiQuery<JobsQuery>, ApiError>,
) -> Result<Response, Logged> {
    let ApiQuery(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("`limit` must be between 1 and {MAX_LIMIT}")).into());
    }
    let after = match &query.cursor {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid("`cursor` is not one this API gave"))?,
        ),
    };
    let chat = match &query.peer {
        Some(raw) => Some(peer_spec(&account, Some(raw))?.to_string()),
        None => None,
    };
    let filter = JobFilter {
        state: query.state.map(Into::into),
        chat,
        after,
        limit,
    };
    let outbox = outbox_of(&state, &account)?;
    let jobs = outbox.jobs(&filter).await.map_err(store_failed)?;
    let next_cursor = (jobs.len() == limit as usize)
        .then(|| jobs.last().map(|j| j.seq.to_string()))
        .flatten();
    let now = now_ms();
    let jobs = jobs
        .iter()
        .filter(|job| visible(&account, job))
        .map(|job| JobView::of(job, now))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &JobPage { jobs, next_cursor },
    ))
}

/// One job.
#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}",
    tag = "outbox",
    params(("job_id" = String, Path, description = "The job id (`job_…`)")),
    responses(
        (status = 200, description = "The job", body = JobAnswer),
        (status = 404, description = "No such job (JOB_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_job(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(id) = path?;
    let outbox = outbox_of(&state, &account)?;
    let job = find(&outbox, &account, &id).await?;
    Ok(answer(StatusCode::OK, &job))
}

/// Cancels a job not yet handed to Telegram.
#[utoipa::path(
    delete,
    path = "/v1/jobs/{job_id}",
    tag = "outbox",
    params(("job_id" = String, Path, description = "The job id (`job_…`)")),
    responses(
        (status = 200, description = "Cancelled", body = JobAnswer),
        (status = 404, description = "No such job (JOB_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Already sending, sent or settled (JOB_NOT_CANCELLABLE)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn cancel_job(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(id) = path?;
    let outbox = outbox_of(&state, &account)?;
    find(&outbox, &account, &id).await?;
    match outbox.cancel(&id).await.map_err(store_failed)? {
        Transitioned::Applied { job, .. } => Ok(answer(StatusCode::OK, &job)),
        Transitioned::Refused(current) => Err(ApiError::JobNotCancellable(format!(
            "the job is `{}`: only queued or scheduled jobs can be cancelled",
            current.as_str()
        ))
        .into()),
        Transitioned::NotFound => Err(ApiError::JobNotFound(id).into()),
    }
}

/// Puts a failed or dead job back in the queue.
#[utoipa::path(
    post,
    path = "/v1/jobs/{job_id}/retry",
    tag = "outbox",
    params(("job_id" = String, Path, description = "The job id (`job_…`)")),
    responses(
        (status = 202, description = "Queued again", body = JobAnswer),
        (status = 404, description = "No such job (JOB_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Not failed or dead (JOB_NOT_RETRYABLE)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn retry_job(
    CurrentAccount(account): CurrentAccount,
    State(state): State<AppState>,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Response, Logged> {
    let ApiPath(id) = path?;
    let outbox = outbox_of(&state, &account)?;
    find(&outbox, &account, &id).await?;
    match outbox.retry(&id).await.map_err(store_failed)? {
        Transitioned::Applied { job, .. } => Ok(answer(StatusCode::ACCEPTED, &job)),
        Transitioned::Refused(current) => Err(ApiError::JobNotRetryable(format!(
            "the job is `{}`: only failed or dead jobs can be retried",
            current.as_str()
        ))
        .into()),
        Transitioned::NotFound => Err(ApiError::JobNotFound(id).into()),
    }
}

/// Job `id`, if it exists and the request's key may see its chat.
async fn find(outbox: &Outbox, account: &RequestAccount, id: &str) -> Result<Job, ApiError> {
    outbox
        .job(id)
        .await
        .map_err(store_failed)?
        .filter(|job| visible(account, job))
        .ok_or_else(|| ApiError::JobNotFound(id.to_owned()))
}

/// A chat-scoped key sees only its chats' jobs.
fn visible(account: &RequestAccount, job: &Job) -> bool {
    PeerSpec::parse(&job.chat).is_ok_and(|chat| account.check_chat(&chat).is_ok())
}

fn answer(status: StatusCode, job: &Job) -> Response {
    json_response(
        status,
        &JobAnswer {
            job: JobView::of(job, now_ms()),
        },
    )
}
