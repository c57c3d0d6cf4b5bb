//! Real-socket tests of the sync table on 127.0.0.1: writes reaching two and three nodes with
//! the same value and metadata, a leased key refused locally and never sent, deletes and
//! deltas crossing, a late joiner receiving the table through the handshake, change events.

mod common;
use common::wait_until;

use rs2p::api::{Error, SyncEvent, SyncRefusal, SyncTable, SyncTableConfig, Value};
use std::sync::mpsc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

fn table() -> SyncTable {
    SyncTableConfig::new()
        .build()
        .expect("a sync node binds a free loopback port")
}

fn table_without_leasing() -> SyncTable {
    SyncTableConfig::new()
        .leasing(false)
        .build()
        .expect("a sync node binds a free loopback port")
}

/// Connects `a` to `b` and waits until both list each other as peers.
fn link(a: &SyncTable, b: &SyncTable) {
    common::link_tables(a, b, DEADLINE);
}

fn wait_for_value(t: &SyncTable, key: &str, value: &Value) {
    assert!(
        wait_until(DEADLINE, || t.get(key).as_ref() == Some(value)),
        "node {} never got {key} = {value:?} (has {:?})",
        t.id(),
        t.get(key)
    );
}

#[test]
fn the_default_table_speaks_the_sync1_protocol() {
    let t = table();
    let expected = rs2p::wire::ids::protocol_id("sync1", "Plaintext");
    assert_eq!(t.protocol_id(), expected);
    let off = table_without_leasing();
    assert_eq!(
        off.protocol_id(),
        rs2p::wire::ids::protocol_id("sync0", "Plaintext")
    );
}

#[test]
fn a_set_reaches_two_other_nodes_with_the_same_value_and_metadata() {
    let (a, b, c) = (table(), table(), table());
    link(&a, &b);
    link(&c, &b);
    a.set("greeting", "hello").expect("a free key");
    let (owner, time) = a.metadata("greeting").expect("stored locally at once");
    assert_eq!(owner, a.id());
    for t in [&b, &c] {
        wait_for_value(t, "greeting", &Value::from("hello"));
        assert_eq!(t.metadata(b"greeting"), Some((owner.clone(), time)));
    }
    c.set(b"bytes".as_slice(), vec![1u8, 2, 3])
        .expect("a free key");
    // b's peer list may have linked a and c directly, so a can hold the key before b does.
    for t in [&a, &b] {
        wait_for_value(t, "bytes", &Value::Bin(vec![1, 2, 3]));
    }
    assert_eq!(a.len(), 2);
    assert_eq!(b.snapshot(), c.snapshot());
}

#[test]
fn a_leased_key_is_refused_locally_with_an_error_and_not_sent() {
    // A write in the same second as the held one wins when its writer's ID sorts lower (the
    // reference's tie rule), so the owner here is the node whose ID sorts lower.
    let (first, second) = (table(), table());
    let (a, b) = if first.id().as_bytes() < second.id().as_bytes() {
        (first, second)
    } else {
        (second, first)
    };
    link(&a, &b);
    a.set("k", "from a").expect("a free key");
    wait_for_value(&b, "k", &Value::from("from a"));
    match b.set("k", "from b") {
        Err(Error::Leased { key, owner, .. }) => {
            assert_eq!(key, "k");
            assert_eq!(owner, a.id());
        }
        other => panic!("expected Error::Leased, got {other:?}"),
    }
    assert!(matches!(b.delete("k"), Err(Error::Leased { .. })));
    assert_eq!(b.get("k"), Some(Value::from("from a")));
    // Frames on one link arrive in order: once b's next write is at a, a refused write sent
    // before it would have been counted.
    b.set("marker", 1u64).expect("a free key");
    wait_for_value(&a, "marker", &Value::from(1u64));
    assert_eq!(
        a.sync_stats().refused(SyncRefusal::Leased),
        0,
        "nothing was sent"
    );
    assert_eq!(a.get("k"), Some(Value::from("from a")));
}

#[test]
fn deletes_and_deltas_cross() {
    let (a, b) = (table_without_leasing(), table_without_leasing());
    link(&a, &b);
    let merged = a
        .apply_delta("m", [("x", 1u64)])
        .expect("delta onto an absent key");
    assert_eq!(
        merged,
        Value::Map(vec![(Value::from("x"), Value::from(1u64))])
    );
    wait_for_value(&b, "m", &merged);
    let merged = b.apply_delta("m", [("y", 2u64)]).expect("no leasing");
    let expected = Value::Map(vec![
        (Value::from("x"), Value::from(1u64)),
        (Value::from("y"), Value::from(2u64)),
    ]);
    assert_eq!(merged, expected);
    wait_for_value(&a, "m", &expected);
    assert_eq!(
        a.metadata("m").map(|m| m.0),
        Some(b.id().to_owned()),
        "ownership moved"
    );

    // The owner deletes (a plain write by a non-owner in the same second could lose).
    assert!(b.delete("m").expect("the owner may delete"));
    assert!(
        wait_until(DEADLINE, || !a.contains_key("m")),
        "the delete crossed"
    );
    assert_eq!(a.metadata("m"), None);
    assert!(
        !a.delete("m").expect("no-op"),
        "deleting a missing key is a no-op"
    );

    a.set("text", "not a map").expect("free");
    assert!(matches!(
        a.apply_delta("text", [("x", 1u64)]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_late_joiner_receives_the_table_through_the_handshake() {
    let (a, b) = (table(), table());
    link(&a, &b);
    for i in 0..50u64 {
        a.set(format!("a{i}"), i).expect("free");
        b.set(format!("b{i}"), i).expect("free");
    }
    assert!(wait_until(DEADLINE, || a.len() == 100 && b.len() == 100));
    let late = table();
    link(&late, &b);
    assert!(
        wait_until(DEADLINE, || late.len() == 100),
        "late joiner has {} of 100 keys",
        late.len()
    );
    let mut expected = a.entries();
    let mut got = late.entries();
    expected.sort_by(|x, y| x.key.cmp(&y.key));
    got.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(got, expected, "same values, owners and times");
}

#[test]
fn changes_are_reported_in_order_with_their_metadata() {
    let (a, b) = (table(), table());
    let (tx, rx) = mpsc::channel();
    b.on_sync_event(move |_, event| {
        let _ = tx.send(event.clone());
    });
    link(&a, &b);
    a.set("k", "v").expect("free");
    a.delete("k").expect("owner");
    let (owner, time) = (a.id().to_owned(), {
        let first = rx.recv_timeout(DEADLINE).expect("an update event");
        match first {
            SyncEvent::Update {
                key,
                value,
                owner,
                time,
            } => {
                assert_eq!((key.as_slice(), value), (b"k".as_slice(), Value::from("v")));
                assert_eq!(owner, a.id());
                time
            }
            other => panic!("expected an update, got {other:?}"),
        }
    });
    assert!(time > 0 && !owner.is_empty());
    assert_eq!(
        rx.recv_timeout(DEADLINE).expect("a delete event"),
        SyncEvent::Delete { key: b"k".to_vec() }
    );
}

#[test]
fn user_messages_still_flow_on_a_sync_node() {
    let (a, b) = (table(), table());
    link(&a, &b);
    a.send(["hi"]).expect("send");
    let got = b.recv(DEADLINE).expect("a message");
    assert_eq!(got.packets, vec![Value::from("hi")]);
}
