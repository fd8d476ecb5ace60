//! What a successful login prints: who logged in (stderr) and the session (stdout).
//!
//! stdout carries exactly two lines, so `mtgate login > session.txt` captures the secret and
//! nothing else: the Telethon string, then the same string as `TG_SESSION=…` ready to paste
//! into a `.env`. The phone number is never printed.

use std::io::{self, Write};

use grammers_client::tl;

/// The account a login ended in, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedIn {
    pub user_id: i64,
    pub name: String,
    pub username: Option<String>,
}

impl LoggedIn {
    /// Reads the name and username off the raw user Telegram returned.
    pub fn from_raw(user: &tl::enums::User) -> Self {
        match user {
            tl::enums::User::User(user) => Self::new(
                user.id,
                user.first_name.as_deref(),
                user.last_name.as_deref(),
                user.username.as_deref(),
            ),
            tl::enums::User::Empty(empty) => Self::new(empty.id, None, None, None),
        }
    }

    /// Joins first and last name; empty parts are skipped.
    pub fn new(
        user_id: i64,
        first: Option<&str>,
        last: Option<&str>,
        username: Option<&str>,
    ) -> Self {
        let name = [first, last]
            .into_iter()
            .flatten()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            user_id,
            name,
            username: username.map(str::to_owned),
        }
    }

    /// One line for stderr, e.g. `Logged in as Ada Lovelace (@ada, user id 42).`
    pub fn describe(&self) -> String {
        let name = if self.name.is_empty() {
            "an account with no name"
        } else {
            &self.name
        };
        match &self.username {
            Some(username) => format!(
                "Logged in as {name} (@{username}, user id {}).",
                self.user_id
            ),
            None => format!("Logged in as {name} (user id {}).", self.user_id),
        }
    }
}

/// The two stdout lines for a session string.
pub fn session_lines(session: &str) -> String {
    format!("{session}\nTG_SESSION={session}\n")
}

/// Writes the session to stdout in one write, so it is printed whole or not at all.
pub fn print_session(session: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(session_lines(session).as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_the_account_and_its_username() {
        let who = LoggedIn::new(42, Some("Ada"), Some("Lovelace"), Some("ada"));
        let line = who.describe();
        assert_eq!(line, "Logged in as Ada Lovelace (@ada, user id 42).");
    }

    #[test]
    fn an_account_without_username_or_last_name_is_described_too() {
        let who = LoggedIn::new(42, Some("Ada"), None, None);
        assert_eq!(who.describe(), "Logged in as Ada (user id 42).");
        let nameless = LoggedIn::new(42, None, Some(""), None);
        assert!(nameless.describe().contains("no name"));
    }

    #[test]
    fn stdout_gets_the_string_then_a_pasteable_line() {
        assert_eq!(session_lines("1abc=="), "1abc==\nTG_SESSION=1abc==\n");
    }
}
