//! The JSON bodies and answers of the outbox and job endpoints (also their OpenAPI schemas).

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::media::MediaRequest;
use crate::domain::{self, Job, JobMedia, JobState, ParseMode};

/// `priority` as callers write it.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriorityName {
    High,
    #[default]
    Normal,
    Low,
}

impl From<PriorityName> for domain::Priority {
    fn from(p: PriorityName) -> Self {
        match p {
            PriorityName::High => Self::High,
            PriorityName::Normal => Self::Normal,
            PriorityName::Low => Self::Low,
        }
    }
}

impl From<domain::Priority> for PriorityName {
    fn from(p: domain::Priority) -> Self {
        match p {
            domain::Priority::High => Self::High,
            domain::Priority::Normal => Self::Normal,
            domain::Priority::Low => Self::Low,
        }
    }
}

/// A job's state as the API names it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStateName {
    Queued,
    Scheduled,
    Sending,
    Sent,
    Failed,
    Dead,
    Cancelled,
}

impl From<JobState> for JobStateName {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Queued => Self::Queued,
            JobState::Scheduled => Self::Scheduled,
            JobState::Sending => Self::Sending,
            JobState::Sent => Self::Sent,
            JobState::Failed => Self::Failed,
            JobState::Dead => Self::Dead,
            JobState::Cancelled => Self::Cancelled,
        }
    }
}

impl From<JobStateName> for JobState {
    fn from(s: JobStateName) -> Self {
        match s {
            JobStateName::Queued => Self::Queued,
            JobStateName::Scheduled => Self::Scheduled,
            JobStateName::Sending => Self::Sending,
            JobStateName::Sent => Self::Sent,
            JobStateName::Failed => Self::Failed,
            JobStateName::Dead => Self::Dead,
            JobStateName::Cancelled => Self::Cancelled,
        }
    }
}

/// `POST /v1/outbox` body: a send's fields plus when and how urgently. As JSON, or as the
/// `json` part of a `multipart/form-data` body whose `file` parts follow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueRequest {
    /// Where to send; the default peer when absent.
    #[schema(example = "@channel_name")]
    pub peer: Option<String>,
    /// 1 to 4096 UTF-16 code units after `parse_mode` is applied (required without `media`);
    /// with `media`, the caption (at most 1024).
    pub text: Option<String>,
    /// Files: the `file` parts of a multipart body, or `media.url` in a JSON one. Uploaded
    /// when the job is enqueued.
    pub media: Option<MediaRequest>,
    #[schema(value_type = Option<crate::api::schemas::ParseMode>)]
    pub parse_mode: Option<ParseMode>,
    /// Id of the message in the same chat this one replies to.
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
    pub reply_to: Option<i32>,
    pub silent: Option<bool>,
    pub link_preview: Option<bool>,
    /// `high`, `normal` (default) or `low`: the order across chats (within a chat, FIFO).
    pub priority: Option<PriorityName>,
    /// RFC 3339: not sent before this.
    pub send_at: Option<DateTime<Utc>>,
    /// RFC 3339: given up (state `dead`, error `DEADLINE_EXCEEDED`) if not sent by then.
    pub deadline: Option<DateTime<Utc>>,
}

/// `POST /v1/outbox/batch` body: one message for many chats, enqueued all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1000 peers; one job each, in this order.
    pub peers: Vec<String>,
    pub text: Option<String>,
    /// Files, uploaded once for every peer.
    pub media: Option<MediaRequest>,
    #[schema(value_type = Option<crate::api::schemas::ParseMode>)]
    pub parse_mode: Option<ParseMode>,
    #[serde(default, deserialize_with = "crate::api::json::whole::option_i32")]
    pub reply_to: Option<i32>,
    pub silent: Option<bool>,
    pub link_preview: Option<bool>,
    pub priority: Option<PriorityName>,
    pub send_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
}

