//! Sending uploaded files (one: `messages.sendMedia`; several: each through
//! `messages.uploadMedia`, then one `messages.sendMultiMedia`, as Telegram wants albums) and
//! reading files back (`upload.getFile` windows of a message's photo or document).

use grammers_tl_types as tl;

use super::answers::{MessagesPage, sent_message};
use super::media_info::media_source;
use super::media_input::{stored_media, uploaded_media};
use super::media_upload::UploadedFile;
use super::{TelegramAccount, target};
use crate::domain::{MediaSource, MediaSpec, MessageView, PeerSpec, SendOptions};
use crate::telegram::TelegramError;
use crate::telegram::invoke::Waits;
use crate::telegram::resolver::KnownPeer;
use crate::telegram::text::FormattedText;

/// Where a file can be read from (opaque outside `telegram`).
#[derive(Clone, Debug)]
pub struct FileLocation(tl::enums::InputFileLocation);

/// Most files one album holds (Telegram's limit).
pub const MAX_ALBUM: usize = 10;

impl TelegramAccount {
    /// Sends `files` to `spec`'s chat, `caption` on the first: one message, or an album. The
    /// album's messages use `random_id`, `random_id + 1`, … (so a retry never posts twice).
    pub async fn send_media(
        &self,
        spec: &PeerSpec,
        caption: &FormattedText,
        options: SendOptions,
        files: &[(MediaSpec, UploadedFile)],
        random_id: i64,
    ) -> Result<Vec<MessageView>, TelegramError> {
        let peer = self.resolve(spec).await?;
        let media = if let [(spec, file)] = files {
            vec![uploaded_media(spec, file)]
        } else {
            // An album takes media Telegram already stores, never raw uploads.
            let mut stored = Vec::with_capacity(files.len());
            for (spec, file) in files {
                stored.push(
                    self.register(Some(peer.id), peer.input_peer(), spec, file)
                        .await?,
                );
            }
            stored
        };
        let mut views = self
            .post_media(&peer, caption, options, media, random_id, Waits::Sleep)
            .await?;
        for (view, (_, file)) in views.iter_mut().zip(files) {
            if let Some(media) = view.media.as_mut() {
                media.sha256 = Some(file.sha256.clone());
            }
        }
        Ok(views)
    }

    /// Registers an uploaded file with `messages.uploadMedia` for `input_peer`: the answer
    /// names a photo or document Telegram stores, usable by any later send.
    pub(super) async fn register(
        &self,
        chat: Option<i64>,
        input_peer: tl::enums::InputPeer,
        spec: &MediaSpec,
        file: &UploadedFile,
    ) -> Result<tl::enums::InputMedia, TelegramError> {
        let request = tl::functions::messages::UploadMedia {
            business_connection_id: None,
            peer: input_peer,
            media: uploaded_media(spec, file),
        };
        let stored = self.manager.invoke_in_chat(chat, request).await?;
        stored_media(&stored, spec.spoiler)
            .ok_or_else(|| TelegramError::Incomplete("the uploaded media".into()))
    }

    /// Posts `media` to `peer`: `messages.sendMedia` for one, `messages.sendMultiMedia` for
    /// an album (consecutive `random_id`s from `random_id`), `caption` on the first.
    pub(super) async fn post_media(
        &self,
        peer: &KnownPeer,
        caption: &FormattedText,
        options: SendOptions,
        media: Vec<tl::enums::InputMedia>,
        random_id: i64,
        waits: Waits,
    ) -> Result<Vec<MessageView>, TelegramError> {
        let entities = self.input_entities(&caption.entities);
        let random_ids: Vec<i64> = (0..media.len() as i64)
            .map(|i| match random_id.wrapping_add(i) {
                0 => i64::MIN,
                id => id,
            })
            .collect();
        let count = media.len();
        let updates = if count == 1 {
            let media = media.into_iter().next().expect("one item");
            let request = tl::functions::messages::SendMedia {
                silent: options.silent,
                background: false,
                clear_draft: false,
                noforwards: false,
                update_stickersets_order: false,
                invert_media: false,
                allow_paid_floodskip: false,
                peer: peer.input_peer(),
                reply_to: options.reply_to.map(super::messages::reply_to),
                media,
                message: caption.text.clone(),
                random_id: random_ids[0],
                reply_markup: None,
                entities,
                schedule_date: None,
                schedule_repeat_period: None,
                send_as: None,
                quick_reply_shortcut: None,
                effect: None,
                allow_paid_stars: None,
                suggested_post: None,
            };
            self.call_with(Some(peer.id), request, waits).await?
        } else {
            let multi_media = media
                .into_iter()
                .zip(&random_ids)
                .enumerate()
                .map(|(i, (media, random_id))| {
                    tl::types::InputSingleMedia {
                        media,
                        random_id: *random_id,
                        message: if i == 0 {
                            caption.text.clone()
                        } else {
                            String::new()
                        },
                        entities: if i == 0 { entities.clone() } else { None },
                    }
                    .into()
                })
                .collect();
            let request = tl::functions::messages::SendMultiMedia {
                silent: options.silent,
                background: false,
                clear_draft: false,
                noforwards: false,
                update_stickersets_order: false,
                invert_media: false,
                allow_paid_floodskip: false,
                peer: peer.input_peer(),
                reply_to: options.reply_to.map(super::messages::reply_to),
                multi_media,
                schedule_date: None,
                send_as: None,
                quick_reply_shortcut: None,
                effect: None,
                allow_paid_stars: None,
            };
            self.call_with(Some(peer.id), request, waits).await?
        };
        (0..count)
            .map(|i| {
                let text = if i == 0 { caption.text.as_str() } else { "" };
                sent_message(&updates, random_ids[i], target(peer), text)
                    .ok_or_else(|| TelegramError::Incomplete("the sent media message".into()))
            })
            .collect()
    }

    /// Where message `id` of `spec`'s chat keeps its photo or document; `None` when the
    /// message has none (or does not exist).
    pub async fn media_of(
        &self,
        spec: &PeerSpec,
        id: i32,
    ) -> Result<Option<MediaSource<FileLocation>>, TelegramError> {
        let peer = self.resolve(spec).await?;
        let answer = self.get_messages(&peer, &[id]).await?;
        let page = MessagesPage::of(&answer);
        let found = page.messages.iter().find_map(|m| match m {
            tl::enums::Message::Message(m) if m.id == id => Some(m),
            _ => None,
        });
        Ok(found.and_then(|m| {
            media_source(m.media.as_ref(), id).map(|s| MediaSource {
                location: FileLocation(s.location),
                size: s.size,
                mime_type: s.mime_type,
                file_name: s.file_name,
            })
        }))
    }

    /// Reads `limit` bytes at `offset` (both aligned as `upload.getFile` requires).
    pub async fn read_file(
        &self,
        location: &FileLocation,
        offset: i64,
        limit: i32,
    ) -> Result<Vec<u8>, TelegramError> {
        let request = tl::functions::upload::GetFile {
            precise: false,
            cdn_supported: false,
            location: location.0.clone(),
            offset,
            limit,
        };
        match self.manager.invoke(request).await? {
            tl::enums::upload::File::File(file) => Ok(file.bytes),
            tl::enums::upload::File::CdnRedirect(_) => Err(TelegramError::Other(
                "Telegram redirected the download to a CDN, which mtgate does not support".into(),
            )),
        }
    }
}
