//! Load shedding: at most `MTGATE_HTTP_MAX_IN_FLIGHT` requests that may wait on Telegram are
//! served at once; the next one is answered `503 OVERLOADED` with `Retry-After` at once
//! instead of queueing without bound (queued requests are what held 89 MB after a burst).
//!
//! A plain tower layer: no boxed future, one semaphore `try_acquire` per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;
use tower::{Layer, Service};

use super::EdgeState;
use crate::api::ApiError;

/// Applies [`InFlightLimit`] with the edge's shared semaphore.
#[derive(Clone)]
pub struct InFlightLimitLayer {
    edge: Arc<EdgeState>,
}

impl InFlightLimitLayer {
    pub fn new(edge: Arc<EdgeState>) -> Self {
        Self { edge }
    }
}

impl<S> Layer<S> for InFlightLimitLayer {
    type Service = InFlightLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InFlightLimit {
            inner,
            edge: self.edge.clone(),
        }
    }
}

#[derive(Clone)]
pub struct InFlightLimit<S> {
    inner: S,
    edge: Arc<EdgeState>,
}

impl<S> Service<Request> for InFlightLimit<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Limited<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.edge.in_flight.clone().try_acquire_owned() {
            Ok(permit) => Limited::Admitted {
                inner: self.inner.call(request),
                permit,
            },
            Err(_) => {
                self.edge.record_request_shed();
                Limited::Shed {
                    response: Some(ApiError::Overloaded.into_response()),
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer holding its slot, or the 503 given at once.
    #[project = LimitedProj]
    pub enum Limited<F> {
        Admitted { #[pin] inner: F, permit: OwnedSemaphorePermit },
        Shed { response: Option<Response> },
    }
}

impl<F, E> Future for Limited<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LimitedProj::Admitted { inner, .. } => inner.poll(cx),
            LimitedProj::Shed { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| ApiError::Overloaded.into_response()))),
        }
    }
}
