use super::*;

fn small(id: i64, parts: i32) -> tl::enums::InputFile {
    tl::types::InputFile {
        id,
        parts,
        name: "f".into(),
        md5_checksum: String::new(),
    }
    .into()
}

fn big(id: i64, parts: i32) -> tl::enums::InputFile {
    tl::types::InputFileBig {
        id,
        parts,
        name: "f".into(),
    }
    .into()
}

fn err(result: Result<impl std::fmt::Debug, RpcErr>) -> String {
    result.expect_err("an rpc error").name
}

#[test]
fn parts_assemble_in_order_and_are_forgotten_once_used() {
    let mut uploads = Uploads::default();
    uploads.save_part(1, 9, 1, None, vec![2; 3]).unwrap();
    uploads.save_part(1, 9, 0, None, vec![1; 1024]).unwrap();
    // Another key's file 9 is another file.
    assert_eq!(err(uploads.take(2, &small(9, 2))), "FILE_PART_0_MISSING");
    let (bytes, name) = uploads.take(1, &small(9, 2)).unwrap();
    assert_eq!(bytes.len(), 1027);
    assert_eq!((bytes[0], bytes[1026], name.as_str()), (1, 2, "f"));
    assert_eq!(err(uploads.take(1, &small(9, 2))), "FILE_PART_0_MISSING");
}

#[test]
fn part_sizes_must_be_equal_valid_and_the_last_no_bigger() {
    let sizes = |list: &[usize]| check_part_sizes(list.iter().copied()).map_err(|e| e.name);
    assert!(sizes(&[MAX_PART, MAX_PART, 1]).is_ok());
    assert!(sizes(&[1024, 1024]).is_ok());
    assert!(sizes(&[5]).is_ok(), "a lone part may have any size");
    assert_eq!(sizes(&[3072, 3072]).unwrap_err(), "FILE_PART_SIZE_INVALID");
    assert_eq!(sizes(&[1000, 10]).unwrap_err(), "FILE_PART_SIZE_INVALID");
    assert_eq!(
        sizes(&[4096, 8192, 1]).unwrap_err(),
        "FILE_PART_SIZE_CHANGED"
    );
    assert_eq!(sizes(&[4096, 8192]).unwrap_err(), "FILE_PART_SIZE_CHANGED");
}

#[test]
fn big_files_declare_their_part_count_or_leave_it_open() {
    let mut uploads = Uploads::default();
    assert_eq!(
        err(uploads.save_part(1, 5, 0, Some(-2), vec![1])),
        "FILE_PARTS_INVALID"
    );
    assert_eq!(
        err(uploads.save_part(1, 5, 0, Some(MAX_PARTS + 1), vec![1])),
        "FILE_PARTS_INVALID"
    );
    uploads.save_part(1, 5, 0, Some(-1), vec![1; 1024]).unwrap();
    uploads.save_part(1, 5, 1, Some(2), vec![1; 10]).unwrap();
    assert_eq!(
        err(uploads.save_part(1, 5, 1, Some(3), vec![1])),
        "FILE_PARTS_INVALID"
    );
    assert_eq!(err(uploads.take(1, &big(5, 3))), "FILE_PARTS_INVALID");
    assert_eq!(uploads.take(1, &big(5, 2)).unwrap().0.len(), 1034);
}

#[test]
fn a_small_file_stops_at_ten_mib_and_checks_its_md5() {
    let mut uploads = Uploads::default();
    for part in 0..21 {
        uploads
            .save_part(1, 1, part, None, vec![0; MAX_PART])
            .unwrap();
    }
    assert_eq!(err(uploads.take(1, &small(1, 21))), "FILE_PARTS_INVALID");
    uploads.save_part(1, 2, 0, None, b"abc".to_vec()).unwrap();
    let with_md5 = |md5: &str| -> tl::enums::InputFile {
        tl::types::InputFile {
            id: 2,
            parts: 1,
            name: "f".into(),
            md5_checksum: md5.into(),
        }
        .into()
    };
    assert_eq!(
        err(uploads.take(1, &with_md5("ffff"))),
        "MD5_CHECKSUM_INVALID"
    );
    assert!(
        uploads
            .take(1, &with_md5("900150983CD24FB0D6963F7D28E17F72"))
            .is_ok()
    );
}

#[test]
fn part_numbers_and_sizes_are_bounded() {
    let mut uploads = Uploads::default();
    assert_eq!(
        err(uploads.save_part(1, 1, 0, None, vec![])),
        "FILE_PART_EMPTY"
    );
    assert_eq!(
        err(uploads.save_part(1, 1, 0, None, vec![0; MAX_PART + 1])),
        "FILE_PART_TOO_BIG"
    );
    assert_eq!(
        err(uploads.save_part(1, 1, MAX_PARTS, None, vec![0])),
        "FILE_PART_INVALID"
    );
    assert_eq!(
        err(uploads.save_part(1, 1, 4, Some(4), vec![0])),
        "FILE_PART_INVALID"
    );
    assert_eq!(err(uploads.take(1, &small(1, 0))), "FILE_PARTS_INVALID");
}

#[test]
fn download_windows_follow_the_alignment_rules() {
    let ok = |o, l, p| check_window(o, l, p).is_ok();
    let why = |o, l, p| check_window(o, l, p).unwrap_err().name;
    assert!(ok(0, 512 * 1024, false));
    assert!(ok(1024 * 1024, 1024 * 1024, false));
    assert!(ok(4096 * 3, 4096, false));
    assert_eq!(why(1024, 4096, false), "OFFSET_INVALID");
    assert_eq!(why(-4096, 4096, false), "OFFSET_INVALID");
    assert_eq!(why(0, 0, false), "LIMIT_INVALID");
    assert_eq!(
        why(0, 12288, false),
        "LIMIT_INVALID",
        "1 MiB is not a multiple"
    );
    assert_eq!(
        why(1024 * 1024 - 4096, 8192, false),
        "LIMIT_INVALID",
        "crosses 1 MiB"
    );
    assert_eq!(why(0, 2 * 1024 * 1024, false), "LIMIT_INVALID");
    assert!(ok(1024, 3072, true));
    assert_eq!(why(1000, 1024, true), "OFFSET_INVALID");
    assert_eq!(why(0, 1024 * 1024 + 1024, true), "LIMIT_INVALID");
    assert_eq!(window(b"abcdef", 2, 3), b"cde");
    assert_eq!(window(b"abcdef", 4, 4096), b"ef");
    assert!(window(b"abcdef", 4096, 4096).is_empty());
}

#[test]
fn image_headers_give_dimensions() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&640u32.to_be_bytes());
    png.extend_from_slice(&480u32.to_be_bytes());
    assert_eq!(image_dimensions(&png), Some((640, 480)));
    let gif = b"GIF89a\x20\x00\x10\x00rest";
    assert_eq!(image_dimensions(gif), Some((32, 16)));
    // SOI, an APP0 segment of 4 bytes, then SOF0 with height 200 and width 300.
    let jpeg = [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0xC8,
        0x01, 0x2C, 0x03, 0x00, 0x00,
    ];
    assert_eq!(image_dimensions(&jpeg), Some((300, 200)));
    assert_eq!(image_dimensions(b"plain text"), None);
    assert_eq!(image_dimensions(&png[..20]), None);
}
