//! A request id per HTTP request, with tower-http's request-id layers: a sane `X-Request-Id`
//! from the caller is kept, anything else is replaced by a fresh one; the id is echoed on the
//! response and read by the trace span, so every log line of a request carries it.
//!
//! tower-http keeps any caller id as is, so [`drop_unacceptable`] first removes ids that
//! would be unsafe or costly to log (too long, spaces, control characters).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use tower_http::request_id::{MakeRequestId, RequestId};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest caller-supplied id accepted; longer ones are replaced rather than logged.
const MAX_LEN: usize = 128;

/// Accepts ids of printable ASCII without spaces, up to [`MAX_LEN`] characters.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(u8::is_ascii_graphic)
}

/// Removes a caller id that is not [`acceptable`], so a fresh one is made instead.
pub fn drop_unacceptable(mut request: Request) -> Request {
    if request
        .headers()
        .get(&HEADER)
        .is_some_and(|v| !acceptable(v))
    {
        request.headers_mut().remove(&HEADER);
    }
    request
}

/// A new random id: 128 bits as 32 hex characters.
pub fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Makes ids with [`generate`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&generate()).ok().map(RequestId::new)
    }
}

/// The id of a request, as the span and log lines show it.
pub fn of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasonable_caller_ids_are_kept() {
        assert!(acceptable(&HeaderValue::from_static("abc-123_DEF.4")));
    }

    #[test]
    fn empty_spaced_or_huge_ids_are_replaced() {
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("a b")));
        let long = HeaderValue::from_str(&"x".repeat(MAX_LEN + 1)).unwrap();
        assert!(!acceptable(&long));
        let request = Request::builder()
            .header("x-request-id", "a b")
            .body(axum::body::Body::empty())
            .unwrap();
        assert!(drop_unacceptable(request).headers().get(&HEADER).is_none());
    }

    #[test]
    fn generated_ids_are_unique_hex() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
