//! The 2FA step, shared by the code and QR flows: the hint is shown, the password comes from
//! `--password-file` (read up front) or is typed with echo off, and a wrong one is asked again (bounded).
//!
//! SRP parameters are single-use on Telegram's side, so every retry fetches fresh ones
//! (`account.getPassword`) instead of reusing the token that just failed.

use std::path::Path;

use grammers_client::client::PasswordToken;
use grammers_client::{SignInError, tl};

use super::connect::Connection;
use super::exit::LoginError;
use super::prompt::{Prompter, strip_line_ending};

/// How many passwords a person may type before the login gives up.
pub const PASSWORD_TRIES: usize = 3;

/// Completes a login that needs the account's 2FA password; returns the logged-in user.
pub async fn complete_with_password(
    conn: &Connection,
    prompter: &Prompter,
    mut token: PasswordToken,
    from_file: Option<&str>,
) -> Result<tl::enums::User, LoginError> {
    match token.hint() {
        Some(hint) if !hint.is_empty() => {
            prompter.say(&format!("This account has a 2FA password (hint: {hint})."))
        }
        _ => prompter.say("This account has a 2FA password."),
    }
    let tries = if from_file.is_some() {
        1
    } else {
        PASSWORD_TRIES
    };
    for attempt in 1..=tries {
        let password = match from_file {
            Some(password) => password.to_owned(),
            None => ask_password(prompter).await?,
        };
        match conn
            .call(conn.client.check_password(token, password.as_bytes()))
            .await?
        {
            Ok(user) => return Ok(user.raw),
            Err(SignInError::InvalidPassword(_)) if attempt < tries => {
                prompter.say(&format!(
                    "That password is wrong; try again ({} left).",
                    tries - attempt
                ));
                token = fresh_token(conn).await?;
            }
            Err(SignInError::InvalidPassword(_)) => {
                if from_file.is_some() {
                    prompter.say("The password in --password-file is wrong.");
                }
                return Err(LoginError::WrongPassword);
            }
            Err(SignInError::Other(e)) => return Err(e.into()),
            Err(other) => {
                return Err(LoginError::Refused(format!(
                    "unexpected answer to the password: {other}"
                )));
            }
        }
    }
    Err(LoginError::WrongPassword)
}

/// Fetches new SRP parameters for the next try.
pub async fn fresh_token(conn: &Connection) -> Result<PasswordToken, LoginError> {
    let password: tl::types::account::Password = conn
        .call(conn.client.invoke(&tl::functions::account::GetPassword {}))
        .await??
        .into();
    Ok(PasswordToken::new(password))
}

async fn ask_password(prompter: &Prompter) -> Result<String, LoginError> {
    let question = if prompter.is_interactive() {
        "2FA password (not shown): "
    } else {
        "2FA password: "
    };
    match prompter.ask_hidden(question).await? {
        Some(password) if !password.is_empty() => Ok(password),
        Some(_) => Err(LoginError::Usage("an empty 2FA password was given".into())),
        None => Err(LoginError::Usage(
            "input ended before the 2FA password; pass it with --password-file".into(),
        )),
    }
}

/// The first line of the file, without its line ending. Errors never quote the contents.
pub fn read_password_file(path: &Path) -> Result<String, LoginError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        LoginError::Usage(format!(
            "cannot read --password-file {}: {e}",
            path.display()
        ))
    })?;
    let first = text.split_inclusive('\n').next().unwrap_or("");
    let password = strip_line_ending(first);
    if password.is_empty() {
        return Err(LoginError::Usage(format!(
            "--password-file {} is empty",
            path.display()
        )));
    }
    Ok(password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(name: &str, contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "mtgate-pw-{name}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn the_password_file_gives_its_first_line_with_spaces_kept() {
        let path = file_with("first", " secret pass \r\nsecond line\n");
        assert_eq!(read_password_file(&path).unwrap(), " secret pass ");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn an_empty_or_missing_password_file_is_a_usage_error() {
        let path = file_with("empty", "\n");
        assert_eq!(read_password_file(&path).unwrap_err().exit_code(), 2);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read_password_file(&path).unwrap_err().exit_code(), 2);
    }
}
