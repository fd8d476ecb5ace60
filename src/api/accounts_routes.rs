//! `/v1/accounts/{account}/…`: every `/v1/…` route again, for a named account.
//!
//! Rather than registering each route twice, the path is rewritten before routing:
//! `/v1/accounts/NAME/REST` becomes `/v1/REST`, with `NAME` kept in the request's extensions
//! ([`RequestedAccount`]) for the auth layer, which picks the account (see [`super::auth`]).
//! Handlers never know the difference. `/v1/accounts/{account}/session/status` is the
//! per-account form of `/telegram/session/status`.
//!
//! (Routing first and forwarding afterwards would leave the outer route's path parameters in
//! the request, where the inner handlers' `Path` extractors would find them.)

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use tower::ServiceExt;

/// What every account-scoped path starts with.
pub const ACCOUNTS_PREFIX: &str = "/v1/accounts/";

/// The account a `/v1/accounts/{account}/…` path named, as written (not yet validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedAccount(pub String);

/// The account named by an account-scoped path and the path it stands for; `None` for any
/// other path, or when nothing follows the account's name.
pub fn unprefixed(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix(ACCOUNTS_PREFIX)?;
    let (account, rest) = rest.split_once('/')?;
    let target = match rest {
        "" => return None,
        "session/status" => "/telegram/session/status".into(),
        rest => format!("/v1/{rest}"),
    };
    Some((account, target))
}

/// `router`, reached by its own paths and by the account-scoped ones.
pub fn with_account_paths(router: Router) -> Router {
    Router::new().fallback_service(router.map_request(rewrite))
}

fn rewrite(mut request: Request) -> Request {
    let Some((account, path)) = unprefixed(request.uri().path()) else {
        return request;
    };
    let account = RequestedAccount(account.to_owned());
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = request.uri().clone().into_parts();
    // The new path is a suffix of a valid one with a fixed prefix: it always parses; if it
    // ever did not, the request keeps its path and ends in the 404 fallback.
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
            request.extensions_mut().insert(account);
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_paths_map_onto_the_plain_routes() {
        let mapped = |path| unprefixed(path).map(|(a, p)| (a.to_owned(), p));
        let alice = |p: &str| Some(("alice".to_owned(), p.to_owned()));
        assert_eq!(mapped("/v1/accounts/alice/messages"), alice("/v1/messages"));
        assert_eq!(
            mapped("/v1/accounts/alice/messages/%40bob/3"),
            alice("/v1/messages/%40bob/3")
        );
        assert_eq!(
            mapped("/v1/accounts/alice/session/status"),
            alice("/telegram/session/status")
        );
        assert_eq!(mapped("/v1/accounts/alice/"), None);
        assert_eq!(mapped("/v1/accounts/alice"), None);
        assert_eq!(mapped("/v1/messages"), None);
    }

    #[test]
    fn a_rewritten_request_keeps_its_query_and_names_its_account() {
        let request = Request::builder()
            .uri("/v1/accounts/alice/messages/me?limit=5")
            .body(axum::body::Body::empty())
            .unwrap();
        let request = rewrite(request);
        assert_eq!(request.uri(), "/v1/messages/me?limit=5");
        assert_eq!(
            request.extensions().get::<RequestedAccount>(),
            Some(&RequestedAccount("alice".into()))
        );
        let plain = rewrite(
            Request::builder()
                .uri("/v1/messages")
                .body(axum::body::Body::empty())
                .unwrap(),
        );
        assert!(plain.extensions().get::<RequestedAccount>().is_none());
    }
}
