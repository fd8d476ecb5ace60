//! The outbox's events: `job.sent`, `job.failed` and `job.dead`, logged in the same store
//! transaction as the job's state change, so an app hears of every settled job exactly once
//! in the event log (SSE and webhooks), whatever crashes in between.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::event::{EventType, NewEvent};
use super::job::{Job, JobState};

impl NewEvent {
    /// The event for a job that just settled (`None` for other states). `data` is the job
    /// as the API shows it, without the message text.
    pub fn job_settled(job: &Job) -> Option<Self> {
        let kind = match job.state {
            JobState::Sent => EventType::JobSent,
            JobState::Failed => EventType::JobFailed,
            JobState::Dead => EventType::JobDead,
            _ => return None,
        };
        Some(Self {
            kind,
            // A numeric chat is known by id; `@name` chats are not matched by `chats=` filters.
            chat: job.chat.parse::<i64>().ok(),
            // One event per settling: a job retried and settled again is a new fact.
            dedup: Some(format!("{}:{}:{}", kind.as_str(), job.id, job.updated_at)),
            data: data(job),
        })
    }
}

fn data(job: &Job) -> Value {
    let mut data = json!({
        "id": job.id,
        "state": job.state.as_str(),
        "peer": job.chat,
        "priority": job.priority.as_str(),
        "attempts": job.attempts,
        "created_at": rfc3339(job.created_at),
        "updated_at": rfc3339(job.updated_at),
    });
    if let Some(id) = job.message_id {
        data["message_id"] = json!(id);
    }
    if let Some(error) = &job.error {
        data["error"] =
            json!({"code": error.code, "message": error.message, "telegram": error.telegram});
    }
    data
}

fn rfc3339(unix_ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(unix_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ParseMode;
    use crate::domain::job::{JobError, Priority, SendBody};

    fn job(state: JobState) -> Job {
        Job {
            id: "job_1".into(),
            seq: 1,
            chat: "-1001500000001".into(),
            priority: Priority::Normal,
            state,
            attempts: 1,
            failures: 0,
            created_at: 1_000,
            updated_at: 2_000,
            send_at: None,
            deadline: None,
            next_attempt_at: None,
            message_id: (state == JobState::Sent).then_some(7),
            error: (state == JobState::Failed).then(|| JobError {
                code: "FORBIDDEN".into(),
                message: "no".into(),
                telegram: Some("CHAT_WRITE_FORBIDDEN".into()),
            }),
            body: SendBody {
                text: "secret text".into(),
                parse_mode: ParseMode::Plain,
                reply_to: None,
                silent: false,
                link_preview: true,
                media: None,
            },
            random_id: 1,
        }
    }

    #[test]
    fn settled_jobs_become_events_without_their_text() {
        let sent = NewEvent::job_settled(&job(JobState::Sent)).unwrap();
        assert_eq!(sent.kind, EventType::JobSent);
        assert_eq!(sent.chat, Some(-1001500000001));
        assert_eq!(sent.data["message_id"], 7);
        assert!(!sent.data.to_string().contains("secret text"));
        let failed = NewEvent::job_settled(&job(JobState::Failed)).unwrap();
        assert_eq!(failed.kind, EventType::JobFailed);
        assert_eq!(failed.data["error"]["telegram"], "CHAT_WRITE_FORBIDDEN");
        assert_eq!(
            NewEvent::job_settled(&job(JobState::Dead)).unwrap().kind,
            EventType::JobDead
        );
    }

    #[test]
    fn unsettled_states_are_no_event() {
        for state in [
            JobState::Queued,
            JobState::Scheduled,
            JobState::Sending,
            JobState::Cancelled,
        ] {
            assert!(NewEvent::job_settled(&job(state)).is_none(), "{state:?}");
        }
    }
}
