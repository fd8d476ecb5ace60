//! Session strings in practice: the sandbox's Telethon string parses and points at it; a
//! Pyrogram string (no address) connects with `TG_DC_ADDR`; a sandbox string is never sent to
//! real Telegram.

use crate::common;

use common::{
    AppOptions, DEADLINE, MtgateProcess, TempDir, base_vars, pyrogram_string, random_api_key,
    spawn_app, spawn_app_with,
};
use mtgate_sandbox::harness::Sandbox;
use mtgate_session::{SessionFormat, StringSession};
use reqwest::StatusCode;

#[tokio::test]
async fn a_telethon_string_from_the_sandbox_parses_and_points_at_it() {
    let app = spawn_app().await;
    let parsed = StringSession::parse(app.sandbox.session(), None).unwrap();
    assert_eq!(parsed.format, SessionFormat::Telethon);
    assert_eq!(parsed.addr, app.sandbox.mtproto_addr());
    assert_eq!(app.state.config.session, parsed);
}

#[tokio::test]
async fn a_pyrogram_string_with_tg_dc_addr_connects() {
    let probe = spawn_app().await;
    probe.wait_until_healthy().await;
    let status: serde_json::Value = probe
        .get("/telegram/session/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = status["user_id"].as_u64().unwrap();

    // A second app on the same sandbox, logged in with the same key written the Pyrogram way.
    let pyrogram = pyrogram_string(&probe.sandbox, user_id);
    let addr = probe.sandbox.mtproto_addr().to_string();
    let app = spawn_app_with(
        AppOptions::default()
            .var("TG_SESSION", pyrogram)
            .var("TG_DC_ADDR", addr),
    )
    .await;
    assert!(matches!(
        app.state.config.session.format,
        SessionFormat::Pyrogram { .. }
    ));
    // spawn_app_with starts its own sandbox; the Pyrogram session targets the first one.
    app.wait_until_healthy().await;
    let response = app.get("/telegram/session/status").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["user_id"].as_u64(), Some(user_id));
}

#[tokio::test]
async fn a_sandbox_session_that_lost_its_leading_1_exits_2_instead_of_dialling_telegram() {
    let sandbox = Sandbox::start().await.unwrap();
    let state_dir = TempDir::new("stray-session");
    let mut vars = base_vars(&sandbox, state_dir.path(), &random_api_key());
    let stray = sandbox.session()[1..].to_string();
    vars.push(("TG_SESSION".into(), stray.clone()));
    let mut process = MtgateProcess::spawn(&["serve"], &vars);
    assert_eq!(process.wait_for_exit(DEADLINE).await.code(), Some(2));
    let stderr = process.stderr();
    assert!(stderr.contains("TG_SESSION"), "{stderr}");
    assert!(stderr.contains("starts with `1`"), "{stderr}");
    assert!(
        !stderr.contains(&stray[..40]),
        "the session leaked: {stderr}"
    );
    assert!(sandbox.control().requests().is_empty());
}
