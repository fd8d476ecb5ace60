//! A property test walking the OpenAPI document: every constraint the server enforces is
//! stated, every status an operation can return is listed, and the documented peer pattern
//! accepts nothing the server refuses.

use mtgate::domain::PeerSpec;
use mtgate::domain::peer::PEER_PATTERN;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(mtgate::api::openapi::document()).expect("the document is JSON")
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

fn schema_ref<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}")),
        None => schema,
    }
}

#[test]
fn every_operation_behind_the_key_lists_every_status_it_can_return() {
    let doc = document();
    for (path, method, op) in operations(&doc) {
        if !(path.starts_with("/v1/") || path.starts_with("/telegram/")) {
            continue;
        }
        let responses = op["responses"].as_object().unwrap();
        let mut expected = vec!["401", "429", "500", "502", "503", "504"];
        let takes_input = op.get("requestBody").is_some()
            || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if takes_input {
            expected.push("400");
        }
        if method == "delete" || path == "/v1/messages/delete" {
            expected.push("409");
        }
        for status in expected {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not list {status}"
            );
        }
        for status in ["429", "503"] {
            assert!(
                responses[status]["headers"].get("Retry-After").is_some(),
                "{method} {path} {status} has no Retry-After"
            );
        }
    }
}

#[test]
fn every_bound_the_server_enforces_is_in_the_document() {
    let doc = document();
    let mut seen = std::collections::BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            let schema = &param["schema"];
            match name {
                "peer" => assert_eq!(schema["pattern"], PEER_PATTERN, "{method} {path}"),
                "id" | "before_id" => assert_eq!(schema["minimum"], 1, "{method} {path}"),
                "cursor" if path.ends_with("/jobs") => {
                    let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
                    assert!(
                        pattern.is_match("42") && !pattern.is_match("x"),
                        "{method} {path}"
                    );
                }
                "cursor" => {
                    let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
                    let cursor = mtgate::domain::chats::DialogCursor {
                        date: 1_700_000_000,
                        message_id: 0,
                        peer: -1_001_234_567_890,
                    };
                    assert!(pattern.is_match(&cursor.encode()), "{method} {path}");
                    assert!(!pattern.is_match("") && !pattern.is_match("0"));
                }
                "limit" => {
                    assert_eq!(schema["minimum"], 1);
                    assert_eq!(schema["maximum"], 100);
                }
                "Idempotency-Key" => {
                    assert_eq!(schema["minLength"], 1);
                    assert_eq!(schema["maxLength"], 255);
                }
                _ => continue,
            }
            seen.insert(name.to_owned());
        }
        let Some(body) = op.pointer("/requestBody/content/application~1json/schema") else {
            continue;
        };
        assert!(
            body.get("oneOf").is_none(),
            "{method} {path}: a body is an object or absent"
        );
        let body = schema_ref(&doc, body);
        let Some(props) = body["properties"].as_object() else {
            panic!("{method} {path}: a JSON body without properties: {body}");
        };
        for (name, prop) in props {
            match name.as_str() {
                "peer" | "to" => assert_eq!(prop["pattern"], PEER_PATTERN, "{method} {path}"),
                "text" => assert_eq!(prop["minLength"], 1, "{method} {path}"),
                "reply_to" | "max_id" => assert_eq!(prop["minimum"], 1),
                "ids" => {
                    assert_eq!(prop["minItems"], 1);
                    assert_eq!(prop["maxItems"], 100);
                    assert_eq!(prop["items"]["minimum"], 1);
                }
                _ => continue,
            }
            seen.insert(format!("body.{name}"));
        }
    }
    let all: Vec<&str> = seen.iter().map(String::as_str).collect();
    assert_eq!(
        all,
        [
            "Idempotency-Key",
            "before_id",
            "body.ids",
            "body.max_id",
            "body.peer",
            "body.reply_to",
            "body.text",
            "body.to",
            "cursor",
            "id",
            "limit",
            "peer"
        ],
        "every constrained name was checked somewhere"
    );
}

fn peer_regex() -> regex::Regex {
    regex::Regex::new(PEER_PATTERN).expect("the pattern is a valid regex")
}

#[test]
fn every_documented_peer_form_matches_the_pattern() {
    let pattern = peer_regex();
    for peer in [
        "me",
        "self",
        "@alice_sandbox",
        "alice_sandbox",
        "https://t.me/durov",
        "t.me/durov",
        "http://www.telegram.me/durov",
        "123",
        "-123",
        "-1001234567890",
        "999999999999",
        "-999999999999",
    ] {
        assert!(pattern.is_match(peer), "{peer}");
        assert!(PeerSpec::parse(peer).is_ok(), "{peer}");
    }
    for not_peer in [
        "",
        " ",
        "-100",
        "0",
        "-0",
        "@",
        "@1abc",
        "t.me/c/123",
        "a b",
    ] {
        assert!(!pattern.is_match(not_peer), "{not_peer:?}");
    }
}

