//! What every Telegram call goes through: a span, the deadline, metrics and the stall
//! watch; and what a failed call means for the connection's health.

use std::future::Future;
use std::time::Instant;

use grammers_client::InvocationError;
use tracing::Instrument;

use super::Shared;
use crate::telegram::TelegramError;

/// Runs `fut` in a `telegram_call` span with a deadline, and records its outcome and latency.
pub(in crate::telegram) async fn timed_call<T>(
    shared: &Shared,
    method: &'static str,
    fut: impl Future<Output = Result<T, InvocationError>>,
) -> Result<T, TelegramError> {
    let span = tracing::info_span!(
        "telegram_call",
        method,
        outcome = tracing::field::Empty,
        latency_ms = tracing::field::Empty
    );
    async {
        let started = Instant::now();
        let result = match tokio::time::timeout(shared.options.call_timeout, fut).await {
            Ok(result) => result.map_err(TelegramError::from),
            Err(_) => Err(TelegramError::Timeout),
        };
        let latency = started.elapsed();
        let outcome = match &result {
            Ok(_) => {
                shared.stall.succeeded();
                "ok"
            }
            Err(error) => error.outcome_label(),
        };
        let span = tracing::Span::current();
        span.record("outcome", outcome);
        span.record("latency_ms", latency.as_secs_f64() * 1000.0);
        shared.metrics.record_call(method, outcome, Some(latency));
        if let Err(error) = &result {
            tracing::info!(method, outcome, error = %error, "Telegram call failed");
        }
        result
    }
    .instrument(span)
    .await
}

/// Health bookkeeping for a failed call.
pub(super) fn note_failure(shared: &Shared, error: &TelegramError) {
    match error {
        TelegramError::Unauthorized { name } if shared.health.set_unauthorized(name.clone()) => {
            tracing::warn!(
                error = %name,
                "the Telegram session is no longer authorized; not retrying"
            );
        }
        TelegramError::Unavailable(why) => {
            if shared.health.set_unreachable(why.clone()) {
                tracing::warn!(error = %why, "lost the Telegram connection; reconnecting");
            }
            shared.wake.notify_one();
        }
        // Another 401 (e.g. the key lost its user mid-way): let a probe decide.
        TelegramError::Refused(r) if r.code == 401 => shared.wake.notify_one(),
        // A call that hangs may mean a connection that hangs: a probe tells (and degrades
        // health when it times out too).
        TelegramError::Timeout => shared.wake.notify_one(),
        _ => {}
    }
}

/// The Telegram error name kept in `last_error` when unauthorized (for the API's `telegram`
/// field); anything that is not a bare error name becomes a generic one.
pub(super) fn unauthorized_name(last_error: &str) -> String {
    let is_name = !last_error.is_empty()
        && last_error
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if is_name {
        last_error.to_owned()
    } else {
        "AUTH_KEY_UNREGISTERED".into()
    }
}
