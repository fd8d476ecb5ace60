//! Logging a key in and out: phone code + SRP 2FA, and QR login tokens accepted through the
//! control API.

use grammers_tl_types::{self as tl, Serializable};
use rand::RngCore;

use super::{Ctx, Reply};
use crate::world::error::RpcErr;
use crate::world::fixture::{self, ME_ID};
use crate::world::srp;
use crate::world::state::{KeyState, QrToken};
use crate::world::to_tl;

/// QR tokens say they expire after this long (the sandbox keeps them until replaced).
const QR_TOKEN_TTL_SECS: i32 = 30;

fn key_state<'a>(ctx: &'a mut Ctx) -> &'a mut KeyState {
    ctx.state.keys.entry(ctx.key_id).or_default()
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Logs the calling key in as the account and answers `auth.authorization`.
fn complete_login(ctx: &mut Ctx) -> tl::enums::auth::Authorization {
    let key = key_state(ctx);
    *key = KeyState {
        user: Some(ME_ID),
        ..KeyState::default()
    };
    to_tl::authorization(ctx.state.me())
}

pub fn send_code(ctx: &mut Ctx, request: tl::functions::auth::SendCode) -> Reply {
    if digits(&request.phone_number) != fixture::ME_PHONE {
        return Err(RpcErr::bad("PHONE_NUMBER_INVALID"));
    }
    let hash = random_hex(8);
    let key = key_state(ctx);
    key.pending_code = Some(hash.clone());
    key.awaiting_password = false;
    Ok(tl::enums::auth::SentCode::Code(tl::types::auth::SentCode {
        r#type: tl::types::auth::SentCodeTypeApp {
            length: fixture::LOGIN_CODE.len() as i32,
        }
        .into(),
        phone_code_hash: hash,
        next_type: None,
        timeout: None,
    })
    .to_bytes())
}

pub fn sign_in(ctx: &mut Ctx, request: tl::functions::auth::SignIn) -> Reply {
    if digits(&request.phone_number) != fixture::ME_PHONE {
        return Err(RpcErr::bad("PHONE_NUMBER_INVALID"));
    }
    let key = key_state(ctx);
    match &key.pending_code {
        None => return Err(RpcErr::bad("PHONE_CODE_EXPIRED")),
        Some(hash) if *hash != request.phone_code_hash => {
            return Err(RpcErr::bad("PHONE_CODE_HASH_INVALID"));
        }
        Some(_) => {}
    }
    match request.phone_code.as_deref() {
        None | Some("") => return Err(RpcErr::bad("PHONE_CODE_EMPTY")),
        Some(code) if code != fixture::LOGIN_CODE => return Err(RpcErr::bad("PHONE_CODE_INVALID")),
        Some(_) => {}
    }
    // The account has 2FA: the code alone is not enough.
    key.pending_code = None;
    key.awaiting_password = true;
    Err(RpcErr::unauthorized("SESSION_PASSWORD_NEEDED"))
}

pub fn get_password(ctx: &mut Ctx, _: tl::functions::account::GetPassword) -> Reply {
    let challenge = ctx.secrets.verifier().challenge();
    let mut secure_random = vec![0u8; 256];
    rand::thread_rng().fill_bytes(&mut secure_random);
    let password = tl::types::account::Password {
        has_recovery: false,
        has_secure_values: false,
        has_password: true,
        current_algo: Some(
            tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                salt1: ctx.secrets.verifier().salt1.clone(),
                salt2: ctx.secrets.verifier().salt2.clone(),
                g: srp::G,
                p: srp::prime_bytes(),
            }
            .into(),
        ),
        srp_b: Some(challenge.g_b.clone()),
        srp_id: Some(challenge.srp_id),
        hint: Some(fixture::PASSWORD_HINT.into()),
        email_unconfirmed_pattern: None,
        new_algo: tl::enums::PasswordKdfAlgo::Unknown,
        new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
        secure_random,
        pending_reset_date: None,
        login_email_pattern: None,
    };
    key_state(ctx).srp = Some(challenge);
    Ok(tl::enums::account::Password::Password(password).to_bytes())
}

pub fn check_password(ctx: &mut Ctx, request: tl::functions::auth::CheckPassword) -> Reply {
    let tl::enums::InputCheckPasswordSrp::Srp(input) = request.password else {
        return Err(RpcErr::bad("PASSWORD_HASH_INVALID"));
    };
    let key = key_state(ctx);
    if key.user.is_none() && !key.awaiting_password {
        return Err(RpcErr::unauthorized("AUTH_KEY_UNREGISTERED"));
    }
    let challenge = match &key.srp {
        Some(challenge) if challenge.srp_id == input.srp_id => challenge.clone(),
        _ => return Err(RpcErr::bad("SRP_ID_INVALID")),
    };
    // A wrong password keeps the challenge: the client may retry with the same token.
    if !ctx
        .secrets
        .verifier()
        .verify(&challenge, &input.a, &input.m1)
    {
        return Err(RpcErr::bad("PASSWORD_HASH_INVALID"));
    }
    Ok(complete_login(ctx).to_bytes())
}

pub fn log_out(ctx: &mut Ctx, _: tl::functions::auth::LogOut) -> Reply {
    *key_state(ctx) = KeyState::default();
    Ok(tl::enums::auth::LoggedOut::Out(tl::types::auth::LoggedOut {
        future_auth_token: None,
    })
    .to_bytes())
}

fn login_token(token: &QrToken) -> Vec<u8> {
    tl::enums::auth::LoginToken::Token(tl::types::auth::LoginToken {
        expires: token.expires,
        token: token.token.clone(),
    })
    .to_bytes()
}

fn login_success(ctx: &mut Ctx) -> Vec<u8> {
    let authorization = complete_login(ctx);
    tl::enums::auth::LoginToken::Success(tl::types::auth::LoginTokenSuccess { authorization })
        .to_bytes()
}

/// A fresh token to show as a QR code, or success once the last one was accepted.
pub fn export_login_token(ctx: &mut Ctx, _: tl::functions::auth::ExportLoginToken) -> Reply {
    let now = ctx.now;
    let key = key_state(ctx);
    if key.qr_token.as_ref().is_some_and(|t| t.accepted) || key.user.is_some() {
        return Ok(login_success(ctx));
    }
    let mut token = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut token);
    let token = QrToken {
        token,
        expires: now + QR_TOKEN_TTL_SECS,
        accepted: false,
    };
    let bytes = login_token(&token);
    key.qr_token = Some(token);
    Ok(bytes)
}

/// Telegram's answer on the DC a token migrated to; here every key shares one DC, so it
/// just reports the token's state.
pub fn import_login_token(ctx: &mut Ctx, request: tl::functions::auth::ImportLoginToken) -> Reply {
    let found = ctx
        .state
        .keys
        .values()
        .filter_map(|k| k.qr_token.clone())
        .find(|t| t.token == request.token)
        .ok_or_else(|| RpcErr::bad("AUTH_TOKEN_INVALID"))?;
    if found.accepted {
        Ok(login_success(ctx))
    } else {
        Ok(login_token(&found))
    }
}
