//! [`transition`]: the one place a job changes state, so whatever must happen with a state
//! change (the events log, later) can happen in the same transaction.

use sqlx::{AnyConnection, Row};

use super::{COLUMNS, job_of, parse_state};
use crate::domain::job::{Job, JobState, Transition};
use crate::store::StoreError;

/// What a [`transition`] found.
#[derive(Debug)]
pub enum Transitioned {
    Applied {
        from: JobState,
        job: Box<Job>,
    },
    /// The job is in a state this change may not start from.
    Refused(JobState),
    NotFound,
}

/// The one place a job changes state: one `UPDATE … WHERE state IN (allowed) RETURNING`, so
/// the check and the change are atomic without a transaction of their own (and cost one
/// round trip). Runs on the caller's connection, inside its transaction if it has one (where
/// an event about the change can be appended too).
pub async fn transition(
    conn: &mut AnyConnection,
    account: &str,
    id: &str,
    change: &Transition,
    now_ms: i64,
) -> Result<Transitioned, StoreError> {
    let to = change.to_state().as_str();
    let error = match change {
        Transition::Retry { error, .. } | Transition::Failed(error) | Transition::Dead(error) => {
            Some(
                serde_json::to_string(error)
                    .map_err(|e| StoreError::Corrupt(format!("job error: {e}")))?,
            )
        }
        _ => None,
    };
    // Each change sets the state and `updated_at_ms`, plus its own columns ($5, $6).
    let (set, fifth, sixth): (&str, Option<i64>, Option<String>) = match change {
        Transition::Sending => (
            "attempts = attempts + 1, next_attempt_at_ms = NULL",
            None,
            None,
        ),
        Transition::Sent { message_id } => (
            "message_id = $5, error = NULL, next_attempt_at_ms = NULL",
            message_id.map(i64::from),
            None,
        ),
        Transition::Retry { at, transient, .. } => (
            if *transient {
                "failures = failures + 1, next_attempt_at_ms = $5, error = $6"
            } else {
                "next_attempt_at_ms = $5, error = $6"
            },
            Some(*at),
            error,
        ),
        Transition::Failed(_) | Transition::Dead(_) => {
            ("next_attempt_at_ms = $5, error = $6", None, error)
        }
        Transition::Cancelled | Transition::Returned => ("next_attempt_at_ms = NULL", None, None),
        Transition::Requeued => (
            "failures = 0, error = NULL, next_attempt_at_ms = NULL, deadline_ms = NULL",
            None,
            None,
        ),
    };
    let allowed = change
        .from_states()
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    // The right-hand sides read the row as it was, so `previous_state` keeps the old state.
    let sql = format!(
        "UPDATE jobs SET previous_state = state, state = $3, updated_at_ms = $4, {set}
         WHERE account = $1 AND id = $2 AND state IN ({allowed})
         RETURNING previous_state, {COLUMNS}"
    );
    let mut query = sqlx::query(&sql)
        .bind(account)
        .bind(id)
        .bind(to)
        .bind(now_ms);
    if set.contains("$5") {
        query = query.bind(fifth);
    }
    if set.contains("$6") {
        query = query.bind(sixth);
    }
    if let Some(row) = query.fetch_optional(&mut *conn).await? {
        let from = parse_state(&row.try_get::<String, _>("previous_state")?)?;
        return Ok(Transitioned::Applied {
            from,
            job: Box::new(job_of(&row)?),
        });
    }
    let current: Option<(String,)> =
        sqlx::query_as("SELECT state FROM jobs WHERE account = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match current {
        None => Ok(Transitioned::NotFound),
        Some((state,)) => Ok(Transitioned::Refused(parse_state(&state)?)),
    }
}
