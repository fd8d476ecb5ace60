//! Plain types: request input parsed once (peers, message text) and what operations answer
//! with. No Telegram wire types here.

pub mod account_name;
pub mod dialog_id;
pub mod key_scope;
pub mod message;
pub mod peer;
pub mod results;
pub mod text;

pub use account_name::AccountName;
pub use dialog_id::{DialogId, DialogKind};
pub use key_scope::{AccountsScope, KeyScope, ScopeDenied};
pub use message::{MessageView, PeerView};
pub use peer::{PeerSpec, PeerType};
pub use results::{HistoryPage, Peer, SelfUser, SendOptions, SessionInfo};
pub use text::{ParseMode, TextError};
