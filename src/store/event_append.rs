//! Appending to the event log: the statements of one append, built so that nothing has to
//! be read back before writing (see [`push_append`]), and the logged events read from the
//! one row they return.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::DateTime;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::script::{Arg, Binder, Script};
use super::{StoreError, event_json};
use crate::domain::{Event, NewEvent};

/// Appends `events` for `account` inside the caller's transaction; returns those logged (a
/// fact whose `dedup` is already in the log, or earlier in `events`, is skipped), with their
/// ids, in order. On SQLite the whole append is one command to the connection's thread.
pub async fn append(
    conn: &mut AnyConnection,
    account: &str,
    events: &[NewEvent],
    now_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    let fresh = unique_in_batch(events);
    let mut script = Script::for_connection(conn);
    let encoded = Encoded::new(&fresh, script.is_joined());
    push_append(&mut script, account, &fresh, &encoded, now_ms);
    let rows = script.run(conn).await?;
    logged(account, &fresh, &rows, now_ms)
}

/// `events` without the repeats of a fact earlier in the same list.
pub(super) fn unique_in_batch(events: &[NewEvent]) -> Vec<&NewEvent> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter(|event| match &event.dedup {
            Some(dedup) => seen.insert(dedup.as_str()),
            None => true,
        })
        .collect()
}

/// The text an append binds, made once before its statements borrow it: on SQLite (joined
/// scripts) the rows and dedup keys as JSON arrays (see [`super::event_json`]), elsewhere
/// each event's data.
pub(super) enum Encoded {
    Json { rows: String, keys: Option<String> },
    Data(Vec<String>),
}

impl Encoded {
    pub fn new(fresh: &[&NewEvent], joined: bool) -> Self {
        if joined {
            Self::Json {
                rows: event_json::rows(fresh),
                keys: event_json::keys(fresh),
            }
        } else {
            Self::Data(fresh.iter().map(|e| e.data.to_string()).collect())
        }
    }
}

/// The statements that append `fresh` (each fact once; `encoded` their text). Ids are
/// given in SQL, so nothing is read back before writing:
/// 1. the counter row is made sure of. This writes it even when it exists, so the
///    transaction holds that row's lock from here on: two appends for one account never
///    number from the same counter (on PostgreSQL each later statement sees what the
///    previous holder committed);
/// 2. the batch's dedup keys already in the log are listed (rows `(0, key)`);
/// 3. the rows are inserted numbered from the counter, skipping facts already logged, and
///    the counter moved to the newest id;
/// 4. the counter is read back (one row `(last_id, NULL)`).
///
/// Few rows come back whatever the batch size: on SQLite, rows travel from the connection's
/// thread through a channel of 50, and a full channel costs one more round trip each time.
/// Ids stay gapless (only kept rows are numbered) and never go back (the counter only grows).
pub(super) fn push_append<'a>(
    script: &mut Script<'a>,
    account: &'a str,
    fresh: &[&'a NewEvent],
    encoded: &'a Encoded,
    now_ms: i64,
) {
    if fresh.is_empty() {
        return;
    }
    script.push(|p| {
        format!(
            "INSERT INTO event_counters (account, last_id) VALUES ({}, 0)
             ON CONFLICT (account) DO UPDATE SET last_id = event_counters.last_id",
            p.bind(Arg::Text(account))
        )
    });
    match encoded {
        Encoded::Json { rows, keys } => {
            if let Some(keys) = keys {
                script.push(|p| event_json::logged_keys_sql(p, account, keys));
            }
            script.push(|p| event_json::insert_sql(p, account, rows, now_ms));
            push_counter_update(script, account);
        }
        Encoded::Data(data) => {
            let keys: Vec<&'a str> = fresh.iter().filter_map(|e| e.dedup.as_deref()).collect();
            for chunk in keys.chunks(MAX_ROWS_PER_INSERT) {
                script.push(|p| logged_keys_sql(p, account, chunk));
            }
            let mut done = 0;
            while done < fresh.len() {
                let len = chunk_len(fresh.len() - done);
                let rows = &fresh[done..done + len];
                let texts = &data[done..done + len];
                script.push(|p| insert_sql(p, account, rows, texts, now_ms));
                push_counter_update(script, account);
                done += len;
            }
        }
    }
    script.push(|p| {
        format!(
            "SELECT last_id, CAST(NULL AS TEXT) FROM event_counters WHERE account = {}",
            p.bind(Arg::Text(account))
        )
    });
}

/// Moves the counter to the newest id logged.
fn push_counter_update<'a>(script: &mut Script<'a>, account: &'a str) {
    script.push(|p| {
        let account = p.bind(Arg::Text(account));
        format!(
            "UPDATE event_counters SET last_id = (SELECT MAX(id) FROM events WHERE account = {account})
             WHERE account = {account}
               AND last_id < (SELECT MAX(id) FROM events WHERE account = {account})"
        )
    });
}

