//! Per-connection timing: what a connection is doing (waiting for a request head, serving
//! requests, idle between them) and the I/O wrapper that closes it when a head takes too long
//! or it sits idle too long. hyper 1 has no idle keep-alive timeout of its own, and its header
//! timer also runs while a keep-alive connection idles, so both are kept here instead.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What the connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Between requests, no byte of the next one yet.
    Idle { since: Instant },
    /// Part of a request head has arrived (or the connection is new).
    Head { since: Instant },
    /// This many requests are being answered.
    Busy { requests: usize },
}

/// Shared by a connection's I/O wrapper and its service.
#[derive(Debug)]
pub struct Activity {
    phase: Mutex<Phase>,
    /// The reader parked while serving (no deadline then): woken when the connection turns
    /// idle, so the idle deadline is armed even if the client sends nothing more.
    parked: Mutex<Option<Waker>>,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl Activity {
    /// A new connection: its first request head must arrive within the header timeout.
    pub fn new(header_timeout: Duration, idle_timeout: Duration, now: Instant) -> Self {
        Self {
            phase: Mutex::new(Phase::Head { since: now }),
            parked: Mutex::new(None),
            header_timeout,
            idle_timeout,
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived: an idle connection starts a request head.
    pub fn bytes_read(&self, now: Instant) {
        let mut phase = self.phase();
        if let Phase::Idle { .. } = *phase {
            *phase = Phase::Head { since: now };
        }
    }

    /// A request head is complete and handed to the app.
    pub fn request_started(&self) {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy { requests } => Phase::Busy {
                requests: requests + 1,
            },
            _ => Phase::Busy { requests: 1 },
        };
    }

    /// A request was answered (or abandoned).
    pub fn request_finished(&self, now: Instant) {
        let mut phase = self.phase();
        if let Phase::Busy { requests } = *phase {
            *phase = if requests > 1 {
                Phase::Busy {
                    requests: requests - 1,
                }
            } else {
                Phase::Idle { since: now }
            };
        }
        let idle = matches!(*phase, Phase::Idle { .. });
        drop(phase);
        if idle && let Some(waker) = self.parked.lock().unwrap_or_else(|p| p.into_inner()).take() {
            waker.wake();
        }
    }

    /// Remembers the reader to wake when the connection turns idle.
    fn park(&self, waker: &Waker) {
        let mut parked = self.parked.lock().unwrap_or_else(|p| p.into_inner());
        if !parked.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *parked = Some(waker.clone());
        }
    }

    /// When the connection must be closed if nothing changes; `None` while serving.
    pub fn deadline(&self) -> Option<Instant> {
        match *self.phase() {
            Phase::Idle { since } => Some(since + self.idle_timeout),
            Phase::Head { since } => Some(since + self.header_timeout),
            Phase::Busy { .. } => None,
        }
    }
}

/// The socket, failing reads with `TimedOut` once [`Activity::deadline`] passes (hyper then
/// drops the connection). The timer is allocated only for a connection that has to wait.
pub struct TimedIo<T> {
    inner: T,
    activity: Arc<Activity>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<T> TimedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            activity,
            sleep: None,
        }
    }

    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(deadline) = self.activity.deadline() else {
            self.activity.park(cx.waker());
            return Poll::Pending;
        };
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client was idle or too slow sending a request head",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.bytes_read(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: Duration = Duration::from_secs(2);
    const IDLE: Duration = Duration::from_secs(9);

    #[test]
    fn a_new_connection_has_the_header_timeout_and_serving_has_none() {
        let t0 = Instant::now();
        let a = Activity::new(HEAD, IDLE, t0);
        assert_eq!(a.deadline(), Some(t0 + HEAD));
        a.request_started();
        assert_eq!(a.deadline(), None);
    }

    #[test]
    fn after_the_last_answer_the_idle_timeout_runs_until_bytes_start_a_head() {
        let t0 = Instant::now();
        let a = Activity::new(HEAD, IDLE, t0);
        a.request_started();
        a.request_started();
        a.request_finished(t0 + Duration::from_secs(1));
        assert_eq!(a.deadline(), None, "one request still being answered");
        let t1 = t0 + Duration::from_secs(2);
        a.request_finished(t1);
        assert_eq!(a.deadline(), Some(t1 + IDLE));
        let t2 = t1 + Duration::from_secs(5);
        a.bytes_read(t2);
        assert_eq!(a.deadline(), Some(t2 + HEAD));
        a.bytes_read(t2 + Duration::from_secs(1));
        assert_eq!(
            a.deadline(),
            Some(t2 + HEAD),
            "trickling does not extend it"
        );
    }

    #[tokio::test]
    async fn a_silent_peer_is_cut_off_at_the_deadline() {
        use tokio::io::AsyncReadExt;
        const HEAD: Duration = Duration::from_millis(60);
        let (client, server) = tokio::io::duplex(64);
        let activity = Arc::new(Activity::new(HEAD, IDLE, Instant::now()));
        let mut io = TimedIo::new(server, activity);
        let started = Instant::now();
        let mut buf = [0u8; 8];
        let error = io.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= HEAD);
        drop(client);
    }
}
