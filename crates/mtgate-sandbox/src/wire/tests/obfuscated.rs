//! The obfuscated transport over TCP, with grammers' own `Obfuscated` client transport as
//! the oracle: calls are answered on every tagged transport inside it, and a header that
//! names no transport (garbage, or made for an MTProxy secret) closes only its connection.

use grammers_mtproto::transport::Obfuscated;
use sha2::{Digest, Sha256};

use super::*;

#[tokio::test]
async fn calls_are_answered_over_obfuscated_intermediate_and_abridged() {
    let (server, fixture, _bus) = start().await;
    let mut inter = connect_with_auth(
        Obfuscated::new(transport::Intermediate::new()),
        server_addr(&server),
        fixture.key,
    )
    .await
    .unwrap();
    for _ in 0..3 {
        let users = within("obfuscated intermediate call", inter.invoke(&get_self()))
            .await
            .expect("served");
        assert_eq!(users.len(), 1);
    }
    let mut abridged = connect_with_auth(
        Obfuscated::new(transport::Abridged::new()),
        server_addr(&server),
        fixture.key,
    )
    .await
    .unwrap();
    let tl::enums::Config::Config(config) = within(
        "obfuscated abridged call",
        abridged.invoke(&tl::functions::help::GetConfig {}),
    )
    .await
    .expect("served");
    assert!(config.dc_options.is_empty());
}

/// A header an MTProxy client makes for `secret`: its keys are SHA-256(key ‖ secret).
fn header_for_secret(secret: &[u8]) -> [u8; 64] {
    let mut header = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut header);
    header[0] = 0x42;
    header[4] = 1;
    header[56..60].copy_from_slice(&[0xee; 4]);
    let mut keyed = header;
    let key = Sha256::digest([&header[8..40], secret].concat());
    keyed[8..40].copy_from_slice(&key);
    let mut encrypted = header;
    grammers_crypto::ObfuscatedCipher::new(&keyed).encrypt(&mut encrypted);
    header[56..64].copy_from_slice(&encrypted[56..64]);
    header
}

#[tokio::test]
async fn a_garbage_or_wrong_secret_header_closes_only_that_connection() {
    let (server, fixture, _bus) = start().await;
    let addr = server.local_addr();
    let mut established = connect_with_auth(
        Obfuscated::new(transport::Intermediate::new()),
        server_addr(&server),
        fixture.key,
    )
    .await
    .unwrap();
    within("first call", established.invoke(&get_self()))
        .await
        .expect("served");

    let garbage: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
    for header in [garbage, header_for_secret(b"0123456789abcdef").to_vec()] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&header).await.unwrap();
        stream.write_all(&[0u8; 64]).await.unwrap();
        closed_by_server(&mut stream).await;
    }

    let users = within(
        "call after the bad headers",
        established.invoke(&get_self()),
    )
    .await
    .expect("the established connection is untouched");
    assert_eq!(users.len(), 1);
}
