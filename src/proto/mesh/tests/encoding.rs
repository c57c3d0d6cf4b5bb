//! How frames are written per peer: aligned compressed frames to possible py2p peers, plain
//! unpaced frames to rs2p peers, our handshake never ≡ 4 (mod 8), renegotiation answers.

use super::harness::{Net, HOST};
use super::raw::{decode, frame_of, is_plain, secs, uint, Raw};
use crate::proto::mesh::{DropReason, Mesh, MeshConfig, Output, RS2P_MARKER};
use crate::wire::{flags, Value};

#[test]
fn our_handshake_is_plain_paced_and_never_4_mod_8_whatever_the_id_length() {
    for len in 1..80 {
        let id = "z".repeat(len);
        let cfg = MeshConfig::new("proto".into(), id, (HOST.into(), 1234));
        let mut mesh = Mesh::new(cfg, super::harness::T0);
        mesh.on_accepted(("10.0.0.1".into(), 5), super::harness::T0);
        let Some(Output::Transmit { frame, paced, .. }) = mesh.poll_output() else {
            panic!("the handshake is the first output");
        };
        assert!(paced && is_plain(&frame));
        assert_ne!(frame.len() % 8, 4, "id length {len}");
        let msg = decode(&frame);
        assert_eq!(msg.payload[0], uint(flags::sub::HANDSHAKE));
        let methods = msg.payload[4].as_array().expect("method list");
        assert_eq!(&methods[..3], &[uint(0x13), uint(0x11), uint(RS2P_MARKER)]);
    }
}

#[test]
fn frames_to_a_py2p_peer_are_compressed_aligned_to_8_and_paced() {
    for (methods, code) in [
        (&[0x13u8, 0x11, 0x10, 0x12][..], 0x13u8),
        (&[0x11][..], 0x11),
    ] {
        let mut raw = Raw::new(|_| {});
        let conn = raw.accept();
        let hs = raw.take_transmits(conn);
        assert_eq!(hs.len(), 1);
        assert_ne!(hs[0].0.len() % 8, 4);
        let payload = super::raw::handshake_payload("py", &super::harness::protocol(), 9, methods);
        raw.feed(
            conn,
            &frame_of(flags::WHISPER, "py", secs(raw.now), &payload),
        );
        raw.mesh
            .broadcast(0, vec![Value::Bin(vec![7; 300])], raw.now);
        raw.mesh
            .whisper(b"py", 2, vec![Value::Str("x".into())], raw.now)
            .expect("handshaken");
        while let Some(out) = raw.mesh.poll_output() {
            raw.outputs.push(out);
        }
        let sent = raw.take_transmits(conn);
        assert_eq!(sent.len(), 3, "peer list, broadcast, whisper");
        for (frame, paced) in &sent {
            assert!(paced);
            assert_eq!(frame.len() % 8, 0);
            assert!(!is_plain(frame), "compressed with 0x{code:02x}");
            decode(frame);
        }
    }
}

#[test]
fn frames_to_an_rs2p_peer_are_plain_and_unpaced_after_the_handshake() {
    let mut net = Net::new(2, |_, _| {});
    net.connect(0, 1);
    net.run();
    net.nodes[0].broadcast(0, vec![uint(1)], net.now);
    net.run();
    for node in 0..2 {
        let sent: Vec<_> = net.sent.iter().filter(|s| s.node == node).collect();
        assert!(sent.len() >= 2);
        assert!(
            sent[0].paced,
            "the handshake is paced: the peer is not known yet"
        );
        for s in &sent[1..] {
            assert!(!s.paced && is_plain(&s.frame));
        }
    }
}

#[test]
fn a_compression_renegotiation_is_answered_once_with_the_common_methods() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("py", &[0x13, 0x11]);
    let reneg = |list: &[u8]| {
        let list = Value::Array(list.iter().map(|&m| uint(m)).collect());
        frame_of(
            flags::RENEGOTIATE,
            "py",
            1,
            &[uint(flags::sub::COMPRESSION), list],
        )
    };
    raw.feed(conn, &reneg(&[0x10, 0x11]));
    let sent = raw.take_transmits(conn);
    assert_eq!(sent.len(), 1);
    assert!(is_plain(&sent[0].0));
    assert_eq!(
        sent[0].0.len() % 8,
        0,
        "aligned for py2p although uncompressed"
    );
    let msg = decode(&sent[0].0);
    assert_eq!(msg.msg_type, flags::RENEGOTIATE);
    assert_eq!(msg.payload, vec![uint(1), Value::Array(vec![uint(0x11)])]);
    raw.feed(conn, &reneg(&[0x10, 0x11]));
    assert!(
        raw.take_transmits(conn).is_empty(),
        "an unchanged list is not answered"
    );
    raw.feed(
        conn,
        &frame_of(flags::RENEGOTIATE, "py", 1, &[uint(flags::sub::RESEND)]),
    );
    assert!(raw.closes().is_empty());
    assert_eq!(raw.mesh.stats().resend_ignored, 1);
    assert_eq!(raw.dropped(DropReason::BadChecksum), 0);
}

#[test]
fn own_frames_to_a_py2p_peer_without_a_common_method_are_plain_but_aligned() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("py", &[0x10, 0x12]);
    for n in 0..16u8 {
        let packets = vec![Value::Bin(vec![n; usize::from(n)])];
        raw.mesh
            .whisper(b"py", 2, packets, raw.now)
            .expect("handshaken");
    }
    while let Some(out) = raw.mesh.poll_output() {
        raw.outputs.push(out);
    }
    let sent = raw.take_transmits(conn);
    assert_eq!(sent.len(), 16);
    for (n, (frame, paced)) in sent.iter().enumerate() {
        assert!(*paced && is_plain(frame));
        assert_eq!(frame.len() % 8, 0);
        assert_eq!(decode(frame).payload[1], Value::Bin(vec![n as u8; n]));
    }
}