/// `multipart/form-data` body of `POST /v1/outbox`: the `json` part first, then one or more
/// `file` parts (several, at most 10: an album). Files are uploaded before the job is stored.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: the parts are read as a stream, never into this
pub struct EnqueueForm {
    /// The enqueue body as JSON (`EnqueueRequest`, with `media`).
    #[schema(value_type = EnqueueRequest)]
    pub json: String,
    /// The file(s), each with a file name and ideally a `Content-Type`.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<Vec<u8>>,
}

/// `multipart/form-data` body of `POST /v1/outbox/batch`: as [`EnqueueForm`], the files
/// uploaded once for every peer.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only
pub struct BatchForm {
    /// The batch body as JSON (`BatchRequest`, with `media`).
    #[schema(value_type = BatchRequest)]
    pub json: String,
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<Vec<u8>>,
}

/// Why a job failed or died.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobErrorView {
    /// The API error code (`PEER_NOT_FOUND`, `FORBIDDEN`, `DEADLINE_EXCEEDED`, …).
    pub code: String,
    pub message: String,
    /// The raw Telegram error name, when Telegram gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram: Option<String>,
}

/// An outbox job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    #[schema(example = "job_0123456789abcdef01234567")]
    pub id: String,
    pub state: JobStateName,
    /// The chat, in canonical form (`@name`, a Bot-API id, or `me`).
    pub peer: String,
    pub priority: PriorityName,
    /// Times it was handed to Telegram.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// Once `sent` (absent when Telegram had it already from an earlier run and did not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i32>,
    /// With `failed` and `dead`; while `queued` after a failed attempt, the last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JobErrorView>,
    /// When a queued job that was tried before is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The files the job sends (uploaded when it was enqueued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<JobMediaView>,
}

/// A job's files: one, or an album sent as one group.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobMediaView {
    /// `photo`, `document`, `video`, `audio` or `voice`.
    #[schema(example = "photo")]
    pub kind: String,
    /// How many files (more than one: an album).
    pub count: usize,
    /// Bytes of every file together.
    pub size: u64,
    pub spoiler: bool,
    pub force_document: bool,
    pub files: Vec<JobFileView>,
}

/// One file of a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobFileView {
    pub size: u64,
    /// SHA-256 (hex) of the bytes uploaded.
    pub sha256: String,
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

impl From<&JobMedia> for JobMediaView {
    fn from(media: &JobMedia) -> Self {
        Self {
            kind: media.kind.as_str().to_owned(),
            count: media.files.len(),
            size: media.size(),
            spoiler: media.spoiler,
            force_document: media.force_document,
            files: media
                .files
                .iter()
                .map(|f| JobFileView {
                    size: f.size,
                    sha256: f.sha256.clone(),
                    file_name: f.file_name.clone(),
                    mime_type: f.mime_type.clone(),
                })
                .collect(),
        }
    }
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

impl JobView {
    pub fn of(job: &Job, now_ms: i64) -> Self {
        Self {
            id: job.id.clone(),
            state: job.visible_state(now_ms).into(),
            peer: job.chat.clone(),
            priority: job.priority.into(),
            attempts: job.attempts,
            created_at: time(job.created_at),
            send_at: job.send_at.map(time),
            deadline: job.deadline.map(time),
            message_id: job.message_id,
            error: job.error.as_ref().map(|e| JobErrorView {
                code: e.code.clone(),
                message: e.message.clone(),
                telegram: e.telegram.clone(),
            }),
            next_attempt_at: job.next_attempt_at.map(time),
            updated_at: time(job.updated_at),
            media: job.body.media.as_ref().map(JobMediaView::from),
        }
    }
}

/// `POST /v1/outbox` answer (also `DELETE /v1/jobs/{id}`, `GET /v1/jobs/{id}` and retry).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAnswer {
    pub job: JobView,
}

/// `POST /v1/outbox/batch` answer: the jobs in the order of `peers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsAnswer {
    pub jobs: Vec<JobView>,
}

/// `GET /v1/jobs` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state.
    pub state: Option<JobStateName>,
    /// Only jobs for this chat (any peer form).
    pub peer: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A page of jobs, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}
