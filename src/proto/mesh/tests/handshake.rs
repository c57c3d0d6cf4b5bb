//! Handshakes, the duplicate-connection rule, peer lists and connection timers.

use super::harness::{node_id, protocol, Net, HOST, T0};
use super::raw::{decode, frame_of, handshake_payload, secs, uint, Raw};
use crate::proto::mesh::core::MAX_PENDING_HANDSHAKES;
use crate::proto::mesh::{ConnId, Direction, DropReason, Event, Output};
use crate::wire::{flags, Value};

#[test]
fn two_nodes_handshake_both_ways_and_fire_one_connected_each() {
    let mut net = Net::new(2, |_, _| {});
    net.connect(0, 1);
    net.run();
    assert_eq!(net.peer_ids(0), vec![node_id(1)]);
    assert_eq!(net.peer_ids(1), vec![node_id(0)]);
    assert_eq!(net.connected_events(0), 1);
    assert_eq!(net.connected_events(1), 1);
    let p0 = &net.nodes[0].peers()[0];
    assert_eq!(p0.direction, Direction::Outgoing);
    assert_eq!(p0.addr, ("127.0.0.1".to_string(), 10_001));
    assert_eq!(net.nodes[1].peers()[0].direction, Direction::Incoming);
}

#[test]
fn a_different_protocol_is_refused_without_an_answer() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.accept();
    assert_eq!(
        raw.take_transmits(conn).len(),
        1,
        "our handshake goes out first"
    );
    let hs = handshake_payload("peer", "another-protocol", 1, &[0x13]);
    raw.feed(conn, &frame_of(flags::WHISPER, "peer", secs(raw.now), &hs));
    assert_eq!(raw.closes(), vec![(conn, DropReason::WrongProtocol)]);
    assert!(
        raw.take_transmits(conn).is_empty(),
        "no peer list for a refused peer"
    );
    assert!(raw.mesh.peers().is_empty());
    assert_eq!(raw.dropped(DropReason::WrongProtocol), 1);
}

#[test]
fn nodes_of_different_protocols_never_connect() {
    let mut net = Net::new(2, |i, cfg| {
        if i == 1 {
            cfg.protocol_id = "other".into();
        }
    });
    net.connect(0, 1);
    net.run();
    assert!(net.peer_ids(0).is_empty() && net.peer_ids(1).is_empty());
    assert_eq!(net.sent.len(), 2, "each side sent its handshake only");
}

#[test]
fn a_simultaneous_dial_keeps_one_connection_chosen_alike_at_both_ends() {
    let mut net = Net::new(2, |_, _| {});
    net.connect(0, 1);
    net.connect(1, 0);
    net.run();
    let p0 = net.nodes[0].peers();
    let p1 = net.nodes[1].peers();
    assert_eq!((p0.len(), p1.len()), (1, 1));
    // Both ends hold the two ends of one link.
    assert_eq!(net.links.get(&(0, p0[0].conn)), Some(&(1, p1[0].conn)));
    assert_eq!(net.links.len(), 2, "the other link was closed");
    // node2 > node1: the survivor is the one node index 1 dialled.
    assert_eq!(p1[0].direction, Direction::Outgoing);
    assert_eq!(p0[0].direction, Direction::Incoming);
    for i in 0..2 {
        assert_eq!(net.connected_events(i), 1);
        assert_eq!(net.disconnected_events(i), 0);
    }
}

#[test]
fn a_repeated_handshake_updates_the_record_and_is_answered_each_time() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.handshaken_peer("peer", &[0x13]);
    for port in [1u16, 2, 3] {
        let hs = handshake_payload("peer", &protocol(), port, &[0x13]);
        raw.feed(conn, &frame_of(flags::WHISPER, "peer", secs(raw.now), &hs));
        let sent = raw.take_transmits(conn);
        assert_eq!(sent.len(), 1);
        assert_eq!(decode(&sent[0].0).payload[0], uint(flags::sub::PEERS));
    }
    assert_eq!(raw.mesh.peers()[0].addr.1, 3);
    let connected = raw
        .outputs
        .iter()
        .filter(|o| matches!(o, Output::Event(Event::Connected { .. })))
        .count();
    assert_eq!(
        connected, 0,
        "the first Connected was cleared; repeats fire none"
    );
}

#[test]
fn a_str_id_and_protocol_are_accepted_but_an_integer_id_closes() {
    let mut raw = Raw::new(|_| {});
    let conn = raw.accept();
    let mut hs = handshake_payload("jspeer", &protocol(), 7, &[0x13]);
    hs[1] = Value::Str("jspeer".into());
    hs[2] = Value::Str(protocol());
    raw.feed(
        conn,
        &frame_of(flags::WHISPER, "jspeer", secs(raw.now), &hs),
    );
    assert_eq!(raw.mesh.peers().len(), 1);

    let bad = raw.accept();
    let mut hs = handshake_payload("x", &protocol(), 7, &[0x13]);
    hs[1] = Value::UInt(42);
    raw.feed(bad, &frame_of(flags::WHISPER, "x", secs(raw.now), &hs));
    assert_eq!(raw.closes(), vec![(bad, DropReason::BadMessageShape)]);
    assert_eq!(raw.mesh.peers().len(), 1, "the other peer is unaffected");
}

