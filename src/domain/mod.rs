//! Plain types: request input parsed once (peers, message text) and what operations answer
//! with. No Telegram wire types here.

pub mod account_name;
pub mod chats;
pub mod event;
pub mod job;
pub mod job_event;
pub mod job_media;
pub mod key_scope;
pub mod media;
pub mod mentions;
pub mod message;
pub mod parse_mode;
pub mod peer;
pub mod peer_id;
pub mod rates;
pub mod results;

pub use account_name::AccountName;
pub use chats::{ChatAction, ChatPage, ChatPeer, ChatSummary, DialogCursor, ForwardOptions};
pub use event::{
    DeletedEvent, Event, EventChat, EventEntity, EventFilter, EventSender, EventType, MessageEvent,
    NewEvent,
};
pub use job::{Job, JobError, JobState, JobTransition, NewJob, Priority, SendBody, Transition};
pub use job_media::{JobFile, JobMedia, MediaRef};
pub use key_scope::{AccountsScope, KeyScope, ScopeDenied};
pub use media::{MediaInfo, MediaKind, MediaSource, MediaSpec};
pub use message::{MessageView, PeerView};
pub use parse_mode::{ParseMode, TextError};
pub use peer::{PeerSpec, PeerType};
pub use peer_id::{PeerId, PeerKind};
pub use rates::{Rate, Rates};
pub use results::{HistoryPage, Peer, SelfUser, SendOptions, SessionInfo};
