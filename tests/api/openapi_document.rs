//! The OpenAPI document is valid OpenAPI 3.1 and covers every endpoint of CONTRACT.md.

use std::collections::BTreeSet;

use axum::http::Method;

/// Every route of CONTRACT.md, as the document must list it.
const CONTRACT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/telegram/session/status"),
    ("POST", "/v1/messages"),
    ("PATCH", "/v1/messages/{peer}/{id}"),
    ("DELETE", "/v1/messages/{peer}/{id}"),
    ("POST", "/v1/messages/delete"),
    ("GET", "/v1/messages/{peer}"),
    ("GET", "/v1/peers/{peer}"),
    ("POST", "/v1/messages/{peer}/{id}/forward"),
    ("POST", "/v1/messages/{peer}/{id}/pin"),
    ("DELETE", "/v1/messages/{peer}/{id}/pin"),
    ("GET", "/v1/chats"),
    ("POST", "/v1/chats/{peer}/read"),
    ("POST", "/v1/chats/{peer}/typing"),
    ("POST", "/v1/outbox"),
    ("POST", "/v1/outbox/batch"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/{job_id}"),
    ("DELETE", "/v1/jobs/{job_id}"),
    ("POST", "/v1/jobs/{job_id}/retry"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/v1/cluster"),
];

fn spec() -> oas3::OpenApiV3Spec {
    oas3::from_json(mtgate::api::openapi::document()).expect("the document parses as OpenAPI 3.1")
}

#[test]
fn the_document_is_openapi_3_1() {
    let version = spec().validate_version().expect("a supported version");
    assert_eq!((version.major, version.minor), (3, 1));
}

#[test]
fn every_contract_route_is_listed_and_nothing_else() {
    let spec = spec();
    let listed: BTreeSet<(String, String)> = spec
        .operations()
        .map(|(path, method, _)| (method.to_string(), path))
        .collect();
    // Every /v1 route (and session status) also exists per account.
    let per_account = CONTRACT_ROUTES.iter().filter_map(|(m, p)| {
        let scoped = match *p {
            "/telegram/session/status" => "/v1/accounts/{account}/session/status".to_string(),
            p => format!("/v1/accounts/{{account}}/{}", p.strip_prefix("/v1/")?),
        };
        Some((m.to_string(), scoped))
    });
    let expected: BTreeSet<(String, String)> = CONTRACT_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .chain(per_account)
        .collect();
    assert_eq!(listed, expected);
}

#[test]
fn every_reference_resolves() {
    let spec = spec();
    for (path, method, op) in spec.operations() {
        if op.request_body.is_some() {
            op.request_body(&spec)
                .unwrap_or_else(|e| panic!("{method} {path} body: {e}"));
        }
        op.parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path} parameters: {e}"));
        assert!(
            !op.responses(&spec).is_empty(),
            "{method} {path} has no responses"
        );
    }
    // And every $ref anywhere names a schema that exists.
    let json: serde_json::Value = serde_json::from_str(mtgate::api::openapi::document()).unwrap();
    let schemas = json["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&json, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
}

#[test]
fn v1_errors_use_the_error_schema() {
    let spec = spec();
    for (path, method, op) in spec.operations() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let responses = op.responses(&spec);
        // The per-account session status takes no input (no 400): check its 401 instead.
        let row = if path.ends_with("/session/status") {
            "401"
        } else {
            "400"
        };
        let bad = responses
            .get(row)
            .unwrap_or_else(|| panic!("{method} {path}: no {row}"));
        let schema = serde_json::to_value(&bad.content["application/json"].schema).unwrap();
        assert_eq!(
            schema["$ref"], "#/components/schemas/ErrorBody",
            "{method} {path}"
        );
        assert!(
            op.security.iter().any(|s| !s.0.is_empty()),
            "{method} {path} must require a key"
        );
        assert!(
            [Method::POST, Method::PATCH, Method::DELETE, Method::GET].contains(&method),
            "{method} {path}"
        );
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn flood_waits_document_retry_after() {
    let json: serde_json::Value = serde_json::from_str(mtgate::api::openapi::document()).unwrap();
    for (path, item) in json["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let flood = &op["responses"]["429"];
            assert!(
                flood["headers"]["Retry-After"].is_object(),
                "{method} {path}: 429 without Retry-After"
            );
        }
    }
}
