//! The application's API ID and hash: from the flags, the environment, `.env`, or asked for.
//!
//! They identify the *application* (not the account) to Telegram, and come from
//! https://my.telegram.org → "API development tools". The real environment wins over `.env`,
//! as everywhere in mtgate, and `.env` is read without changing the process environment.

use std::fmt;

use super::exit::LoginError;
use super::prompt::Prompter;

/// Where to get API credentials, shown when they are missing or asked for.
pub const WHERE_TO_GET_THEM: &str = "Get an API ID and hash at https://my.telegram.org \
                                     → API development tools (any app name will do).";

/// The application's credentials. `Debug` hides the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiCredentials {
    pub api_id: i32,
    pub api_hash: String,
}

impl fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("api_id", &self.api_id)
            .field("api_hash", &"<redacted>")
            .finish()
    }
}

/// The values found without asking, by source, highest priority first.
#[derive(Default)]
pub struct Sources {
    pub flag_id: Option<i32>,
    pub flag_hash: Option<String>,
    pub env_id: Option<String>,
    pub env_hash: Option<String>,
    pub dotenv_id: Option<String>,
    pub dotenv_hash: Option<String>,
}

impl Sources {
    /// Reads the environment and `.env` (found by dotenvy in this directory or a parent).
    /// A `.env` that exists but cannot be parsed is an error; a missing one is not.
    pub fn gather(flag_id: Option<i32>, flag_hash: Option<String>) -> Result<Self, LoginError> {
        let mut sources = Sources {
            flag_id,
            flag_hash,
            env_id: non_empty(std::env::var("TG_API_ID").ok()),
            env_hash: non_empty(std::env::var("TG_API_HASH").ok()),
            ..Sources::default()
        };
        match dotenvy::dotenv_iter() {
            Ok(lines) => {
                for line in lines {
                    let (key, value) = line.map_err(describe_dotenv_error)?;
                    match key.as_str() {
                        "TG_API_ID" => sources.dotenv_id = non_empty(Some(value)),
                        "TG_API_HASH" => sources.dotenv_hash = non_empty(Some(value)),
                        _ => {}
                    }
                }
            }
            Err(e) if e.not_found() => {}
            Err(e) => return Err(describe_dotenv_error(e)),
        }
        Ok(sources)
    }

    /// The API ID found without asking, if any (flag, then environment, then `.env`).
    pub fn api_id(&self) -> Result<Option<i32>, LoginError> {
        if let Some(id) = self.flag_id {
            return check_api_id(id).map(Some);
        }
        match self.env_id.as_deref().or(self.dotenv_id.as_deref()) {
            Some(text) => parse_api_id(text).map(Some),
            None => Ok(None),
        }
    }

    /// The API hash found without asking, if any (flag, then environment, then `.env`).
    pub fn api_hash(&self) -> Option<String> {
        self.flag_hash
            .clone()
            .or_else(|| self.env_hash.clone())
            .or_else(|| self.dotenv_hash.clone())
    }
}

/// Resolves both values, asking on a terminal for what is missing.
pub async fn resolve(sources: &Sources, prompter: &Prompter) -> Result<ApiCredentials, LoginError> {
    let known_id = sources.api_id()?;
    let known_hash = sources.api_hash();
    if (known_id.is_none() || known_hash.is_none()) && !prompter.is_interactive() {
        return Err(LoginError::Usage(format!(
            "TG_API_ID and TG_API_HASH are required (flags --api-id/--api-hash, the \
             environment, or .env). {WHERE_TO_GET_THEM}"
        )));
    }
    if known_id.is_none() || known_hash.is_none() {
        prompter.say(WHERE_TO_GET_THEM);
    }
    let api_id = match known_id {
        Some(id) => id,
        None => ask_api_id(prompter).await?,
    };
    let api_hash = match known_hash {
        Some(hash) => hash,
        None => prompter
            .ask_hidden("API hash (not shown): ")
            .await?
            .map(|hash| hash.trim().to_owned())
            .filter(|hash| !hash.is_empty())
            .ok_or_else(|| LoginError::Usage("no API hash was given".into()))?,
    };
    Ok(ApiCredentials { api_id, api_hash })
}

