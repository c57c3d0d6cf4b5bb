//! Dump entries passed on: keys cross a healed partition through a single new link and stop
//! where they are held; a fresh node joining several holders at once passes nothing on; a
//! node that ignores an entry does not pass it on.

use super::harness::{config, node_id, Net, T0};
use crate::proto::mesh::Mesh;
use crate::proto::sync::{LocalWrite, SyncHandler, SyncShared, PASS_ON_DELAY_MS};
use crate::wire::Value;
use std::sync::Arc;

/// `n` sync nodes that dial only whom they are told to (no dials from peer lists).
fn sync_net(n: usize) -> Net<SyncHandler> {
    let nodes = (0..n)
        .map(|i| {
            let mut cfg = config(i);
            cfg.max_outgoing = 0;
            let shared = Arc::new(SyncShared::new(true, 1024));
            Mesh::with_handler(cfg, SyncHandler::new(shared), T0)
        })
        .collect();
    Net::with_nodes(nodes)
}

fn shared(net: &Net<SyncHandler>, i: usize) -> Arc<SyncShared> {
    net.nodes[i].handler().shared().clone()
}

fn set(net: &mut Net<SyncHandler>, i: usize, key: &str) {
    let table = shared(net, i);
    let me = node_id(i).into_bytes();
    let now = net.now;
    let node = &mut net.nodes[i];
    let write = LocalWrite::Store {
        key: key.as_bytes().to_vec(),
        value: Value::from(format!("by {i}")),
    };
    table
        .write_local(&me, write, now, |sub_flag, packets| {
            node.broadcast(sub_flag, packets, now);
            Ok::<(), ()>(())
        })
        .expect("a free key");
    net.run();
}

fn holds(net: &Net<SyncHandler>, i: usize, key: &str, writer: usize) -> bool {
    let table = shared(net, i);
    let table = table.read();
    table.get(key.as_bytes()).map(|e| &e.value) == Some(&Value::from(format!("by {writer}")))
}

/// Ticks every node once a second, `seconds` times.
fn tick_for(net: &mut Net<SyncHandler>, seconds: u64) {
    for _ in 0..seconds {
        let next = net.now + 1000;
        net.tick_to(next);
    }
}

fn passed_on(net: &Net<SyncHandler>) -> u64 {
    (0..net.nodes.len())
        .map(|i| shared(net, i).stats().dump_entries_passed_on)
        .sum()
}

#[test]
fn keys_cross_two_lines_joined_by_one_link_and_reach_their_far_ends() {
    // 0 – 1 – 2 hold "left"; 3 – 4 – 5 hold "right"; then one link 2 – 3.
    let mut net = sync_net(6);
    net.line(&[(0, 1), (1, 2), (3, 4), (4, 5)]);
    set(&mut net, 0, "left");
    set(&mut net, 5, "right");
    net.now += 120_000; // Far past the broadcast age limit: only dumps can carry them now.
    net.line(&[(2, 3)]);
    assert!(holds(&net, 2, "right", 5) && holds(&net, 3, "left", 0));
    assert!(
        !holds(&net, 0, "right", 5),
        "nothing is passed on before a tick"
    );
    tick_for(&mut net, 3); // One hop per tick at most: two more hops each way.
    for i in 0..6 {
        assert!(holds(&net, i, "left", 0), "node {i} lacks the left key");
        assert!(holds(&net, i, "right", 5), "node {i} lacks the right key");
    }
    // Each key was passed on once per hop beyond the link's ends, and then stopped.
    assert_eq!(passed_on(&net), 4);
    tick_for(&mut net, 3);
    assert_eq!(passed_on(&net), 4, "entries already held are not passed on");
}

#[test]
fn an_entry_waits_for_the_delay_before_it_leaves() {
    let mut net = sync_net(3);
    net.line(&[(0, 1)]);
    set(&mut net, 2, "k");
    net.line(&[(1, 2)]); // Node 1 takes "k" from node 2's dump at `now`.
    let taken = net.now;
    net.tick_to(taken + PASS_ON_DELAY_MS - 1);
    assert!(!holds(&net, 0, "k", 2));
    net.tick_to(taken + PASS_ON_DELAY_MS);
    assert!(holds(&net, 0, "k", 2));
}

#[test]
fn a_fresh_node_joining_holders_at_once_passes_nothing_on() {
    // 0 – 1 hold both keys; node 2, empty, links to both before any tick.
    let mut net = sync_net(3);
    net.line(&[(0, 1)]);
    set(&mut net, 0, "a");
    set(&mut net, 1, "b");
    net.connect(2, 0);
    net.connect(2, 1);
    net.run();
    tick_for(&mut net, 3);
    assert!(holds(&net, 2, "a", 0) && holds(&net, 2, "b", 1));
    assert_eq!(
        passed_on(&net),
        0,
        "each neighbour's own dump listed the keys"
    );
    assert_eq!(shared(&net, 2).stats().pass_on_skipped, 2);
}

#[test]
fn a_node_holding_a_value_ignores_the_entry_and_does_not_pass_it_on() {
    // 0 – 1 – 2, all holding "k" (node 2 its own value, written before it joined); node 3
    // brings another "k" to node 2, which keeps its own and passes nothing on.
    let mut net = sync_net(4);
    set(&mut net, 3, "k");
    set(&mut net, 0, "k");
    net.line(&[(0, 1), (1, 2)]);
    net.line(&[(3, 2)]);
    tick_for(&mut net, 3);
    assert!(holds(&net, 2, "k", 0) && holds(&net, 1, "k", 0) && holds(&net, 0, "k", 0));
    assert!(holds(&net, 3, "k", 3), "each keeps its own value");
    assert_eq!(passed_on(&net), 0);
}
