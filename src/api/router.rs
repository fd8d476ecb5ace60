//! Assembles every route and layer into one axum Router.
//!
//! Layers, outermost first: request id (tower-http) → trace span → request deadline (JSON
//! 504; multipart uploads get `MTGATE_MEDIA_BODY_TIMEOUT` more) → body limit; the in-flight cap and the API-key check wrap only
//! the `/v1` and `/telegram` routes (session, messages, peers), so
//! health probes, `/metrics` and the OpenAPI document (`/openapi.json`) need no key.

use std::time::Duration;

use axum::Router;
use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::edge::guard::{DeadlineLayer, GuardLayer};
use super::edge::shed::InFlightLimitLayer;
use super::forward::{self, Forwarder};
use super::request_id::{self, RandomId};
use super::{
    ApiError, AppState, accounts_routes, auth, chats, cluster, events, health, jobs, media,
    messages, metrics, openapi, outbox, peers, session, webhooks,
};

/// Largest request body accepted; larger ones are refused by the JSON extractor with 400.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole HTTP API, ready to serve.
pub fn router(state: AppState) -> Router {
    let request_timeout = request_timeout(&state);
    // Every route that acts on an account (also reached as /v1/accounts/{account}/…).
    let mut protected = Router::new()
        .merge(session::routes())
        .merge(messages::routes())
        .merge(messages::actions::routes())
        .merge(media::routes())
        .merge(chats::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(peers::routes())
        .merge(outbox::routes())
        .merge(jobs::routes())
        .merge(cluster::routes());
    if let Some(cluster) = &state.cluster {
        // Inside the key check (which chose the account): requests for accounts held by
        // another replica go there. Only with replicas, so one process pays nothing.
        protected = protected.route_layer(middleware::from_fn_with_state(
            Forwarder::new(cluster.clone(), state.outgoing.replicas().clone()),
            forward::to_holder,
        ));
    }
    let protected = protected
        .route_layer(GuardLayer::new(auth::Authorize(state.clone())))
        // Outside the key check: shedding is the cheapest answer there is.
        .route_layer(InFlightLimitLayer::new(state.edge.clone()));
    let app = Router::new()
        .merge(health::routes())
        .merge(metrics::routes())
        .merge(openapi::routes())
        .merge(protected)
        .fallback(|| async { ApiError::NoSuchEndpoint })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            // Outermost first. Library layers with plain (unboxed) futures.
            ServiceBuilder::new()
                .layer(MapRequestLayer::new(request_id::drop_unacceptable))
                .layer(SetRequestIdLayer::new(request_id::HEADER, RandomId))
                .layer(PropagateRequestIdLayer::new(request_id::HEADER))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            tracing::info_span!(
                                "http_request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id = %request_id::of(request),
                                key = tracing::field::Empty,
                                account = tracing::field::Empty,
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        .on_failure(()),
                )
                .layer(MapResponseLayer::new(json_timeout_body))
                // Uploads get their body's time on top (`MTGATE_MEDIA_BODY_TIMEOUT`).
                .layer(DeadlineLayer {
                    request: request_timeout,
                    upload: request_timeout + state.config.media.body_timeout,
                }),
        )
        .with_state(state);
    accounts_routes::with_account_paths(app)
}

/// tower-http's timeout answers an empty 504; every error here is JSON. (The handlers' own
/// 504s always have a body, so an empty one can only be the backstop's.)
fn json_timeout_body(response: Response) -> Response {
    let bare_timeout = response.status() == StatusCode::GATEWAY_TIMEOUT
        && response.body().size_hint().exact() == Some(0);
    if bare_timeout {
        ApiError::Timeout("the request did not finish in time".into()).into_response()
    } else {
        response
    }
}

/// Longest a request may take: two Telegram calls (resolve, then act) plus slack.
fn request_timeout(state: &AppState) -> Duration {
    state.config.flood_sleep_max * 2 + Duration::from_secs(60)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    #[tokio::test]
    async fn the_backstop_timeouts_empty_504_becomes_a_json_timeout_error() {
        let bare = Response::builder()
            .status(StatusCode::GATEWAY_TIMEOUT)
            .body(Body::empty())
            .unwrap();
        let fixed = json_timeout_body(bare);
        assert_eq!(fixed.status(), StatusCode::GATEWAY_TIMEOUT);
        let bytes = axum::body::to_bytes(fixed.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "TIMEOUT");

        let own = ApiError::Timeout("the Telegram call timed out".into()).into_response();
        let kept = json_timeout_body(own);
        let bytes = axum::body::to_bytes(kept.into_body(), 4096).await.unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("the Telegram call timed out"));
    }
}
