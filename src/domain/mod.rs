//! Request input parsed once into small domain types, and the JSON views answers are made of.

pub mod account_name;
pub mod answers;
pub mod key_scope;
pub mod message;
pub mod peer;
pub mod text;

pub use account_name::AccountName;
pub use key_scope::{AccountsScope, KeyScope, ScopeDenied};
pub use message::{MessageView, PeerView};
pub use peer::{PeerSpec, PeerType};
pub use text::{FormattedText, ParseMode, TextError};
