//! A request id per HTTP request: a sane `X-Request-Id` from the caller is kept, anything else
//! is replaced by a fresh one. The id is stored in the request's extensions (the trace span
//! reads it) and echoed on the response, so callers can quote it when reporting a problem.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

/// Longest caller-supplied id accepted; longer ones are replaced rather than logged.
const MAX_LEN: usize = 128;

/// The request's id, available to handlers and spans through request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Accepts ids of printable ASCII without spaces, up to [`MAX_LEN`] characters.
fn acceptable(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(u8::is_ascii_graphic);
    ok.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// A new random id: 128 bits as 32 hex characters.
pub fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Middleware: assigns the id before anything else runs and echoes it on the way out.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(acceptable)
        .unwrap_or_else(generate);
    let header = HeaderValue::from_str(&id).expect("ids are printable ASCII");
    request.headers_mut().insert(HEADER, header.clone());
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, header);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasonable_caller_ids_are_kept() {
        let v = HeaderValue::from_static("abc-123_DEF.4");
        assert_eq!(acceptable(&v).as_deref(), Some("abc-123_DEF.4"));
    }

    #[test]
    fn empty_spaced_or_huge_ids_are_replaced() {
        assert_eq!(acceptable(&HeaderValue::from_static("")), None);
        assert_eq!(acceptable(&HeaderValue::from_static("a b")), None);
        let long = HeaderValue::from_str(&"x".repeat(MAX_LEN + 1)).unwrap();
        assert_eq!(acceptable(&long), None);
    }

    #[test]
    fn generated_ids_are_unique_hex() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
