//! Outbox jobs: enqueued together with their idempotency record in one transaction, read
//! back for listings and the scheduler, and moved from state to state by
//! [`transition::transition`] — the one function that changes a job's state.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{IdempotencyScope, Store, StoreError};
use crate::domain::NewEvent;
use crate::domain::job::{Job, JobError, JobState, NewJob, Priority, SendBody, Transition};

pub mod transition;
use crate::domain::job::{job_random_id, new_job_id};
pub use transition::Transitioned;

/// How long an enqueue's idempotency record is kept (as the send's: 24 h).
const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// An enqueue's `Idempotency-Key`, in its caller's scope, with the request's fingerprint.
pub struct EnqueueKey<'a> {
    pub scope: &'a IdempotencyScope,
    pub key: &'a str,
    pub fingerprint: &'a [u8],
}

/// What an enqueue did.
#[derive(Debug)]
pub enum Enqueued {
    /// Stored now.
    New(Vec<Job>),
    /// The same key and request came before: its jobs, as they are now.
    Replayed(Vec<Job>),
    /// The key was used for another request.
    Conflict,
}

/// Which jobs a listing shows, oldest first.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    /// The chat in its canonical form.
    pub chat: Option<String>,
    /// Only jobs after this `seq` (the previous page's cursor).
    pub after: Option<i64>,
    pub limit: u32,
}

/// The earlier enqueue under `key`: replayed (its jobs as they are now) or a conflict.
async fn earlier_enqueue(
    conn: &mut AnyConnection,
    account: &str,
    key: &EnqueueKey<'_>,
    now_ms: i64,
) -> Result<Option<Enqueued>, StoreError> {
    let earlier: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT fingerprint, body FROM idempotency
         WHERE key_name = $1 AND account = $2 AND idem_key = $3 AND expires_at > $4",
    )
    .bind(&key.scope.key_name)
    .bind(&key.scope.account)
    .bind(key.key)
    .bind(now_ms / 1000)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((fingerprint, body)) = earlier else {
        return Ok(None);
    };
    if fingerprint != key.fingerprint {
        return Ok(Some(Enqueued::Conflict));
    }
    let ids: Vec<String> = serde_json::from_slice::<EnqueueRecord>(&body)
        .map_err(|e| StoreError::Corrupt(format!("enqueue record: {e}")))?
        .jobs;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(job) = get(&mut *conn, account, &id).await? {
            found.push(job);
        }
    }
    Ok(Some(Enqueued::Replayed(found)))
}

pub(super) const COLUMNS: &str = "id, seq, chat, priority, state, body, random_id, attempts, failures, \
     send_at_ms, deadline_ms, next_attempt_at_ms, message_id, error, created_at_ms, updated_at_ms";

