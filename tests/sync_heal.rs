//! Real-socket tests on 127.0.0.1: two groups of rs2p sync nodes that wrote disjoint keys
//! apart, joined by one new link, end with every node holding every key (the ends of the
//! link pass the entries of each other's handshake dump on, and so does every node whose
//! table they change); a key written in both groups keeps each group's value (a dump entry
//! never replaces a value held: the protocol's rule). The nodes dial only whom the test tells
//! them to (`max_outgoing` 0), so the one link is the only way across.

mod common;
use common::wait_until;

use rs2p::api::{MeshNodeConfig, SyncTable, SyncTableConfig, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const KEYS_PER_GROUP: usize = 20;

fn table() -> SyncTable {
    let node = MeshNodeConfig::new().subnet("sync").max_outgoing(0);
    SyncTableConfig::new()
        .node(node)
        .build()
        .expect("a sync node binds a free loopback port")
}

/// Connects `a` to `b` and waits until both list each other as peers.
fn link(a: &SyncTable, b: &SyncTable) {
    common::link_tables(a, b, DEADLINE);
}

/// A line of three nodes; the first writes `KEYS_PER_GROUP` keys named `{prefix}{i}` and
/// `both`, and the test waits until the whole line holds them.
fn group(prefix: &str) -> Vec<SyncTable> {
    let nodes = vec![table(), table(), table()];
    link(&nodes[1], &nodes[0]);
    link(&nodes[2], &nodes[1]);
    for i in 0..KEYS_PER_GROUP {
        nodes[0]
            .set(format!("{prefix}{i}"), format!("{prefix}-value-{i}"))
            .expect("a free key");
    }
    nodes[0].set("both", prefix).expect("a free key");
    for t in &nodes {
        assert!(
            wait_until(DEADLINE, || t.len() == KEYS_PER_GROUP + 1),
            "group {prefix}: node {} holds {} keys",
            t.id(),
            t.len()
        );
    }
    nodes
}

#[test]
fn two_groups_joined_by_one_link_end_with_every_key_everywhere() {
    let left = group("left");
    let right = group("right");
    // The far ends are linked: left[2] – right[2]; left[0] and right[0] are two hops away.
    link(&left[2], &right[2]);
    let everyone: Vec<&SyncTable> = left.iter().chain(right.iter()).collect();
    for t in &everyone {
        assert!(
            wait_until(DEADLINE, || t.len() == 2 * KEYS_PER_GROUP + 1),
            "node {} holds {} of {} keys",
            t.id(),
            t.len(),
            2 * KEYS_PER_GROUP + 1
        );
    }
    // Same values, owners and times as where they were written.
    for (writer, prefix) in [(&left[0], "left"), (&right[0], "right")] {
        for i in 0..KEYS_PER_GROUP {
            let key = format!("{prefix}{i}");
            for t in &everyone {
                assert_eq!(
                    t.get(&key),
                    Some(Value::from(format!("{prefix}-value-{i}")))
                );
                assert_eq!(
                    t.metadata(&key),
                    writer.metadata(&key),
                    "{key} on {}",
                    t.id()
                );
            }
        }
    }
    // Only the nodes the entries crossed to passed them on: the ends of the link and the
    // middle nodes, never the far ends (their neighbours held everything already).
    for (t, passes) in [
        (&left[2], true),
        (&left[1], true),
        (&left[0], false),
        (&right[2], true),
        (&right[1], true),
        (&right[0], false),
    ] {
        let passed = t.sync_stats().dump_entries_passed_on;
        assert_eq!(passed > 0, passes, "node {} passed on {passed}", t.id());
    }
}

#[test]
fn a_key_written_in_both_groups_keeps_each_groups_value() {
    let left = group("left");
    let right = group("right");
    link(&left[2], &right[2]);
    for t in left.iter().chain(right.iter()) {
        assert!(wait_until(DEADLINE, || t.len() == 2 * KEYS_PER_GROUP + 1));
    }
    for t in &left {
        assert_eq!(t.get("both"), Some(Value::from("left")));
    }
    for t in &right {
        assert_eq!(t.get("both"), Some(Value::from("right")));
    }
}
