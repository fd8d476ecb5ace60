//! One attempt at one job, run in its own task: mark it `sending`, send it with its own
//! `random_id`, and settle it — sent, back to the queue (flood wait, transient failure) or
//! given up. The scheduler hears back through [`Done`].

use std::time::Duration;

use super::Shared;
use super::verdict::{Verdict, backoff, job_error, own_error, verdict};
use crate::domain::{Job, PeerSpec, PeerType, SendOptions, TextError, Transition};
use crate::store::Transitioned;
use crate::telegram::TelegramError;
use crate::telegram::text::FormattedText;

/// How an attempt ended, for the scheduler.
#[derive(Debug)]
pub struct Done {
    pub chat: String,
    pub id: String,
    pub outcome: Outcome,
    /// The chat's kind, when the attempt learned it.
    pub kind: Option<PeerType>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent, failed, dead or cancelled: out of the queue.
    Finished,
    /// Back in the queue until then (Unix ms).
    Retry { at: i64 },
    /// Telegram asked to wait: back in the queue, the chat to be parked.
    Flood { wait: Duration, slow_mode: bool },
    /// The store could not record a state change; the job stays where it was.
    StoreFailed,
}

/// Sends job `id` to `spec`'s chat.
pub async fn attempt(shared: &Shared, chat: String, id: String, spec: PeerSpec) -> Done {
    let done = |outcome, kind| Done {
        chat: chat.clone(),
        id: id.clone(),
        outcome,
        kind,
    };
    let job = match shared.transitions.apply(&id, Transition::Sending).await {
        Ok(Transitioned::Applied { job, .. }) => job,
        // Cancelled (or otherwise settled) meanwhile: nothing to send.
        Ok(_) => return done(Outcome::Finished, None),
        Err(e) => {
            tracing::error!(job_id = %id, error = %e, "could not mark an outbox job as sending");
            return done(Outcome::StoreFailed, None);
        }
    };
    let text = match text_of(&job) {
        Ok(text) => text,
        Err(e) => {
            let change = Transition::Failed(own_error("INVALID_REQUEST", e.to_string()));
            return done(settle(shared, &job, change).await, None);
        }
    };
    let kind = match shared.account.describe(&spec).await {
        Ok(peer) => peer.kind,
        Err(e) => return done(failed(shared, &job, &e).await, None),
    };
    let options = SendOptions {
        reply_to: job.body.reply_to,
        silent: job.body.silent,
        link_preview: job.body.link_preview,
    };
    let sent = match &job.body.media {
        // An album's message id is its first message's.
        Some(media) => shared
            .account
            .telegram()
            .send_queued_media(&spec, &text, options, &media.references(), job.random_id)
            .await
            .map(|views| views.first().map(|v| v.id)),
        None => shared
            .account
            .send_queued(&spec, &text, options, job.random_id)
            .await
            .map(|view| Some(view.id)),
    };
    let outcome = match sent {
        Ok(message_id) => settle(shared, &job, Transition::Sent { message_id }).await,
        Err(e) => failed(shared, &job, &e).await,
    };
    done(outcome, Some(kind))
}

/// The job's text, or its caption (which may be empty) when it carries files.
fn text_of(job: &Job) -> Result<FormattedText, TextError> {
    if job.body.media.is_some() && job.body.text.trim().is_empty() {
        return Ok(FormattedText {
            text: String::new(),
            entities: Vec::new(),
        });
    }
    FormattedText::parse(&job.body.text, job.body.parse_mode)
}

/// Gives up on job `id` because its deadline passed (before any attempt).
pub async fn expire(shared: &Shared, chat: String, id: String) -> Done {
    let change = Transition::Dead(own_error(
        "DEADLINE_EXCEEDED",
        "the job's deadline passed before it could be sent",
    ));
    let outcome = match shared.transitions.apply(&id, change).await {
        Ok(_) => Outcome::Finished,
        Err(e) => {
            tracing::error!(job_id = %id, error = %e, "could not give up an expired outbox job");
            Outcome::StoreFailed
        }
    };
    Done {
        chat,
        id,
        outcome,
        kind: None,
    }
}

/// Settles a failed attempt by what the failure means.
async fn failed(shared: &Shared, job: &Job, error: &TelegramError) -> Outcome {
    let now = super::now_ms();
    let change = match verdict(error) {
        Verdict::AlreadySent => Transition::Sent { message_id: None },
        Verdict::Permanent => Transition::Failed(job_error(error)),
        Verdict::Flood { wait, slow_mode } => {
            let at = now + wait.as_millis() as i64;
            let change = Transition::Retry {
                at,
                error: job_error(error),
                transient: false,
            };
            return match settle(shared, job, change).await {
                Outcome::Retry { .. } => Outcome::Flood { wait, slow_mode },
                other => other,
            };
        }
        Verdict::Transient => {
            let failures = job.failures + 1;
            let config = &shared.config;
            let delay = backoff(
                failures,
                config.retry_base,
                config.retry_max,
                rand::random::<f64>(),
            );
            let at = now + delay.as_millis() as i64;
            if failures >= config.retry_budget {
                Transition::Dead(job_error(error))
            } else if job.deadline.is_some_and(|d| d < at) {
                let mut error = job_error(error);
                error.message = format!(
                    "the deadline passes before the next retry (last error: {})",
                    error.message
                );
                error.code = "DEADLINE_EXCEEDED".into();
                Transition::Dead(error)
            } else {
                Transition::Retry {
                    at,
                    error: job_error(error),
                    transient: true,
                }
            }
        }
    };
    settle(shared, job, change).await
}

/// Records `change`; what it means for the scheduler.
async fn settle(shared: &Shared, job: &Job, change: Transition) -> Outcome {
    let retry_at = match &change {
        Transition::Retry { at, .. } => Some(*at),
        _ => None,
    };
    match shared.transitions.apply(&job.id, change).await {
        Ok(_) => retry_at.map_or(Outcome::Finished, |at| Outcome::Retry { at }),
        Err(e) => {
            tracing::error!(job_id = %job.id, error = %e, "could not record an outbox job's outcome");
            Outcome::StoreFailed
        }
    }
}
