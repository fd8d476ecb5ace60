//! The constraints the server enforces and the statuses every operation can return, written
//! into the OpenAPI document from the same constants the code checks with, so the document
//! can never be looser than the server (a schema-valid request the server rejects) or
//! forget an answer it gives.
//!
//! Applied to the generated document as JSON, by parameter and property name, so handler
//! annotations stay short and new operations get the shared rows without repeating them.

use serde_json::{Map, Value, json};

use super::messages::MAX_IDS;
use crate::domain::peer::PEER_PATTERN;
use crate::idempotency::MAX_KEY_LEN;

/// Statuses every operation behind the API key can answer, with what they mean.
const SHARED_STATUSES: &[(&str, &str)] = &[
    ("401", "No or bad API key (UNAUTHORIZED)"),
    (
        "429",
        "Flood wait (FLOOD_WAIT): Telegram asks to wait; `Retry-After` says how long",
    ),
    (
        "500",
        "Internal failure (INTERNAL); logged with the request id",
    ),
    ("502", "Unexpected Telegram answer (INTERNAL)"),
    (
        "503",
        "Telegram unavailable (TELEGRAM_UNAVAILABLE), session unusable (SESSION_UNAUTHORIZED) or too many requests in flight (OVERLOADED, with `Retry-After`)",
    ),
    ("504", "Timed out (TIMEOUT)"),
];

const BAD_INPUT: &str = "Bad input (INVALID_REQUEST, MESSAGE_TOO_LONG)";
const CONFLICT: &str = "Idempotency-Key reused with another request (IDEMPOTENCY_KEY_REUSED)";

/// Writes every rule into `doc` (an OpenAPI 3.1 document as JSON).
pub fn apply(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                constrain_parameters(path, op);
                object_or_nothing(op);
                if path.starts_with("/v1/") || path.starts_with("/telegram/") {
                    add_statuses(method, op);
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if name.ends_with("Request")
                && let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut)
            {
                constrain_properties(props);
            }
        }
    }
    super::openapi_bodies::apply(doc);
    super::openapi_streams::apply(doc);
}

fn merge(schema: &mut Value, rules: Value) {
    if let (Some(schema), Value::Object(rules)) = (schema.as_object_mut(), rules) {
        schema.extend(rules);
    }
}

/// Bounds of path, query and header parameters, by name.
fn constrain_parameters(path: &str, op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for param in params {
        let name = param["name"].as_str().unwrap_or_default().to_owned();
        let rules = match name.as_str() {
            "peer" => json!({ "pattern": PEER_PATTERN }),
            "id" | "before_id" => json!({ "minimum": 1 }),
            // The outbox's job listing pages by the job's sequence number.
            "cursor" if path.ends_with("/jobs") => json!({ "pattern": "^[0-9]{1,18}$" }),
            // Opaque, but always `date_messageid_peer` as `DialogCursor::encode` writes it.
            "cursor" => json!({
                "minLength": 1,
                "pattern": "^(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8})_(?:0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8})_-?[0-9]{1,18}$",
            }),
            "limit" => json!({ "minimum": 1, "maximum": MAX_IDS }),
            "Idempotency-Key" => json!({
                "minLength": 1,
                "maxLength": MAX_KEY_LEN,
                "pattern": "^[!-~]+$",
            }),
            _ => continue,
        };
        if let Some(schema) = param.get_mut("schema") {
            merge(schema, rules);
        }
    }
}

/// An optional body is absent or a JSON object; `null` is refused like any non-object, so
/// `oneOf: [null, {$ref}]` becomes the `$ref` alone (the body stays optional).
fn object_or_nothing(op: &mut Value) {
    let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema") else {
        return;
    };
    let object = schema["oneOf"]
        .as_array()
        .and_then(|variants| variants.iter().find(|v| v.get("$ref").is_some()))
        .cloned();
    if let Some(object) = object {
        *schema = object;
    }
}

