//! Authorization: unauthorized keys, phone + 2FA, QR tokens, log out.

use grammers_tl_types::{self as tl, Deserializable};

use super::*;

#[test]
fn an_unauthorized_key_may_only_log_in() {
    let h = harness();
    let key = h.unauthorized();
    assert_eq!(
        h.call_as(key, &tl::functions::updates::GetState {})
            .map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    assert!(h.call_as(key, &tl::functions::help::GetConfig {}).is_ok());
    assert_eq!(
        h.call_as(12345, &tl::functions::help::GetConfig {})
            .map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    assert_eq!(h.world.auth_key(12345), None);
    assert_eq!(h.world.auth_key(key), Some(h.world.unauthorized_key()));
}

fn password_check(
    password: &tl::types::account::Password,
    text: &str,
) -> tl::functions::auth::CheckPassword {
    let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(algo)) =
        &password.current_algo
    else {
        panic!("SRP algorithm")
    };
    assert!(grammers_crypto::two_factor_auth::check_p_and_g(
        &algo.p, &algo.g
    ));
    let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
        &algo.salt1,
        &algo.salt2,
        &algo.p,
        &algo.g,
        password.srp_b.clone().unwrap(),
        password.secure_random.clone(),
        text,
    );
    tl::functions::auth::CheckPassword {
        password: tl::types::InputCheckPasswordSrp {
            srp_id: password.srp_id.unwrap(),
            a: g_a.to_vec(),
            m1: m1.to_vec(),
        }
        .into(),
    }
}

#[test]
fn phone_login_with_2fa_rejects_a_wrong_code_and_a_wrong_password() {
    let h = harness();
    let key = h.unauthorized();
    let tl::enums::auth::SentCode::Code(sent) = h
        .call_as(
            key,
            &tl::functions::auth::SendCode {
                phone_number: fixture::phone_international(),
                api_id: 1,
                api_hash: "x".into(),
                settings: tl::types::CodeSettings {
                    allow_flashcall: false,
                    current_number: false,
                    allow_app_hash: false,
                    allow_missed_call: false,
                    allow_firebase: false,
                    unknown_number: false,
                    logout_tokens: None,
                    token: None,
                    app_sandbox: None,
                }
                .into(),
            },
        )
        .unwrap()
    else {
        panic!("sentCode")
    };
    let sign_in = |code: &str| {
        h.call_as(
            key,
            &tl::functions::auth::SignIn {
                phone_number: fixture::phone_international(),
                phone_code_hash: sent.phone_code_hash.clone(),
                phone_code: Some(code.into()),
                email_verification: None,
            },
        )
        .map(|_| ())
    };
    assert_eq!(sign_in("00000"), bad("PHONE_CODE_INVALID"));
    assert_eq!(
        sign_in(fixture::LOGIN_CODE),
        Err((401, "SESSION_PASSWORD_NEEDED".into()))
    );
    let tl::enums::account::Password::Password(password) = h
        .call_as(key, &tl::functions::account::GetPassword {})
        .unwrap();
    assert_eq!(
        h.call_as(key, &password_check(&password, "not it"))
            .map(|_| ()),
        bad("PASSWORD_HASH_INVALID")
    );
    let tl::enums::auth::Authorization::Authorization(auth) = h
        .call_as(key, &password_check(&password, fixture::PASSWORD))
        .unwrap()
    else {
        panic!("authorization")
    };
    assert_eq!(auth.user.id(), fixture::ME_ID);
    assert!(h.call_as(key, &tl::functions::updates::GetState {}).is_ok());
}

#[test]
fn qr_login_completes_once_the_control_api_accepts_the_token() {
    let h = harness();
    let key = h.unauthorized();
    let mut pushes = h.bus.subscribe();
    let export = tl::functions::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "x".into(),
        except_ids: vec![],
    };
    assert_eq!(
        h.world.accept_login_token(None),
        Err(ControlError::NoPendingLoginToken)
    );
    let tl::enums::auth::LoginToken::Token(token) = h.call_as(key, &export).unwrap() else {
        panic!("a token first")
    };
    assert!(
        h.call_as(key, &tl::functions::updates::GetState {})
            .is_err()
    );
    h.world.accept_login_token(Some(&token.token)).unwrap();
    let push = pushes.try_recv().expect("updateLoginToken pushed");
    assert_eq!(push.auth_key_id, key);
    let tl::enums::Updates::UpdateShort(short) =
        tl::enums::Updates::from_bytes(&push.updates).unwrap()
    else {
        panic!()
    };
    assert_eq!(short.update, tl::enums::Update::LoginToken);
    assert!(matches!(
        h.call_as(key, &export).unwrap(),
        tl::enums::auth::LoginToken::Success(_)
    ));
    assert!(h.call_as(key, &tl::functions::updates::GetState {}).is_ok());
}

#[test]
fn logging_out_unauthorizes_the_key() {
    let h = harness();
    assert!(h.call(&tl::functions::auth::LogOut {}).is_ok());
    assert_eq!(
        h.call(&tl::functions::updates::GetState {}).map(|_| ()),
        Err((401, "AUTH_KEY_UNREGISTERED".into()))
    );
}

#[test]
fn an_imported_login_token_reports_its_state() {
    let h = harness();
    let key = h.unauthorized();
    let export = tl::functions::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "x".into(),
        except_ids: vec![],
    };
    let tl::enums::auth::LoginToken::Token(token) = h.call_as(key, &export).unwrap() else {
        panic!()
    };
    let import =
        |bytes: Vec<u8>| h.call_as(key, &tl::functions::auth::ImportLoginToken { token: bytes });
    assert!(matches!(
        import(token.token.clone()).unwrap(),
        tl::enums::auth::LoginToken::Token(_)
    ));
    assert_eq!(import(vec![1, 2, 3]).map(|_| ()), bad("AUTH_TOKEN_INVALID"));
    h.world.accept_login_token(None).unwrap();
    assert!(matches!(
        import(token.token).unwrap(),
        tl::enums::auth::LoginToken::Success(_)
    ));
}
