//! Request extractors that fail with our error body: malformed JSON, wrong types, unknown
//! fields, a missing content type, an oversize body, a bad path or query all become
//! `400 INVALID_REQUEST` with a message naming the problem (never axum's plain-text 4xx/413,
//! never a 500).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::OnceLock;

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{HeaderMap, header, request::Parts};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiError;

/// Largest request body accepted. A message is at most 4096 characters after parsing; HTML
/// or markdown around it (links, tags) stays far below this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body of type `T`, with our errors. `T` should use `#[serde(deny_unknown_fields)]`.
pub struct ApiJson<T> {
    pub value: T,
    /// The body in canonical form, for idempotency fingerprints; computed only when asked
    /// for (a request without `Idempotency-Key` never pays for it).
    pub canonical: Canonical,
}

/// The request body, re-serialized canonically (sorted keys, no whitespace) on first use: the
/// same request written differently is still the same request.
pub struct Canonical {
    raw: Vec<u8>,
    canonical: OnceLock<Vec<u8>>,
}

impl Canonical {
    fn new(raw: Vec<u8>) -> Self {
        Self {
            raw,
            canonical: OnceLock::new(),
        }
    }

    /// The canonical bytes (the raw body if it somehow does not re-parse).
    pub fn bytes(&self) -> &[u8] {
        self.canonical.get_or_init(|| {
            serde_json::from_slice::<serde_json::Value>(&self.raw)
                .ok()
                .and_then(|tree| serde_json::to_vec(&tree).ok())
                .unwrap_or_else(|| self.raw.clone())
        })
    }
}

/// Something a fingerprint can be taken over: a [`Canonical`] body (lazily) or fixed bytes.
pub trait CanonicalBody {
    fn canonical_bytes(&self) -> &[u8];
}

impl CanonicalBody for Canonical {
    fn canonical_bytes(&self) -> &[u8] {
        self.bytes()
    }
}

impl<const N: usize> CanonicalBody for [u8; N] {
    fn canonical_bytes(&self) -> &[u8] {
        self
    }
}

impl CanonicalBody for [u8] {
    fn canonical_bytes(&self) -> &[u8] {
        self
    }
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        check_content_type(req.headers())?;
        let bytes = read_body(req.into_body(), MAX_BODY_BYTES).await?;
        parse_json(bytes)
    }
}

/// Parses `bytes` straight into `T` (no intermediate `serde_json::Value`), naming the field
/// at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: impl Into<Vec<u8>>) -> Result<ApiJson<T>, ApiError> {
    parse_json_or_keep(bytes.into()).map_err(|(error, _)| error)
}

/// [`parse_json`], handing the bytes back on failure so the caller can try another type
/// without having copied them first (`POST /v1/messages`: a text send, else a media send).
pub fn parse_json_or_keep<T: DeserializeOwned>(
    bytes: Vec<u8>,
) -> Result<ApiJson<T>, (ApiError, Vec<u8>)> {
    match json_value(&bytes) {
        Ok(value) => Ok(ApiJson {
            value,
            canonical: Canonical::new(bytes),
        }),
        Err(error) => Err((error, bytes)),
    }
}

fn json_value<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(ApiError::invalid(
                "the request body is empty; send a JSON object",
            ));
        }
        // A struct would also accept a JSON array; the API takes objects only.
        Some(b'{') => {}
        Some(_) => {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Err(e) => not_json(&e),
                    Ok(_) => ApiError::invalid("the request body must be a JSON object"),
                },
            );
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            not_json(&inner)
        } else if path == "." {
            ApiError::invalid(format!("invalid request body: {inner}"))
        } else {
            ApiError::invalid(format!("invalid request body at `{path}`: {inner}"))
        }
    })?;
    reader.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::invalid(format!("the request body is not valid JSON: {e}"))
}

pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::invalid(
            "missing Content-Type header: send the body as application/json",
        ));
    };
    let mime = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "unsupported Content-Type `{}`: send the body as application/json",
            value.to_str().unwrap_or("(not text)")
        )))
    }
}