/// Bounds of request-body properties, by name.
fn constrain_properties(props: &mut Map<String, Value>) {
    for (name, schema) in props.iter_mut() {
        let rules = match name.as_str() {
            "peer" | "to" => json!({ "pattern": PEER_PATTERN }),
            // Non-empty, not only whitespace; 4096 UTF-16 units *after* parse_mode applies
            // (a caption, in `text` or `media.caption`, 1024).
            "text" | "caption" => json!({ "minLength": 1, "pattern": "\\S" }),
            "reply_to" | "max_id" => json!({ "minimum": 1 }),
            "duration" => json!({
                "minimum": 1,
                "maximum": crate::accounts::MAX_ACTION_DURATION.as_secs(),
            }),
            "peers" => {
                merge(
                    schema,
                    json!({ "minItems": 1, "maxItems": crate::outbox::MAX_BATCH }),
                );
                if let Some(items) = schema.get_mut("items") {
                    merge(items, json!({ "pattern": PEER_PATTERN }));
                }
                continue;
            }
            "ids" => {
                merge(schema, json!({ "minItems": 1, "maxItems": MAX_IDS }));
                if let Some(items) = schema.get_mut("items") {
                    merge(items, json!({ "minimum": 1 }));
                }
                continue;
            }
            _ => continue,
        };
        merge(schema, rules);
    }
}

/// Adds the statuses an operation can answer but does not list yet.
fn add_statuses(method: &str, op: &mut Value) {
    let takes_input = op.get("requestBody").is_some()
        || op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty());
    let idempotent = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let mut rows: Vec<(&str, &str)> = SHARED_STATUSES.to_vec();
    if takes_input {
        rows.push(("400", BAD_INPUT));
    }
    if idempotent || method == "delete" {
        rows.push(("409", CONFLICT));
    }
    for (status, description) in rows {
        responses
            .entry(status)
            .or_insert_with(|| error_response(status, description));
    }
    for status in ["429", "503"] {
        if let Some(response) = responses.get_mut(status).and_then(Value::as_object_mut) {
            let headers = response
                .entry("headers")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            if let Some(headers) = headers {
                headers
                    .entry("Retry-After")
                    .or_insert_with(retry_after_header);
            }
        }
    }
}

fn retry_after_header() -> Value {
    json!({
        "description": "Seconds to wait before retrying (with FLOOD_WAIT and OVERLOADED)",
        "schema": { "type": "integer", "minimum": 1 },
    })
}

fn error_response(status: &str, description: &str) -> Value {
    let mut response = json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    });
    if status == "429" || status == "503" {
        response["headers"] = json!({ "Retry-After": retry_after_header() });
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_gets_409_and_every_shared_status_without_replacing_its_own_rows() {
        let mut op = json!({
            "parameters": [{"name": "peer", "in": "path", "schema": {"type": "string"}}],
            "responses": {"404": {"description": "mine"}},
        });
        constrain_parameters("/v1/messages/{peer}/{id}", &mut op);
        add_statuses("delete", &mut op);
        let responses = op["responses"].as_object().unwrap();
        for status in [
            "400", "401", "404", "409", "429", "500", "502", "503", "504",
        ] {
            assert!(responses.contains_key(status), "{status}");
        }
        assert_eq!(responses["404"]["description"], "mine");
        assert_eq!(op["parameters"][0]["schema"]["pattern"], PEER_PATTERN);
    }

    #[test]
    fn request_properties_get_their_bounds() {
        let mut props = json!({
            "text": {"type": "string"},
            "caption": {"type": ["string", "null"]},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "reply_to": {"type": ["integer", "null"]},
        });
        constrain_properties(props.as_object_mut().unwrap());
        assert_eq!(props["text"]["minLength"], 1);
        assert_eq!(props["caption"]["minLength"], 1);
        assert_eq!(props["caption"]["pattern"], "\\S");
        assert_eq!(props["ids"]["maxItems"], MAX_IDS);
        assert_eq!(props["ids"]["items"]["minimum"], 1);
        assert_eq!(props["reply_to"]["minimum"], 1);
    }
}
