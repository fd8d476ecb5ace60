//! `GET /v1/peers/{peer}`, and the peer and deadline helpers every `/v1` handler shares.

use std::future::Future;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::account::{CurrentAccount, RequestAccount};
use super::json::{ApiPath, json_response};
use super::schemas::PeerType;
use super::{ApiError, AppState};
use crate::accounts::Account;
use crate::domain::{Peer, PeerSpec};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/peers/{peer}", get(get_peer))
}

/// A peer as `GET /v1/peers/{peer}` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerInfo {
    /// Bot-API-style id: `123` user, `-123` group, `-100…` channel or supergroup.
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: PeerType,
    /// The primary public username, without `@`, if it has one.
    pub username: Option<String>,
    /// The chat's title, or the user's full name.
    pub title: Option<String>,
}

impl From<Peer> for PeerInfo {
    fn from(peer: Peer) -> Self {
        Self {
            id: peer.id,
            kind: peer.kind.into(),
            username: peer.username,
            title: peer.title,
        }
    }
}

/// Looks a peer up (from the cache when it is known).
#[utoipa::path(
    get,
    path = "/v1/peers/{peer}",
    tag = "peers",
    params(("peer" = String, Path, description = "`@username`, `username`, `t.me/username`, a Bot-API id (`123`, `-123`, `-100123`) or `me`")),
    responses(
        (status = 200, description = "The peer", body = PeerInfo),
        (status = 400, description = "Not a valid peer", body = super::openapi::ErrorBody),
        (status = 404, description = "No such peer", body = super::openapi::ErrorBody),
        (status = 504, description = "Timed out", body = super::openapi::ErrorBody),
        super::openapi::TelegramErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_peer(
    CurrentAccount(account): CurrentAccount,
    ApiPath(peer): ApiPath<String>,
) -> Result<Response, Logged> {
    let spec = peer_spec(&account, Some(&peer))?;
    let work = async {
        let peer = account.describe(&spec).await?;
        Ok(json_response(StatusCode::OK, &PeerInfo::from(peer)))
    };
    Ok(within_deadline(&account, work).await)
}

/// The peer a request names, or the account's default peer when it names none — refused
/// with 403 `KEY_SCOPE` when the request's key may not use that chat.
pub fn peer_spec(account: &RequestAccount, named: Option<&str>) -> Result<PeerSpec, ApiError> {
    let spec = match named {
        Some(raw) => {
            PeerSpec::parse(raw).map_err(|why| ApiError::invalid(format!("invalid peer: {why}")))
        }
        None => account.default_peer().cloned().ok_or_else(|| {
            ApiError::invalid(match account.name() {
                crate::accounts::DEFAULT_ACCOUNT => {
                    "no `peer` given and no MTGATE_DEFAULT_PEER configured".to_string()
                }
                name => format!(
                    "no `peer` given and the account `{name}` has no `default_peer` in \
                     MTGATE_ACCOUNTS_FILE"
                ),
            })
        }),
    }?;
    account.check_chat(&spec)?;
    Ok(spec)
}

/// Runs `work` under the account's request deadline and turns its outcome into a response.
pub async fn within_deadline<F>(account: &Account, work: F) -> Response
where
    F: Future<Output = Result<Response, ApiError>>,
{
    let limit = account.request_timeout();
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_logged(),
        Err(_) => ApiError::Timeout(format!(
            "the request did not finish within {} s",
            limit.as_secs()
        ))
        .into_logged(),
    }
}

/// Turning an error into a response, logging the unexpected ones (inside the request's span,
/// so the log line carries its request id).
pub trait IntoLogged {
    fn into_logged(self) -> Response;
}

impl IntoLogged for ApiError {
    fn into_logged(self) -> Response {
        use axum::response::IntoResponse;
        match &self {
            ApiError::Internal { .. } => {
                tracing::error!(code = self.code(), telegram = self.telegram(), error = %self, "request failed unexpectedly");
            }
            ApiError::TelegramUnavailable(_)
            | ApiError::SessionUnauthorized { .. }
            | ApiError::Timeout(_) => {
                tracing::warn!(code = self.code(), error = %self, "request failed");
            }
            _ => {}
        }
        self.into_response()
    }
}

/// An [`ApiError`] on its way out of a handler. Handlers return `Result<Response, Logged>` so
/// they can use `?` on `ApiError`s, and the error still goes through
/// [`IntoLogged::into_logged`] (inside the request's span, as axum builds the response there).
#[derive(Debug)]
pub struct Logged(ApiError);

impl From<ApiError> for Logged {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl axum::response::IntoResponse for Logged {
    fn into_response(self) -> Response {
        self.0.into_logged()
    }
}
