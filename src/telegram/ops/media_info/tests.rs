use super::*;

fn photo(sizes: Vec<tl::enums::PhotoSize>) -> tl::enums::MessageMedia {
    tl::types::MessageMediaPhoto {
        spoiler: false,
        live_photo: false,
        photo: Some(
            tl::types::Photo {
                has_stickers: false,
                id: 5,
                access_hash: 6,
                file_reference: vec![1],
                date: 0,
                sizes,
                video_sizes: None,
                dc_id: 2,
            }
            .into(),
        ),
        ttl_seconds: None,
        video: None,
    }
    .into()
}

fn size(kind: &str, w: i32, h: i32, bytes: i32) -> tl::enums::PhotoSize {
    tl::types::PhotoSize {
        r#type: kind.into(),
        w,
        h,
        size: bytes,
    }
    .into()
}

fn document(
    voice: bool,
    video: bool,
    attributes: Vec<tl::enums::DocumentAttribute>,
) -> tl::enums::MessageMedia {
    tl::types::MessageMediaDocument {
        nopremium: false,
        spoiler: false,
        video,
        round: false,
        voice,
        document: Some(
            tl::types::Document {
                id: 9,
                access_hash: 10,
                file_reference: vec![2],
                date: 0,
                mime_type: "audio/ogg".into(),
                size: 12345,
                thumbs: None,
                video_thumbs: None,
                dc_id: 2,
                attributes,
            }
            .into(),
        ),
        alt_documents: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    }
    .into()
}

#[test]
fn a_photo_is_described_and_fetched_by_its_largest_size() {
    let media = photo(vec![
        tl::types::PhotoStrippedSize {
            r#type: "i".into(),
            bytes: vec![0; 10],
        }
        .into(),
        size("m", 320, 240, 20_000),
        size("y", 1280, 960, 150_000),
        size("x", 800, 600, 80_000),
    ]);
    let info = media_info(Some(&media)).unwrap();
    assert_eq!(info.kind, MediaKind::Photo);
    assert_eq!(
        (info.width, info.height, info.size),
        (Some(1280), Some(960), 150_000)
    );
    let source = media_source(Some(&media), 7).unwrap();
    assert_eq!(source.size, 150_000);
    assert_eq!(source.file_name, "photo_7.jpg");
    let tl::enums::InputFileLocation::InputPhotoFileLocation(location) = source.location else {
        panic!("a photo location");
    };
    assert_eq!(
        (
            location.id,
            location.access_hash,
            location.thumb_size.as_str()
        ),
        (5, 6, "y")
    );
}

#[test]
fn documents_take_their_kind_name_and_size_from_flags_and_attributes() {
    let name = |n: &str| {
        tl::types::DocumentAttributeFilename {
            file_name: n.into(),
        }
        .into()
    };
    let audio = |voice| {
        tl::types::DocumentAttributeAudio {
            voice,
            duration: 3,
            title: None,
            performer: None,
            waveform: None,
        }
        .into()
    };
    let voice = document(true, false, vec![audio(true)]);
    let info = media_info(Some(&voice)).unwrap();
    assert_eq!((info.kind, info.size), (MediaKind::Voice, 12345));
    assert_eq!(info.mime_type.as_deref(), Some("audio/ogg"));
    let song = document(false, false, vec![name("a.ogg"), audio(false)]);
    let info = media_info(Some(&song)).unwrap();
    assert_eq!(
        (info.kind, info.file_name.as_deref()),
        (MediaKind::Audio, Some("a.ogg"))
    );
    let plain = document(false, false, vec![]);
    assert_eq!(media_info(Some(&plain)).unwrap().kind, MediaKind::Document);
    let source = media_source(Some(&plain), 4).unwrap();
    assert_eq!(source.file_name, "document_4");
    assert_eq!(source.mime_type, "audio/ogg");
    let video = document(false, true, vec![]);
    assert_eq!(media_info(Some(&video)).unwrap().kind, MediaKind::Video);
}

#[test]
fn other_media_and_none_have_no_description() {
    assert!(media_info(None).is_none());
    let geo: tl::enums::MessageMedia = tl::enums::MessageMedia::Empty;
    assert!(media_info(Some(&geo)).is_none());
    assert!(media_source(Some(&geo), 1).is_none());
    assert!(media_info(Some(&photo(vec![]))).is_none());
}
