//! Assembles every route and layer into one axum Router.
//!
//! Layers, outermost first: request id → trace span → request timeout → body limit; the
//! API-key check wraps only the `/v1` and `/telegram` routes (session, messages, peers), so
//! health probes, `/metrics` and the OpenAPI document (`/openapi.json`) need no key.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::edge::shed::InFlightLimitLayer;
use super::request_id::{self, RequestId};
use super::{ApiError, AppState, auth, health, messages, metrics, openapi, peers, session};

/// Largest request body accepted; larger ones are refused by the JSON extractor with 400.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole HTTP API, ready to serve.
pub fn router(state: AppState) -> Router {
    let request_timeout = request_timeout(&state);
    let protected = Router::new()
        .merge(session::routes())
        .merge(messages::routes())
        .merge(peers::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ))
        // Outside the key check: shedding is the cheapest answer there is.
        .route_layer(InFlightLimitLayer::new(state.edge.clone()));
    Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
        .merge(protected)
        .fallback(|| async { ApiError::NoSuchEndpoint })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            with_timeout(request_timeout, request, next)
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .map(|id| id.0.as_str())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "http_request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(()),
        )
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Longest a request may take: two Telegram calls (resolve, then act) plus slack.
fn request_timeout(state: &AppState) -> Duration {
    state.config.flood_sleep_max * 2 + Duration::from_secs(60)
}

async fn with_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(format!(
            "the request did not finish within {} s",
            limit.as_secs()
        ))
        .into_response(),
    }
}