async fn ask_api_id(prompter: &Prompter) -> Result<i32, LoginError> {
    const TRIES: usize = 3;
    for _ in 0..TRIES {
        let Some(answer) = prompter.ask("API ID: ").await? else {
            break;
        };
        match parse_api_id(&answer) {
            Ok(id) => return Ok(id),
            Err(e) => prompter.say(&e.to_string()),
        }
    }
    Err(LoginError::Usage("no valid API ID was given".into()))
}

/// Parses `TG_API_ID`: a positive integer.
pub fn parse_api_id(text: &str) -> Result<i32, LoginError> {
    text.trim()
        .parse::<i32>()
        .map_err(|_| LoginError::Usage("TG_API_ID must be a number, e.g. 1234567".into()))
        .and_then(check_api_id)
}

fn check_api_id(id: i32) -> Result<i32, LoginError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(LoginError::Usage(
            "TG_API_ID must be a positive number".into(),
        ))
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// dotenvy's parse error quotes the offending line, which may hold a secret: name only where.
fn describe_dotenv_error(error: dotenvy::Error) -> LoginError {
    match error {
        dotenvy::Error::LineParse(_, index) => LoginError::Usage(format!(
            "the .env file cannot be parsed (near character {index} of a line)"
        )),
        dotenvy::Error::Io(e) => LoginError::Usage(format!("the .env file cannot be read: {e}")),
        dotenvy::Error::EnvVar(e) => LoginError::Usage(format!("the .env file: {e}")),
        other => LoginError::Usage(format!("the .env file cannot be used: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_wins_over_the_environment_and_the_environment_over_dotenv() {
        let mut sources = Sources {
            flag_id: Some(1),
            flag_hash: Some("flag".into()),
            env_id: Some("2".into()),
            env_hash: Some("env".into()),
            dotenv_id: Some("3".into()),
            dotenv_hash: Some("dotenv".into()),
        };
        assert_eq!(sources.api_id().unwrap(), Some(1));
        assert_eq!(sources.api_hash().as_deref(), Some("flag"));
        sources.flag_id = None;
        sources.flag_hash = None;
        assert_eq!(sources.api_id().unwrap(), Some(2));
        assert_eq!(sources.api_hash().as_deref(), Some("env"));
        sources.env_id = None;
        sources.env_hash = None;
        assert_eq!(sources.api_id().unwrap(), Some(3));
        assert_eq!(sources.api_hash().as_deref(), Some("dotenv"));
        sources.dotenv_id = None;
        sources.dotenv_hash = None;
        assert_eq!(sources.api_id().unwrap(), None);
        assert_eq!(sources.api_hash(), None);
    }

    #[test]
    fn an_api_id_that_is_not_a_positive_number_is_a_usage_error() {
        assert_eq!(parse_api_id(" 42 ").unwrap(), 42);
        for bad in ["abc", "0", "-5", ""] {
            assert_eq!(parse_api_id(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        let sources = Sources {
            env_id: Some("x1".into()),
            ..Sources::default()
        };
        assert!(sources.api_id().is_err());
    }

    #[test]
    fn a_dotenv_parse_error_does_not_echo_the_line() {
        let error = describe_dotenv_error(dotenvy::Error::LineParse(
            "TG_API_HASH=\"secret-hash".into(),
            12,
        ));
        assert_eq!(error.exit_code(), 2);
        assert!(!error.to_string().contains("secret-hash"));
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let credentials = ApiCredentials {
            api_id: 7,
            api_hash: "0123456789abcdef".into(),
        };
        assert!(!format!("{credentials:?}").contains("0123456789abcdef"));
    }
}
