//! Outbox jobs: a send accepted now and delivered later by the account's scheduler. Plain
//! data and the rules on it (which state may become which); the store keeps them, the
//! scheduler moves them.

use sha2::{Digest, Sha256};

use super::job_media::JobMedia;
use super::parse_mode::ParseMode;
use super::peer::PeerSpec;

/// Where a job is in its life. `queued`, `scheduled` and `sending` are pending; the others
/// are final, except that `failed` and `dead` may be requeued by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    /// Waiting for its `send_at`.
    Scheduled,
    /// Handed to Telegram; after a crash it is sent again with the same `random_id`.
    Sending,
    Sent,
    /// Telegram refused it for good (peer invalid, write forbidden, too long…).
    Failed,
    /// Given up: the retry budget or the deadline ran out (the dead-letter queue).
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Scheduled,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Dead,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Still to be delivered.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Scheduled | Self::Sending)
    }

    /// `DELETE /v1/jobs/{id}` may cancel it (nothing was handed to Telegram yet).
    pub fn is_cancellable(self) -> bool {
        matches!(self, Self::Queued | Self::Scheduled)
    }

    /// `POST /v1/jobs/{id}/retry` may requeue it.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Failed | Self::Dead)
    }
}

/// Higher priority goes first across chats; within a chat, order is FIFO whatever it says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Self; 3] = [Self::High, Self::Normal, Self::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// 0 (high) to 2 (low): the stored form, which sorts the way it should.
    pub fn rank(self) -> i64 {
        match self {
            Self::High => 0,
            Self::Normal => 1,
            Self::Low => 2,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.rank() == rank)
    }
}

/// What to send: the fields of a `POST /v1/messages` body besides the peer. With `media`,
/// `text` is the caption (possibly empty).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SendBody {
    pub text: String,
    pub parse_mode: ParseMode,
    pub reply_to: Option<i32>,
    pub silent: bool,
    pub link_preview: bool,
    /// Absent in rows stored before jobs carried files (and in text jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<JobMedia>,
}

/// Why a job failed or died, as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobError {
    /// The API's error code (`PEER_NOT_FOUND`, `FORBIDDEN`, `DEADLINE_EXCEEDED`…).
    pub code: String,
    pub message: String,
    /// The raw Telegram error name, when Telegram gave one.
    pub telegram: Option<String>,
}

/// A job to store. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub chat: PeerSpec,
    pub priority: Priority,
    pub send_at: Option<i64>,
    pub deadline: Option<i64>,
    pub body: SendBody,
}

/// A stored job. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    /// Per account, increasing in enqueue order: the FIFO order within a chat and the
    /// listing cursor.
    pub seq: i64,
    /// The chat in its canonical written form (`@name`, `-100…`, `me`).
    pub chat: String,
    pub priority: Priority,
    pub state: JobState,
    /// Times handed to Telegram.
    pub attempts: u32,
    /// Transient failures so far (the retry budget counts these; flood waits do not count).
    pub failures: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub send_at: Option<i64>,
    pub deadline: Option<i64>,
    pub next_attempt_at: Option<i64>,
    pub message_id: Option<i32>,
    pub error: Option<JobError>,
    pub body: SendBody,
    pub random_id: i64,
}

impl Job {
    /// When the job may go first: its `send_at`, else its creation. Within a chat, jobs go
    /// in (due, seq) order, so a job scheduled for tomorrow does not hold back today's.
    pub fn due(&self) -> i64 {
        self.send_at.unwrap_or(self.created_at)
    }

    /// The state a caller sees at `now`: a scheduled job whose time has come is queued.
    pub fn visible_state(&self, now: i64) -> JobState {
        match self.state {
            JobState::Scheduled if self.send_at.is_none_or(|at| at <= now) => JobState::Queued,
            state => state,
        }
    }
}

/// A state change, as the store applies it (each says which states it may start from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Handed to Telegram (attempts + 1).
    Sending,
    Sent {
        message_id: Option<i32>,
    },
    /// Back to the queue until `at`: after a flood wait (`transient: false`, not counted) or
    /// a transient failure (counted against the budget).
    Retry {
        at: i64,
        error: JobError,
        transient: bool,
    },
    Failed(JobError),
    Dead(JobError),
    /// By the caller, before it was handed to Telegram.
    Cancelled,
    /// A failed or dead job put back in the queue by the caller.
    Requeued,
    /// In flight at shutdown and not finished: back to the queue, to be sent again (same
    /// `random_id`) at the next start.
    Returned,
}

