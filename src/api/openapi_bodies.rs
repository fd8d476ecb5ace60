//! The send bodies' rules that span several fields or depend on the transport, written into
//! the OpenAPI document as JSON Schema so a schema-valid body is one the server accepts:
//!
//! - an enqueue body needs `text` unless it has `media`;
//! - the caption is `text` or `media.caption`, never both;
//! - `media` in a JSON body names its file by `url` (required there), while the `json` part of
//!   a multipart body must not (its files are the `file` parts, and `media` is required);
//! - a multipart body is the `json` part, then 1 to 10 non-empty `file` parts.

use serde_json::{Value, json};

use crate::api::openapi_streams::HTTP_URL_PATTERN;
use crate::telegram::ops::MAX_ALBUM as MAX_FILES;

/// Media kinds as the API spells them (every file of an album alike).
const MEDIA_KINDS: [&str; 5] = ["photo", "document", "video", "audio", "voice"];

/// `(form schema, the JSON body schema its `json` part carries, the name for that part's
/// schema)`: the multipart bodies whose `json` part differs from the JSON body.
const FORMS: [(&str, &str, &str); 3] = [
    ("MediaSendForm", "MediaSendRequest", "MediaSendRequest"),
    ("EnqueueForm", "EnqueueRequest", "EnqueueFormPart"),
    ("BatchForm", "BatchRequest", "BatchFormPart"),
];

/// Writes the body shapes into `doc`'s components and the multipart encodings into its
/// operations.
pub fn apply(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some(media) = schemas.get("MediaRequest").cloned() else {
        return;
    };
    schemas.insert("MediaRequest".into(), media_by_url(media.clone()));
    schemas.insert("MediaFileRequest".into(), media_by_parts(media));
    for name in ["EnqueueRequest", "BatchRequest"] {
        if let Some(body) = schemas.get_mut(name) {
            text_unless_media(body);
            one_caption(body);
        }
    }
    for (form, body, part) in FORMS {
        let Some(mut json_part) = schemas.get(body).cloned() else {
            continue;
        };
        json_part["properties"]["media"] =
            json!({ "$ref": "#/components/schemas/MediaFileRequest" });
        // The form's part has `media` (required), so only the caption rule applies.
        if let Some(object) = json_part.as_object_mut() {
            object.remove("allOf");
        }
        require(&mut json_part, "media");
        one_caption(&mut json_part);
        schemas.insert(part.into(), json_part);
        if let Some(form) = schemas.get_mut(form) {
            form_parts(form, part);
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in op.values_mut() {
                if let Some(multipart) = op.pointer_mut("/requestBody/content/multipart~1form-data")
                {
                    multipart["encoding"] = json!({
                        "json": { "contentType": "application/json" },
                        "file": { "contentType": "application/octet-stream" },
                    });
                }
            }
        }
    }
}

/// The shared media fields, with a closed kind.
fn media_fields(mut media: Value) -> Value {
    media["properties"]["kind"] = json!({ "type": "string", "enum": MEDIA_KINDS });
    media["additionalProperties"] = json!(false);
    media
}

/// `media` of a JSON body: the file is fetched from `url`, which is required.
fn media_by_url(media: Value) -> Value {
    let mut media = media_fields(media);
    media["properties"]["url"]["type"] = json!("string");
    media["properties"]["url"]["pattern"] = json!(HTTP_URL_PATTERN);
    require(&mut media, "url");
    media
}

/// `media` of a multipart body's `json` part: the files are the `file` parts, no `url`.
fn media_by_parts(media: Value) -> Value {
    let mut media = media_fields(media);
    if let Some(props) = media["properties"].as_object_mut() {
        props.remove("url");
    }
    media["description"] =
        json!("How the `file` parts are to be shown (a multipart body names no `url`).");
    media
}

fn require(schema: &mut Value, name: &str) {
    let required = schema
        .as_object_mut()
        .map(|o| o.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(required)) = required
        && !required.iter().any(|r| r == name)
    {
        required.push(json!(name));
    }
}

/// Without `media` there is nothing to send but `text`.
fn text_unless_media(body: &mut Value) {
    add_all_of(
        body,
        json!({ "anyOf": [
            { "required": ["text"], "properties": { "text": { "type": "string" } } },
            { "required": ["media"], "properties": { "media": { "type": "object" } } },
        ]}),
    );
}

/// The caption is given as `text` or as `media.caption`, not both: one of them is absent or
/// null. (Said with `anyOf` rather than `not`, which schemathesis cannot evaluate next to
/// the binary parts of a multipart body.)
fn one_caption(body: &mut Value) {
    add_all_of(
        body,
        json!({ "anyOf": [
            { "properties": { "text": { "type": "null" } } },
            { "properties": { "media": { "properties": { "caption": { "type": "null" } } } } },
        ]}),
    );
}

fn add_all_of(body: &mut Value, rule: Value) {
    if let Some(object) = body.as_object_mut()
        && let Value::Array(rules) = object.entry("allOf").or_insert_with(|| json!([]))
    {
        rules.push(rule);
    }
}

/// The `json` part (required, first) and 1 to [`MAX_FILES`] non-empty `file` parts.
fn form_parts(form: &mut Value, part: &str) {
    form["properties"]["json"] = json!({
        "$ref": format!("#/components/schemas/{part}"),
        "description": "The body as JSON; the first part.",
    });
    form["properties"]["file"] = json!({
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_FILES,
        "items": { "type": "string", "format": "binary", "minLength": 1 },
        "description": "The file(s), after the `json` part, each with a file name and ideally a `Content-Type`.",
    });
    form["required"] = json!(["json", "file"]);
    form["additionalProperties"] = json!(false);
}
