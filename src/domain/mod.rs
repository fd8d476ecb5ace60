//! Request input parsed once into small domain types, and the JSON views answers are made of.

pub mod answers;
pub mod mentions;
pub mod message;
pub mod peer;
pub mod text;

pub use message::{MessageView, PeerView};
pub use peer::{PeerSpec, PeerType};
pub use text::{FormattedText, ParseMode, TextError};
