//! `GET /openapi.json` is served without a key and is the generated document.

use crate::common;

#[tokio::test]
async fn the_document_is_served_without_a_key_as_json() {
    let app = common::spawn_app().await;
    let response = app.get_anonymous("/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert_eq!(text, mtgate::api::openapi::document());
    let spec = oas3::from_json(&text).expect("valid OpenAPI");
    assert!(spec.validate_version().is_ok());
    assert!(spec.operations().count() >= 12);
}
