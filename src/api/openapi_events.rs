//! OpenAPI descriptions of the event stream and webhooks: the shapes apps receive
//! (documented here so `domain` stays free of utoipa) and doc-only operations for
//! `/v1/events` and `/v1/webhooks` (their handlers live in `api::events`, `api::webhooks`).
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

use super::events::EventsQuery;
use super::openapi::{ErrorBody, TelegramErrors};
use super::schemas::PeerType;

/// One event, as SSE `data:` and as a webhook body.
#[derive(Serialize, ToSchema)]
pub struct EventEnvelope {
    /// Monotonically increasing per account (the SSE `id:` and `Last-Event-ID`).
    pub id: i64,
    pub account: String,
    /// `message.new`, `message.edited`, `message.deleted`, `job.sent`, `job.failed`,
    /// `job.dead`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When mtgate logged it (RFC 3339, milliseconds).
    pub created_at: String,
    /// `MessageEventData` for `message.new` / `message.edited`, `DeletedEventData` for
    /// `message.deleted`.
    pub data: serde_json::Value,
}

/// A chat or sender in an event.
#[derive(Serialize, ToSchema)]
pub struct EventPeer {
    /// Bot-API id.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
}

/// A text entity (UTF-16 offsets, Bot API names).
#[derive(Serialize, ToSchema)]
pub struct EventEntityDoc {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: i32,
    pub length: i32,
    pub url: Option<String>,
    pub user_id: Option<i64>,
    pub language: Option<String>,
}

/// `data` of `message.new` and `message.edited`.
#[derive(Serialize, ToSchema)]
pub struct MessageEventData {
    pub id: i32,
    pub chat: EventPeer,
    /// Absent for a channel's own posts.
    pub sender: Option<EventPeer>,
    pub outgoing: bool,
    pub text: String,
    pub entities: Vec<EventEntityDoc>,
    pub reply_to: Option<i32>,
    /// RFC 3339.
    pub date: String,
    pub edit_date: Option<String>,
}

/// `data` of `message.deleted` (`chat` absent for private chats and basic groups, whose
/// message ids are unique within the account).
#[derive(Serialize, ToSchema)]
pub struct DeletedEventData {
    pub chat: Option<EventPeer>,
    pub ids: Vec<i32>,
}

/// `POST /v1/webhooks` body.
#[derive(Serialize, ToSchema)]
pub struct CreateWebhookDoc {
    /// `http://…` or `https://…` (certificates checked against the built-in Mozilla roots
    /// plus `MTGATE_TLS_CA_FILE`).
    pub url: String,
    /// `whsec_` + base64 of at least 16 bytes; generated when absent.
    pub secret: Option<String>,
    pub events: Option<Vec<String>>,
    /// Chats as peers; default: all the key may see.
    pub chats: Option<Vec<String>>,
}

/// A created webhook (the only answer that shows the secret).
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    /// Bot-API ids.
    pub chats: Vec<i64>,
}

/// A webhook and how its delivery goes.
#[derive(Serialize, ToSchema)]
pub struct WebhookDoc {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub chats: Vec<i64>,
    /// `api` or `config` (`MTGATE_WEBHOOKS_FILE`).
    pub source: String,
    /// `closed`, `open` or `half_open`.
    pub breaker: String,
    pub last_error: Option<String>,
    /// The last event it is done with (delivered or failed).
    pub last_event_id: i64,
    pub failures: usize,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookDoc>,
}

/// An event a webhook gave up on.
#[derive(Serialize, ToSchema)]
pub struct WebhookFailure {
    pub event_id: i64,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookFailures {
    pub failures: Vec<WebhookFailure>,
}

/// `POST /v1/webhooks/{id}/redeliver` body (may be empty).
#[derive(Serialize, ToSchema)]
pub struct RedeliverDoc {
    /// Only these failed events (default: all).
    pub event_ids: Option<Vec<i64>>,
}

#[derive(Serialize, ToSchema)]
pub struct Redelivering {
    pub redelivering: usize,
}

/// The account's events as Server-Sent Events: `id:` the event id, `event:` its type,
/// `data:` the event JSON (`EventEnvelope`). `Last-Event-ID` resumes after that event; a
/// cursor older than retention gets `event: error` with code `EVENTS_EXPIRED` (status 410)
/// and the stream ends. Comment lines (`: heartbeat`) keep idle streams open.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id"),
    ),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = EventEnvelope),
        (status = 400, description = "Unknown type, bad chat or cursor (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "A chat outside the key's chats (KEY_SCOPE)", body = ErrorBody),
        (status = 404, description = "`Last-Event-ID` past the end of the log (EVENT_NOT_FOUND), or a chat Telegram does not know (PEER_NOT_FOUND)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn stream_events() {}

/// Subscribes a URL to the account's events (Standard Webhooks headers and signature).
#[utoipa::path(post, path = "/v1/webhooks", tag = "events",
    request_body = CreateWebhookDoc,
    responses(
        (status = 201, description = "Subscribed", body = CreatedWebhook),
        (status = 400, description = "Bad url, secret, events or chats (INVALID_REQUEST)", body = ErrorBody),
        (status = 403, description = "A chat outside the key's chats (KEY_SCOPE)", body = ErrorBody),
        (status = 404, description = "A chat Telegram does not know (PEER_NOT_FOUND)", body = ErrorBody),
        TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn create_webhook() {}

/// The account's webhooks.
#[utoipa::path(get, path = "/v1/webhooks", tag = "events",
    responses(
        (status = 200, description = "Webhooks", body = WebhookList),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn list_webhooks() {}

/// Stops and forgets a webhook.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "events",
    params(("id" = String, Path, description = "The webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 404, description = "No such webhook (WEBHOOK_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn delete_webhook() {}

/// The webhook's dead letters: events that used up their attempts.
#[utoipa::path(get, path = "/v1/webhooks/{id}/failures", tag = "events",
    params(("id" = String, Path, description = "The webhook id")),
    responses(
        (status = 200, description = "Failures, oldest event first", body = WebhookFailures),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 404, description = "No such webhook (WEBHOOK_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn webhook_failures() {}

/// Delivers the webhook's failures again (they leave the list once delivered).
#[utoipa::path(post, path = "/v1/webhooks/{id}/redeliver", tag = "events",
    params(("id" = String, Path, description = "The webhook id")),
    request_body(content = Option<RedeliverDoc>, description = "May be empty"),
    responses(
        (status = 202, description = "Queued", body = Redelivering),
        (status = 400, description = "Bad input (INVALID_REQUEST)", body = ErrorBody),
        (status = 404, description = "No such webhook (WEBHOOK_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
fn redeliver_webhook() {}
