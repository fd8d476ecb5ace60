//! Login with a phone number and the code Telegram sends (to the app or by SMS), then the
//! 2FA password when the account has one.

use grammers_client::{InvocationError, SignInError, tl};

use super::connect::Connection;
use super::credentials::ApiCredentials;
use super::exit::LoginError;
use super::password::complete_with_password;
use super::prompt::Prompter;

/// How many codes (and phone numbers) a person may type before the login gives up.
pub const CODE_TRIES: usize = 3;

/// Runs the code flow; returns the logged-in user.
pub async fn login_with_code(
    conn: &Connection,
    prompter: &Prompter,
    credentials: &ApiCredentials,
    phone_flag: Option<&str>,
    password_file: Option<&str>,
) -> Result<tl::enums::User, LoginError> {
    let token = request_code(conn, prompter, credentials, phone_flag).await?;
    prompter.say("Telegram sent a login code to your Telegram app (or by SMS).");
    let mut wrong_before = false;
    for attempt in 1..=CODE_TRIES {
        let Some(code) = prompter.ask("Login code: ").await? else {
            return Err(if wrong_before {
                LoginError::WrongCode
            } else {
                LoginError::Usage("input ended before the login code".into())
            });
        };
        let code = normalize_code(&code);
        if code.is_empty() {
            prompter.say("The code is the digits Telegram sent; type them and press Enter.");
            continue;
        }
        match conn.call(conn.client.sign_in(&token, &code)).await? {
            Ok(user) => return Ok(user.raw),
            Err(SignInError::PasswordRequired(password_token)) => {
                return complete_with_password(conn, prompter, password_token, password_file).await;
            }
            Err(SignInError::InvalidCode) if attempt < CODE_TRIES => {
                wrong_before = true;
                prompter.say(&format!(
                    "That code is wrong or expired; try again ({} left).",
                    CODE_TRIES - attempt
                ));
            }
            Err(SignInError::InvalidCode) => return Err(LoginError::WrongCode),
            Err(SignInError::SignUpRequired) => {
                return Err(LoginError::Refused(
                    "this phone number has no Telegram account yet; sign up in an official \
                     Telegram app first"
                        .into(),
                ));
            }
            Err(SignInError::Other(e)) => return Err(e.into()),
            Err(SignInError::InvalidPassword(_)) => {
                return Err(LoginError::Local(
                    "Telegram asked for a password before one was sent".into(),
                ));
            }
        }
    }
    Err(LoginError::WrongCode)
}

/// Sends the code, asking for the phone number on a terminal (again if Telegram rejects it).
async fn request_code(
    conn: &Connection,
    prompter: &Prompter,
    credentials: &ApiCredentials,
    phone_flag: Option<&str>,
) -> Result<grammers_client::client::LoginToken, LoginError> {
    if let Some(phone) = phone_flag {
        let phone = normalize_phone(phone);
        return Ok(conn
            .call(
                conn.client
                    .request_login_code(&phone, &credentials.api_hash),
            )
            .await??);
    }
    for attempt in 1..=CODE_TRIES {
        let Some(answer) = prompter
            .ask("Phone number (international format, e.g. +15551234567): ")
            .await?
        else {
            return Err(LoginError::Usage(
                "input ended before the phone number; pass it with --phone".into(),
            ));
        };
        let phone = normalize_phone(&answer);
        if phone.is_empty() {
            continue;
        }
        match conn
            .call(
                conn.client
                    .request_login_code(&phone, &credentials.api_hash),
            )
            .await?
        {
            Ok(token) => return Ok(token),
            Err(InvocationError::Rpc(rpc))
                if rpc.name == "PHONE_NUMBER_INVALID"
                    && prompter.is_interactive()
                    && attempt < CODE_TRIES =>
            {
                prompter.say("Telegram does not know that number; check it and try again.");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(LoginError::Usage("no valid phone number was given".into()))
}

/// Keeps `+` and digits: people type spaces, dashes and parentheses.
pub fn normalize_phone(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// Codes are sometimes pasted as `12 345` or `12-345`.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_keep_only_the_plus_and_digits() {
        assert_eq!(normalize_phone(" +1 (555) 123-4567 "), "+15551234567");
        assert_eq!(normalize_phone("abc"), "");
    }

    #[test]
    fn codes_lose_spaces_and_dashes() {
        assert_eq!(normalize_code(" 12 345\n"), "12345");
        assert_eq!(normalize_code("12-345"), "12345");
    }
}
