//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the code with utoipa.
//!
//! The `/v1` operations are described on their handlers. The runtime's routes (health,
//! session status, metrics) are described here from CONTRACT.md, as doc-only operations, so
//! the document covers every endpoint without coupling those handlers to utoipa.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::AppState;
use super::chats::{ActionRequest, ReadRequest};
use super::media::{MediaRequest, MediaSendForm, MediaSendRequest};
use super::messages::actions::{ForwardRequest, PinRequest};
use super::messages::{
    DeleteMessagesRequest, DeletedCount, EditMessageRequest, HistoryPage, SendMessageRequest,
};
use super::openapi_accounts::AccountPaths;
use super::outbox_types::{
    BatchForm, BatchRequest, EnqueueForm, EnqueueRequest, JobAnswer, JobErrorView, JobFileView,
    JobMediaView, JobPage, JobStateName, JobView, JobsAnswer, PriorityName,
};
use super::peers::PeerInfo;
use super::schemas::{
    ChatAction, ChatPage, ChatPeer, ChatSummary, MediaView, MessageView, ParseMode, PeerType,
    PeerView, SentMedia,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// The document, built once, with the server's constraints and statuses written in
/// ([`super::openapi_rules`]).
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    super::openapi_rules::apply(&mut doc);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serializes")
});

/// The OpenAPI document as JSON.
pub fn document() -> &'static str {
    &DOCUMENT
}

async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// Every error: `{"error": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error responses every `/v1` operation shares, whatever it asks Telegram: listed in
/// each handler's `responses(...)` so their rows are written once.
#[derive(IntoResponses)]
pub enum TelegramErrors {
    #[response(
        status = 429,
        description = "Flood wait (FLOOD_WAIT): Telegram asks to wait longer than mtgate sleeps",
        headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
    )]
    FloodWait(ErrorBody),
    #[response(
        status = 501,
        description = "The sandbox Telegram does not model this (NOT_SUPPORTED_BY_SANDBOX); never sent by real Telegram"
    )]
    NotSupportedBySandbox(ErrorBody),
    #[response(
        status = 503,
        description = "Telegram unavailable (TELEGRAM_UNAVAILABLE), session unusable (SESSION_UNAUTHORIZED) or too many requests in flight (OVERLOADED, with `Retry-After`)"
    )]
    Unavailable(ErrorBody),
}

/// What went wrong, in a form a program can act on.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: INVALID_REQUEST, UNAUTHORIZED, PEER_NOT_FOUND, MESSAGE_NOT_FOUND,
    /// MESSAGE_TOO_LONG, MESSAGE_NOT_MODIFIED, IDEMPOTENCY_KEY_REUSED, FORBIDDEN, KEY_SCOPE,
    /// JOB_NOT_FOUND, JOB_NOT_CANCELLABLE, JOB_NOT_RETRYABLE,
    /// ACCOUNT_NOT_FOUND, FLOOD_WAIT, TELEGRAM_UNAVAILABLE, SESSION_UNAUTHORIZED,
    /// NOT_SUPPORTED_BY_SANDBOX, OVERLOADED, PAYLOAD_TOO_LARGE, BODY_INCOMPLETE,
    /// RANGE_NOT_SATISFIABLE, MEDIA_URL_DISABLED, MEDIA_URL_FAILED, WEBHOOK_NOT_FOUND,
    /// EVENT_NOT_FOUND, TIMEOUT, INTERNAL.
    #[schema(example = "FLOOD_WAIT")]
    pub code: String,
    /// A sentence for humans.
    pub message: String,
    /// Seconds to wait before retrying (with FLOOD_WAIT; also sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// The raw Telegram error name, when Telegram gave one.
    #[schema(example = "FLOOD_WAIT_300")]
    pub telegram: Option<String>,
}

/// `GET /health`: `status` and `checks` are the `default` account's (what probes read);
/// `accounts` and `summary` cover every account.
#[derive(Serialize, ToSchema)]
pub struct HealthReport {
    /// `healthy`, `degraded` (Telegram unreachable, reconnecting) or `unhealthy`.
    pub status: String,
    /// RFC 3339.
    pub timestamp: String,
    pub checks: HealthChecks,
    pub summary: AccountsSummary,
    /// Every account, `default` first.
    pub accounts: Vec<AccountHealth>,
    pub replica: ReplicaHealth,
}

