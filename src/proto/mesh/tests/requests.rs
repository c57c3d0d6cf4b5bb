//! Peer-list requests and replies to nodes that are not neighbours.

use super::harness::{node_id, Net};
use super::raw::{decode, frame_of, secs, uint, Raw};
use crate::wire::{flags, Value};

#[test]
fn a_peer_list_request_is_answered_for_a_bin_and_a_str_star() {
    let mut raw = Raw::new(|_| {});
    let asker = raw.handshaken_peer("asker", &[0x13]);
    raw.handshaken_peer("other", &[0x13]);
    for star in [Value::Bin(b"*".to_vec()), Value::Str("*".into())] {
        let request = [uint(flags::sub::REQUEST), star];
        raw.feed(
            asker,
            &frame_of(flags::WHISPER, "asker", secs(raw.now), &request),
        );
        let sent = raw.take_transmits(asker);
        assert_eq!(sent.len(), 1);
        let msg = decode(&sent[0].0);
        assert_eq!(msg.payload[0], uint(flags::sub::PEERS));
        let entries = msg.payload[1].as_array().expect("a list");
        assert_eq!(entries.len(), 1, "the recipient is left out");
        let expected = Value::Array(vec![
            Value::Array(vec![Value::Str("10.0.0.9".into()), Value::UInt(44_000)]),
            Value::Bin(b"other".to_vec()),
        ]);
        assert_eq!(entries[0], expected);
    }
}

#[test]
fn a_reply_reaches_a_node_that_is_not_a_neighbour() {
    let mut net = Net::new(3, |_, cfg| cfg.max_outgoing = 1);
    net.line(&[(0, 1), (2, 1)]);
    let far = node_id(2).into_bytes();
    net.nodes[0].reply(&far, vec![Value::Str("hello".into())], net.now);
    net.run();
    let msgs = net.messages(2);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].sender, node_id(0).into_bytes());
    assert_eq!(
        (msgs[0].msg_type, msgs[0].sub_flag),
        (flags::WHISPER, flags::sub::WHISPER)
    );
    assert_eq!(msgs[0].packets, vec![Value::Str("hello".into())]);
    assert!(
        net.peer_ids(0).contains(&node_id(2)),
        "node 0 dialled node 2"
    );
    assert!(
        net.messages(1).is_empty(),
        "requests and responses are not user messages"
    );
}

#[test]
fn a_reply_to_a_neighbour_is_a_whisper() {
    let mut net = Net::new(2, |_, _| {});
    net.connect(0, 1);
    net.run();
    net.nodes[1].reply(&node_id(0).into_bytes(), vec![uint(3)], net.now);
    net.run();
    assert_eq!(net.messages(0)[0].packets, vec![uint(3)]);
}

#[test]
fn pending_requests_expire() {
    let mut raw = Raw::new(|_| {});
    raw.handshaken_peer("peer", &[0x13]);
    raw.mesh.reply(b"nowhere", vec![uint(1)], raw.now);
    assert_eq!(raw.mesh.core.requests.len(), 1);
    raw.tick(raw.now + crate::proto::mesh::requests::REQUEST_TTL_MS);
    assert_eq!(raw.mesh.core.requests.len(), 0);
}
