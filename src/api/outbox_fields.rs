//! The fields every enqueue body shares (`POST /v1/outbox` and its batch form), checked
//! before anything is stored or uploaded and made into one job per chat.

use chrono::{DateTime, Utc};

use super::ApiError;
use super::media::MediaRequest;
use super::media::compose::caption;
use super::messages::input::formatted;
use super::outbox_types::PriorityName;
use crate::domain::{NewJob, ParseMode, PeerSpec, SendBody};

/// The send fields both bodies share, validated into a job for one chat.
pub struct SendFields<'a> {
    pub text: Option<&'a str>,
    pub media: Option<&'a MediaRequest>,
    pub parse_mode: Option<ParseMode>,
    pub reply_to: Option<i32>,
    pub silent: Option<bool>,
    pub link_preview: Option<bool>,
    pub priority: Option<PriorityName>,
    pub send_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
}

/// The [`SendFields`] of an `EnqueueRequest` or a `BatchRequest` (same field names).
macro_rules! send_fields_of {
    ($req:expr) => {
        $crate::api::outbox_fields::SendFields {
            text: $req.text.as_deref(),
            media: $req.media.as_ref(),
            parse_mode: $req.parse_mode,
            reply_to: $req.reply_to,
            silent: $req.silent,
            link_preview: $req.link_preview,
            priority: $req.priority,
            send_at: $req.send_at,
            deadline: $req.deadline,
        }
    };
}
pub(crate) use send_fields_of;

impl SendFields<'_> {
    pub fn job(&self, chat: PeerSpec) -> Result<NewJob, ApiError> {
        // Checked now, so a text Telegram would refuse is refused before it is queued.
        let text = match self.media {
            Some(media) => caption(self.text, media.caption.as_deref(), self.parse_mode)?.0,
            None => {
                let text = self.text.unwrap_or_default();
                formatted(text, self.parse_mode)?;
                text
            }
        };
        if self.reply_to.is_some_and(|id| id <= 0) {
            return Err(ApiError::invalid(
                "`reply_to` must be a positive message id",
            ));
        }
        // A deadline already passed (or not after `send_at`) is not refused: no schema can
        // state it, and the job means what it says — it goes `dead` with
        // `DEADLINE_EXCEEDED` as soon as the scheduler reaches it, never sent.
        let send_at = self.send_at.map(|t| t.timestamp_millis());
        let deadline = self.deadline.map(|t| t.timestamp_millis());
        Ok(NewJob {
            chat,
            priority: self.priority.unwrap_or_default().into(),
            send_at,
            deadline,
            body: SendBody {
                text: text.to_owned(),
                parse_mode: self.parse_mode.unwrap_or_default(),
                reply_to: self.reply_to,
                silent: self.silent.unwrap_or(false),
                link_preview: self.link_preview.unwrap_or(true),
                media: None,
            },
        })
    }
}