/// Reads at most `limit` bytes of `body`, refusing early (by `Content-Length` or while
/// streaming) instead of buffering an oversize body.
pub async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::invalid(format!(
            "the request body is larger than the {} KiB limit",
            limit / 1024
        ))
    };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let mut buffer = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame
            .map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(too_large());
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer)
}

/// Path parameters with our error body (e.g. a message id that is not a number).
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|e| ApiError::invalid(format!("invalid path: {}", e.body_text())))
    }
}

/// Query parameters with our error body. `T` should use `#[serde(deny_unknown_fields)]`.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| ApiError::invalid(format!("invalid query string: {}", e.body_text())))
    }
}

/// Whole numbers as JSON Schema counts them: `2068.0` is the integer 2068 (the OpenAPI
/// document says `integer`, and a client may well send it that way), `2068.5` is not.
/// Use with `#[serde(default, deserialize_with = "…")]`.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    /// A JSON number that must be a whole number fitting `i32`.
    struct WholeI32(i32);

    impl<'de> Deserialize<'de> for WholeI32 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = serde_json::Number::deserialize(d)?;
            let whole = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Some(i),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => Some(f as i64),
                _ => None,
            };
            whole
                .and_then(|i| i32::try_from(i).ok())
                .map(WholeI32)
                .ok_or_else(|| {
                    D::Error::custom(format!("`{n}` is not a whole number in the i32 range"))
                })
        }
    }

    pub fn option_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        Ok(Option::<WholeI32>::deserialize(d)?.map(|w| w.0))
    }

    /// A JSON number that must be a whole number in the i64 range (also written as a float).
    struct WholeI64(i64);

    impl<'de> Deserialize<'de> for WholeI64 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = serde_json::Number::deserialize(d)?;
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(WholeI64(i)),
                // Strict bounds: `i64::MAX as f64` is 2^63, just past the range, and a float
                // equal to `i64::MIN as f64` may stand for a number just below it.
                (None, Some(f))
                    if f.fract() == 0.0 && f > i64::MIN as f64 && f < i64::MAX as f64 =>
                {
                    Ok(WholeI64(f as i64))
                }
                _ => Err(D::Error::custom(format!(
                    "`{n}` is not a whole number in the i64 range"
                ))),
            }
        }
    }

    pub fn option_vec_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
        Ok(Option::<Vec<WholeI64>>::deserialize(d)?.map(|v| v.into_iter().map(|w| w.0).collect()))
    }

    pub fn vec_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
        Ok(Vec::<WholeI32>::deserialize(d)?
            .into_iter()
            .map(|w| w.0)
            .collect())
    }
}