impl Store {
    /// Stores `jobs` for `account` in one transaction, with the idempotency record when a key
    /// is given (same key and request: the earlier jobs; another request: a conflict).
    pub async fn enqueue_jobs(
        &self,
        account: &str,
        jobs: Vec<NewJob>,
        key: Option<EnqueueKey<'_>>,
        now_ms: i64,
    ) -> Result<Enqueued, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = &key
            && let Some(earlier) = earlier_enqueue(&mut tx, account, key, now_ms).await?
        {
            return Ok(earlier);
        }
        let (last_seq, last_created): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT MAX(seq), MAX(created_at_ms) FROM jobs WHERE account = $1")
                .bind(account)
                .fetch_one(&mut *tx)
                .await?;
        // Never earlier than a stored job: FIFO within a chat follows (due, seq).
        let created = now_ms.max(last_created.unwrap_or(0));
        let mut stored = Vec::with_capacity(jobs.len());
        for (seq, new) in (last_seq.unwrap_or(0) + 1..).zip(jobs) {
            let id = new_job_id();
            let state = match new.send_at {
                Some(at) if at > now_ms => JobState::Scheduled,
                _ => JobState::Queued,
            };
            let job = Job {
                random_id: job_random_id(account, &id),
                id,
                seq,
                chat: new.chat.to_string(),
                priority: new.priority,
                state,
                attempts: 0,
                failures: 0,
                created_at: created,
                updated_at: now_ms,
                send_at: new.send_at,
                deadline: new.deadline,
                next_attempt_at: None,
                message_id: None,
                error: None,
                body: new.body,
            };
            insert(&mut tx, account, &job).await?;
            stored.push(job);
        }
        if let Some(key) = &key {
            let record = EnqueueRecord {
                jobs: stored.iter().map(|j| j.id.clone()).collect(),
            };
            let body = serde_json::to_vec(&record)
                .map_err(|e| StoreError::Corrupt(format!("enqueue record: {e}")))?;
            sqlx::query(
                "INSERT INTO idempotency
                    (key_name, account, idem_key, fingerprint, status, headers, body, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, 202, '[]', $5, $6, $7)
                 ON CONFLICT (key_name, account, idem_key) DO UPDATE SET
                    fingerprint = excluded.fingerprint, status = excluded.status,
                    headers = excluded.headers, body = excluded.body,
                    created_at = excluded.created_at, expires_at = excluded.expires_at",
            )
            .bind(&key.scope.key_name)
            .bind(&key.scope.account)
            .bind(key.key)
            .bind(key.fingerprint)
            .bind(&body)
            .bind(now_ms / 1000)
            .bind((now_ms + IDEMPOTENCY_TTL_MS) / 1000)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Enqueued::New(stored))
    }

    /// What an earlier enqueue with this key did (its jobs, or a conflict), if there was
    /// one: lets a request find out before doing costly work (uploading files).
    pub async fn earlier_enqueue(
        &self,
        account: &str,
        key: &EnqueueKey<'_>,
        now_ms: i64,
    ) -> Result<Option<Enqueued>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        earlier_enqueue(&mut conn, account, key, now_ms).await
    }

    /// One job of `account`.
    pub async fn job(&self, account: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        get(&mut conn, account, id).await
    }

    /// A page of `account`'s jobs, oldest first. A state filter of `queued` includes
    /// scheduled jobs whose time has come (`now_ms`), `scheduled` only the others.
    pub async fn jobs(
        &self,
        account: &str,
        filter: &JobFilter,
        now_ms: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE account = $1 AND seq > $2
             AND ($3 IS NULL OR chat = $3)
             AND ($4 IS NULL OR CASE $4
                 WHEN 'queued' THEN state = 'queued' OR (state = 'scheduled' AND send_at_ms <= $5)
                 WHEN 'scheduled' THEN state = 'scheduled' AND send_at_ms > $5
                 ELSE state = $4 END)
             ORDER BY seq LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(account)
            .bind(filter.after.unwrap_or(0))
            .bind(filter.chat.as_deref())
            .bind(filter.state.map(JobState::as_str))
            .bind(now_ms)
            .bind(i64::from(filter.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_of).collect()
    }

    /// Every pending job of `account` (queued, scheduled, sending), in `seq` order: what the
    /// scheduler loads at start.
    pub async fn pending_jobs(&self, account: &str) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE account = $1
             AND state IN ('queued', 'scheduled', 'sending') ORDER BY seq"
        );
        let rows = sqlx::query(&sql)
            .bind(account)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_of).collect()
    }

    /// The chat and time (Unix ms) of every job `account` handed to Telegram since
    /// `since_ms`, oldest first (the time of its last change: at or after the send).
    pub async fn recent_sends(
        &self,
        account: &str,
        since_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT chat, updated_at_ms FROM jobs WHERE account = $1 AND attempts > 0
             AND updated_at_ms > $2 ORDER BY updated_at_ms",
        )
        .bind(account)
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// How many jobs of `account` are in each (stored) state and priority.
    pub async fn job_counts(
        &self,
        account: &str,
    ) -> Result<Vec<(JobState, Priority, i64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT state, priority, COUNT(*) FROM jobs WHERE account = $1
             GROUP BY state, priority",
        )
        .bind(account)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(state, priority, n)| Ok((parse_state(&state)?, parse_priority(priority)?, n)))
            .collect()
    }

    /// Applies `change` to job `id` if its state allows it; see [`transition::transition`].
    pub async fn transition_job(
        &self,
        account: &str,
        id: &str,
        change: &Transition,
        now_ms: i64,
    ) -> Result<Transitioned, StoreError> {
        Ok(self
            .transition_job_logged(account, id, change, now_ms)
            .await?
            .0)
    }

    /// [`Self::transition_job`]; a change that settles the job (sent, failed, dead) also
    /// appends its `job.*` event in the same transaction. Returns the event's id, if one was
    /// logged, for waking the event streams.
    pub async fn transition_job_logged(
        &self,
        account: &str,
        id: &str,
        change: &Transition,
        now_ms: i64,
    ) -> Result<(Transitioned, Option<i64>), StoreError> {
        let settles = matches!(
            change.to_state(),
            JobState::Sent | JobState::Failed | JobState::Dead
        );
        if !settles {
            let mut conn = self.pool().acquire().await?;
            let done = transition::transition(&mut conn, account, id, change, now_ms).await?;
            return Ok((done, None));
        }
        let mut tx = self.begin_write().await?;
        let done = transition::transition(&mut tx, account, id, change, now_ms).await?;
        let mut logged = None;
        if let Transitioned::Applied { job, .. } = &done
            && let Some(event) = NewEvent::job_settled(job)
        {
            let events = super::events::append(&mut tx, account, &[event], now_ms).await?;
            logged = events.last().map(|e| e.id);
        }
        tx.commit().await?;
        Ok((done, logged))
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct EnqueueRecord {
    jobs: Vec<String>,
}

pub(super) async fn get(
    conn: &mut AnyConnection,
    account: &str,
    id: &str,
) -> Result<Option<Job>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE account = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(account)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(job_of).transpose()
}

