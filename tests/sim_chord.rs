//! The production chord core at message level in the simulator, at a size sockets cannot
//! reach here (200 storing nodes, a few dozen links each): every key written reads back with
//! its value from any node, every position is held by two nodes (the responsible one and its
//! ring predecessor), every node is linked to its true ring neighbours once settled, and
//! after 10 % of the storing nodes crash every key still reads back with its value and every
//! survivor links its new ring neighbours.

use rs2p::sim::scenario::chord_net::{chord_net_study, ChordStudyConfig, ChordStudyResult};

fn two_hundred_nodes() -> ChordStudyResult {
    let mut cfg = ChordStudyConfig::new(200, 1);
    // Smaller than the rs2p-sim run so a debug build finishes in well under a minute: every
    // write floods a notify to all nodes, and every node plans its ring links each tick.
    cfg.settle_ms = 15_000;
    cfg.keys = 40;
    cfg.gets = 40;
    let r = chord_net_study(&cfg);
    println!("{r:#?}");
    r
}

#[test]
fn two_hundred_storing_nodes_read_back_every_key_before_and_after_a_crash() {
    let r = two_hundred_nodes();
    assert_eq!(
        (r.gets_correct, r.gets_wrong, r.gets_failed),
        (40, 0, 0),
        "reads from random nodes before the crash"
    );
    assert_eq!(r.positions_no_holder, 0, "every written position is held");
    assert_eq!(r.positions_one_holder, 0, "every position has a replica");
    assert_eq!(
        r.ring_correct_before_crash, 1.0,
        "every node links its true ring successor and predecessor"
    );
    assert!(r.mean_hops >= 1.0 && r.max_hops <= 8, "hops {r:?}");
    assert_eq!(
        r.keys_wrong_after_crash, 0,
        "a read after the crash returned a wrong value"
    );
}

/// A crashed peer leaves the node's list of ring candidates (it stayed there until the
/// chord core's `on_disconnected` forgot it too), so a node whose ring neighbour crashed
/// plans and makes the link to its new neighbour.
#[test]
fn ring_links_are_restored_after_a_crash() {
    let r = two_hundred_nodes();
    assert_eq!(
        r.ring_correct_after_crash, 1.0,
        "ring links after the crash"
    );
}
