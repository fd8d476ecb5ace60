//! [`StoredResponse`]: an answer as it was given, ready to be given again — in memory and as
//! the store's [`IdempotencyRecord`].

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Fingerprint, REPLAYED_HEADER};
use crate::store::IdempotencyRecord;

/// Whether an answer with `status` is final: 2xx, or 4xx other than 429 and 408, which a
/// retry may change.
pub fn is_final_status(status: StatusCode) -> bool {
    let retryable = [StatusCode::TOO_MANY_REQUESTS, StatusCode::REQUEST_TIMEOUT];
    status.is_success() || (status.is_client_error() && !retryable.contains(&status))
}

/// An answer as it was given, ready to be given again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

/// Answers larger than this are not expected (messages are ≤ 4096 characters).
const MAX_STORED_BODY: usize = 1 << 20;

impl StoredResponse {
    /// Captures `response` (its body is already in memory: our handlers answer with JSON).
    pub async fn capture(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let kept = [header::CONTENT_TYPE, header::RETRY_AFTER];
        let headers = kept
            .into_iter()
            .filter_map(|name| parts.headers.get(&name).map(|v| (name, v.clone())))
            .collect();
        match axum::body::to_bytes(body, MAX_STORED_BODY).await {
            Ok(body) => Self {
                status: parts.status,
                headers,
                body,
            },
            Err(e) => {
                tracing::error!(error = %e, "could not capture a response body");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: vec![(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body: Bytes::from_static(
                        br#"{"error":{"code":"INTERNAL","message":"the response could not be recorded"}}"#,
                    ),
                }
            }
        }
    }

    /// Final answers are kept; ones a retry may change (flood wait, outages, a request body
    /// that never arrived whole) are not.
    pub fn is_final(&self) -> bool {
        is_final_status(self.status)
    }

    /// The answer again; `replayed` marks a duplicate.
    pub fn to_response(&self, replayed: bool) -> Response {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if replayed {
            headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        (self.status, headers, self.body.clone()).into_response()
    }

    /// The store's record of this answer to the request `fingerprint`.
    pub(super) fn to_record(
        &self,
        fingerprint: &Fingerprint,
        created_at: i64,
        expires_at: i64,
    ) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: fingerprint.as_bytes().to_vec(),
            status: self.status.as_u16(),
            headers: self
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                })
                .collect(),
            body: self.body.to_vec(),
            created_at,
            expires_at,
        }
    }

    /// The answer a stored record holds; an error names what is unreadable.
    pub(super) fn from_record(record: IdempotencyRecord) -> Result<Self, String> {
        let status = StatusCode::from_u16(record.status)
            .map_err(|_| format!("stored HTTP status {}", record.status))?;
        let headers = record
            .headers
            .into_iter()
            .map(|(name, value)| {
                Ok((
                    HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
                    HeaderValue::from_str(&value).map_err(|e| e.to_string())?,
                ))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            status,
            headers,
            body: Bytes::from(record.body),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_survives_the_trip_through_a_record() {
        let answer = StoredResponse {
            status: StatusCode::CREATED,
            headers: vec![
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::RETRY_AFTER, HeaderValue::from_static("3")),
            ],
            body: Bytes::from_static(b"{\"id\":1}"),
        };
        let fingerprint = Fingerprint::of("POST", "/v1/messages", b"{}");
        let record = answer.to_record(&fingerprint, 1, 2);
        assert_eq!(record.fingerprint, fingerprint.as_bytes());
        assert_eq!(StoredResponse::from_record(record), Ok(answer));
    }

    #[test]
    fn an_unreadable_record_is_an_error_not_a_guess() {
        let record = IdempotencyRecord {
            fingerprint: vec![],
            status: 1000,
            headers: vec![],
            body: vec![],
            created_at: 0,
            expires_at: 0,
        };
        assert!(StoredResponse::from_record(record).is_err());
    }
}