async fn insert(conn: &mut AnyConnection, account: &str, job: &Job) -> Result<(), StoreError> {
    let body = serde_json::to_string(&job.body)
        .map_err(|e| StoreError::Corrupt(format!("job body: {e}")))?;
    sqlx::query(
        "INSERT INTO jobs (account, id, seq, chat, priority, state, body, random_id, attempts,
            failures, send_at_ms, deadline_ms, next_attempt_at_ms, message_id, error,
            created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, NULL, NULL, NULL, $11, $12)",
    )
    .bind(account)
    .bind(&job.id)
    .bind(job.seq)
    .bind(&job.chat)
    .bind(job.priority.rank())
    .bind(job.state.as_str())
    .bind(body)
    .bind(job.random_id)
    .bind(job.send_at)
    .bind(job.deadline)
    .bind(job.created_at)
    .bind(job.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) fn job_of(row: &AnyRow) -> Result<Job, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("job {what}"));
    let body: String = row.try_get("body")?;
    let error: Option<String> = row.try_get("error")?;
    let message_id: Option<i64> = row.try_get("message_id")?;
    Ok(Job {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        chat: row.try_get("chat")?,
        priority: parse_priority(row.try_get("priority")?)?,
        state: parse_state(&row.try_get::<String, _>("state")?)?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?)
            .map_err(|_| corrupt("attempts"))?,
        failures: u32::try_from(row.try_get::<i64, _>("failures")?)
            .map_err(|_| corrupt("failures"))?,
        created_at: row.try_get("created_at_ms")?,
        updated_at: row.try_get("updated_at_ms")?,
        send_at: row.try_get("send_at_ms")?,
        deadline: row.try_get("deadline_ms")?,
        next_attempt_at: row.try_get("next_attempt_at_ms")?,
        message_id: message_id
            .map(i32::try_from)
            .transpose()
            .map_err(|_| corrupt("message id"))?,
        error: error
            .map(|e| serde_json::from_str::<JobError>(&e))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("job error: {e}")))?,
        body: serde_json::from_str::<SendBody>(&body)
            .map_err(|e| StoreError::Corrupt(format!("job body: {e}")))?,
        random_id: row.try_get("random_id")?,
    })
}

pub(super) fn parse_state(raw: &str) -> Result<JobState, StoreError> {
    JobState::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("job state `{raw}`")))
}

fn parse_priority(rank: i64) -> Result<Priority, StoreError> {
    Priority::from_rank(rank).ok_or_else(|| StoreError::Corrupt(format!("job priority {rank}")))
}

#[cfg(test)]
mod tests;
