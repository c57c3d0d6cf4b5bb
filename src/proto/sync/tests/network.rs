//! Whole sync nodes on the mesh core's in-memory network: writes crossing, refusals, the
//! handshake dump, the five-item form, events and counters.

use super::harness::{config, node_id, Net, T0};
use crate::proto::mesh::Mesh;
use crate::proto::sync::{
    protocol_subnet, Change, LocalError, LocalOutcome, LocalWrite, Meta, Refusal, SyncHandler,
    SyncShared,
};
use crate::wire::{flags, Value};
use std::sync::Arc;

const T0_S: i64 = (T0 / 1000) as i64;

fn sync_net(n: usize, leasing: bool) -> Net<SyncHandler> {
    let nodes = (0..n)
        .map(|i| {
            let shared = Arc::new(SyncShared::new(leasing, 1024));
            shared.record_changes();
            Mesh::with_handler(config(i), SyncHandler::new(shared), T0)
        })
        .collect();
    Net::with_nodes(nodes)
}

fn shared(net: &Net<SyncHandler>, i: usize) -> Arc<SyncShared> {
    net.nodes[i].handler().shared().clone()
}

/// A local write at node `i`, sent through its mesh, then the network runs.
fn write(
    net: &mut Net<SyncHandler>,
    i: usize,
    write: LocalWrite,
) -> Result<LocalOutcome, LocalError<()>> {
    let table = shared(net, i);
    let me = node_id(i).into_bytes();
    let now = net.now;
    let node = &mut net.nodes[i];
    let outcome = table.write_local(&me, write, now, |sub_flag, packets| {
        node.broadcast(sub_flag, packets, now);
        Ok(())
    });
    net.run();
    outcome
}

