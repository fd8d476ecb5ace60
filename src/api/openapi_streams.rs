//! The event stream and webhooks in the OpenAPI document, stated as tightly as the server
//! checks them:
//!
//! - `GET /v1/events` answers Server-Sent Events. OpenAPI 3.1 tooling reads a
//!   `text/event-stream` schema as one SSE item (`{id, event, data}`, all strings), so the
//!   event JSON is the `contentSchema` of `data` (`contentMediaType: application/json`);
//! - its `types`, `chats` and cursor parameters carry the patterns and bounds the handler
//!   enforces;
//! - a webhook's `url`, `secret`, `events` and `chats` are what `POST /v1/webhooks` accepts,
//!   and both webhook bodies refuse unknown fields.

use serde_json::{Map, Value, json};

use crate::domain::EventType;
use crate::domain::peer::PEER_PATTERN;

/// An `http://` or `https://` URL that always parses with a host: every host label starts
/// with a letter (never read as an IPv4 address) and has no `--` (never an IDNA `xn--` label
/// that could fail to decode), a port of at most 4 digits, then a path (required, so that
/// anything appended still lands in the path; `http://host` alone is accepted but not stated).
pub const HTTP_URL_PATTERN: &str = concat!(
    "^https?://[A-Za-z](?:-?[A-Za-z0-9])*(?:\\.[A-Za-z](?:-?[A-Za-z0-9])*)*",
    "(?::[1-9][0-9]{0,3})?/.*$"
);

/// `whsec_` + standard base64 (canonical padding and trailing bits) of at least 16 bytes,
/// as `signature::valid_secret` checks it.
const SECRET_PATTERN: &str = concat!(
    "^whsec_(?:[A-Za-z0-9+/]{4}){5,}",
    "(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$"
);

fn event_names() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).collect()
}

/// `^(?:ITEM(?:,ITEM)*)?$`: a comma-separated list (empty allowed) of what `item` matches.
fn comma_list(item: &str) -> String {
    format!("^(?:(?:{item})(?:,(?:{item}))*)?$")
}

/// The peer pattern without its anchors, to be embedded in another pattern.
fn peer_item() -> &'static str {
    PEER_PATTERN
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or(PEER_PATTERN)
}

/// Writes the stream and webhook rules into `doc`.
pub fn apply(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if path.ends_with("/events")
                && let Some(get) = item.get_mut("get")
            {
                events_operation(get);
            }
        }
    }
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(envelope) = schemas.get_mut("EventEnvelope") {
        envelope["properties"]["type"]["enum"] = json!(event_names());
    }
    schemas.insert("SseItem".into(), sse_item());
    if let Some(create) = schemas.get_mut("CreateWebhookDoc") {
        create_webhook(create);
    }
    if let Some(redeliver) = schemas.get_mut("RedeliverDoc") {
        redeliver["additionalProperties"] = json!(false);
        redeliver["properties"]["event_ids"]["items"] = json!({
            "type": "integer",
            "minimum": i64::MIN,
            "maximum": i64::MAX,
        });
    }
}

/// The stream's item schema and its parameters' bounds.
fn events_operation(op: &mut Value) {
    if let Some(stream) = op.pointer_mut("/responses/200/content/text~1event-stream") {
        stream["schema"] = json!({ "$ref": "#/components/schemas/SseItem" });
    }
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    let types = regex_alternation(&event_names());
    for param in params {
        let rules = match param["name"].as_str().unwrap_or_default() {
            "types" => json!({ "pattern": comma_list(&types) }),
            "chats" => json!({ "pattern": comma_list(peer_item()) }),
            "last_event_id" => json!({ "minimum": 0, "maximum": i64::MAX }),
            // A string of digits: header values are text, and tools validate them as such
            // (an `integer` header fails schemathesis' re-validation of the sent text).
            "Last-Event-ID" => json!({ "type": "string", "pattern": "^[0-9]{1,18}$" }),
            _ => continue,
        };
        if let (Some(schema), Value::Object(rules)) = (
            param.get_mut("schema").and_then(Value::as_object_mut),
            rules,
        ) {
            schema.extend(rules);
        }
    }
}

fn regex_alternation(names: &[&str]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| n.replace('.', "\\.")).collect();
    escaped.join("|")
}

/// One SSE item: an event (`id` its id, `event` its type, `data` the `EventEnvelope` JSON)
/// or the stream's closing `event: error` (no `id`; `data` an error with its status).
fn sse_item() -> Value {
    let json_data = |schema: Value| {
        json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": schema,
        })
    };
    json!({
        "description": "One Server-Sent Event: an account event, or `event: error` that ends the stream (EVENTS_EXPIRED, INTERNAL).",
        "oneOf": [
            {
                "type": "object",
                "required": ["id", "event", "data"],
                "properties": {
                    "id": { "type": "string", "pattern": "^[0-9]+$" },
                    "event": { "type": "string", "enum": event_names() },
                    "data": json_data(json!({ "$ref": "#/components/schemas/EventEnvelope" })),
                },
            },
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": { "const": "error" },
                    "data": json_data(stream_error()),
                },
            },
        ],
    })
}

/// `data` of `event: error`.
fn stream_error() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "status", "message"],
                "properties": {
                    "code": { "type": "string", "enum": ["EVENTS_EXPIRED", "INTERNAL"] },
                    "status": { "type": "integer" },
                    "message": { "type": "string" },
                    "oldest_id": { "type": "integer", "minimum": 0 },
                },
            },
        },
    })
}

fn create_webhook(schema: &mut Value) {
    schema["additionalProperties"] = json!(false);
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    let set = |props: &mut Map<String, Value>, name: &str, path: &str, value: Value| {
        if let Some(target) = props.get_mut(name).and_then(|p| p.pointer_mut(path)) {
            *target = value;
        }
    };
    if let Some(url) = props.get_mut("url") {
        url["pattern"] = json!(HTTP_URL_PATTERN);
    }
    if let Some(secret) = props.get_mut("secret") {
        secret["pattern"] = json!(SECRET_PATTERN);
    }
    set(
        props,
        "events",
        "/items",
        json!({ "type": "string", "enum": event_names() }),
    );
    set(
        props,
        "chats",
        "/items",
        json!({ "type": "string", "pattern": PEER_PATTERN }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_list_matches_lists_of_its_items_and_nothing_else() {
        let re = regex::Regex::new(&comma_list(&regex_alternation(&event_names()))).unwrap();
        for ok in ["", "message.new", "message.new,job.dead"] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in [
            "nope",
            "message.new,",
            ",message.new",
            "messageXnew",
            "message.new,nope",
        ] {
            assert!(!re.is_match(bad), "{bad}");
        }
    }
}
