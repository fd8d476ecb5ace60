//! Files with the real grammers client: its own upload (`saveFilePart` / `saveBigFilePart`),
//! `sendMedia`, an album (`uploadMedia` + `sendMultiMedia`) and its download (`getFile`),
//! each checked against the ground truth (`media.sha256`, `GET /files/{sha256}`); and
//! Telegram's part and window rules called raw.

use sha2::{Digest, Sha256};

use crate::support::*;

/// A PNG header of `w`×`h` followed by `len` pseudo-random bytes (the sandbox reads headers
/// only, as Telegram's image check would pass any real PNG).
pub fn png(w: u32, h: u32, len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend_from_slice(&w.to_be_bytes());
    bytes.extend_from_slice(&h.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend(noise(len));
    bytes
}

pub fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64 ^ len as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn upload(tg: &Tg, bytes: &[u8], name: &str) -> grammers_client::media::Uploaded {
    let mut stream = std::io::Cursor::new(bytes.to_vec());
    within(
        "upload",
        tg.client
            .upload_stream(&mut stream, bytes.len(), name.into()),
    )
    .await
    .expect("upload_stream")
}

async fn download(tg: &Tg, message: &grammers_client::message::Message) -> Vec<u8> {
    let media = message.media().expect("the message has media");
    let mut chunks = tg.client.iter_download(&media);
    let mut bytes = Vec::new();
    while let Some(chunk) = within("download chunk", chunks.next()).await.unwrap() {
        bytes.extend(chunk);
    }
    bytes
}

async fn stored_file(sandbox: &Sandbox, sha256: &str) -> Vec<u8> {
    let response = get(sandbox, &format!("/files/{sha256}")).await;
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

fn rpc_name(result: Result<impl std::fmt::Debug, InvocationError>) -> String {
    match result {
        // grammers moves the number out of FILE_PART_N_MISSING; put it back.
        Err(InvocationError::Rpc(rpc)) => match rpc.value {
            Some(n) => rpc.name.replacen("PART_", &format!("PART_{n}_"), 1),
            None => rpc.name,
        },
        other => panic!("expected an rpc error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_photo_arrives_byte_identical_and_downloads_back() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let channel = sandbox.world().channel.clone();
    let bytes = png(640, 480, 300 * 1024);
    let file = upload(&tg, &bytes, "cat.png").await;
    let chat = peer(&tg, &channel).await;
    let message = within(
        "send photo",
        tg.client
            .send_message(chat, InputMessage::new().text("a cat").photo(file)),
    )
    .await
    .unwrap();

    let truth = ground_truth(&sandbox, &channel).await;
    let media = &truth[0]["media"];
    assert_eq!(truth[0]["text"], "a cat");
    assert_eq!(media["kind"], "photo");
    assert_eq!(media["size"], bytes.len());
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    assert_eq!(
        (media["width"].clone(), media["height"].clone()),
        (json!(640), json!(480))
    );
    assert_eq!(stored_file(&sandbox, &sha256_hex(&bytes)).await, bytes);
    assert_eq!(download(&tg, &message).await, bytes);
}

#[tokio::test]
async fn a_big_document_keeps_its_name_and_mime_type_and_downloads_back() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let alice = sandbox.world().others[0].clone();
    // Over 10 MiB: grammers switches to saveBigFilePart.
    let bytes = noise(11 * 1024 * 1024 + 123);
    let file = upload(&tg, &bytes, "report.bin").await;
    let chat = peer(&tg, &alice).await;
    let message = within(
        "send document",
        tg.client.send_message(
            chat,
            InputMessage::new()
                .mime_type("application/x-report")
                .document(file),
        ),
    )
    .await
    .unwrap();

    let truth = ground_truth(&sandbox, &alice).await;
    let media = &truth[0]["media"];
    assert_eq!(media["kind"], "document");
    assert_eq!(media["file_name"], "report.bin");
    assert_eq!(media["mime_type"], "application/x-report");
    assert_eq!(media["sha256"], sha256_hex(&bytes));
    let requests = get_json(&sandbox, "/requests").await;
    assert_eq!(methods(&requests, "upload.saveBigFilePart").len(), 23);
    assert!(methods(&requests, "upload.saveFilePart").is_empty());
    // The recipient's copy shows the same file.
    let me = sandbox.world().user.clone();
    let theirs = get_json(&sandbox, &format!("/chats/{me}/messages?as={alice}")).await;
    assert_eq!(theirs[0]["media"]["sha256"], sha256_hex(&bytes));
    assert_eq!(download(&tg, &message).await, bytes);
}

#[tokio::test]
async fn an_album_of_three_shares_one_group_and_each_file_is_intact() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let group = sandbox.world().supergroup.clone();
    let chat = peer(&tg, &group).await;
    let files: Vec<Vec<u8>> = (0..3)
        .map(|i| png(100 + i, 50, 1000 * (i as usize + 1)))
        .collect();
    let mut album = Vec::new();
    for (i, bytes) in files.iter().enumerate() {
        let uploaded = upload(&tg, bytes, &format!("{i}.png")).await;
        album.push(
            grammers_client::media::InputMedia::new()
                .caption(format!("#{i}"))
                .photo(uploaded),
        );
    }
    let sent = within("send album", tg.client.send_album(chat, album))
        .await
        .unwrap();
    assert_eq!(sent.iter().flatten().count(), 3);

    let truth = ground_truth(&sandbox, &group).await;
    let group_id = &truth[0]["grouped_id"];
    assert!(group_id.is_i64());
    for (i, bytes) in files.iter().enumerate() {
        let message = &truth[2 - i];
        assert_eq!(message["grouped_id"], *group_id);
        assert_eq!(message["text"], format!("#{i}"));
        assert_eq!(message["media"]["sha256"], sha256_hex(bytes));
    }
    let requests = get_json(&sandbox, "/requests").await;
    assert_eq!(methods(&requests, "messages.uploadMedia").len(), 3);
    assert_eq!(methods(&requests, "messages.sendMultiMedia").len(), 1);
}

fn save(file_id: i64, part: i32, bytes: Vec<u8>) -> tl::functions::upload::SaveFilePart {
    tl::functions::upload::SaveFilePart {
        file_id,
        file_part: part,
        bytes,
    }
}

fn send_document(
    file: tl::enums::InputFile,
) -> impl Fn(PeerRef) -> tl::functions::messages::SendMedia {
    move |peer| tl::functions::messages::SendMedia {
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: peer.into(),
        reply_to: None,
        media: tl::types::InputMediaUploadedDocument {
            nosound_video: false,
            force_file: false,
            spoiler: false,
            file: file.clone(),
            thumb: None,
            mime_type: "text/plain".into(),
            attributes: vec![],
            stickers: None,
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
        }
        .into(),
        message: String::new(),
        random_id: rand::random(),
        reply_markup: None,
        entities: None,
        schedule_date: None,
        schedule_repeat_period: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
        suggested_post: None,
    }
}

fn small_file(id: i64, parts: i32) -> tl::enums::InputFile {
    tl::types::InputFile {
        id,
        parts,
        name: "a.txt".into(),
        md5_checksum: String::new(),
    }
    .into()
}

#[tokio::test]
async fn parts_follow_telegrams_size_and_count_rules() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let me = peer(&tg, &sandbox.world().user).await;
    let c = &tg.client;
    assert_eq!(
        rpc_name(c.invoke(&save(1, 0, vec![])).await),
        "FILE_PART_EMPTY"
    );
    assert_eq!(
        rpc_name(c.invoke(&save(1, 0, vec![0; 512 * 1024 + 1])).await),
        "FILE_PART_TOO_BIG"
    );
    assert_eq!(
        rpc_name(c.invoke(&save(1, -1, vec![0; 1024])).await),
        "FILE_PART_INVALID"
    );
    let big = |part, total| tl::functions::upload::SaveBigFilePart {
        file_id: 2,
        file_part: part,
        file_total_parts: total,
        bytes: vec![1; 1024],
    };
    assert_eq!(rpc_name(c.invoke(&big(0, 0)).await), "FILE_PARTS_INVALID");
    assert_eq!(rpc_name(c.invoke(&big(3, 3)).await), "FILE_PART_INVALID");

    // 3 KiB parts do not divide 512 KiB.
    for part in 0..2 {
        assert!(c.invoke(&save(3, part, vec![7; 3 * 1024])).await.unwrap());
    }
    let sent = c.invoke(&send_document(small_file(3, 2))(me)).await;
    assert_eq!(rpc_name(sent), "FILE_PART_SIZE_INVALID");

    // A missing middle part is named.
    assert!(c.invoke(&save(4, 0, vec![7; 4096])).await.unwrap());
    assert!(c.invoke(&save(4, 2, vec![7; 10])).await.unwrap());
    let sent = c.invoke(&send_document(small_file(4, 3))(me)).await;
    assert_eq!(rpc_name(sent), "FILE_PART_1_MISSING");
    assert!(c.invoke(&save(4, 1, vec![7; 4096])).await.unwrap());
    c.invoke(&send_document(small_file(4, 3))(me))
        .await
        .expect("complete now");
    let truth = ground_truth(&sandbox, "me").await;
    assert_eq!(truth[0]["media"]["size"], 4096 * 2 + 10);
    assert_eq!(truth[0]["media"]["file_name"], "a.txt");

    // A wrong md5 is refused; no file at all is part 0 missing.
    assert!(c.invoke(&save(5, 0, vec![1; 10])).await.unwrap());
    let bad_md5 = tl::types::InputFile {
        id: 5,
        parts: 1,
        name: "a".into(),
        md5_checksum: "00".into(),
    };
    let sent = c.invoke(&send_document(bad_md5.into())(me)).await;
    assert_eq!(rpc_name(sent), "MD5_CHECKSUM_INVALID");
    let sent = c.invoke(&send_document(small_file(99, 1))(me)).await;
    assert_eq!(rpc_name(sent), "FILE_PART_0_MISSING");
}

#[tokio::test]
async fn a_streamed_big_upload_may_leave_its_part_count_open_until_the_end() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let me = peer(&tg, &sandbox.world().user).await;
    let bytes = noise(512 * 1024 * 2 + 5);
    let chunks: Vec<&[u8]> = bytes.chunks(512 * 1024).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let request = tl::functions::upload::SaveBigFilePart {
            file_id: 77,
            file_part: i as i32,
            file_total_parts: if last { chunks.len() as i32 } else { -1 },
            bytes: chunk.to_vec(),
        };
        assert!(tg.client.invoke(&request).await.unwrap());
    }
    let file = tl::types::InputFileBig {
        id: 77,
        parts: 3,
        name: "stream.bin".into(),
    };
    tg.client
        .invoke(&send_document(file.into())(me))
        .await
        .expect("sent");
    let truth = ground_truth(&sandbox, "me").await;
    assert_eq!(truth[0]["media"]["sha256"], sha256_hex(&bytes));
}