/// This replica and the accounts whose connection it drives (all of them without
/// replicas; with replicas, the others are `standby` here).
#[derive(Serialize, ToSchema)]
pub struct ReplicaHealth {
    pub id: String,
    pub holds: Vec<String>,
}

/// `GET /v1/cluster`.
#[derive(Serialize, ToSchema)]
pub struct ClusterView {
    pub replicas: Vec<ReplicaView>,
}

/// One replica sharing the database.
#[derive(Serialize, ToSchema)]
pub struct ReplicaView {
    pub id: String,
    /// Where other replicas forward requests to it.
    pub address: String,
    /// Whether this is the replica that answered.
    #[serde(rename = "self")]
    pub is_self: bool,
    /// Heartbeat within the lease TTL.
    pub alive: bool,
    /// The accounts it holds.
    pub accounts: Vec<String>,
    pub leases: Vec<LeaseView>,
    /// Its last heartbeat (RFC 3339).
    pub last_seen: String,
}

/// One held lease.
#[derive(Serialize, ToSchema)]
pub struct LeaseView {
    pub account: String,
    /// The fencing token: grows with every new holder.
    pub token: i64,
    pub age_ms: i64,
    pub expires_in_ms: i64,
}

/// How many accounts are in each state.
#[derive(Serialize, ToSchema)]
pub struct AccountsSummary {
    pub accounts: usize,
    pub healthy: usize,
    pub degraded: usize,
    pub unhealthy: usize,
}

/// One account's health.
#[derive(Serialize, ToSchema)]
pub struct AccountHealth {
    pub name: String,
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    pub telegram: TelegramCheck,
}

#[derive(Serialize, ToSchema)]
pub struct HealthChecks {
    pub telegram: TelegramCheck,
    pub config: ConfigCheck,
}

#[derive(Serialize, ToSchema)]
pub struct TelegramCheck {
    pub status: String,
    pub connected: bool,
    pub authorized: bool,
    pub last_error: Option<String>,
    /// Since when this status holds (RFC 3339).
    pub since: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConfigCheck {
    pub status: String,
}

/// `GET /telegram/session/status`.
#[derive(Serialize, ToSchema)]
pub struct SessionStatus {
    /// `connected`.
    pub status: String,
    pub user_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Masked except the last 4 digits.
    pub phone: Option<String>,
    pub is_bot: bool,
    pub dc_id: i32,
}

/// Doc-only descriptions of the runtime's routes (their handlers live in `api::health`,
/// `api::session` and `api::metrics`).
#[allow(dead_code)]
mod runtime_routes {
    use super::{ClusterView, ErrorBody, HealthReport, SessionStatus, TelegramErrors};