impl Transition {
    /// The states this change may start from.
    pub fn from_states(&self) -> &'static [JobState] {
        use JobState::*;
        match self {
            Self::Sending => &[Queued, Scheduled, Sending],
            Self::Sent { .. } | Self::Retry { .. } | Self::Returned => &[Sending],
            Self::Failed(_) | Self::Dead(_) => &[Queued, Scheduled, Sending],
            Self::Cancelled => &[Queued, Scheduled],
            Self::Requeued => &[Failed, Dead],
        }
    }

    /// The state it ends in.
    pub fn to_state(&self) -> JobState {
        match self {
            Self::Sending => JobState::Sending,
            Self::Sent { .. } => JobState::Sent,
            Self::Retry { .. } | Self::Requeued | Self::Returned => JobState::Queued,
            Self::Failed(_) => JobState::Failed,
            Self::Dead(_) => JobState::Dead,
            Self::Cancelled => JobState::Cancelled,
        }
    }
}

/// A state change that happened, for whoever listens (logs, metrics, later the events log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobTransition {
    pub account: String,
    pub job: Job,
    pub from: JobState,
}

/// The Telegram `random_id` of a job: derived from the account and the job id, so every
/// attempt — before or after a crash — carries the same one and Telegram posts it once.
pub fn job_random_id(account: &str, job_id: &str) -> i64 {
    let mut hash = Sha256::new();
    hash.update(b"mtgate outbox random_id v1\0");
    for part in [account, job_id] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    match i64::from_le_bytes(first) {
        0 => 1,
        id => id,
    }
}

/// A fresh job id: `job_` and 24 hex digits (96 random bits).
pub fn new_job_id() -> String {
    format!("job_{:024x}", rand::random::<u128>() >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_priorities_round_trip_through_their_names() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(priority));
            assert_eq!(Priority::from_rank(priority.rank()), Some(priority));
        }
        assert_eq!(JobState::parse("SENT"), None);
        assert!(Priority::High < Priority::Low);
    }

    #[test]
    fn only_unsent_jobs_cancel_and_only_failed_or_dead_ones_requeue() {
        use JobState::*;
        let cancellable: Vec<_> = JobState::ALL
            .into_iter()
            .filter(|s| s.is_cancellable())
            .collect();
        assert_eq!(cancellable, [Queued, Scheduled]);
        assert!(Transition::Cancelled.from_states() == [Queued, Scheduled]);
        assert!(!Transition::Requeued.from_states().contains(&Sent));
        assert_eq!(Transition::Requeued.to_state(), Queued);
    }

    #[test]
    fn the_random_id_depends_on_account_and_job_only_and_is_never_zero() {
        let a = job_random_id("default", "job_1");
        assert_eq!(a, job_random_id("default", "job_1"));
        assert_ne!(a, job_random_id("other", "job_1"));
        assert_ne!(a, job_random_id("default", "job_2"));
        assert_ne!(a, 0);
        // Length-prefixed parts: moving a character between them changes the id.
        assert_ne!(job_random_id("ab", "c"), job_random_id("a", "bc"));
    }

    #[test]
    fn a_body_stored_before_jobs_carried_files_still_reads_and_text_bodies_stay_as_they_were() {
        let old = r#"{"text":"hi","parse_mode":"plain","reply_to":null,"silent":false,"link_preview":true}"#;
        let body: SendBody = serde_json::from_str(old).unwrap();
        assert_eq!(body.media, None);
        assert_eq!(body.text, "hi");
        let written = serde_json::to_string(&body).unwrap();
        assert!(!written.contains("media"), "{written}");
    }

    #[test]
    fn a_scheduled_job_shows_as_queued_once_its_time_has_come() {
        let job = Job {
            id: new_job_id(),
            seq: 1,
            chat: "@a".into(),
            priority: Priority::Normal,
            state: JobState::Scheduled,
            attempts: 0,
            failures: 0,
            created_at: 1_000,
            updated_at: 1_000,
            send_at: Some(5_000),
            deadline: None,
            next_attempt_at: None,
            message_id: None,
            error: None,
            body: SendBody {
                text: "x".into(),
                parse_mode: ParseMode::Plain,
                reply_to: None,
                silent: false,
                link_preview: true,
                media: None,
            },
            random_id: 1,
        };
        assert_eq!(job.visible_state(4_999), JobState::Scheduled);
        assert_eq!(job.visible_state(5_000), JobState::Queued);
        assert_eq!(job.due(), 5_000);
        assert_eq!(job.id.len(), 4 + 24);
    }
}