fn set(net: &mut Net<SyncHandler>, i: usize, key: &str, value: Value) -> Result<(), Meta> {
    let store = LocalWrite::Store {
        key: key.as_bytes().to_vec(),
        value,
    };
    match write(net, i, store) {
        Ok(_) => Ok(()),
        Err(LocalError::Leased(holder)) => Err(holder),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn delta(net: &mut Net<SyncHandler>, i: usize, key: &str, fields: Vec<(Value, Value)>) {
    let delta = LocalWrite::Delta {
        key: key.as_bytes().to_vec(),
        fields,
    };
    write(net, i, delta).expect("delta accepted");
}

fn entry(net: &Net<SyncHandler>, i: usize, key: &str) -> Option<(Value, Meta)> {
    let table = shared(net, i);
    let table = table.read();
    table
        .get(key.as_bytes())
        .map(|e| (e.value.clone(), e.meta.clone()))
}

fn changes(net: &Net<SyncHandler>, i: usize) -> Vec<Change> {
    let mut out = Vec::new();
    shared(net, i).take_changes(&mut out);
    out
}

/// A line 0 – 1 – 2 of handshaken sync nodes.
fn line3(leasing: bool) -> Net<SyncHandler> {
    let mut net = sync_net(3, leasing);
    net.line(&[(0, 1), (1, 2)]);
    net
}

#[test]
fn the_subnet_suffix_says_whether_leasing_is_on() {
    assert_eq!(protocol_subnet("sync", true), "sync1");
    assert_eq!(protocol_subnet("sync", false), "sync0");
}

#[test]
fn a_set_reaches_every_node_with_the_same_value_and_metadata() {
    let mut net = line3(true);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    let expected = Some((Value::from("v"), Meta::new(node_id(0), T0_S)));
    for i in 0..3 {
        assert_eq!(entry(&net, i, "k"), expected, "node {i}");
        assert_eq!(
            changes(&net, i),
            vec![Change::Update {
                key: b"k".to_vec(),
                value: Value::from("v"),
                meta: Meta::new(node_id(0), T0_S)
            }]
        );
    }
    assert_eq!(shared(&net, 2).stats().accepted, 1);
}

#[test]
fn a_leased_key_is_refused_locally_and_nothing_is_sent() {
    let mut net = line3(true);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    let frames_before = net.sent.len();
    net.now += 5_000;
    let refused = set(&mut net, 1, "k", Value::from("mine"));
    assert_eq!(refused, Err(Meta::new(node_id(0), T0_S)));
    assert_eq!(net.sent.len(), frames_before, "no frame left node 1");
    assert_eq!(entry(&net, 1, "k").map(|e| e.0), Some(Value::from("v")));
    // The owner itself may write again.
    set(&mut net, 0, "k", Value::from("v2")).expect("owner");
    assert_eq!(entry(&net, 2, "k").map(|e| e.0), Some(Value::from("v2")));
}

#[test]
fn a_remote_write_that_fails_the_lease_is_dropped_and_counted_but_still_relayed() {
    let mut net = line3(true);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    // Node 2 ("node3") writes without the local check, one second later: every other node
    // refuses it by its own rule (another owner, newer time, leasing on).
    net.now += 1_000;
    net.nodes[2].broadcast(
        flags::sub::STORE,
        vec![Value::from("k"), Value::from("x")],
        net.now,
    );
    net.run();
    for i in 0..2 {
        assert_eq!(entry(&net, i, "k").map(|e| e.0), Some(Value::from("v")));
        assert_eq!(
            shared(&net, i).stats().refused(Refusal::Leased),
            1,
            "node {i}"
        );
    }
    assert!(net.closes.is_empty(), "the links are kept");
}

#[test]
fn without_leasing_the_newer_write_wins_and_deltas_always_pass() {
    let mut net = line3(false);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    net.now += 1_000;
    set(&mut net, 2, "k", Value::from("w")).expect("newer wins");
    for i in 0..3 {
        assert_eq!(
            entry(&net, i, "k"),
            Some((Value::from("w"), Meta::new(node_id(2), T0_S + 1)))
        );
    }
}

#[test]
fn a_lapsed_lease_lets_anyone_write() {
    let mut net = line3(true);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    net.now += 3_601_000;
    set(&mut net, 1, "k", Value::from("taken")).expect("lapsed");
    for i in 0..3 {
        assert_eq!(
            entry(&net, i, "k").map(|e| e.1.owner),
            Some(node_id(1).into_bytes())
        );
    }
}

#[test]
fn a_delete_crosses_and_frees_the_key() {
    let mut net = line3(true);
    set(&mut net, 0, "k", Value::from("v")).expect("free key");
    changes(&net, 2);
    net.now += 1_000;
    let deleted = write(
        &mut net,
        0,
        LocalWrite::Store {
            key: b"k".to_vec(),
            value: Value::Nil,
        },
    );
    assert_eq!(
        deleted,
        Ok(LocalOutcome::Applied(Change::Delete { key: b"k".to_vec() }))
    );
    for i in 0..3 {
        assert_eq!(entry(&net, i, "k"), None, "node {i}");
    }
    assert_eq!(
        changes(&net, 2),
        vec![Change::Delete { key: b"k".to_vec() }]
    );
    set(&mut net, 1, "k", Value::from("free")).expect("metadata went with the value");
}

#[test]
fn deleting_a_missing_key_sends_nothing_locally_and_is_a_no_op_remotely() {
    let mut net = line3(true);
    let frames_before = net.sent.len();
    let missing = write(
        &mut net,
        0,
        LocalWrite::Store {
            key: b"nope".to_vec(),
            value: Value::Nil,
        },
    );
    assert_eq!(missing, Ok(LocalOutcome::Missing));
    assert_eq!(net.sent.len(), frames_before);
    // A remote delete of a key nobody holds: counted, the links stay up.
    net.nodes[0].broadcast(
        flags::sub::STORE,
        vec![Value::from("nope"), Value::Nil],
        net.now,
    );
    net.run();
    for i in 1..3 {
        assert_eq!(shared(&net, i).stats().refused(Refusal::MissingKey), 1);
    }
    assert!(net.closes.is_empty(), "the links are kept");
}

#[test]
fn a_delta_crosses_merges_and_moves_ownership() {
    let mut net = line3(false);
    let x = |v: i64| vec![(Value::from("x"), Value::from(v))];
    delta(&mut net, 0, "m", x(1));
    net.now += 1_000;
    delta(
        &mut net,
        2,
        "m",
        vec![(Value::from("y"), Value::from(2i64))],
    );
    let merged = Value::Map(vec![
        (Value::from("x"), Value::from(1i64)),
        (Value::from("y"), Value::from(2i64)),
    ]);
    for i in 0..3 {
        assert_eq!(
            entry(&net, i, "m"),
            Some((merged.clone(), Meta::new(node_id(2), T0_S + 1))),
            "node {i}"
        );
        let last = changes(&net, i).pop();
        assert_eq!(
            last,
            Some(Change::Update {
                key: b"m".to_vec(),
                value: merged.clone(),
                meta: Meta::new(node_id(2), T0_S + 1)
            }),
            "the event carries the merged map"
        );
    }
}

#[test]
fn a_non_owner_delta_is_refused_locally_with_leasing() {
    let mut net = line3(true);
    delta(
        &mut net,
        0,
        "m",
        vec![(Value::from("x"), Value::from(1i64))],
    );
    let refused = write(
        &mut net,
        1,
        LocalWrite::Delta {
            key: b"m".to_vec(),
            fields: vec![],
        },
    );
    assert_eq!(
        refused,
        Err(LocalError::Leased(Meta::new(node_id(0), T0_S)))
    );
}

#[test]
fn a_delta_onto_a_non_map_is_refused_locally_and_ignored_remotely() {
    let mut net = line3(false);
    set(&mut net, 0, "k", Value::from("text")).expect("free");
    let local = write(
        &mut net,
        0,
        LocalWrite::Delta {
            key: b"k".to_vec(),
            fields: vec![],
        },
    );
    assert_eq!(local, Err(LocalError::NotAMap));
    let map = Value::Map(vec![(Value::from("x"), Value::from(1i64))]);
    net.nodes[1].broadcast(flags::sub::DELTA, vec![Value::from("k"), map], net.now);
    net.run();
    for i in [0, 2] {
        assert_eq!(entry(&net, i, "k").map(|e| e.0), Some(Value::from("text")));
        assert_eq!(shared(&net, i).stats().refused(Refusal::NotAMap), 1);
    }
    assert!(net.closes.is_empty(), "no link is cut");
}

#[test]
fn a_late_joiner_receives_the_table_with_original_owners_and_times() {
    let mut net = sync_net(3, true);
    net.line(&[(0, 1)]);
    set(&mut net, 0, "a", Value::from("1")).expect("free");
    net.now += 2_000;
    set(&mut net, 1, "b", Value::from("2")).expect("free");
    net.now += 120_000; // Far past the broadcast age limit: only the dump can bring them.
    net.connect(2, 1);
    net.run();
    assert_eq!(
        entry(&net, 2, "a"),
        Some((Value::from("1"), Meta::new(node_id(0), T0_S)))
    );
    assert_eq!(
        entry(&net, 2, "b"),
        Some((Value::from("2"), Meta::new(node_id(1), T0_S + 2)))
    );
    assert!(shared(&net, 1).stats().dump_entries_sent >= 2);
}

#[test]
fn a_joiner_holding_a_truthy_value_keeps_it_and_a_falsy_one_is_replaced() {
    let mut net = sync_net(3, true);
    net.line(&[(0, 1)]);
    set(&mut net, 0, "t", Value::from("theirs")).expect("free");
    set(&mut net, 0, "f", Value::from("theirs")).expect("free");
    // Node 2 ("node3") holds both keys before joining, written in the same second.
    set(&mut net, 2, "t", Value::from("mine")).expect("alone");
    set(&mut net, 2, "f", Value::UInt(0)).expect("alone");
    net.connect(2, 1);
    net.run();
    assert_eq!(entry(&net, 2, "t").map(|e| e.0), Some(Value::from("mine")));
    assert_eq!(
        entry(&net, 2, "f"),
        Some((Value::from("theirs"), Meta::new(node_id(0), T0_S))),
        "falsy value, same second, smaller owner: replaced"
    );
    assert!(shared(&net, 2).stats().refused(Refusal::HoldingValue) >= 1);
}

#[test]
fn five_items_are_a_dump_entry_whatever_the_main_flag() {
    let mut net = line3(true);
    let owner = Value::Bin(b"someone".to_vec());
    let packets = vec![
        Value::from("k"),
        Value::from("v"),
        owner,
        Value::from(T0_S - 7),
    ];
    net.nodes[0].broadcast(flags::sub::STORE, packets, net.now);
    net.run();
    for i in 1..3 {
        assert_eq!(
            entry(&net, i, "k"),
            Some((Value::from("v"), Meta::new("someone", T0_S - 7))),
            "node {i} took the owner and time from the items"
        );
    }
}

#[test]
fn str_keys_and_owners_are_taken_as_bytes() {
    let mut net = line3(true);
    let packets = vec![
        Value::Bin(b"k".to_vec()),
        Value::from("v"),
        Value::from("strowner"),
        Value::from(T0_S),
    ];
    net.nodes[0].broadcast(flags::sub::STORE, packets, net.now);
    net.run();
    assert_eq!(
        entry(&net, 1, "k").map(|e| e.1),
        Some(Meta::new("strowner", T0_S))
    );
}

#[test]
fn malformed_stores_and_deltas_are_counted_and_the_link_kept() {
    let mut net = line3(true);
    let bad = [
        (flags::sub::STORE, vec![Value::from("k")]),
        (flags::sub::STORE, vec![Value::UInt(5), Value::from("v")]),
        (
            flags::sub::STORE,
            vec![
                Value::from("k"),
                Value::from("v"),
                Value::UInt(1),
                Value::from(1i64),
            ],
        ),
        (
            flags::sub::DELTA,
            vec![Value::from("k"), Value::from("not a map")],
        ),
    ];
    let n = bad.len() as u64;
    for (sub_flag, packets) in bad {
        net.nodes[0].broadcast(sub_flag, packets, net.now);
    }
    net.run();
    assert_eq!(shared(&net, 1).stats().refused(Refusal::Malformed), n);
    assert!(net.closes.is_empty());
    assert!(
        net.messages(1).is_empty(),
        "sync frames never reach the user"
    );
}

#[test]
fn user_messages_still_reach_the_user_on_a_sync_node() {
    let mut net = line3(true);
    net.nodes[0].broadcast(flags::sub::BROADCAST, vec![Value::from("hi")], net.now);
    net.run();
    assert_eq!(net.messages(2).len(), 1);
}