/// `(0, key)` for each of `keys` already in the log; the list padded to a power of two (a
/// repeated key), so few shapes reach the statement cache.
fn logged_keys_sql<'a>(p: &mut Binder<'_, 'a>, account: &'a str, keys: &[&'a str]) -> String {
    let account = p.bind(Arg::Text(account));
    let mut list = String::new();
    for i in 0..keys.len().next_power_of_two() {
        if i > 0 {
            list.push_str(", ");
        }
        let _ = write!(list, "{}", p.bind(Arg::Text(keys[i.min(keys.len() - 1)])));
    }
    format!("SELECT 0, dedup FROM events WHERE account = {account} AND dedup IN ({list})")
}

/// One multi-row insert numbered from the counter: `ROW_NUMBER` over the rows kept, in
/// their order.
fn insert_sql<'a>(
    p: &mut Binder<'_, 'a>,
    account: &'a str,
    rows: &[&'a NewEvent],
    data: &'a [String],
    now_ms: i64,
) -> String {
    let mut values = String::new();
    for (i, (event, text)) in rows.iter().zip(data).enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(
            values,
            "({i}, {}, {}, {}, {})",
            p.bind(Arg::Text(event.kind.as_str())),
            p.bind(Arg::OptI64(event.chat)),
            p.bind(Arg::OptText(event.dedup.as_deref())),
            p.bind(Arg::Text(text)),
        );
    }
    let account = p.bind(Arg::Text(account));
    let now = p.bind(Arg::I64(now_ms));
    format!(
        "INSERT INTO events (account, id, type, chat_id, dedup, created_at, data)
         SELECT {account}, c.last_id + ROW_NUMBER() OVER (ORDER BY v.column1),
                v.column2, v.column3, v.column4, {now}, v.column5
         FROM (VALUES {values}) AS v
         JOIN event_counters c ON c.account = {account}
         WHERE v.column4 IS NULL OR NOT EXISTS (
             SELECT 1 FROM events e WHERE e.account = {account} AND e.dedup = v.column4
         )"
    )
}

/// The events of `fresh` that were logged, with their ids, from the rows [`push_append`]'s
/// statements returned: those whose dedup key was not listed as already logged, numbered
/// up to the counter's new value.
pub(super) fn logged(
    account: &str,
    fresh: &[&NewEvent],
    rows: &[AnyRow],
    now_ms: i64,
) -> Result<Vec<Event>, StoreError> {
    let Some(kept) = kept(fresh, rows)? else {
        return Ok(Vec::new());
    };
    let created_at = DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    Ok(kept
        .events
        .into_iter()
        .zip(kept.first_id..)
        .map(|(event, id)| Event {
            id,
            account: account.to_string(),
            kind: event.kind,
            created_at,
            chat: event.chat,
            data: event.data.clone(),
        })
        .collect())
}

/// How many of `fresh` were logged and the newest id, without copying the events (the log's
/// writer needs no more than that to wake subscribers).
pub(super) fn logged_count(
    fresh: &[&NewEvent],
    rows: &[AnyRow],
) -> Result<super::Appended, StoreError> {
    Ok(match kept(fresh, rows)? {
        Some(kept) if !kept.events.is_empty() => super::Appended {
            count: kept.events.len(),
            last_id: Some(kept.first_id + kept.events.len() as i64 - 1),
        },
        _ => super::Appended::default(),
    })
}

/// The events of `fresh` an append kept, and the id of the first of them.
struct Kept<'e> {
    events: Vec<&'e NewEvent>,
    first_id: i64,
}

/// Reads the rows of an append: the dedup keys found already logged, then the counter's
/// new value. `None` when nothing was appended.
fn kept<'e>(fresh: &[&'e NewEvent], rows: &[AnyRow]) -> Result<Option<Kept<'e>>, StoreError> {
    if fresh.is_empty() {
        return Ok(None);
    }
    let mut already = HashSet::new();
    let mut last = None;
    for row in rows {
        match row.try_get::<Option<String>, _>(1)? {
            Some(key) => {
                already.insert(key);
            }
            None => last = Some(row.try_get::<i64, _>(0)?),
        }
    }
    let last =
        last.ok_or_else(|| StoreError::Corrupt("the event counter was not read back".into()))?;
    let events: Vec<&NewEvent> = fresh
        .iter()
        .copied()
        .filter(|e| e.dedup.as_ref().is_none_or(|d| !already.contains(d)))
        .collect();
    let first_id = last - events.len() as i64 + 1;
    Ok(Some(Kept { events, first_id }))
}

/// Most rows per insert: 1 280 parameters, below SQLite's limit (32 766) and PostgreSQL's
/// (65 535).
const MAX_ROWS_PER_INSERT: usize = 256;

/// The next insert's size: the largest power of two that fits, so a connection's statement
/// cache holds at most nine shapes of the insert instead of one per batch size.
fn chunk_len(remaining: usize) -> usize {
    let fits = 1 << remaining.ilog2();
    fits.min(MAX_ROWS_PER_INSERT)
}
