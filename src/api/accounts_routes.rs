//! `/v1/accounts/{account}/…`: every `/v1/…` route again, for a named account.
//!
//! Rather than registering each route twice, one catch-all route strips the prefix and hands
//! the request to the same routes `/v1/…` uses; the auth layer has already put the chosen
//! account in the request's extensions (see [`super::account`]), so handlers never know the
//! difference. `/v1/accounts/{account}/session/status` is the per-account form of
//! `/telegram/session/status`.

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower::ServiceExt;

use super::{ApiError, AppState};

/// What every account-scoped path starts with.
pub const ACCOUNTS_PREFIX: &str = "/v1/accounts/";

/// The path an account-scoped path stands for, or `None` when there is nothing after the
/// account's name.
pub fn unprefixed(path: &str) -> Option<String> {
    let rest = path.strip_prefix(ACCOUNTS_PREFIX)?;
    let (_account, rest) = rest.split_once('/')?;
    match rest {
        "" => None,
        "session/status" => Some("/telegram/session/status".into()),
        rest => Some(format!("/v1/{rest}")),
    }
}

/// The catch-all route over `routes` (the account-less routes, given their state here).
pub fn mirror(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    let inner = routes
        .fallback(|| async { ApiError::NoSuchEndpoint })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state);
    Router::new().route(
        "/v1/accounts/{account}/{*rest}",
        any(move |request: Request| forward(inner.clone(), request)),
    )
}

async fn forward(inner: Router, mut request: Request) -> Response {
    let Some(path) = unprefixed(request.uri().path()) else {
        return ApiError::NoSuchEndpoint.into_response();
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = match path_and_query.parse() {
        Ok(pq) => Some(pq),
        Err(_) => return ApiError::NoSuchEndpoint.into_response(),
    };
    match Uri::from_parts(parts) {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return ApiError::NoSuchEndpoint.into_response(),
    }
    match inner.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_paths_map_onto_the_plain_routes() {
        assert_eq!(
            unprefixed("/v1/accounts/alice/messages").as_deref(),
            Some("/v1/messages")
        );
        assert_eq!(
            unprefixed("/v1/accounts/alice/messages/%40bob/3").as_deref(),
            Some("/v1/messages/%40bob/3")
        );
        assert_eq!(
            unprefixed("/v1/accounts/alice/session/status").as_deref(),
            Some("/telegram/session/status")
        );
        assert_eq!(unprefixed("/v1/accounts/alice/"), None);
        assert_eq!(unprefixed("/v1/accounts/alice"), None);
        assert_eq!(unprefixed("/v1/messages"), None);
    }
}
