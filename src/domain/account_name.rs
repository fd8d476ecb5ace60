//! The name an account is addressed by: in `/v1/accounts/{account}/…`, in the accounts file,
//! in a key's scope, in logs and metric labels. Validated once so every one of those places can
//! rely on it being short and URL/label safe.

use std::fmt;

/// A validated account name: `[a-z0-9_-]{1,32}`. `default` is the account of `TG_SESSION`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountName(String);

/// Longest account (and key) name accepted.
pub const NAME_MAX: usize = 32;

impl AccountName {
    /// The name of the account configured by `TG_SESSION`.
    pub const DEFAULT: &'static str = "default";

    /// The `default` account.
    pub fn default_account() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// Checks the name's form; the error is a sentence that quotes it.
    pub fn parse(name: &str) -> Result<Self, String> {
        check_name(name).map(|()| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shared rule for account and key names: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = (1..=NAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a valid name: use 1 to {NAME_MAX} of a-z, 0-9, `_` and `-`",
            name.escape_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_digits_underscore_and_dash_are_names() {
        for good in ["default", "a", "ops_bot-2", &"x".repeat(32)] {
            assert_eq!(AccountName::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn empty_long_uppercase_and_odd_characters_are_refused_with_the_name_quoted() {
        for bad in ["", "Alice", "a b", "a.b", "ü", &"x".repeat(33), "a/b"] {
            let error = AccountName::parse(bad).unwrap_err();
            assert!(error.contains("not a valid name"), "{bad}: {error}");
        }
        assert!(AccountName::parse("Bob").unwrap_err().contains("`Bob`"));
    }

    #[test]
    fn the_default_account_is_named_default() {
        assert!(AccountName::default_account().is_default());
        assert!(!AccountName::parse("alice").unwrap().is_default());
    }
}
