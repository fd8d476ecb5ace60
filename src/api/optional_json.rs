//! A JSON body that may be left out: the chat actions (`read`, `typing`, `pin`) work with no
//! options at all, so an empty body means the defaults; a body that is sent is checked as
//! strictly as [`ApiJson`](super::json::ApiJson) checks it.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::ApiError;
use super::json::{ApiJson, MAX_BODY_BYTES, read_body};

/// The body as `T`, or `T::default()` when the request has none.
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let bytes = read_body(body, MAX_BODY_BYTES).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let ApiJson { value, .. } = ApiJson::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}
