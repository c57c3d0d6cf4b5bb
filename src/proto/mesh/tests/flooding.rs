//! Broadcast flooding, the 60 s boundary, de-duplication and whispers.

use super::harness::{node_id, Net, T0};
use super::raw::{frame_of, secs, uint, Raw};
use crate::proto::mesh::{DropReason, MeshError};
use crate::wire::{flags, Value};

fn line_of_three() -> Net {
    // max_outgoing 1: node 2 does not dial node 0 from node 1's peer list.
    let mut net = Net::new(3, |_, cfg| cfg.max_outgoing = 1);
    net.line(&[(0, 1), (2, 1)]);
    assert_eq!(net.peer_ids(1), vec![node_id(0), node_id(2)]);
    assert_eq!(net.peer_ids(0), vec![node_id(1)]);
    net
}

#[test]
fn a_broadcast_crosses_a_line_of_three_once_per_node() {
    let mut net = line_of_three();
    net.nodes[0].broadcast(
        flags::sub::BROADCAST,
        vec![Value::Str("hi".into())],
        net.now,
    );
    net.run();
    assert!(
        net.messages(0).is_empty(),
        "the sender does not get its own echo"
    );
    for i in 1..3 {
        let msgs = net.messages(i);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].packets, vec![Value::Str("hi".into())]);
        assert_eq!(msgs[0].sender, node_id(0).into_bytes());
        assert_eq!(msgs[0].sub_flag, flags::sub::BROADCAST);
    }
    assert_eq!(net.nodes[1].stats().relayed, 1);
}

#[test]
fn a_broadcast_in_a_triangle_is_delivered_once_and_duplicates_are_counted() {
    let mut net = Net::new(3, |_, _| {});
    net.line(&[(0, 1), (2, 1)]);
    assert_eq!(
        net.peer_ids(2),
        vec![node_id(0), node_id(1)],
        "node 2 dialled node 0 from the list"
    );
    let id = net.nodes[0].broadcast(flags::sub::BROADCAST, vec![uint(7)], net.now);
    net.run();
    for i in 1..3 {
        let msgs = net.messages(i);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].id, id);
    }
    let dups: u64 = (0..3)
        .map(|i| net.nodes[i].stats().dropped[DropReason::Duplicate as usize])
        .sum();
    assert!(
        dups >= 1,
        "the copy that went round the triangle was dropped"
    );
}

#[test]
fn a_broadcast_60_seconds_old_is_accepted_and_61_seconds_old_dropped() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("peer", &[0x13]);
    let now = secs(raw.now);
    for (time, text) in [
        (now - 60, "old"),
        (now - 61, "too old"),
        (now + 3600, "future"),
    ] {
        let payload = [uint(flags::sub::BROADCAST), Value::Str(text.into())];
        raw.feed(conn, &frame_of(flags::BROADCAST, "peer", time, &payload));
    }
    let texts: Vec<&Value> = raw.messages().iter().map(|m| &m.packets[0]).collect();
    assert_eq!(
        texts,
        vec![&Value::Str("old".into()), &Value::Str("future".into())]
    );
    assert_eq!(raw.dropped(DropReason::Expired), 1);
}

#[test]
fn a_copy_arriving_just_inside_the_window_is_still_a_duplicate() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("peer", &[0x13]);
    let frame = frame_of(flags::BROADCAST, "peer", secs(T0), &[uint(0), uint(1)]);
    raw.feed(conn, &frame);
    raw.tick(T0 + 60_999);
    raw.feed(conn, &frame);
    assert_eq!(raw.messages().len(), 1);
    assert_eq!(raw.dropped(DropReason::Duplicate), 1);
}

#[test]
fn the_seen_set_is_bounded_and_forgets_its_oldest_entry() {
    let mut raw = Raw::new(|cfg| cfg.seen_capacity = 2);
    let conn = raw.handshaken_peer("peer", &[0x13]);
    let frames: Vec<Vec<u8>> = (0..3)
        .map(|n| frame_of(flags::BROADCAST, "peer", secs(T0), &[uint(0), uint(n)]))
        .collect();
    for f in &frames {
        raw.feed(conn, f);
    }
    raw.feed(conn, &frames[2]);
    assert_eq!(raw.messages().len(), 3, "the newest is remembered");
    raw.feed(conn, &frames[0]);
    assert_eq!(
        raw.messages().len(),
        4,
        "the oldest was forgotten at the cap"
    );
}

#[test]
fn our_own_broadcast_echoed_back_is_dropped() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("peer", &[0x13, 0x1f]);
    raw.mesh
        .broadcast(flags::sub::BROADCAST, vec![uint(1)], raw.now);
    raw.outputs.clear();
    while let Some(out) = raw.mesh.poll_output() {
        raw.outputs.push(out);
    }
    let _ = raw.take_transmits(conn);
    // Rebuild the identical frame: same sender, time and payload.
    let echo = frame_of(
        flags::BROADCAST,
        &node_id(0),
        secs(raw.now),
        &[uint(0), uint(1)],
    );
    raw.feed(conn, &echo);
    assert!(raw.messages().is_empty());
    assert_eq!(raw.dropped(DropReason::Duplicate), 1);
}

#[test]
fn a_whisper_reaches_one_peer_and_is_not_relayed() {
    let mut net = line_of_three();
    let peer = node_id(1).into_bytes();
    net.nodes[0]
        .whisper(
            &peer,
            flags::sub::WHISPER,
            vec![Value::Str("psst".into())],
            net.now,
        )
        .expect("node 1 is a neighbour");
    net.run();
    let msgs = net.messages(1);
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        (msgs[0].msg_type, msgs[0].sub_flag),
        (flags::WHISPER, flags::sub::WHISPER)
    );
    assert!(net.messages(2).is_empty());
    let far = node_id(2).into_bytes();
    assert_eq!(
        net.nodes[0].whisper(&far, flags::sub::WHISPER, vec![], net.now),
        Err(MeshError::UnknownPeer)
    );
}

#[test]
fn whispers_are_neither_deduplicated_nor_age_checked() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("peer", &[0x13]);
    let frame = frame_of(
        flags::WHISPER,
        "peer",
        0,
        &[uint(flags::sub::WHISPER), uint(5)],
    );
    raw.feed(conn, &frame);
    raw.feed(conn, &frame);
    assert_eq!(raw.messages().len(), 2);
}