    /// Overall health; never waits on Telegram.
    #[utoipa::path(get, path = "/health", tag = "health", responses(
        (status = 200, description = "Healthy or degraded", body = HealthReport),
        (status = 503, description = "Unhealthy: the session is not usable", body = HealthReport),
    ))]
    fn health() {}

    /// Liveness: 200 while the process serves.
    #[utoipa::path(get, path = "/health/live", tag = "health", responses(
        (status = 200, description = "Alive"),
    ))]
    fn live() {}

    /// Readiness: 200 only when connected and authorized.
    #[utoipa::path(get, path = "/health/ready", tag = "health", responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "Not connected or not authorized"),
    ))]
    fn ready() {}

    /// The logged-in account.
    #[utoipa::path(get, path = "/telegram/session/status", tag = "session",
        responses(
            (status = 200, description = "Connected", body = SessionStatus),
            (status = 401, description = "No or bad API key", body = ErrorBody),
            TelegramErrors,
        ),
        security(("bearer" = []), ("api_key" = []))
    )]
    fn session_status() {}

    /// The replicas sharing this database, the accounts each holds and their lease ages
    /// (one replica holding every account without a database URL).
    #[utoipa::path(get, path = "/v1/cluster", tag = "cluster",
        responses(
            (status = 200, description = "The replicas", body = ClusterView),
            (status = 400, description = "Invalid account name in the path", body = ErrorBody),
            (status = 401, description = "No or bad API key", body = ErrorBody),
            (status = 404, description = "No such account (ACCOUNT_NOT_FOUND)", body = ErrorBody),
            (status = 503, description = "Too many requests in flight (OVERLOADED, with `Retry-After`)", body = ErrorBody),
        ),
        security(("bearer" = []), ("api_key" = []))
    )]
    fn cluster() {}

    /// Prometheus metrics (text exposition format).
    #[utoipa::path(get, path = "/metrics", tag = "metrics", responses(
        (status = 200, description = "Metrics", content_type = "text/plain", body = String),
    ))]
    fn metrics() {}

    /// This document.
    #[utoipa::path(get, path = "/openapi.json", tag = "meta", responses(
        (status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object),
    ))]
    fn openapi() {}
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mtgate",
        description = "HTTP gateway to a Telegram user account (MTProto). Every error is `{\"error\":{\"code\",\"message\",\"retry_after\"?,\"telegram\"?}}`; 401 without a valid key on /v1 and /telegram.",
    ),
    paths(
        super::messages::send_message,
        super::messages::edit_message,
        super::messages::delete_message,
        super::messages::delete_messages,
        super::messages::history,
        super::media::download::download,
        super::messages::actions::forward_message,
        super::messages::actions::pin_message,
        super::messages::actions::unpin_message,
        super::chats::list_chats,
        super::chats::mark_read,
        super::chats::send_action,
        super::peers::get_peer,
        super::outbox::enqueue,
        super::outbox::enqueue_batch,
        super::jobs::list_jobs,
        super::jobs::get_job,
        super::jobs::cancel_job,
        super::jobs::retry_job,
        runtime_routes::health,
        runtime_routes::live,
        runtime_routes::ready,
        runtime_routes::session_status,
        runtime_routes::cluster,
        runtime_routes::metrics,
        runtime_routes::openapi,
        super::openapi_events::stream_events,
        super::openapi_events::create_webhook,
        super::openapi_events::list_webhooks,
        super::openapi_events::delete_webhook,
        super::openapi_events::webhook_failures,
        super::openapi_events::redeliver_webhook,
    ),
    components(schemas(
        SendMessageRequest,
        EditMessageRequest,
        DeleteMessagesRequest,
        DeletedCount,
        HistoryPage,
        MessageView,
        MediaView,
        SentMedia,
        MediaSendRequest,
        MediaRequest,
        MediaSendForm,
        PeerView,
        PeerType,
        ParseMode,
        PeerInfo,
        ForwardRequest,
        PinRequest,
        ReadRequest,
        ActionRequest,
        ChatPage,
        ChatSummary,
        ChatPeer,
        ChatAction,
        EnqueueRequest,
        BatchRequest,
        EnqueueForm,
        BatchForm,
        JobView,
        JobMediaView,
        JobFileView,
        JobErrorView,
        JobAnswer,
        JobsAnswer,
        JobPage,
        JobStateName,
        PriorityName,
        ErrorBody,
        ErrorDetail,
        HealthReport,
        SessionStatus,
        ClusterView,
        super::openapi_events::EventEnvelope,
        super::openapi_events::MessageEventData,
        super::openapi_events::DeletedEventData,
    )),
    modifiers(&Security, &AccountPaths),
    tags(
        (name = "messages", description = "Send, edit, delete and read messages"),
        (name = "peers", description = "Look up users, groups and channels"),
        (name = "chats", description = "The chat list, read receipts and chat actions"),
        (name = "outbox", description = "Queued sends (jobs) delivered under Telegram's limits, in order, exactly once"),
        (name = "health", description = "Probes (no API key needed)"),
        (name = "session", description = "The logged-in account"),
        (name = "cluster", description = "Replicas sharing one PostgreSQL database"),
        (name = "events", description = "What happens in the account's chats: SSE and webhooks"),
    )
)]
pub struct ApiDoc;
