//! With replicas: a request for an account another replica holds is passed to that replica
//! as it came (method, path, query, headers, streamed body) and its answer passed back, so
//! callers can use any replica for anything.
//!
//! The holder is read from the cluster's view (refreshed every lease round, and again when a
//! forward fails). A forwarded request carries `x-mtgate-forwarded`; a replica never forwards
//! such a request again, so two replicas with stale views cannot bounce it between them —
//! the request is then served here, where the closed lease gate refuses Telegram calls.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::account::SelectedAccount;
use crate::cluster::Cluster;
use crate::outgoing::ReplicaClient;

/// Marks a request one replica passed to another (its value: the sender's replica id).
pub const FORWARDED: HeaderName = HeaderName::from_static("x-mtgate-forwarded");

/// Routes served by whichever replica receives them (they need no Telegram connection).
const LOCAL_PATHS: &[&str] = &["/v1/cluster"];

/// Headers that describe one connection, not the request (RFC 9110, 7.6.1).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// The cluster and an HTTP(S) client to the other replicas.
pub struct Forwarder {
    cluster: Arc<Cluster>,
    client: ReplicaClient,
}

impl Forwarder {
    pub fn new(cluster: Arc<Cluster>, client: ReplicaClient) -> Arc<Self> {
        Arc::new(Self { cluster, client })
    }
}

/// Middleware (inside the auth layer, which chose the account): serves requests for
/// accounts held here, forwards the others to their holder.
pub async fn to_holder(
    State(forwarder): State<Arc<Forwarder>>,
    request: Request,
    next: Next,
) -> Response {
    let account = match request.extensions().get::<SelectedAccount>() {
        Some(SelectedAccount(account)) => account.name().to_owned(),
        None => return next.run(request).await,
    };
    let cluster = &forwarder.cluster;
    let local = cluster.holds(&account)
        || request.headers().contains_key(&FORWARDED)
        || LOCAL_PATHS.contains(&request.uri().path());
    if local {
        return next.run(request).await;
    }
    let mut holder = cluster.live_holder(&cluster.view(), &account);
    if holder.as_ref().is_none_or(|h| h.id == cluster.id()) {
        // Nobody, or ourselves while our gate is closed: the view may be stale; read it again.
        holder = cluster.live_holder(&cluster.refresh().await, &account);
    }
    let Some(holder) = holder else {
        return ApiError::AccountMoving(format!(
            "no replica holds account `{account}` right now (it moves within {} s of its holder stopping); retry shortly",
            cluster.lease_ttl().as_secs().max(1)
        ))
        .into_response();
    };
    if holder.id == cluster.id() {
        // Still ours in the database: a renewal is on its way; serve here.
        return next.run(request).await;
    }
    match forward(&forwarder, request, &holder.address, &account).await {
        Ok(response) => response,
        Err(why) => {
            tracing::warn!(%account, holder = %holder.id, error = %why, "could not forward to the holder");
            cluster.refresh().await;
            ApiError::AccountMoving(format!(
                "the replica holding account `{account}` did not answer; retry shortly"
            ))
            .into_response()
        }
    }
}

async fn forward(
    forwarder: &Forwarder,
    request: Request,
    base: &str,
    account: &str,
) -> Result<Response, String> {
    let (mut parts, body) = request.into_parts();
    let uri = holder_uri(base, account, &parts.uri)?;
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    let from =
        axum::http::HeaderValue::from_str(forwarder.cluster.id()).map_err(|e| e.to_string())?;
    parts.headers.insert(FORWARDED, from);
    parts.uri = uri;
    let answer = forwarder
        .client
        .request(Request::from_parts(parts, body))
        .await
        .map_err(|e| crate::outgoing::describe_forward(&e))?;
    let (mut parts, body) = answer.into_parts();
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// `base` + the account-explicit form of `uri` (`/v1/…` → `/v1/accounts/{account}/…`), so the
/// holder acts on the same account whichever path form the caller used.
fn holder_uri(base: &str, account: &str, uri: &Uri) -> Result<Uri, String> {
    let path = uri.path();
    let rest = path.strip_prefix("/v1").unwrap_or(path);
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{base}/v1/accounts/{account}{rest}{query}")
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_paths_name_the_account_and_keep_the_query() {
        let uri: Uri = "/v1/messages/@chan?limit=5".parse().unwrap();
        assert_eq!(
            holder_uri("http://10.0.0.2:8000", "alice", &uri).unwrap(),
            "http://10.0.0.2:8000/v1/accounts/alice/messages/@chan?limit=5"
        );
        let plain: Uri = "/v1/messages".parse().unwrap();
        assert_eq!(
            holder_uri("http://h:1", "default", &plain).unwrap(),
            "http://h:1/v1/accounts/default/messages"
        );
    }
}
