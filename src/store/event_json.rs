//! The event log's append on SQLite: every row of a batch travels in one JSON parameter and
//! is unpacked by `json_each`, so the statements have one shape whatever the batch size.
//!
//! Why: the joined script of an append is prepared as a whole and cached by its text. With
//! one `VALUES` row per event, every batch size made a new text, and under load most commits
//! prepared a new statement of hundreds of parameters, which SQLite's parser handles in
//! quadratic time (each `$N` is looked up among the ones before it). Once commits slowed
//! down, batches grew and made still more new texts. A profile of sends at concurrency 64
//! showed the SQLite thread's time doubled that way after a burst (BENCHMARKS.md, "Third
//! pass"). PostgreSQL runs statements one at a time, with few shapes, and keeps `VALUES`.

use serde::Serialize;

use super::script::{Arg, Binder};
use crate::domain::NewEvent;

/// One event as a JSON object in the batch parameter.
#[derive(Serialize)]
struct Row<'e> {
    /// The event type.
    k: &'e str,
    /// The chat, if any.
    c: Option<i64>,
    /// The dedup key, if any.
    d: Option<&'e str>,
    /// The event data as JSON text (a string, so it is stored exactly as written).
    x: String,
}

/// The batch parameter of `fresh`: a JSON array of rows, in order.
pub(super) fn rows(fresh: &[&NewEvent]) -> String {
    let rows: Vec<Row<'_>> = fresh
        .iter()
        .map(|event| Row {
            k: event.kind.as_str(),
            c: event.chat,
            d: event.dedup.as_deref(),
            x: event.data.to_string(),
        })
        .collect();
    serde_json::to_string(&rows).expect("strings and integers serialise")
}

/// The dedup keys of `fresh` as a JSON array; `None` when no event has one.
pub(super) fn keys(fresh: &[&NewEvent]) -> Option<String> {
    let keys: Vec<&str> = fresh.iter().filter_map(|e| e.dedup.as_deref()).collect();
    (!keys.is_empty()).then(|| serde_json::to_string(&keys).expect("strings serialise"))
}

/// `(0, key)` for each key of the JSON array `keys` already in the log.
pub(super) fn logged_keys_sql<'a>(
    p: &mut Binder<'_, 'a>,
    account: &'a str,
    keys: &'a str,
) -> String {
    format!(
        "SELECT 0, dedup FROM events WHERE account = {} AND dedup IN (SELECT value FROM json_each({}))",
        p.bind(Arg::Text(account)),
        p.bind(Arg::Text(keys)),
    )
}

/// Inserts the rows of the JSON array `rows` numbered from the counter, skipping facts
/// already logged: `ROW_NUMBER` over the rows kept, in array order.
pub(super) fn insert_sql<'a>(
    p: &mut Binder<'_, 'a>,
    account: &'a str,
    rows: &'a str,
    now_ms: i64,
) -> String {
    let account = p.bind(Arg::Text(account));
    let rows = p.bind(Arg::Text(rows));
    let now = p.bind(Arg::I64(now_ms));
    format!(
        "INSERT INTO events (account, id, type, chat_id, dedup, created_at, data)
         SELECT {account}, c.last_id + ROW_NUMBER() OVER (ORDER BY j.key),
                json_extract(j.value, '$.k'), json_extract(j.value, '$.c'),
                json_extract(j.value, '$.d'), {now}, json_extract(j.value, '$.x')
         FROM json_each({rows}) AS j
         JOIN event_counters c ON c.account = {account}
         WHERE json_extract(j.value, '$.d') IS NULL OR NOT EXISTS (
             SELECT 1 FROM events e
             WHERE e.account = {account} AND e.dedup = json_extract(j.value, '$.d')
         )"
    )
}
