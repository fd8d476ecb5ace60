//! The file methods: `upload.saveFilePart` / `upload.saveBigFilePart` keep parts until a
//! send assembles them (rules in [`crate::world::media`]); `upload.getFile` reads a stored
//! photo or document in Telegram's aligned windows.

use grammers_tl_types::{self as tl, Serializable};

use super::{Ctx, Reply};
use crate::world::error::RpcErr;
use crate::world::media::{self, MediaKind};

pub fn save_file_part(ctx: &mut Ctx, request: tl::functions::upload::SaveFilePart) -> Reply {
    ctx.state.uploads.save_part(
        ctx.key_id,
        request.file_id,
        request.file_part,
        None,
        request.bytes,
    )?;
    Ok(true.to_bytes())
}

pub fn save_big_file_part(ctx: &mut Ctx, request: tl::functions::upload::SaveBigFilePart) -> Reply {
    ctx.state.uploads.save_part(
        ctx.key_id,
        request.file_id,
        request.file_part,
        Some(request.file_total_parts),
        request.bytes,
    )?;
    Ok(true.to_bytes())
}

pub fn get_file(ctx: &mut Ctx, request: tl::functions::upload::GetFile) -> Reply {
    use tl::enums::InputFileLocation as L;
    media::check_window(request.offset, request.limit, request.precise)?;
    let (id, access_hash, thumb_size, photo) = match &request.location {
        L::InputPhotoFileLocation(l) => (l.id, l.access_hash, l.thumb_size.as_str(), true),
        L::InputDocumentFileLocation(l) => (l.id, l.access_hash, l.thumb_size.as_str(), false),
        _ => return Err(RpcErr::bad("LOCATION_INVALID")),
    };
    let media = ctx
        .state
        .media
        .get(&id)
        .filter(|m| m.access_hash == access_hash && (m.kind == MediaKind::Photo) == photo)
        .ok_or_else(|| RpcErr::bad("FILE_ID_INVALID"))?;
    // A photo is fetched by size type (its one size); a document by its empty thumb size.
    let size_ok = if photo {
        thumb_size == media.photo_size_type()
    } else {
        thumb_size.is_empty()
    };
    if !size_ok {
        return Err(RpcErr::bad("LOCATION_INVALID"));
    }
    let bytes = media::window(&media.blob.bytes, request.offset, request.limit);
    let answer: tl::enums::upload::File = tl::types::upload::File {
        r#type: media::storage_type(&media.blob.bytes),
        mtime: media.date,
        bytes: bytes.to_vec(),
    }
    .into();
    Ok(answer.to_bytes())
}
