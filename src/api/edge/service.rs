//! The per-connection service hyper calls for each request: marks the connection busy while
//! the app answers, gives the app a [`TrackedBody`], and adds `Connection: close` to an answer
//! given before the request body was read to the end (hyper cannot reuse such a connection,
//! and a keep-alive client must be told rather than find it broken on its next request).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use tokio::time::Instant;

use super::body::TrackedBody;
use super::conn::Activity;
use super::guard::content_type_starts_with;

/// One connection's view of the app.
#[derive(Clone)]
pub struct ConnService {
    app: Router,
    activity: Arc<Activity>,
    body_timeout: Duration,
    /// For `multipart/form-data` bodies (media uploads), which may be large.
    upload_body_timeout: Duration,
}

impl ConnService {
    pub fn new(app: Router, activity: Arc<Activity>, body_timeout: Duration) -> Self {
        Self {
            app,
            activity,
            body_timeout,
            upload_body_timeout: body_timeout,
        }
    }

    pub fn with_upload_body_timeout(mut self, timeout: Duration) -> Self {
        self.upload_body_timeout = timeout;
        self
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = ConnFuture;

    fn call(&self, request: Request<Incoming>) -> ConnFuture {
        self.activity.request_started();
        let busy = Busy(self.activity.clone());
        let (parts, body) = request.into_parts();
        let timeout = if content_type_starts_with(&parts.headers, "multipart/form-data") {
            self.upload_body_timeout
        } else {
            self.body_timeout
        };
        let (body, body_read) = TrackedBody::new(body, timeout, Instant::now());
        let request = Request::from_parts(parts, body);
        let inner = tower::Service::call(&mut self.app.clone(), request);
        ConnFuture {
            inner,
            body_read,
            busy: Some(busy),
        }
    }
}

/// Marks the connection idle again when the answer (head and body) is done or abandoned.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_finished(Instant::now());
    }
}

pin_project_lite::pin_project! {
    /// The app's answer, with `Connection: close` when the body was left unread.
    pub struct ConnFuture {
        #[pin]
        inner: RouteFuture<Infallible>,
        body_read: Arc<AtomicBool>,
        busy: Option<Busy>,
    }
}

pin_project_lite::pin_project! {
    /// An answer's body that keeps the connection busy until it is sent (or dropped): a
    /// streamed answer (`GET /v1/events`) is not an idle connection.
    struct HoldBusy {
        #[pin]
        inner: axum::body::Body,
        busy: Option<Busy>,
    }
}

impl http_body::Body for HoldBusy {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Future for ConnFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = std::task::ready!(this.inner.poll(cx));
        if !this.body_read.load(Ordering::Acquire) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        let busy = this.busy.take();
        Poll::Ready(Ok(
            response.map(|inner| axum::body::Body::new(HoldBusy { inner, busy }))
        ))
    }
}