#[test]
fn peer_lists_are_dialled_up_to_max_outgoing() {
    let mut net = Net::new(5, |i, cfg| {
        if i == 4 {
            cfg.max_outgoing = 2;
        }
    });
    for i in 1..4 {
        net.connect(i, 0);
        net.run();
    }
    net.connect(4, 0);
    net.run();
    let outgoing = net.nodes[4]
        .peers()
        .iter()
        .filter(|p| p.direction == Direction::Outgoing)
        .count();
    assert_eq!(outgoing, 2, "one to the hub and one from its peer list");
    // Nobody holds two connections to one peer.
    for i in 0..5 {
        let ids = net.peer_ids(i);
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(ids, unique);
        assert_eq!(net.disconnected_events(i), 0);
    }
}

#[test]
fn losing_a_peer_asks_the_others_for_their_peer_lists_and_reconnects() {
    let mut net = Net::new(3, |_, _| {});
    net.line(&[(1, 0), (2, 0)]);
    assert_eq!(net.peer_ids(2), vec![node_id(0), node_id(1)]);
    net.tick_to(T0 + 60_000);
    let before = net.sent.len();
    let conn = net.nodes[0]
        .peers()
        .iter()
        .find(|p| p.id == b"node3")
        .map(|p| p.conn);
    net.break_link(0, conn.expect("node 0 knows node 2"));
    net.run();
    assert_eq!(net.disconnected_events(0), 1);
    let request_sent = net.sent[before..].iter().any(|s| {
        s.node == 0
            && decode(&s.frame).payload
                == vec![uint(flags::sub::REQUEST), Value::Bin(b"*".to_vec())]
    });
    assert!(request_sent);
    assert_eq!(
        net.peer_ids(2),
        vec![node_id(0), node_id(1)],
        "node 2 dialled node 0 again"
    );
}

#[test]
fn a_peer_that_keeps_refusing_us_is_not_redialled_in_a_loop() {
    // Node 0 forgets its link to node 2 while node 2 still holds it (half-open): node 2
    // refuses node 0's new connection as a duplicate. run() panics if this never settles.
    let mut net = Net::new(3, |_, _| {});
    net.line(&[(1, 0), (2, 0)]);
    let conn = net.nodes[0]
        .peers()
        .iter()
        .find(|p| p.id == b"node3")
        .map(|p| p.conn);
    net.nodes[0].on_closed(
        conn.expect("node 0 knows node 2"),
        DropReason::PeerClosed,
        net.now,
    );
    net.run();
    let dials = net.nodes[0].stats().dropped[DropReason::DuplicateConnection as usize]
        + net.nodes[2].stats().dropped[DropReason::DuplicateConnection as usize];
    assert!(dials <= 2, "at most one refused redial, got {dials}");
}

#[test]
fn a_connection_without_a_handshake_is_closed_after_the_timeout() {
    let mut raw = Raw::new(|cfg| cfg.handshake_timeout_s = 30);
    let conn = raw.accept();
    raw.tick(T0 + 29_999);
    assert!(raw.closes().is_empty());
    raw.tick(T0 + 30_000);
    assert_eq!(raw.closes(), vec![(conn, DropReason::HandshakeTimeout)]);
}

#[test]
fn a_stale_partial_frame_closes_but_an_idle_connection_stays() {
    let mut raw = Raw::new(|_| {});
    let idle = raw.handshaken_peer("idle", &[0x13]);
    let stuck = raw.handshaken_peer("stuck", &[0x13]);
    raw.feed(stuck, &[0, 0, 0]);
    raw.tick(T0 + 59_999);
    assert!(raw.closes().is_empty());
    raw.tick(T0 + 60_000);
    assert_eq!(raw.closes(), vec![(stuck, DropReason::StalePartialFrame)]);
    raw.tick(T0 + 600_000);
    assert_eq!(
        raw.closes().len(),
        1,
        "the idle connection {idle} stays open"
    );
}

#[test]
fn too_many_connections_waiting_for_a_handshake_are_refused() {
    let mut raw = Raw::new(|_| {});
    let first = raw.accept();
    for _ in 1..MAX_PENDING_HANDSHAKES {
        raw.accept();
    }
    assert!(raw.closes().is_empty());
    let extra = raw.accept();
    assert_eq!(raw.closes(), vec![(extra, DropReason::TooManyPending)]);
    // A completed handshake frees a slot.
    raw.outputs.clear();
    let hs = handshake_payload("p", &protocol(), 7, &[0x13]);
    raw.feed(first, &frame_of(flags::WHISPER, "p", secs(raw.now), &hs));
    raw.accept();
    assert_eq!(raw.closes(), vec![]);
}

#[test]
fn a_node_that_dials_itself_drops_the_connection() {
    let mut net = Net::new(1, |_, _| {});
    net.connect(0, 0);
    net.run();
    assert!(net.peer_ids(0).is_empty());
    assert!(net.nodes[0].stats().dropped[DropReason::DuplicateConnection as usize] >= 1);
    assert_eq!(net.connected_events(0), 0);
}