/// A random string shaped like a peer: pieces of the forms, glued at random.
fn random_peer(rng: &mut StdRng) -> String {
    const PIECES: &[&str] = &[
        "@",
        "-",
        "-100",
        "100",
        "0",
        "1",
        "9",
        "12",
        "999",
        "a",
        "Z",
        "_",
        "me",
        "self",
        "t.me/",
        "https://",
        "http://",
        "www.",
        "telegram.me/",
        "s/",
        "c/",
        "joinchat",
        "+",
        "?x=1",
        "#",
        "/",
        " ",
        ".",
        "durov",
        "alice_sandbox",
    ];
    let n = rng.gen_range(1..=6);
    (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect()
}

#[test]
fn the_peer_pattern_accepts_nothing_the_server_refuses() {
    let pattern = peer_regex();
    let mut rng = StdRng::seed_from_u64(0x5eed_9ee5);
    let mut matched = 0;
    for _ in 0..200_000 {
        let peer = random_peer(&mut rng);
        if pattern.is_match(&peer) {
            matched += 1;
            // The one documented exception: an invite link without its hash.
            if peer.ends_with("/joinchat") {
                continue;
            }
            assert!(
                PeerSpec::parse(&peer).is_ok(),
                "{peer:?} matches but is refused"
            );
        }
    }
    assert!(
        matched > 1000,
        "the generator reaches the pattern ({matched})"
    );
    for _ in 0..200_000 {
        let id: i64 = match rng.gen_range(0..3) {
            0 => rng.gen_range(-2_000_000_000_000..2_000_000_000_000),
            1 => rng.gen_range(-1_010_000_000_000..-990_000_000_000),
            _ => rng.gen_range(-1_000..1_000),
        };
        let peer = id.to_string();
        if pattern.is_match(&peer) {
            assert!(
                PeerSpec::parse(&peer).is_ok(),
                "{peer} matches but is refused"
            );
        }
    }
}

/// The enqueue bodies need `text` unless they carry `media`, and never the caption twice;
/// the multipart `json` parts need `media` and name no `url`; a JSON `media` needs `url`.
#[test]
fn the_send_bodies_state_which_fields_go_together() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let rules = |name: &str| serde_json::to_string(&schemas[name]["allOf"]).unwrap();
    let text_or_media = serde_json::json!({ "anyOf": [
        { "required": ["text"], "properties": { "text": { "type": "string" } } },
        { "required": ["media"], "properties": { "media": { "type": "object" } } },
    ]});
    let one_caption = serde_json::json!({ "anyOf": [
        { "properties": { "text": { "type": "null" } } },
        { "properties": { "media": { "properties": { "caption": { "type": "null" } } } } },
    ]});
    for body in ["EnqueueRequest", "BatchRequest"] {
        let all_of = schemas[body]["allOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}: {}", rules(body)));
        assert!(
            all_of.contains(&text_or_media),
            "{body}: `{{}}` must be invalid"
        );
        assert!(all_of.contains(&one_caption), "{body}");
        let media = serde_json::to_string(&schemas[body]["properties"]["media"]).unwrap();
        assert!(
            media.contains("#/components/schemas/MediaRequest\""),
            "{body}: {media}"
        );
    }
    let by_url = &schemas["MediaRequest"];
    assert!(
        by_url["required"]
            .as_array()
            .unwrap()
            .contains(&"url".into())
    );
    let by_parts = &schemas["MediaFileRequest"];
    assert!(by_parts["properties"].get("url").is_none());
    for media in [by_url, by_parts] {
        assert_eq!(media["additionalProperties"], false);
        assert_eq!(
            media["properties"]["kind"]["enum"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
    }
    for (form, part) in [
        ("MediaSendForm", "MediaSendRequest"),
        ("EnqueueForm", "EnqueueFormPart"),
        ("BatchForm", "BatchFormPart"),
    ] {
        assert_eq!(
            schemas[form]["required"],
            serde_json::json!(["json", "file"]),
            "{form}"
        );
        assert_eq!(schemas[form]["properties"]["file"]["minItems"], 1, "{form}");
        assert_eq!(
            schemas[form]["properties"]["file"]["maxItems"], 10,
            "{form}"
        );
        let part_ref = format!("#/components/schemas/{part}");
        assert_eq!(
            schemas[form]["properties"]["json"]["$ref"],
            part_ref.as_str()
        );
        assert!(
            schemas[part]["required"]
                .as_array()
                .unwrap()
                .contains(&"media".into()),
            "{part}"
        );
        assert_eq!(
            schemas[part]["properties"]["media"]["$ref"],
            "#/components/schemas/MediaFileRequest"
        );
        assert!(
            schemas[part]["allOf"]
                .as_array()
                .unwrap()
                .contains(&one_caption),
            "{part}"
        );
    }
}

/// `GET /v1/events`: cursors are never negative, `types` and `chats` are the lists the
/// handler parses, 404 is listed, and the stream's items are SSE items whose `data` is JSON.
#[test]
fn the_event_stream_states_its_cursor_filters_and_items() {
    let doc = document();
    for path in ["/v1/events", "/v1/accounts/{account}/events"] {
        let op = &doc["paths"][path]["get"];
        assert!(op["responses"].get("404").is_some(), "{path}");
        let param = |name: &str| {
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
                .clone()
        };
        assert_eq!(param("last_event_id")["minimum"], 0, "{path}");
        let header =
            regex::Regex::new(param("Last-Event-ID")["pattern"].as_str().unwrap()).unwrap();
        assert!(header.is_match("0") && header.is_match("42"));
        assert!(!header.is_match("-9223372036854775808") && !header.is_match(""));
        let types = regex::Regex::new(param("types")["pattern"].as_str().unwrap()).unwrap();
        assert!(types.is_match("message.new,job.dead") && !types.is_match("message.nope"));
        let chats = regex::Regex::new(param("chats")["pattern"].as_str().unwrap()).unwrap();
        assert!(chats.is_match("me,@durov,-1001234567890") && !chats.is_match("me,,x y"));
        let stream = &op["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(stream["$ref"], "#/components/schemas/SseItem", "{path}");
    }
    let item = &doc["components"]["schemas"]["SseItem"]["oneOf"][0]["properties"]["data"];
    assert_eq!(item["type"], "string");
    assert_eq!(item["contentMediaType"], "application/json");
    assert_eq!(
        item["contentSchema"]["$ref"],
        "#/components/schemas/EventEnvelope"
    );
}
