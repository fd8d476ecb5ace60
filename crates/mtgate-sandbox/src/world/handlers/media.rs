//! Media messages: `messages.uploadMedia`, `messages.sendMedia`, `messages.sendMultiMedia`
//! (an album: media already uploaded, one `grouped_id`), from files the [`super::files`]
//! methods stored. Media sends answer the full `updates{updateMessageID…,
//! updateNew(Channel)Message…}` in every chat, as Telegram does for media.

use std::sync::Arc;

use grammers_tl_types::{self as tl, Serializable};

use super::messages::{
    check_may_post, checked_reply_to, copy_to, create, new_message_update, updates,
};
use super::{Ctx, Reply};
use crate::world::entities;
use crate::world::error::RpcErr;
use crate::world::fixture::ME_ID;
use crate::world::media::{self, Media, MediaKind};
use crate::world::media_tl;
use crate::world::model::{ChatKey, StoredMessage};

/// Telegram's caption limit (UTF-16 code units), as `help.getConfig` says.
pub const MAX_CAPTION_UTF16: usize = 1024;
/// Most media one album holds.
pub const MAX_ALBUM: usize = 10;

pub fn upload_media(ctx: &mut Ctx, request: tl::functions::messages::UploadMedia) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    let media = resolve(ctx, &request.media, true)?;
    Ok(media_tl::message_media(&media).to_bytes())
}

pub fn send_media(ctx: &mut Ctx, request: tl::functions::messages::SendMedia) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    ctx.facts.text = Some(request.message.clone());
    if let Some(reply) = ctx.state.sent_by_random_id.get(&request.random_id) {
        return Ok(reply.clone());
    }
    check_caption(&request.message)?;
    check_may_post(ctx.state, chat)?;
    let reply_to = checked_reply_to(ctx.state, chat, request.reply_to.as_ref())?;
    let media = resolve(ctx, &request.media, true)?;
    let draft = draft(ctx, chat, &request.message, request.entities, media);
    let draft = StoredMessage {
        reply_to,
        silent: request.silent,
        ..draft
    };
    post(ctx, chat, vec![(draft, request.random_id)])
}

pub fn send_multi_media(ctx: &mut Ctx, request: tl::functions::messages::SendMultiMedia) -> Reply {
    let chat = ctx.state.input_peer(&request.peer)?;
    ctx.about(chat);
    let first = request
        .multi_media
        .first()
        .map(|tl::enums::InputSingleMedia::Media(m)| m.random_id);
    if let Some(reply) = first.and_then(|id| ctx.state.sent_by_random_id.get(&id)) {
        return Ok(reply.clone());
    }
    if request.multi_media.is_empty() {
        return Err(RpcErr::bad("MEDIA_EMPTY"));
    }
    if request.multi_media.len() > MAX_ALBUM {
        return Err(RpcErr::bad("MULTI_MEDIA_TOO_LONG"));
    }
    check_may_post(ctx.state, chat)?;
    let reply_to = checked_reply_to(ctx.state, chat, request.reply_to.as_ref())?;
    let grouped_id = rand::random::<i64>().abs().max(1);
    let mut drafts = Vec::new();
    for tl::enums::InputSingleMedia::Media(single) in request.multi_media {
        check_caption(&single.message)?;
        // An album takes media already uploaded (messages.uploadMedia), never raw files.
        let media = resolve(ctx, &single.media, false)?;
        let draft = draft(ctx, chat, &single.message, single.entities, media);
        let draft = StoredMessage {
            reply_to,
            silent: request.silent,
            grouped_id: Some(grouped_id),
            ..draft
        };
        drafts.push((draft, single.random_id));
    }
    ctx.facts.text = drafts
        .iter()
        .find(|(d, _)| !d.text.is_empty())
        .map(|(d, _)| d.text.clone());
    post(ctx, chat, drafts)
}

fn check_caption(caption: &str) -> Result<(), RpcErr> {
    if caption.encode_utf16().count() > MAX_CAPTION_UTF16 {
        Err(RpcErr::bad("MEDIA_CAPTION_TOO_LONG"))
    } else {
        Ok(())
    }
}

/// A new message of the viewer's in `chat` carrying `media` (id and pts come from `create`).
fn draft(
    ctx: &Ctx,
    chat: ChatKey,
    caption: &str,
    entities: Option<Vec<tl::enums::MessageEntity>>,
    media: Arc<Media>,
) -> StoredMessage {
    let viewer = ctx.state.viewer;
    let is_broadcast = ctx
        .state
        .channel_kind(chat)
        .is_some_and(|k| k.is_broadcast());
    StoredMessage {
        id: 0,
        chat,
        from: (!is_broadcast).then_some(viewer),
        out: matches!(chat, ChatKey::User(_)) || viewer == ME_ID,
        date: ctx.now,
        text: caption.to_string(),
        entities: if caption.is_empty() {
            Vec::new()
        } else {
            entities::with_detected(caption, entities.unwrap_or_default())
        },
        edit_date: None,
        reply_to: None,
        silent: false,
        link_preview: false,
        pinned: false,
        fwd_from: None,
        media: Some(media),
        grouped_id: None,
    }
}

