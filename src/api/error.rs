//! The HTTP error boundary: every failure a caller can see is one [`ApiError`], turned into a
//! response in exactly one place ([`IntoResponse`]), so status codes and `error.code` values
//! stay stable.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything an endpoint can fail with. Each variant's doc names its status and code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `INVALID_REQUEST`: the request itself is wrong (bad JSON, field, peer, limit…).
    #[error("{0}")]
    InvalidRequest(String),
    /// 404 `NOT_FOUND`: no endpoint at this path.
    #[error("no such endpoint")]
    NoSuchEndpoint,
    /// 405 `METHOD_NOT_ALLOWED`: the path exists, but not with this HTTP method.
    #[error("this endpoint does not accept this HTTP method")]
    MethodNotAllowed,
    /// 401 `UNAUTHORIZED`: no API key, or one mtgate does not accept.
    #[error("missing or invalid API key")]
    Unauthorized,
    /// 403 `KEY_SCOPE`: the API key may not use this account or chat, or may not write.
    #[error("{0}")]
    KeyScope(String),
    /// 404 `ACCOUNT_NOT_FOUND`: no account of this name is configured.
    #[error("no account is named `{0}`")]
    AccountNotFound(String),
    /// 404 `WEBHOOK_NOT_FOUND`: no such webhook for this account.
    #[error("no webhook {0} for this account")]
    WebhookNotFound(String),
    /// 404 `PEER_NOT_FOUND`: the peer does not exist or this account cannot see it.
    #[error("{message}")]
    PeerNotFound {
        message: String,
        telegram: Option<String>,
    },
    /// 404 `MESSAGE_NOT_FOUND`: no such message in that chat.
    #[error("{message}")]
    MessageNotFound {
        message: String,
        telegram: Option<String>,
    },
    /// 400 `MESSAGE_TOO_LONG`: over 4096 UTF-16 code units after parsing.
    #[error("{message}")]
    MessageTooLong {
        message: String,
        telegram: Option<String>,
    },
    /// 409 `MESSAGE_NOT_MODIFIED`: an edit that changes nothing.
    #[error("the message already has this content")]
    MessageNotModified { telegram: Option<String> },
    /// 409 `IDEMPOTENCY_KEY_REUSED`: the same `Idempotency-Key` with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// 404 `JOB_NOT_FOUND`: no outbox job with this id (for this account and key).
    #[error("no outbox job `{0}`")]
    JobNotFound(String),
    /// 409 `JOB_NOT_CANCELLABLE`: the job was already handed to Telegram (or settled).
    #[error("{0}")]
    JobNotCancellable(String),
    /// 409 `JOB_NOT_RETRYABLE`: only `failed` and `dead` jobs can be requeued.
    #[error("{0}")]
    JobNotRetryable(String),
    /// 403 `FORBIDDEN`: Telegram refuses this account the action (read-only channel…).
    #[error("{message}")]
    Forbidden {
        message: String,
        telegram: Option<String>,
    },
    /// 429 `FLOOD_WAIT` with `Retry-After`: Telegram asks to wait longer than mtgate sleeps.
    #[error("Telegram asks to wait {} s before retrying", retry_after.as_secs())]
    FloodWait {
        retry_after: Duration,
        telegram: Option<String>,
    },
    /// 503 `TELEGRAM_UNAVAILABLE`: not connected to Telegram right now (reconnecting).
    #[error("{0}")]
    TelegramUnavailable(String),
    /// 503 `TELEGRAM_UNAVAILABLE` with `Retry-After`: with replicas, no replica holds the
    /// account right now (its holder died and the lease has not moved yet) or its holder
    /// cannot be reached.
    #[error("{0}")]
    AccountMoving(String),
    /// 503 `SESSION_UNAUTHORIZED`: the session is revoked or was never logged in.
    #[error("{message}")]
    SessionUnauthorized {
        message: String,
        telegram: Option<String>,
    },
    /// 503 `OVERLOADED` with `Retry-After`: shed at the edge (too many requests in flight).
    #[error("mtgate is serving as many requests as it allows; retry shortly")]
    Overloaded,
    /// 501 `NOT_SUPPORTED_BY_SANDBOX`: the sandbox Telegram does not model this operation
    /// (a limitation of the sandbox, not of the request).
    #[error("{message}")]
    NotSupportedBySandbox {
        message: String,
        telegram: Option<String>,
    },
    /// 413 `PAYLOAD_TOO_LARGE`: an uploaded file is over the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 408 `BODY_INCOMPLETE`: the request body stopped before its end (connection dropped,
    /// body timeout). Nothing was sent; not a final answer, so a retry with the same
    /// `Idempotency-Key` runs again.
    #[error("{0}")]
    BodyIncomplete(String),
    /// 416 `RANGE_NOT_SATISFIABLE`: a `Range` outside the file.
    #[error("{0}")]
    RangeNotSatisfiable(String),
    /// 403 `MEDIA_URL_DISABLED`: the operator has not allowed `media.url` (or this scheme)
    /// with `MTGATE_MEDIA_URL_SCHEMES`; a configuration refusal, not a bad request.
    #[error("{0}")]
    MediaUrlDisabled(String),
    /// 502 `MEDIA_URL_FAILED`: fetching `media.url` failed upstream (no answer, a non-2xx
    /// answer, an untrusted certificate, a body that stopped half-way). Nothing was sent.
    #[error("{0}")]
    MediaUrlFailed(String),
    /// 404 `EVENT_NOT_FOUND`: a `Last-Event-ID` past the end of the account's event log (a
    /// cursor from another log), which no event can follow.
    #[error("{0}")]
    EventNotFound(String),
    /// 504 `TIMEOUT`: the request did not finish within the per-request timeout.
    #[error("{0}")]
    Timeout(String),
    /// 500 `INTERNAL` (502 when `upstream`: an unexpected Telegram error). Logged with the
    /// request id where it is created.
    #[error("{message}")]
    Internal {
        message: String,
        telegram: Option<String>,
        upstream: bool,
    },
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    telegram: Option<&'a str>,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    /// The stable, SCREAMING_SNAKE `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::NoSuchEndpoint => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::KeyScope(_) => "KEY_SCOPE",
            Self::AccountNotFound(_) => "ACCOUNT_NOT_FOUND",
            Self::WebhookNotFound(_) => "WEBHOOK_NOT_FOUND",
            Self::PeerNotFound { .. } => "PEER_NOT_FOUND",
            Self::MessageNotFound { .. } => "MESSAGE_NOT_FOUND",
            Self::MessageTooLong { .. } => "MESSAGE_TOO_LONG",
            Self::MessageNotModified { .. } => "MESSAGE_NOT_MODIFIED",
            Self::IdempotencyConflict => "IDEMPOTENCY_KEY_REUSED",
            Self::JobNotFound(_) => "JOB_NOT_FOUND",
            Self::JobNotCancellable(_) => "JOB_NOT_CANCELLABLE",
            Self::JobNotRetryable(_) => "JOB_NOT_RETRYABLE",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::FloodWait { .. } => "FLOOD_WAIT",
            Self::TelegramUnavailable(_) | Self::AccountMoving(_) => "TELEGRAM_UNAVAILABLE",
            Self::Overloaded => "OVERLOADED",
            Self::SessionUnauthorized { .. } => "SESSION_UNAUTHORIZED",
            Self::NotSupportedBySandbox { .. } => "NOT_SUPPORTED_BY_SANDBOX",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::BodyIncomplete(_) => "BODY_INCOMPLETE",
            Self::RangeNotSatisfiable(_) => "RANGE_NOT_SATISFIABLE",
            Self::MediaUrlDisabled(_) => "MEDIA_URL_DISABLED",
            Self::MediaUrlFailed(_) => "MEDIA_URL_FAILED",
            Self::EventNotFound(_) => "EVENT_NOT_FOUND",
            Self::Timeout(_) => "TIMEOUT",
            Self::Internal { .. } => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) | Self::MessageTooLong { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::KeyScope(_) => StatusCode::FORBIDDEN,
            Self::AccountNotFound(_) | Self::WebhookNotFound(_) => StatusCode::NOT_FOUND,
            Self::NoSuchEndpoint => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PeerNotFound { .. } | Self::MessageNotFound { .. } => StatusCode::NOT_FOUND,
            Self::MessageNotModified { .. } | Self::IdempotencyConflict => StatusCode::CONFLICT,
            Self::JobNotFound(_) => StatusCode::NOT_FOUND,
            Self::JobNotCancellable(_) | Self::JobNotRetryable(_) => StatusCode::CONFLICT,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::FloodWait { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TelegramUnavailable(_)
            | Self::AccountMoving(_)
            | Self::SessionUnauthorized { .. }
            | Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotSupportedBySandbox { .. } => StatusCode::NOT_IMPLEMENTED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyIncomplete(_) => StatusCode::REQUEST_TIMEOUT,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::MediaUrlDisabled(_) => StatusCode::FORBIDDEN,
            Self::MediaUrlFailed(_) => StatusCode::BAD_GATEWAY,
            Self::EventNotFound(_) => StatusCode::NOT_FOUND,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal { upstream: true, .. } => StatusCode::BAD_GATEWAY,
            Self::Internal {
                upstream: false, ..
            } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The raw Telegram error name behind this error, when there is one.
    pub fn telegram(&self) -> Option<&str> {
        match self {
            Self::PeerNotFound { telegram, .. }
            | Self::MessageNotFound { telegram, .. }
            | Self::MessageTooLong { telegram, .. }
            | Self::MessageNotModified { telegram }
            | Self::Forbidden { telegram, .. }
            | Self::FloodWait { telegram, .. }
            | Self::SessionUnauthorized { telegram, .. }
            | Self::NotSupportedBySandbox { telegram, .. }
            | Self::Internal { telegram, .. } => telegram.as_deref(),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            Self::FloodWait { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            Self::Overloaded | Self::AccountMoving(_) => Some(1),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                retry_after,
                telegram: self.telegram(),
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(error: ApiError) -> (StatusCode, Option<HeaderValue>, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let retry = response.headers().get(header::RETRY_AFTER).cloned();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, retry, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn flood_wait_sets_retry_after_header_and_field() {
        let (status, retry, body) = body_json(ApiError::FloodWait {
            retry_after: Duration::from_secs(300),
            telegram: Some("FLOOD_WAIT_300".into()),
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.unwrap(), "300");
        assert_eq!(body["error"]["code"], "FLOOD_WAIT");
        assert_eq!(body["error"]["retry_after"], 300);
        assert_eq!(body["error"]["telegram"], "FLOOD_WAIT_300");
    }

    #[tokio::test]
    async fn invalid_request_has_no_retry_after_or_telegram_fields() {
        let (status, retry, body) = body_json(ApiError::invalid("`text` is required")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(retry.is_none());
        assert_eq!(body["error"]["code"], "INVALID_REQUEST");
        assert_eq!(body["error"]["message"], "`text` is required");
        assert!(body["error"].get("retry_after").is_none());
        assert!(body["error"].get("telegram").is_none());
    }

    #[test]
    fn upstream_internal_errors_are_502() {
        let e = ApiError::Internal {
            message: "x".into(),
            telegram: None,
            upstream: true,
        };
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }
}
