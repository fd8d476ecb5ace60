//! Our retry policy for the grammers sender pool: what a single call retries by itself.
//!
//! - `FLOOD_WAIT` (code 420 with a value) is slept through while the total stays within
//!   `MTGATE_FLOOD_SLEEP_MAX`; longer waits go back to the caller, who answers 429.
//! - An I/O error is retried once after a short delay: the pool opens a fresh connection for
//!   the retry, which covers a connection that died just before the call.
//!
//! Everything else fails at once; reconnecting is the supervisor's job, not the call's.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use grammers_mtsender::{InvocationError, RetryContext, RetryPolicy, RpcError};

use super::metrics::{FloodOutcome, Metrics};

/// Flood waits slept per call at most (the first try plus this many retries).
const MAX_FLOOD_RETRIES: u32 = 2;

pub struct GatewayRetryPolicy {
    flood_sleep_max: Duration,
    io_retry_delay: Duration,
    metrics: Arc<Metrics>,
}

impl GatewayRetryPolicy {
    pub fn new(flood_sleep_max: Duration, io_retry_delay: Duration, metrics: Arc<Metrics>) -> Self {
        Self {
            flood_sleep_max,
            io_retry_delay,
            metrics,
        }
    }
}

impl RetryPolicy for GatewayRetryPolicy {
    fn should_retry(&self, ctx: &RetryContext) -> ControlFlow<(), Duration> {
        match &ctx.error {
            InvocationError::Rpc(RpcError {
                code: 420,
                value: Some(seconds),
                ..
            }) => {
                let wait = Duration::from_secs(u64::from(*seconds));
                if ctx.fail_count.get() <= MAX_FLOOD_RETRIES
                    && ctx.slept_so_far + wait <= self.flood_sleep_max
                {
                    self.metrics.record_flood_wait(FloodOutcome::Slept);
                    tracing::info!(wait_s = seconds, "sleeping through a flood wait");
                    ControlFlow::Continue(wait)
                } else {
                    self.metrics.record_flood_wait(FloodOutcome::Returned);
                    ControlFlow::Break(())
                }
            }
            InvocationError::Io(_) if ctx.fail_count.get() == 1 => {
                ControlFlow::Continue(self.io_retry_delay)
            }
            _ => ControlFlow::Break(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn policy(max_secs: u64) -> (GatewayRetryPolicy, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let policy = GatewayRetryPolicy::new(
            Duration::from_secs(max_secs),
            Duration::from_millis(50),
            metrics.clone(),
        );
        (policy, metrics)
    }

    fn ctx(error: InvocationError, fail_count: u32, slept: u64) -> RetryContext {
        RetryContext {
            fail_count: NonZeroU32::new(fail_count).unwrap(),
            slept_so_far: Duration::from_secs(slept),
            error,
        }
    }

    fn flood(seconds: u32) -> InvocationError {
        InvocationError::Rpc(RpcError {
            code: 420,
            name: "FLOOD_WAIT".into(),
            value: Some(seconds),
            caused_by: None,
        })
    }

    #[test]
    fn a_short_flood_wait_is_slept_and_counted() {
        let (policy, metrics) = policy(10);
        assert_eq!(
            policy.should_retry(&ctx(flood(3), 1, 0)),
            ControlFlow::Continue(Duration::from_secs(3))
        );
        assert!(
            metrics
                .render(super::super::health::ConnectionState::Connected)
                .contains("mtgate_telegram_flood_waits_total{outcome=\"slept\"} 1")
        );
    }

    #[test]
    fn a_flood_wait_beyond_the_limit_is_returned() {
        let (policy, metrics) = policy(10);
        assert_eq!(
            policy.should_retry(&ctx(flood(30), 1, 0)),
            ControlFlow::Break(())
        );
        assert_eq!(
            policy.should_retry(&ctx(flood(6), 2, 5)),
            ControlFlow::Break(())
        );
        assert_eq!(
            policy.should_retry(&ctx(flood(1), 3, 2)),
            ControlFlow::Break(())
        );
        assert!(
            metrics
                .render(super::super::health::ConnectionState::Connected)
                .contains("mtgate_telegram_flood_waits_total{outcome=\"returned\"} 3")
        );
    }

    #[test]
    fn a_zero_limit_never_sleeps() {
        let (policy, _) = policy(0);
        assert_eq!(
            policy.should_retry(&ctx(flood(1), 1, 0)),
            ControlFlow::Break(())
        );
    }

    #[test]
    fn io_errors_are_retried_once() {
        let (policy, _) = policy(10);
        let io = || InvocationError::Io(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(
            policy.should_retry(&ctx(io(), 1, 0)),
            ControlFlow::Continue(Duration::from_millis(50))
        );
        assert_eq!(
            policy.should_retry(&ctx(io(), 2, 0)),
            ControlFlow::Break(())
        );
    }

    #[test]
    fn other_rpc_errors_are_not_retried() {
        let (policy, _) = policy(10);
        let error = InvocationError::Rpc(RpcError {
            code: 400,
            name: "PEER_ID_INVALID".into(),
            value: None,
            caused_by: None,
        });
        assert_eq!(
            policy.should_retry(&ctx(error, 1, 0)),
            ControlFlow::Break(())
        );
    }
}
