//! The request body as the app sees it: cut off when it does not arrive in time (slow
//! "trickling" clients), and marked once read to the end, so an answer given before the body
//! was read can say `Connection: close` instead of leaving a half-read request on a
//! keep-alive connection.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a body stopped arriving.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} ms", .0.as_millis())]
pub struct BodyTimeout(pub Duration);

pin_project_lite::pin_project! {
    /// `B` with a deadline for the whole body and a flag set when its end is reached.
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        deadline: Instant,
        timeout: Duration,
        // Allocated only when the body has to be waited for.
        sleep: Option<Pin<Box<Sleep>>>,
        finished: Arc<AtomicBool>,
    }
}

impl<B: Body> TrackedBody<B> {
    /// Returns the body and its "read to the end" flag (already set for an empty body).
    pub fn new(inner: B, timeout: Duration, now: Instant) -> (Self, Arc<AtomicBool>) {
        let finished = Arc::new(AtomicBool::new(inner.is_end_stream()));
        let body = Self {
            inner,
            deadline: now + timeout,
            timeout,
            sleep: None,
            finished: finished.clone(),
        };
        (body, finished)
    }
}

impl<B> Body for TrackedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(None) => {
                this.finished.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame.map_err(Into::into))),
            Poll::Pending => {
                let deadline = *this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout(*this.timeout).into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn a_body_read_to_the_end_is_marked_finished() {
        let (body, finished) = TrackedBody::new(
            Full::new(Bytes::from_static(b"{}")),
            Duration::from_secs(1),
            Instant::now(),
        );
        assert!(!finished.load(Ordering::Acquire));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{}");
        assert!(finished.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn an_empty_body_counts_as_read() {
        let (_, finished) = TrackedBody::new(
            Full::new(Bytes::new()),
            Duration::from_secs(1),
            Instant::now(),
        );
        assert!(finished.load(Ordering::Acquire));
    }

    /// A body whose next frame never comes.
    struct Stalled;

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_stalls_fails_at_the_deadline() {
        let timeout = Duration::from_millis(60);
        let (body, finished) = TrackedBody::new(Stalled, timeout, Instant::now());
        let started = Instant::now();
        let error = body.collect().await.unwrap_err();
        assert!(error.to_string().contains("60 ms"), "{error}");
        assert!(started.elapsed() >= timeout);
        assert!(!finished.load(Ordering::Acquire));
    }
}
