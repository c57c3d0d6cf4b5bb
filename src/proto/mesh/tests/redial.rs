//! Redialling lost peers: a working link this node dialled that breaks comes back on its
//! own; a peer that no longer answers, or accepts and drops us each time, is tried five
//! times and given up; links the core closed and accepted links are not redialled.

use super::harness::{config, node_id, Net, T0};
use crate::proto::mesh::{DropReason, Mesh, Millis};

/// Nodes 0 and 1, node 0 dialling node 1, then a minute of quiet.
fn pair() -> Net {
    let mut net = Net::new(2, |_, cfg| cfg.max_outgoing = 0);
    net.line(&[(0, 1)]);
    net.tick_to(T0 + 60_000);
    net
}

fn break_the_link(net: &mut Net) {
    let conn = net.nodes[0].peers().first().map(|p| p.conn);
    net.break_link(0, conn.expect("node 0 is linked to node 1"));
    net.run();
    assert!(net.nodes[0].peers().is_empty() && net.nodes[1].peers().is_empty());
}

/// Ticks every node once a second for `seconds`.
fn tick_for(net: &mut Net, seconds: Millis) {
    for _ in 0..seconds {
        let next = net.now + 1000;
        net.tick_to(next);
    }
}

#[test]
fn a_broken_link_this_node_dialled_comes_back_after_a_second() {
    let mut net = pair();
    break_the_link(&mut net);
    tick_for(&mut net, 1);
    assert_eq!(net.peer_ids(0), vec![node_id(1)]);
    assert_eq!(net.peer_ids(1), vec![node_id(0)]);
    assert_eq!(net.nodes[0].stats().redials, 1);
    assert_eq!(net.nodes[1].stats().redials, 0, "the accepting side waits");
    tick_for(&mut net, 60);
    assert_eq!(
        net.nodes[0].stats().redials,
        1,
        "linked again: no more dials"
    );
}

#[test]
fn a_peer_that_is_gone_is_tried_five_times_with_growing_waits_then_given_up() {
    let mut net = pair();
    break_the_link(&mut net);
    net.unreachable.insert(1); // Dials to node 1's address now fail at once.
    let mut dial_times = Vec::new();
    for _ in 0..60 {
        let before = net.nodes[0].stats().redials;
        tick_for(&mut net, 1);
        if net.nodes[0].stats().redials > before {
            dial_times.push((net.now - T0 - 60_000) / 1000);
        }
    }
    // Each wait counts from the end of the previous attempt (here: the next tick).
    assert_eq!(dial_times, vec![1, 4, 9, 18, 35]);
    assert_eq!(net.nodes[0].stats().redials_given_up, 1);
    assert!(net.nodes[0].peers().is_empty());
}

#[test]
fn a_peer_back_under_another_id_at_the_same_address_ends_the_redials() {
    let mut net = pair();
    break_the_link(&mut net);
    // Node 1 restarts with a new ID on the same address.
    let mut cfg = config(1);
    cfg.node_id = node_id(7);
    net.nodes[1] = Mesh::new(cfg, net.now);
    tick_for(&mut net, 60);
    assert_eq!(net.peer_ids(0), vec![node_id(7)]);
    assert_eq!(net.nodes[0].stats().redials, 1);
}

#[test]
fn a_link_the_core_closed_for_a_protocol_error_is_not_redialled() {
    let mut net = pair();
    // Node 1 sends garbage: node 0 closes the link itself.
    let conn = net.nodes[1].peers().first().map(|p| p.conn);
    let conn = conn.expect("node 1 is linked to node 0");
    let (j, jc) = net.links[&(1, conn)];
    net.nodes[j].on_data(jc, &[0, 0, 0, 4, 1, 2, 3, 4], net.now);
    net.run();
    assert!(net.nodes[0].peers().is_empty());
    tick_for(&mut net, 40);
    assert_eq!(net.nodes[0].stats().redials, 0);
    assert!(net.nodes[0].peers().is_empty());
}

#[test]
fn a_peer_that_accepts_and_drops_us_at_once_costs_five_dials() {
    let mut net = pair();
    break_the_link(&mut net);
    for _ in 0..120 {
        tick_for(&mut net, 1);
        // Every time the link is back, it breaks again at once.
        if let Some(conn) = net.nodes[0].peers().first().map(|p| p.conn) {
            net.break_link(0, conn);
            net.run();
        }
    }
    assert_eq!(net.nodes[0].stats().redials, 5);
    assert_eq!(net.nodes[0].stats().redials_given_up, 1);
}

#[test]
fn with_redials_off_a_broken_link_stays_broken() {
    let mut net = Net::new(2, |_, cfg| {
        cfg.max_outgoing = 0;
        cfg.redial_lost_peers = false;
    });
    net.line(&[(0, 1)]);
    net.tick_to(T0 + 60_000);
    break_the_link(&mut net);
    tick_for(&mut net, 40);
    assert_eq!(net.nodes[0].stats().redials, 0);
    assert!(net.nodes[0].peers().is_empty());
}

#[test]
fn a_reset_reported_as_another_reason_is_not_redialled() {
    let mut net = pair();
    let conn = net.nodes[0].peers().first().map(|p| p.conn);
    let conn = conn.expect("node 0 is linked to node 1");
    // The driver closed a peer that stopped reading.
    net.nodes[0].on_closed(conn, DropReason::SlowPeer, net.now);
    net.run();
    tick_for(&mut net, 40);
    assert_eq!(net.nodes[0].stats().redials, 0);
}
