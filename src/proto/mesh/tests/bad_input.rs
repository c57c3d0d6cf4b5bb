//! Each kind of bad input closes (or drops) with its own reason and leaves other peers alone.

use super::harness::protocol;
use super::raw::{frame_of, frame_of_packed, handshake_payload, secs, uint, Raw};
use crate::proto::mesh::{ConnId, DropReason, Event, Output};
use crate::wire::compression::Method;
use crate::wire::frame;
use crate::wire::{flags, Value};

/// A node with a bad peer and a good one; returns (raw, bad, good).
fn two_peers(tweak: impl FnOnce(&mut crate::proto::mesh::MeshConfig)) -> (Raw, ConnId, ConnId) {
    let mut raw = Raw::new(tweak);
    let bad = raw.handshaken_peer("bad", &[0x13]);
    let good = raw.handshaken_peer("good", &[0x13]);
    (raw, bad, good)
}

/// The good peer still works: it stays in the peer list and its whisper is delivered.
fn assert_good_unaffected(raw: &mut Raw, good: ConnId) {
    assert!(raw.mesh.peers().iter().any(|p| p.id == b"good"));
    let before = raw.messages().len();
    let whisper = frame_of(flags::WHISPER, "good", secs(raw.now), &[uint(2), uint(1)]);
    raw.feed(good, &whisper);
    assert_eq!(raw.messages().len(), before + 1);
}

fn expect_close(
    bytes: &[u8],
    reason: DropReason,
    tweak: impl FnOnce(&mut crate::proto::mesh::MeshConfig),
) {
    let (mut raw, bad, good) = two_peers(tweak);
    raw.feed(bad, bytes);
    assert_eq!(
        raw.closes(),
        vec![(bad, reason)],
        "input should close with {reason:?}"
    );
    assert_eq!(raw.dropped(reason), 1);
    let left = raw
        .outputs
        .iter()
        .any(|o| matches!(o, Output::Event(Event::Disconnected { peer }) if peer == b"bad"));
    assert!(left, "the bad peer's departure is reported");
    assert_good_unaffected(&mut raw, good);
}

#[test]
fn a_frame_over_the_size_limit_closes() {
    expect_close(&[0, 1, 0, 0], DropReason::FrameTooLarge, |c| {
        c.limits.max_frame_len = 1000
    });
}

#[test]
fn a_decompression_bomb_closes() {
    let packed = frame::pack(0, b"bad", 1, &[uint(0), Value::Bin(vec![0; 100_000])]);
    let mut bytes = Vec::new();
    frame::write_frame(
        &frame::message_id(&packed),
        &packed,
        Some(Method::Zlib),
        &mut bytes,
    );
    expect_close(&bytes, DropReason::DecompressedTooLarge, |c| {
        c.limits.max_decompressed_len = 10_000
    });
}

#[test]
fn a_bad_checksum_closes() {
    let mut bytes = frame_of(flags::WHISPER, "bad", 1, &[uint(2), uint(1)]);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    expect_close(&bytes, DropReason::BadChecksum, |_| {});
}

#[test]
fn bad_msgpack_closes() {
    // Each is checksummed correctly but is not one valid msgpack value.
    // `[2, "bad", 1, <fourth item>]` with a broken fourth item, or a missing one.
    let head = [0x94, 0x02, 0xa3, b'b', b'a', b'd', 0x01];
    let tails: [&[u8]; 5] = [
        &[],                 // the fourth item is missing
        &[0xc4],             // truncated bin header
        &[0xa1, 0xff],       // invalid UTF-8 str
        &[0xd4, 0x01, 0x00], // ext type
        &[0x01, 0x01],       // trailing byte
    ];
    for tail in tails {
        let packed = [&head[..], tail].concat();
        expect_close(&frame_of_packed(&packed), DropReason::BadMsgpack, |_| {});
    }
}

#[test]
fn a_message_of_the_wrong_shape_closes() {
    let packed = Value::Array(vec![uint(2), Value::Bin(b"bad".to_vec())]).to_bytes();
    expect_close(
        &frame_of_packed(&packed),
        DropReason::BadMessageShape,
        |_| {},
    );
}

#[test]
fn a_handshake_with_an_integer_id_closes() {
    let mut hs = handshake_payload("bad", &protocol(), 1, &[0x13]);
    hs[1] = uint(9);
    expect_close(
        &frame_of(flags::WHISPER, "bad", 1, &hs),
        DropReason::BadMessageShape,
        |_| {},
    );
}

#[test]
fn unknown_main_flags_and_sub_flags_are_dropped_but_the_connection_stays() {
    let (mut raw, bad, good) = two_peers(|_| {});
    raw.feed(
        bad,
        &frame_of(flags::PING, "bad", secs(raw.now), &[uint(2), uint(1)]),
    );
    raw.feed(
        bad,
        &frame_of(flags::WHISPER, "bad", secs(raw.now), &[uint(0x30), uint(1)]),
    );
    raw.feed(
        bad,
        &frame_of(
            flags::WHISPER,
            "bad",
            secs(raw.now),
            &[uint(flags::sub::STORE)],
        ),
    );
    assert!(raw.closes().is_empty());
    assert!(raw.messages().is_empty());
    assert_eq!(raw.dropped(DropReason::UnknownFlag), 3);
    raw.feed(
        bad,
        &frame_of(flags::WHISPER, "bad", secs(raw.now), &[uint(2), uint(1)]),
    );
    assert_eq!(raw.messages().len(), 1, "the connection still delivers");
    assert_good_unaffected(&mut raw, good);
}

#[test]
fn a_flood_of_handshakes_only_updates() {
    let (mut raw, bad, good) = two_peers(|_| {});
    let hs = handshake_payload("bad", &protocol(), 1, &[0x13]);
    let frame = frame_of(flags::WHISPER, "bad", secs(raw.now), &hs);
    let flood: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 500)
        .collect();
    raw.feed(bad, &flood);
    assert!(raw.closes().is_empty());
    assert_eq!(raw.mesh.peers().len(), 2);
    assert_eq!(
        raw.take_transmits(bad).len(),
        500,
        "one peer list per handshake"
    );
    assert_good_unaffected(&mut raw, good);
}

#[test]
fn frames_split_anywhere_are_reassembled() {
    let (mut raw, bad, _) = two_peers(|_| {});
    let mut bytes = frame_of(flags::WHISPER, "bad", 1, &[uint(2), uint(1)]);
    bytes.extend(frame_of(flags::WHISPER, "bad", 1, &[uint(2), uint(2)]));
    for byte in &bytes {
        raw.feed(bad, std::slice::from_ref(byte));
    }
    assert_eq!(raw.messages().len(), 2);
}