#[test]
fn losses_in_quick_succession_cost_one_round_of_peer_requests_per_second() {
    // The losses are half-open (the far ends keep their links), so a redial would be refused
    // as a duplicate and count as one more loss: redials are off here (see `redial.rs`).
    let mut net = Net::new(5, |_, cfg| cfg.redial_lost_peers = false);
    net.line(&[(1, 0), (2, 0), (3, 0), (4, 0)]);
    net.tick_to(T0 + 60_000);
    let is_request = |frame: &[u8]| {
        decode(frame).payload == vec![uint(flags::sub::REQUEST), Value::Bin(b"*".to_vec())]
    };
    let requests_by_node0 = |net: &Net, from: usize| {
        net.sent[from..]
            .iter()
            .filter(|s| s.node == 0 && is_request(&s.frame))
            .count()
    };
    let before = net.sent.len();
    for lost in [b"node4".as_slice(), b"node5".as_slice()] {
        let conn = net.nodes[0]
            .peers()
            .iter()
            .find(|p| p.id == lost)
            .map(|p| p.conn)
            .expect("node 0 knows the peer");
        net.nodes[0].on_closed(conn, DropReason::PeerClosed, net.now);
    }
    net.run();
    // First loss: one request to each of the three peers left then; second loss: deferred.
    assert_eq!(requests_by_node0(&net, before), 3);
    let after_losses = net.sent.len();
    net.tick_to(net.now + 1_000);
    // The tick sends the deferred round, once, to the peers still connected.
    assert!(requests_by_node0(&net, after_losses) >= 1);
    let after_tick = net.sent.len();
    net.tick_to(net.now + 1_000);
    assert_eq!(requests_by_node0(&net, after_tick), 0, "nothing left due");
}

/// Node 0 dials node 1 twice at once. `dialler_reads_first` is the connection (0 or 1) on
/// which node 0 reads node 1's handshake first, `acceptor_reads_first` the one on which
/// node 1 reads node 0's first; everything after the handshakes runs in order.
fn dial_twice(dialler_reads_first: usize, acceptor_reads_first: usize) -> Net {
    let mut net = Net::new(2, |_, _| {});
    let dials = [net.connect(0, 1), net.connect(0, 1)];
    while net.nodes[0].poll_output().is_some() {} // the two Dial outputs, answered here
    let mut accepted = [0; 2];
    for (k, &dial) in dials.iter().enumerate() {
        accepted[k] = net.nodes[1].on_accepted((HOST.to_string(), 20_000 + k as u16), net.now);
        net.links.insert((0, dial), (1, accepted[k]));
        net.links.insert((1, accepted[k]), (0, dial));
        net.nodes[0].on_connected(dial, net.now);
    }
    // Each side's handshake per connection, then delivered in the chosen orders.
    let mut handshakes: [Vec<(ConnId, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    for (node, out) in handshakes.iter_mut().enumerate() {
        while let Some(output) = net.nodes[node].poll_output() {
            if let Output::Transmit { conn, frame, .. } = output {
                out.push((conn, frame));
            }
        }
    }
    let order = |first: usize| [first, 1 - first];
    for k in order(acceptor_reads_first) {
        let (_, frame) = handshakes[0]
            .iter()
            .find(|(conn, _)| *conn == dials[k])
            .expect("node 0 sent a handshake on each dial");
        net.nodes[1].on_data(accepted[k], frame, net.now);
    }
    for k in order(dialler_reads_first) {
        let (_, frame) = handshakes[1]
            .iter()
            .find(|(conn, _)| *conn == accepted[k])
            .expect("node 1 sent a handshake on each accepted connection");
        net.nodes[0].on_data(dials[k], frame, net.now);
    }
    net.run();
    net
}

#[test]
fn a_peer_that_dials_us_twice_stays_linked_by_one_connection_whatever_the_order() {
    for dialler_reads_first in 0..2 {
        for acceptor_reads_first in 0..2 {
            let case = format!(
                "dialler first {dialler_reads_first}, acceptor first {acceptor_reads_first}"
            );
            let mut net = dial_twice(dialler_reads_first, acceptor_reads_first);
            assert_eq!(net.peer_ids(0), vec![node_id(1)], "{case}");
            assert_eq!(net.peer_ids(1), vec![node_id(0)], "{case}");
            let kept = net.nodes[0].peers()[0].conn;
            assert_eq!(
                net.links.get(&(0, kept)).map(|&(_, conn)| conn),
                Some(net.nodes[1].peers()[0].conn),
                "{case}: both ends route over the same connection"
            );
            assert_eq!(net.links.len(), 2, "{case}: the other connection is closed");
            assert_eq!(
                (net.connected_events(0), net.connected_events(1)),
                (1, 1),
                "{case}"
            );
            assert_eq!(
                (net.disconnected_events(0), net.disconnected_events(1)),
                (0, 0),
                "{case}"
            );
            net.nodes[1].broadcast(0, vec![Value::Str("still linked".into())], net.now);
            net.run();
            assert_eq!(net.messages(0).len(), 1, "{case}");
        }
    }
}