#[tokio::test]
async fn downloads_follow_telegrams_window_rules() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let me = peer(&tg, &sandbox.world().user).await;
    let bytes = noise(300_000);
    let file = upload(&tg, &bytes, "w.bin").await;
    let message = tg
        .client
        .send_message(me, InputMessage::new().document(file))
        .await
        .unwrap();
    let Some(grammers_client::media::Media::Document(doc)) = message.media() else {
        panic!("a document");
    };
    let tl::enums::Document::Document(raw) = doc.raw.document.clone().unwrap() else {
        panic!("a full document");
    };
    let get = |offset: i64, limit: i32, precise: bool| tl::functions::upload::GetFile {
        precise,
        cdn_supported: false,
        location: tl::types::InputDocumentFileLocation {
            id: raw.id,
            access_hash: raw.access_hash,
            file_reference: raw.file_reference.clone(),
            thumb_size: String::new(),
        }
        .into(),
        offset,
        limit,
    };
    let c = &tg.client;
    assert_eq!(
        rpc_name(c.invoke(&get(100, 4096, false)).await),
        "OFFSET_INVALID"
    );
    assert_eq!(
        rpc_name(c.invoke(&get(0, 5000, false)).await),
        "LIMIT_INVALID"
    );
    assert_eq!(
        rpc_name(c.invoke(&get(0, 12 * 1024, false)).await),
        "LIMIT_INVALID"
    );
    // A window may not cross a 1 MiB boundary.
    let crossing = 1024 * 1024 - 4096;
    assert_eq!(
        rpc_name(c.invoke(&get(crossing, 8192, false)).await),
        "LIMIT_INVALID"
    );
    assert_eq!(
        rpc_name(c.invoke(&get(0, 2 * 1024 * 1024, false)).await),
        "LIMIT_INVALID"
    );
    // precise: 1 KiB alignment is enough.
    let tl::enums::upload::File::File(part) = c.invoke(&get(1024, 3 * 1024, true)).await.unwrap()
    else {
        panic!("a file part");
    };
    assert_eq!(part.bytes, bytes[1024..4096]);
    // Past the end: empty.
    let tl::enums::upload::File::File(end) = c.invoke(&get(512 * 1024, 4096, false)).await.unwrap()
    else {
        panic!("a file part");
    };
    assert!(end.bytes.is_empty());
    let mut wrong = get(0, 4096, false);
    if let tl::enums::InputFileLocation::InputDocumentFileLocation(l) = &mut wrong.location {
        l.access_hash ^= 1;
    }
    assert_eq!(rpc_name(c.invoke(&wrong).await), "FILE_ID_INVALID");
}