/// A JSON answer with a status: what handlers return on success.
pub fn json_response<T: Serialize>(
    status: axum::http::StatusCode,
    value: &T,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (status, axum::Json(value)).into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::Request as HttpRequest;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body1 {
        text: String,
        reply_to: Option<i32>,
    }

    async fn extract(content_type: Option<&str>, body: impl Into<Body>) -> Result<Body1, String> {
        let mut req = HttpRequest::post("/v1/messages");
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let req = req.body(body.into()).unwrap();
        ApiJson::<Body1>::from_request(req, &())
            .await
            .map(|j| j.value)
            .map_err(|e| {
                assert_eq!(e.code(), "INVALID_REQUEST");
                e.to_string()
            })
    }

    const JSON: Option<&str> = Some("application/json");

    #[tokio::test]
    async fn a_valid_body_parses() {
        let body = extract(Some("application/json; charset=utf-8"), r#"{"text":"hi"}"#)
            .await
            .unwrap();
        assert_eq!(body.text, "hi");
    }

    #[tokio::test]
    async fn malformed_json_says_so() {
        let e = extract(JSON, r#"{"text": "hi""#).await.unwrap_err();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = extract(JSON, r#"{"text": "hi"} trailing"#)
            .await
            .unwrap_err();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = extract(JSON, r#"[1,"#).await.unwrap_err();
        assert!(e.contains("not valid JSON"), "{e}");
        let e = extract(JSON, r#"["hi"]"#).await.unwrap_err();
        assert!(
            e.contains("JSON object"),
            "a struct must not accept an array: {e}"
        );
    }

    #[tokio::test]
    async fn a_wrong_type_names_the_field() {
        let e = extract(JSON, r#"{"text":"hi","reply_to":"five"}"#)
            .await
            .unwrap_err();
        assert!(e.contains("`reply_to`"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    #[tokio::test]
    async fn an_unknown_field_is_named() {
        let e = extract(JSON, r#"{"text":"hi","txet":"x"}"#)
            .await
            .unwrap_err();
        assert!(e.contains("unknown field `txet`"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_field_is_named() {
        let e = extract(JSON, r#"{}"#).await.unwrap_err();
        assert!(e.contains("missing field `text`"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_or_wrong_content_type_is_rejected() {
        let e = extract(None, r#"{"text":"hi"}"#).await.unwrap_err();
        assert!(e.contains("Content-Type"), "{e}");
        let e = extract(Some("text/plain"), r#"{"text":"hi"}"#)
            .await
            .unwrap_err();
        assert!(e.contains("text/plain"), "{e}");
    }

    #[tokio::test]
    async fn an_oversize_body_is_rejected_without_reading_it_all() {
        let huge = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        let e = extract(JSON, huge).await.unwrap_err();
        assert!(e.contains("larger than"), "{e}");
    }

    #[tokio::test]
    async fn empty_and_non_object_bodies_are_rejected() {
        assert!(extract(JSON, "").await.unwrap_err().contains("empty"));
        assert!(
            extract(JSON, "[1]")
                .await
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(
            extract(JSON, "null")
                .await
                .unwrap_err()
                .contains("JSON object")
        );
    }

    #[derive(Debug, Deserialize)]
    struct Ints {
        #[serde(default, deserialize_with = "whole::option_i32")]
        one: Option<i32>,
        #[serde(default, deserialize_with = "whole::vec_i32")]
        many: Vec<i32>,
    }

    #[test]
    fn whole_numbers_written_as_floats_are_integers_and_fractions_are_not() {
        let ints: Ints = parse_json(br#"{"one": 2068.0, "many": [1, 39.0]}"#.to_vec())
            .unwrap()
            .value;
        assert_eq!((ints.one, ints.many), (Some(2068), vec![1, 39]));
        let ints: Ints = parse_json(br#"{"one": null}"#.to_vec()).unwrap().value;
        assert_eq!((ints.one, ints.many.len()), (None, 0));
        for bad in [r#"{"one": 1.5}"#, r#"{"one": 3e10}"#, r#"{"many": ["1"]}"#] {
            let e = parse_json::<Ints>(bad.as_bytes().to_vec()).err().unwrap();
            assert_eq!(e.code(), "INVALID_REQUEST", "{bad}");
        }
    }

    #[test]
    fn canonical_bodies_ignore_key_order_and_whitespace() {
        let a = parse_json::<serde_json::Value>(br#"{"b":1, "a":[1,2]}"#.to_vec()).unwrap();
        let b = parse_json::<serde_json::Value>(br#"{"a":[1,2],"b":1}"#.to_vec()).unwrap();
        assert_eq!(a.canonical.bytes(), b.canonical.bytes());
        assert_eq!(a.canonical.bytes(), br#"{"a":[1,2],"b":1}"#);
    }

    #[test]
    fn whole_i64_lists_take_whole_floats_inside_the_range_only() {
        #[derive(Deserialize)]
        struct Ids {
            #[serde(default, deserialize_with = "whole::option_vec_i64")]
            ids: Option<Vec<i64>>,
        }
        let ids = |raw: &str| serde_json::from_str::<Ids>(raw).map(|i| i.ids);
        assert_eq!(ids(r#"{"ids":[1.0,-2,3]}"#).unwrap(), Some(vec![1, -2, 3]));
        assert_eq!(ids(r#"{"ids":null}"#).unwrap(), None);
        assert_eq!(
            ids(r#"{"ids":[-9223372036854775808]}"#).unwrap(),
            Some(vec![i64::MIN])
        );
        for bad in [
            r#"{"ids":[1.5]}"#,
            r#"{"ids":[-9223372036854775809]}"#,
            r#"{"ids":[9223372036854775808]}"#,
            r#"{"ids":[1e300]}"#,
        ] {
            assert!(ids(bad).is_err(), "{bad}");
        }
    }
}
