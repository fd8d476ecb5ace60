//! Middleware that decides synchronously, as plain tower layers: no boxed future and no boxed
//! inner service per request (axum's `from_fn` allocates both, and clones its state).
//!
//! - [`GuardLayer`]: a check that either lets the request through (possibly adding to its
//!   extensions) or answers at once (the API-key check).
//! - [`DeadlineLayer`]: the backstop deadline every request runs under (504 `TIMEOUT`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::api::ApiError;

/// A synchronous admission check.
pub trait Guard: Clone {
    /// `None` lets `request` through (after any change to it); `Some` is the answer instead.
    fn refusal(&self, request: &mut Request) -> Option<Response>;
}

/// Applies a [`Guard`] in front of a service.
#[derive(Clone)]
pub struct GuardLayer<G> {
    guard: G,
}

impl<G> GuardLayer<G> {
    pub fn new(guard: G) -> Self {
        Self { guard }
    }
}

impl<G: Clone, S> Layer<S> for GuardLayer<G> {
    type Service = Guarded<G, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded {
            guard: self.guard.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct Guarded<G, S> {
    guard: G,
    inner: S,
}

impl<G, S> Service<Request> for Guarded<G, S>
where
    G: Guard,
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        match self.guard.refusal(&mut request) {
            None => Either::Inner {
                inner: self.inner.call(request),
            },
            Some(response) => Either::Answered {
                response: Some(response),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, or one given without calling it.
    #[project = EitherProj]
    pub enum Either<F> {
        Inner { #[pin] inner: F },
        Answered { response: Option<Response> },
    }
}

impl<F, E> Future for Either<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            EitherProj::Inner { inner } => inner.poll(cx),
            EitherProj::Answered { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
        }
    }
}

/// How long a request may take: any, and a multipart upload (its body's time on top).
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    pub request: Duration,
    pub upload: Duration,
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            limits: *self,
            inner,
        }
    }
}

/// Answers 504 `TIMEOUT` when a request outlives its deadline.
#[derive(Clone)]
pub struct Deadline<S> {
    limits: DeadlineLayer,
    inner: S,
}

/// Whether the request's `Content-Type` starts with `prefix` (ASCII, any case), without
/// allocating (this runs on every request).
pub fn content_type_starts_with(headers: &HeaderMap, prefix: &str) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes().trim_ascii_start();
        v.len() >= prefix.len() && v[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

impl<S> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let limit = if content_type_starts_with(request.headers(), "multipart/") {
            self.limits.upload
        } else {
            self.limits.request
        };
        Timed {
            inner: tokio::time::timeout(limit, self.inner.call(request)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, or 504 `TIMEOUT` once the deadline passed.
    pub struct Timed<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
    }
}

impl<F, E> Future for Timed<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match std::task::ready!(self.project().inner.poll(cx)) {
            Ok(answer) => answer,
            Err(_) => {
                Ok(ApiError::Timeout("the request did not finish in time".into()).into_response())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    #[derive(Clone)]
    struct OnlyPost;

    impl Guard for OnlyPost {
        fn refusal(&self, request: &mut Request) -> Option<Response> {
            if request.method() == axum::http::Method::POST {
                request.extensions_mut().insert(7u8);
                None
            } else {
                Some(StatusCode::FORBIDDEN.into_response())
            }
        }
    }

    fn echo_extension() -> impl Service<Request, Response = Response, Error = Infallible> + Clone {
        tower::service_fn(|request: Request| async move {
            let seen = request.extensions().get::<u8>().copied().unwrap_or(0);
            Ok::<_, Infallible>(seen.to_string().into_response())
        })
    }

    fn request(method: &str, content_type: &str) -> Request {
        Request::builder()
            .method(method)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_guard_passes_its_changes_on_or_answers_without_calling_the_service() {
        let service = GuardLayer::new(OnlyPost).layer(echo_extension());
        let passed = service.clone().oneshot(request("POST", "x")).await.unwrap();
        let body = axum::body::to_bytes(passed.into_body(), 16).await.unwrap();
        assert_eq!(&body[..], b"7");
        let refused = service.oneshot(request("GET", "x")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_gets_a_json_timeout_and_uploads_get_longer() {
        let slow = tower::service_fn(|_: Request| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok::<_, Infallible>(StatusCode::OK.into_response())
        });
        let layer = DeadlineLayer {
            request: Duration::from_millis(50),
            upload: Duration::from_secs(10),
        };
        let service = layer.layer(slow);
        let late = service
            .clone()
            .oneshot(request("POST", "application/json"))
            .await
            .unwrap();
        assert_eq!(late.status(), StatusCode::GATEWAY_TIMEOUT);
        let bytes = axum::body::to_bytes(late.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "TIMEOUT");
        let upload = service
            .oneshot(request("POST", " Multipart/form-data; boundary=x"))
            .await
            .unwrap();
        assert_eq!(upload.status(), StatusCode::OK);
    }
}