/// Stores the messages, tells the caller's other sessions and the recipient, and answers
/// `updates` naming every `random_id` (remembered, so a re-sent request answers the same).
fn post(ctx: &mut Ctx, chat: ChatKey, drafts: Vec<(StoredMessage, i64)>) -> Reply {
    let viewer = ctx.state.viewer;
    let mut ids = Vec::new();
    let mut news = Vec::new();
    let mut created = Vec::new();
    for (draft, random_id) in drafts {
        let (message, pts) = create(ctx.state, draft);
        ids.push(
            tl::types::UpdateMessageId {
                id: message.id,
                random_id,
            }
            .into(),
        );
        news.push(new_message_update(&message, pts));
        created.push((message, random_id));
    }
    if ctx.has_other_sessions() {
        let other_sessions = updates(ctx.state, news.clone(), chat, [], ctx.now);
        ctx.push_to_other_sessions(&other_sessions);
    }
    let reply = updates(
        ctx.state,
        ids.into_iter().chain(news).collect(),
        chat,
        [],
        ctx.now,
    );
    let bytes = reply.to_bytes();
    for (message, random_id) in created {
        if let ChatKey::User(recipient) = chat
            && recipient != viewer
        {
            let copy = StoredMessage {
                chat: ChatKey::User(viewer),
                out: false,
                reply_to: None,
                ..message
            };
            copy_to(ctx.state, ctx.bus, recipient, copy);
        }
        ctx.state.sent_by_random_id.insert(random_id, bytes.clone());
    }
    Ok(bytes)
}

/// The stored media an `InputMedia` names: a file just uploaded (when `uploads` may be
/// used) or a photo / document the world already has.
fn resolve(
    ctx: &mut Ctx,
    input: &tl::enums::InputMedia,
    uploads: bool,
) -> Result<Arc<Media>, RpcErr> {
    use tl::enums::InputMedia as M;
    let stored = match input {
        M::UploadedPhoto(p) if uploads => uploaded_photo(ctx, &p.file, p.spoiler)?,
        M::UploadedDocument(d) if uploads => uploaded_document(ctx, d)?,
        M::UploadedPhoto(_) | M::UploadedDocument(_) => return Err(RpcErr::bad("MEDIA_INVALID")),
        M::Photo(p) => {
            let tl::enums::InputPhoto::Photo(id) = &p.id else {
                return Err(RpcErr::bad("MEDIA_EMPTY"));
            };
            existing(ctx, id.id, id.access_hash, true, p.spoiler)?
        }
        M::Document(d) => {
            let tl::enums::InputDocument::Document(id) = &d.id else {
                return Err(RpcErr::bad("MEDIA_EMPTY"));
            };
            existing(ctx, id.id, id.access_hash, false, d.spoiler)?
        }
        M::Empty => return Err(RpcErr::bad("MEDIA_EMPTY")),
        _ => return Err(RpcErr::bad("MEDIA_INVALID")),
    };
    let stored = Arc::new(stored);
    ctx.state.media.insert(stored.id, stored.clone());
    Ok(stored)
}

fn existing(
    ctx: &Ctx,
    id: i64,
    access_hash: i64,
    photo: bool,
    spoiler: bool,
) -> Result<Media, RpcErr> {
    let found = ctx
        .state
        .media
        .get(&id)
        .filter(|m| m.access_hash == access_hash && (m.kind == MediaKind::Photo) == photo)
        .ok_or_else(|| RpcErr::bad("MEDIA_EMPTY"))?;
    Ok(Media {
        spoiler,
        ..(**found).clone()
    })
}

fn new_media(ctx: &mut Ctx, kind: MediaKind, bytes: Vec<u8>) -> Media {
    Media {
        id: rand::random::<i64>().abs().max(1),
        access_hash: rand::random(),
        date: ctx.now,
        kind,
        blob: ctx.state.intern_blob(bytes),
        mime_type: None,
        file_name: None,
        dimensions: None,
        duration: None,
        spoiler: false,
        attributes: Vec::new(),
    }
}

fn uploaded_photo(
    ctx: &mut Ctx,
    file: &tl::enums::InputFile,
    spoiler: bool,
) -> Result<Media, RpcErr> {
    let (bytes, _name) = ctx.state.uploads.take(ctx.key_id, file)?;
    if bytes.len() > media::MAX_PHOTO {
        return Err(RpcErr::bad("PHOTO_SAVE_FILE_INVALID"));
    }
    let dimensions =
        media::image_dimensions(&bytes).ok_or_else(|| RpcErr::bad("IMAGE_PROCESS_FAILED"))?;
    Ok(Media {
        dimensions: Some(dimensions),
        spoiler,
        ..new_media(ctx, MediaKind::Photo, bytes)
    })
}

fn uploaded_document(
    ctx: &mut Ctx,
    input: &tl::types::InputMediaUploadedDocument,
) -> Result<Media, RpcErr> {
    use tl::enums::DocumentAttribute as A;
    let (bytes, name) = ctx.state.uploads.take(ctx.key_id, &input.file)?;
    let mut kind = MediaKind::Document;
    let mut dimensions = None;
    let mut duration = None;
    let mut file_name = None;
    for attribute in &input.attributes {
        match attribute {
            A::Filename(f) => file_name = Some(f.file_name.clone()),
            A::Video(v) => {
                kind = MediaKind::Video;
                dimensions = Some((v.w, v.h));
                duration = Some(v.duration);
            }
            A::Audio(a) => {
                kind = if a.voice {
                    MediaKind::Voice
                } else {
                    MediaKind::Audio
                };
                duration = Some(f64::from(a.duration));
            }
            A::ImageSize(i) => dimensions = Some((i.w, i.h)),
            _ => {}
        }
    }
    if input.force_file {
        kind = MediaKind::Document;
    }
    let mime_type = if input.mime_type.is_empty() {
        "application/octet-stream".to_string()
    } else {
        input.mime_type.clone()
    };
    let mut attributes = input.attributes.clone();
    if file_name.is_none() && !name.is_empty() {
        file_name = Some(name.clone());
        attributes.push(tl::types::DocumentAttributeFilename { file_name: name }.into());
    }
    Ok(Media {
        mime_type: Some(mime_type),
        file_name,
        dimensions,
        duration,
        spoiler: input.spoiler,
        attributes,
        ..new_media(ctx, kind, bytes)
    })
}
