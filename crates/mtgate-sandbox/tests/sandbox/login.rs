//! Logging the real grammers client in to the sandbox: phone code + SRP 2FA, QR tokens
//! accepted through the control API, revoked sessions.

use crate::support::*;

#[tokio::test]
async fn logging_in_with_2fa_survives_a_wrong_code_and_a_wrong_password() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.unauthorized_session());
    let token = within(
        "code",
        tg.client.request_login_code(&sandbox.phone(), "hash"),
    )
    .await
    .unwrap();
    let wrong = within("sign in", tg.client.sign_in(&token, "00000")).await;
    assert!(matches!(wrong, Err(SignInError::InvalidCode)), "{wrong:?}");
    let password = match within("sign in", tg.client.sign_in(&token, sandbox.login_code())).await {
        Err(SignInError::PasswordRequired(password)) => password,
        other => panic!("expected PasswordRequired, got {other:?}"),
    };
    let password = match within("password", tg.client.check_password(password, "wrong")).await {
        Err(SignInError::InvalidPassword(password)) => password,
        other => panic!("expected InvalidPassword, got {other:?}"),
    };
    let me = within(
        "password",
        tg.client.check_password(password, sandbox.password()),
    )
    .await
    .unwrap();
    assert_eq!(format!("@{}", me.username().unwrap()), sandbox.world().user);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn qr_login_completes_once_the_control_api_accepts_the_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut tg = connect(sandbox.unauthorized_session());
    let export = tl::functions::auth::ExportLoginToken {
        api_id: API_ID,
        api_hash: "hash".into(),
        except_ids: Vec::new(),
    };
    let tl::enums::auth::LoginToken::Token(token) =
        within("export", tg.client.invoke(&export)).await.unwrap()
    else {
        panic!("a token to show first")
    };
    let nothing_else = post(&sandbox, "/login-tokens/accept", json!({"token": "AAAA"})).await;
    assert_eq!(nothing_else.status(), 404);
    let accepted = post(&sandbox, "/login-tokens/accept", json!({})).await;
    assert_eq!(accepted.status(), 204);
    let updates = tg.updates.as_mut().unwrap();
    within("updateLoginToken", async {
        loop {
            match updates.recv().await.expect("updates flow") {
                UpdatesLike::Updates(tl::enums::Updates::UpdateShort(short))
                    if short.update == tl::enums::Update::LoginToken =>
                {
                    break;
                }
                _ => continue,
            }
        }
    })
    .await;
    let done = within("export", tg.client.invoke(&export)).await.unwrap();
    assert!(
        matches!(done, tl::enums::auth::LoginToken::Success(_)),
        "{done:?}"
    );
    assert!(token.token.len() >= 16);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn revoked_sessions_are_unauthorized_until_reset() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(
        post(&sandbox, "/faults", json!({"revoke_sessions": true}))
            .await
            .status(),
        204
    );
    assert!(
        !within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
    assert_eq!(post(&sandbox, "/reset", json!({})).await.status(), 204);
    assert!(
        within("is_authorized", tg.client.is_authorized())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_key_exchange_stops_at_once_on_the_sandbox_fingerprint() {
    use grammers_mtproto::authentication::Error::UnknownFingerprints;
    use grammers_mtproto::transport::Full;
    use grammers_mtsender::{InvocationError, ServerAddr};

    let sandbox = Sandbox::start().await.unwrap();
    let address = sandbox.mtproto_addr();
    // What grammers does for a DC it has no key for: connect, then req_pq_multi.
    let attempt = within(
        "key exchange",
        grammers_mtsender::connect(Full::new(), ServerAddr::Tcp { address }),
    )
    .await;
    match attempt {
        Err(InvocationError::Authentication(UnknownFingerprints { fingerprints })) => {
            assert_eq!(
                fingerprints,
                vec![mtgate_sandbox::wire::NO_KEY_EXCHANGE_FINGERPRINT]
            );
        }
        Err(other) => panic!("expected unknown fingerprints, got {other:?}"),
        Ok(_) => panic!("the sandbox cannot have created a key"),
    }
}
