//! What an API key may do: which accounts, which chats, and whether it may write.
//!
//! Pure rules, decided before anything reaches Telegram, so a request outside its key's scope
//! is refused with nothing sent.

use std::collections::BTreeSet;

use super::account_name::AccountName;
use super::peer::PeerSpec;

/// The accounts a key may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountsScope {
    /// `accounts = ["*"]`: every configured account.
    All,
    /// Only these.
    Only(BTreeSet<AccountName>),
}

/// A key's scope. Keys from `MTGATE_API_KEYS` have [`KeyScope::full`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyScope {
    pub accounts: AccountsScope,
    /// The chats the key may read and write; `None`: all chats.
    pub chats: Option<Vec<PeerSpec>>,
    /// A read-only key may only read (GET).
    pub read_only: bool,
}

/// Why a request falls outside its key's scope; the text is for the caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeDenied {
    #[error("this API key may not use the account `{0}`")]
    Account(AccountName),
    #[error(
        "this API key may not use the chat `{0}` (its chats list names neither it nor another name or id the account knows it by)"
    )]
    Chat(PeerSpec),
    #[error("this API key is read-only")]
    ReadOnly,
}

impl KeyScope {
    /// Every account, every chat, reads and writes.
    pub fn full() -> Self {
        Self {
            accounts: AccountsScope::All,
            chats: None,
            read_only: false,
        }
    }

    pub fn check_account(&self, account: &AccountName) -> Result<(), ScopeDenied> {
        match &self.accounts {
            AccountsScope::All => Ok(()),
            AccountsScope::Only(names) if names.contains(account) => Ok(()),
            AccountsScope::Only(_) => Err(ScopeDenied::Account(account.clone())),
        }
    }

    /// A chat matches when it is written as one of the listed peers (usernames compare
    /// case-insensitively, as [`PeerSpec`] lower-cases them).
    pub fn check_chat(&self, chat: &PeerSpec) -> Result<(), ScopeDenied> {
        self.check_chat_known_as(chat, &[])
    }

    /// [`Self::check_chat`], where `known_as` are the other forms the account already knows
    /// the same chat by (its id for a username, its usernames for an id): a chat listed as
    /// `@news` may then be named `-100123`, and the reverse. A form nobody has told the
    /// account about is refused: refusing is the safe side when the two cannot be compared
    /// without asking Telegram.
    pub fn check_chat_known_as(
        &self,
        chat: &PeerSpec,
        known_as: &[PeerSpec],
    ) -> Result<(), ScopeDenied> {
        match &self.chats {
            None => Ok(()),
            Some(chats) if chats.contains(chat) || known_as.iter().any(|c| chats.contains(c)) => {
                Ok(())
            }
            Some(_) => Err(ScopeDenied::Chat(chat.clone())),
        }
    }

    /// Whether a chat seen in a listing (its Bot-API id and username) is one the key may use:
    /// listings show only those.
    pub fn may_list(&self, id: i64, username: Option<&str>) -> bool {
        let Some(chats) = &self.chats else {
            return true;
        };
        chats.iter().any(|chat| match chat {
            PeerSpec::Username(name) => username.is_some_and(|u| u.eq_ignore_ascii_case(name)),
            PeerSpec::Id(peer) => peer.bot_api_dialog_id() == Some(id),
            PeerSpec::Me => false,
        })
    }

    pub fn check_write(&self) -> Result<(), ScopeDenied> {
        if self.read_only {
            Err(ScopeDenied::ReadOnly)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> AccountName {
        AccountName::parse(n).unwrap()
    }

    fn peer(p: &str) -> PeerSpec {
        PeerSpec::parse(p).unwrap()
    }

    fn scoped(accounts: &[&str], chats: Option<&[&str]>, read_only: bool) -> KeyScope {
        KeyScope {
            accounts: AccountsScope::Only(accounts.iter().map(|a| name(a)).collect()),
            chats: chats.map(|c| c.iter().map(|p| peer(p)).collect()),
            read_only,
        }
    }

    #[test]
    fn a_full_scope_allows_everything() {
        let scope = KeyScope::full();
        assert!(scope.check_account(&name("anything")).is_ok());
        assert!(scope.check_chat(&peer("-100123")).is_ok());
        assert!(scope.check_write().is_ok());
    }

    #[test]
    fn only_the_listed_accounts_are_allowed() {
        let scope = scoped(&["default", "ops"], None, false);
        assert!(scope.check_account(&name("default")).is_ok());
        assert!(scope.check_account(&name("ops")).is_ok());
        assert_eq!(
            scope.check_account(&name("sales")),
            Err(ScopeDenied::Account(name("sales")))
        );
    }

    #[test]
    fn chats_match_in_any_spelling_of_the_same_username_or_id() {
        let scope = scoped(&["default"], Some(&["@News", "-100123", "me"]), false);
        for allowed in ["news", "@NEWS", "https://t.me/news", "-100123", "self"] {
            assert!(scope.check_chat(&peer(allowed)).is_ok(), "{allowed}");
        }
        for refused in ["@other", "-100124", "123"] {
            assert!(scope.check_chat(&peer(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_chat_matches_through_another_form_the_account_knows_it_by() {
        let scope = scoped(&["default"], Some(&["@news", "-100123"]), false);
        // By id, for a chat the account knows as @news; by name, for the listed id.
        assert!(
            scope
                .check_chat_known_as(&peer("-100999"), &[peer("@news")])
                .is_ok()
        );
        assert!(
            scope
                .check_chat_known_as(&peer("@renamed"), &[peer("-100123")])
                .is_ok()
        );
        // Known forms outside the list, or none known: refused, naming the chat as asked.
        assert_eq!(
            scope.check_chat_known_as(&peer("-100999"), &[peer("@other"), peer("-100999")]),
            Err(ScopeDenied::Chat(peer("-100999")))
        );
        assert!(scope.check_chat_known_as(&peer("-100999"), &[]).is_err());
        // Without a chat list, everything goes.
        assert!(
            KeyScope::full()
                .check_chat_known_as(&peer("-1"), &[])
                .is_ok()
        );
    }

    #[test]
    fn listings_show_only_chats_of_the_list_by_username_or_id() {
        let scope = scoped(&["default"], Some(&["@News", "-100123"]), false);
        assert!(scope.may_list(-100999, Some("news")));
        assert!(scope.may_list(-100123, None));
        assert!(!scope.may_list(-100124, Some("other")));
        assert!(KeyScope::full().may_list(5, None));
    }

    #[test]
    fn an_empty_chats_list_allows_no_chat() {
        let scope = scoped(&["default"], Some(&[]), false);
        assert!(scope.check_chat(&peer("@news")).is_err());
    }

    #[test]
    fn a_read_only_scope_refuses_writes() {
        assert_eq!(
            scoped(&["default"], None, true).check_write(),
            Err(ScopeDenied::ReadOnly)
        );
        assert!(scoped(&["default"], None, false).check_write().is_ok());
    }
}
