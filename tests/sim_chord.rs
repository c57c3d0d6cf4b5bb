//! The production chord core at message level in the simulator, at a size sockets cannot
//! reach here (200 storing nodes, a few dozen links each): every key written reads back with
//! its value from any node, every node is linked to its true ring neighbours once settled,
//! and after 10 % of the storing nodes crash no read returns a wrong value.
//!
//! The full property — every key still readable after the crash — does not hold on the
//! chord core at 294b4b1 and is kept as an ignored test naming why (see
//! `every_key_survives_a_ten_percent_crash`).

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
fn two_hundred_storing_nodes_read_back_every_key_and_never_a_wrong_value() {
    let r = two_hundred_nodes();
    assert_eq!(
        (r.gets_correct, r.gets_wrong, r.gets_failed),
        (40, 0, 0),
        "reads from random nodes before the crash"
    );
    assert_eq!(r.positions_no_holder, 0, "every written position is held");
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

/// Fails on the chord core at 294b4b1, for two reasons in src/proto/chord/handler.rs:
/// 1. a store that reaches the responsible node through its ring predecessor is not
///    replicated (`route_store`'s "store from the predecessor" check cannot tell a store the
///    predecessor forwarded, and does not hold, from its own replica): 156 of 500 positions
///    have one holder, and a crash loses them;
/// 2. `known` keeps crashed peers, so a node whose ring neighbour crashed keeps wanting the
///    dead one and never links the new neighbour: after the crash about 1–4 % of the nodes
///    stay without their true successor or predecessor for minutes, and reads and writes
///    for positions near them can end at different nodes.
///
/// With these settings (seed 1) 68 of 200 positions have one holder and 4 % of the nodes
/// lack a true ring link after the crash; in the larger run of the same seed (100 keys,
/// 40 s to settle) 3 of 100 keys end TimedOut after the crash. Run with
/// `cargo test --release --test sim_chord -- --ignored`.
#[test]
#[ignore = "chord core: unreplicated forwarded stores and stale ring peers (see doc comment)"]
fn every_key_survives_a_ten_percent_crash() {
    let r = two_hundred_nodes();
    assert_eq!(r.positions_one_holder, 0, "positions held by one node only");
    assert_eq!(
        r.ring_correct_after_crash, 1.0,
        "ring links after the crash"
    );
    assert_eq!(r.keys_readable_after_crash, r.config.keys as usize);
}