#[tokio::test]
async fn a_photo_must_be_an_image_and_albums_take_uploaded_media_only() {
    let sandbox = Sandbox::start().await.unwrap();
    let tg = connect(sandbox.session());
    let me = peer(&tg, &sandbox.world().user).await;
    let file = upload(&tg, b"not an image", "x.png").await;
    let sent = tg
        .client
        .send_message(me, InputMessage::new().photo(file))
        .await;
    assert_eq!(rpc_name(sent), "IMAGE_PROCESS_FAILED");
    let empty = tg
        .client
        .send_message(me, InputMessage::new().media(tl::enums::InputMedia::Empty))
        .await;
    assert_eq!(rpc_name(empty), "MEDIA_EMPTY");
    let missing = get(&sandbox, &format!("/files/{}", "0".repeat(64))).await;
    assert_eq!(missing.status(), 404);

    // An album names media already uploaded (messages.uploadMedia), at most ten.
    let file = upload(&tg, &png(10, 10, 100), "a.png").await;
    let raw = tl::types::InputMediaUploadedPhoto {
        spoiler: false,
        live_photo: false,
        file: file.raw.clone(),
        stickers: None,
        ttl_seconds: None,
        video: None,
    };
    let album = |n: usize| tl::functions::messages::SendMultiMedia {
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: me.into(),
        reply_to: None,
        multi_media: (0..n)
            .map(|i| {
                tl::types::InputSingleMedia {
                    media: raw.clone().into(),
                    random_id: 1000 + i as i64,
                    message: String::new(),
                    entities: None,
                }
                .into()
            })
            .collect(),
        schedule_date: None,
        send_as: None,
        quick_reply_shortcut: None,
        effect: None,
        allow_paid_stars: None,
    };
    assert_eq!(rpc_name(tg.client.invoke(&album(2)).await), "MEDIA_INVALID");
    assert_eq!(
        rpc_name(tg.client.invoke(&album(11)).await),
        "MULTI_MEDIA_TOO_LONG"
    );
}
