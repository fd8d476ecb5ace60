//! `GET /v1/events`: the account's event log as Server-Sent Events (`id:` the event id,
//! `event:` its type, `data:` the event JSON). `Last-Event-ID` (or `last_event_id=`)
//! resumes right after that event; without it the stream starts with what happens next.
//! A cursor older than retention gets one `event: error` (code `EVENTS_EXPIRED`, status 410)
//! and the stream ends, so the client knows it missed events instead of silently skipping
//! them. Idle streams get a comment line every `MTGATE_EVENTS_HEARTBEAT`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt as _;
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;
use utoipa::IntoParams;

use super::account::{CurrentAccount, RequestAccount};
use super::json::ApiQuery;
use super::{ApiError, AppState};
use crate::domain::{Event, EventFilter, EventType, PeerSpec};
use crate::events::Events;

/// Events read from the log at a time.
const PAGE: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/events", get(stream_events))
}

/// `GET /v1/events` query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Comma-separated event types (default: all), e.g. `message.new,message.edited`.
    pub types: Option<String>,
    /// Comma-separated chats as peers (`@username`, Bot-API id, `me`); default: all the
    /// key may see.
    pub chats: Option<String>,
    /// Resume after this event id (the `Last-Event-ID` header wins).
    pub last_event_id: Option<i64>,
}

async fn stream_events(
    State(state): State<AppState>,
    CurrentAccount(account): CurrentAccount,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let filter = EventFilter {
        types: parse_types(query.types.as_deref())?,
        chats: chat_filter(&account, query.chats.as_deref()).await?,
    };
    // Checked even when the header wins, so a bad query is never silently ignored.
    if query.last_event_id.is_some_and(|id| id < 0) {
        return Err(ApiError::invalid("last_event_id must be >= 0"));
    }
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|id| *id >= 0)
                .ok_or_else(|| ApiError::invalid("Last-Event-ID must be an event id"))?,
        ),
        None => query.last_event_id,
    };
    let events = state.events.clone();
    let name = account.name().to_string();
    // Subscribed before reading where the log ends, so no append in between is missed.
    let wake = events.subscribe(&name);
    let (oldest, last) = events
        .store()
        .event_bounds(&name)
        .await
        .map_err(store_error)?;
    let start = match resume {
        None => Start::From(last),
        Some(id) if id > last => {
            return Err(ApiError::EventNotFound(format!(
                "Last-Event-ID {id} is ahead of the log (its last event is {last})"
            )));
        }
        // Something after `id` was deleted by retention: the client missed events.
        Some(id)
            if oldest.is_some_and(|oldest| id + 1 < oldest) || (oldest.is_none() && id < last) =>
        {
            Start::Expired {
                oldest: oldest.unwrap_or(last + 1),
            }
        }
        Some(id) => Start::From(id),
    };
    let heartbeat = events.config().heartbeat;
    let stream = event_stream(events, name, filter, start, wake);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response())
}

enum Start {
    From(i64),
    Expired { oldest: i64 },
}

fn parse_types(raw: Option<&str>) -> Result<Vec<EventType>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            EventType::parse(t).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                ApiError::invalid(format!(
                    "unknown event type `{t}` (known: {})",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// The chats to stream: those asked for (each must be within the key's chats), or the key's
/// chats, or all (empty).
async fn chat_filter(account: &RequestAccount, raw: Option<&str>) -> Result<Vec<i64>, ApiError> {
    let asked: Vec<PeerSpec> = match raw {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| PeerSpec::parse(c).map_err(|e| ApiError::invalid(format!("chats: {e}"))))
            .collect::<Result<_, _>>()?,
    };
    account.filter_chat_ids(asked).await
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "cannot read the event log");
    ApiError::Internal {
        message: "the event log cannot be read".into(),
        telegram: None,
        upstream: false,
    }
}

struct Cursor {
    events: Arc<Events>,
    account: String,
    filter: EventFilter,
    after: i64,
    wake: watch::Receiver<i64>,
    closing: watch::Receiver<bool>,
    ready: VecDeque<Event>,
    done: bool,
}

fn event_stream(
    events: Arc<Events>,
    account: String,
    filter: EventFilter,
    start: Start,
    wake: watch::Receiver<i64>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static {
    let closing = events.closing();
    let expired = match start {
        Start::Expired { oldest } => Some(oldest),
        Start::From(_) => None,
    };
    let after = match start {
        Start::From(id) => id,
        Start::Expired { .. } => 0,
    };
    let cursor = Cursor {
        events,
        account,
        filter,
        after,
        wake,
        closing,
        ready: VecDeque::new(),
        done: false,
    };
    let first = expired.map(|oldest| {
        let message = format!(
            "events after Last-Event-ID were deleted by retention; the oldest kept is {oldest}"
        );
        error_event("EVENTS_EXPIRED", 410, &message, Some(oldest))
    });
    let expired_only = first.is_some();
    stream::iter(first.map(Ok)).chain(stream::unfold(cursor, move |cursor| async move {
        if expired_only {
            return None;
        }
        next(cursor).await
    }))
}

async fn next(mut cursor: Cursor) -> Option<(Result<SseEvent, Infallible>, Cursor)> {
    loop {
        if cursor.done {
            return None;
        }
        if let Some(event) = cursor.ready.pop_front() {
            return Some((Ok(sse_event(&event)), cursor));
        }
        cursor.wake.borrow_and_update();
        let page = cursor
            .events
            .store()
            .events_after(&cursor.account, cursor.after, PAGE)
            .await;
        match page {
            Ok(page) if page.is_empty() => {
                tokio::select! {
                    changed = cursor.wake.changed() => if changed.is_err() { return None },
                    _ = cursor.closing.changed() => return None,
                }
            }
            Ok(page) => {
                cursor.after = page.last().map_or(cursor.after, |e| e.id);
                let filter = &cursor.filter;
                cursor
                    .ready
                    .extend(page.into_iter().filter(|e| filter.matches(e)));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the event log for a stream");
                cursor.done = true;
                let event = error_event("INTERNAL", 500, "the event log cannot be read", None);
                return Some((Ok(event), cursor));
            }
        }
    }
}

fn sse_event(event: &Event) -> SseEvent {
    SseEvent::default()
        .id(event.id.to_string())
        .event(event.kind.as_str())
        .data(event.to_json().to_string())
}

fn error_event(code: &str, status: u16, message: &str, oldest: Option<i64>) -> SseEvent {
    let mut error = json!({"code": code, "status": status, "message": message});
    if let Some(oldest) = oldest {
        error["oldest_id"] = json!(oldest);
    }
    SseEvent::default()
        .event("error")
        .data(json!({ "error": error }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_as_a_comma_list_and_unknown_ones_are_named() {
        assert_eq!(
            parse_types(Some("message.new, message.deleted")).unwrap(),
            [EventType::MessageNew, EventType::MessageDeleted]
        );
        assert!(parse_types(None).unwrap().is_empty());
        let error = parse_types(Some("message.new,nope")).unwrap_err();
        assert!(error.to_string().contains("`nope`"));
    }
}
