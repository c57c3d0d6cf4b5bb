//! Real-socket tests of the chord table on 127.0.0.1 through the safe Rust API: set / get /
//! delete / delta on one node and across a network, a missing key answered quickly, many
//! reads in flight from several threads, key events, reads after close, and the churn case
//! of the issue (8 storing nodes, 2,000 keys, one storing node killed without unjoining:
//! every key still reads correctly).

mod common;
use common::wait_until;

use rs2p::api::{ChordTable, ChordTableConfig, Error, KeyChange, Value};
use rs2p::proto::chord::ring::RingPos;
use std::sync::mpsc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn node() -> ChordTable {
    ChordTableConfig::new()
        .build()
        .expect("a chord node binds a free loopback port")
}

fn joined_node() -> ChordTable {
    let n = node();
    n.join().expect("join");
    n
}

/// Starts `n` storing nodes, each dialling the first, and waits for their ring (see
/// [`wait_for_ring`]).
fn network(n: usize) -> Vec<ChordTable> {
    let nodes: Vec<ChordTable> = (0..n).map(|_| joined_node()).collect();
    for other in &nodes[1..] {
        other
            .connect("127.0.0.1", nodes[0].local_port())
            .expect("dial the first node");
    }
    wait_for_ring(&nodes);
    nodes
}

/// Waits until every node of `nodes` links to its predecessor and its two successors among
/// them (the links a storing node keeps, `routing::RING_SUCCESSORS`) and knows that all its
/// links store, so that writes route to where reads will look: a node not yet linked to its
/// successor takes itself for responsible for the successor's range and answers reads of
/// it with nil. A network small enough for every node to dial all the
/// others from peer lists (`max_outgoing` 4) ends fully meshed, and the wait is for that
/// end: a link still forming after it would change the route of a later read, which could
/// then overtake a delete sent just before it on the old, longer route.
fn wait_for_ring(nodes: &[ChordTable]) {
    let n = nodes.len();
    let full_mesh = n <= ChordTableConfig::new().node.max_outgoing + 1;
    let mut ring: Vec<(RingPos, String)> = nodes
        .iter()
        .map(|t| {
            (
                RingPos::of_node(t.id().as_bytes()).expect("a node ID"),
                t.id().to_string(),
            )
        })
        .collect();
    ring.sort();
    for (i, (_, id)) in ring.iter().enumerate() {
        let t = nodes
            .iter()
            .find(|t| t.id() == id)
            .expect("a node of the ring");
        let pred = &ring[(i + n - 1) % n].1;
        let succ = &ring[(i + 1) % n].1;
        let succ2 = &ring[(i + 2) % n].1;
        let settled = || {
            let peers = t.peers();
            let linked = |want: &str| want == id || peers.iter().any(|p| p.id == want);
            linked(pred)
                && linked(succ)
                && linked(succ2)
                && (!full_mesh || peers.len() == n - 1)
                && t.chord_stats().storing_peers == peers.len()
        };
        let also_wanted = if full_mesh {
            " and every other node"
        } else {
            ""
        };
        assert!(
            wait_until(DEADLINE, settled),
            "node {id} did not link to its ring neighbours {pred}, {succ} and {succ2}{}, \
             every link storing (links: {:?})",
            also_wanted,
            t.peers().iter().map(|p| p.id.clone()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_default_table_speaks_the_chord_protocol() {
    let t = node();
    let expected = rs2p::wire::ids::protocol_id("chord", "Plaintext");
    assert_eq!(t.protocol_id(), expected);
    assert!(!t.is_joined());
    t.join().expect("join");
    assert!(t.is_joined());
}

#[test]
fn one_node_sets_reads_deletes_and_merges() {
    let t = joined_node();
    t.set("greeting", "hello").expect("set");
    assert_eq!(t.get("greeting").expect("read"), Some(Value::from("hello")));
    assert_eq!(t.keys(), vec![b"greeting".to_vec()]);

    assert_eq!(t.get("never written").expect("read of a missing key"), None);

    t.apply_delta("map", [("a", 1)]).expect("delta");
    t.apply_delta("map", [("b", 2)]).expect("delta");
    let merged = t.get("map").expect("read").expect("a map");
    let pairs = merged.as_map().expect("a map value");
    assert_eq!(pairs.len(), 2, "{merged:?}");

    assert!(t.delete("greeting").expect("delete"));
    assert_eq!(t.get("greeting").expect("read"), None);
    assert!(
        !t.delete("greeting").expect("second delete"),
        "already gone"
    );
    assert!(!t.contains_key("greeting"));
}

#[test]
fn keys_written_anywhere_read_everywhere_and_events_announce_them() {
    let nodes = network(4);
    let (tx, rx) = mpsc::channel();
    nodes[3].on_chord_event(move |_, change| {
        let _ = tx.send(change.clone());
    });
    for (i, t) in nodes.iter().enumerate() {
        t.set(format!("key{i}"), i as u64).expect("set");
        assert_eq!(
            t.get(format!("key{i}")).expect("read"),
            Some(Value::from(i as u64))
        );
    }
    for t in &nodes {
        for i in 0..nodes.len() {
            assert_eq!(
                t.get(format!("key{i}")).expect("read"),
                Some(Value::from(i as u64)),
                "node {} reading key{i}",
                t.id()
            );
        }
    }
    let mut added = Vec::new();
    while added.len() < 3 {
        match rx.recv_timeout(DEADLINE) {
            Ok(KeyChange::Added(key)) => added.push(key),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => panic!("only {added:?} announced: {e}"),
        }
    }
    added.sort();
    assert_eq!(
        added,
        vec![b"key0".to_vec(), b"key1".to_vec(), b"key2".to_vec()]
    );
    assert!(
        wait_until(DEADLINE, || nodes[0].len() == 4),
        "node 0 knows {:?}",
        nodes[0].keys()
    );

    // A node reads its own writes: its stores reach each position before its reads do.
    // The others read once the deleting node has seen the delete everywhere (reading
    // earlier races the delete, and may even repair the old value back).
    assert!(nodes[1].delete("key0").expect("delete"));
    assert_eq!(nodes[1].get("key0").expect("read"), None);
    for t in &nodes {
        assert_eq!(t.get("key0").expect("read"), None, "node {}", t.id());
    }
}

#[test]
fn many_reads_in_flight_from_several_threads_all_answer() {
    let nodes = network(3);
    for k in 0..200u64 {
        nodes[0].set(format!("k{k}"), k).expect("set");
    }
    // The writer reads its own writes first; after that every position a reader asks holds
    // the value (reads that race a write from another node may end before it arrives).
    let own: Vec<_> = (0..200u64)
        .map(|k| {
            nodes[0]
                .get_async(format!("k{k}"), DEADLINE)
                .expect("start a read")
        })
        .collect();
    for (k, read) in own.into_iter().enumerate() {
        assert_eq!(read.wait().expect("read"), Some(Value::from(k as u64)));
    }
    std::thread::scope(|scope| {
        for t in &nodes {
            scope.spawn(move || {
                let pending: Vec<_> = (0..200u64)
                    .map(|k| {
                        t.get_async(format!("k{k}"), DEADLINE)
                            .expect("start a read")
                    })
                    .collect();
                for (k, read) in pending.into_iter().enumerate() {
                    assert_eq!(read.wait().expect("read"), Some(Value::from(k as u64)));
                }
            });
        }
    });
}

#[test]
fn a_closed_node_refuses_commands() {
    let t = joined_node();
    t.close();
    assert!(matches!(t.set("k", 1), Err(Error::Closed)));
    assert!(matches!(t.get("k"), Err(Error::Closed)));
}

#[test]
fn every_key_still_reads_after_a_storing_node_dies_without_unjoining() {
    let mut nodes = network(8);
    let keys = 2_000u64;
    for k in 0..keys {
        nodes[(k % 8) as usize]
            .set(format!("churn{k}"), k)
            .expect("set");
    }
    // Each writer reads its own writes back: then every key is stored at a majority of its
    // positions (a node's stores reach each position before its reads do).
    for (i, writer) in nodes.iter().enumerate() {
        let reads: Vec<_> = (0..keys)
            .filter(|k| k % 8 == i as u64)
            .map(|k| {
                (
                    k,
                    writer
                        .get_async(format!("churn{k}"), DEADLINE)
                        .expect("read"),
                )
            })
            .collect();
        for (k, read) in reads {
            assert_eq!(
                read.wait().expect("read before the kill"),
                Some(Value::from(k))
            );
        }
    }
    let victim = nodes.remove(3);
    let victim_id = victim.id().to_string();
    victim.close();
    drop(victim);
    for t in &nodes {
        assert!(
            wait_until(DEADLINE, || t.peers().iter().all(|p| p.id != victim_id)),
            "node {} still lists the dead node",
            t.id()
        );
    }
    // No wait for the ring to close: the dead node's predecessor was already linked to the
    // node after it (its second successor), so it never takes itself for responsible for
    // that node's range, and it answers for the dead node's range from its replicas.
    let mut wrong = Vec::new();
    for (i, reader) in nodes.iter().enumerate() {
        let reads: Vec<_> = (0..keys)
            .filter(|k| k % 7 == i as u64)
            .map(|k| {
                (
                    k,
                    reader
                        .get_async(format!("churn{k}"), DEADLINE)
                        .expect("read"),
                )
            })
            .collect();
        for (k, read) in reads {
            match read.wait() {
                Ok(Some(v)) if v == Value::from(k) => {}
                other => wrong.push((k, format!("{other:?}"))),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {keys} keys read wrong after the kill, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

#[test]
fn nodes_that_connect_before_joining_still_agree() {
    // The reference collapses in this order; ours must not.
    let nodes: Vec<ChordTable> = (0..4).map(|_| node()).collect();
    for other in &nodes[1..] {
        other
            .connect("127.0.0.1", nodes[0].local_port())
            .expect("dial the first node");
    }
    for t in &nodes {
        assert!(
            wait_until(DEADLINE, || !t.peers().is_empty()),
            "node {} got no link",
            t.id()
        );
    }
    for t in &nodes {
        t.join().expect("join");
    }
    // Every node learns that its links store, and the four end fully meshed: waiting only
    // until each node's links (perhaps just the first node) store let writes start while a
    // node still took itself for responsible for a range it was not linked to yet.
    wait_for_ring(&nodes);
    for (i, t) in nodes.iter().enumerate() {
        t.set(format!("late{i}"), i as u64).expect("set");
        assert_eq!(
            t.get(format!("late{i}")).expect("read"),
            Some(Value::from(i as u64))
        );
    }
    for t in &nodes {
        for i in 0..nodes.len() {
            assert_eq!(
                t.get(format!("late{i}")).expect("read"),
                Some(Value::from(i as u64)),
                "node {} reading late{i}",
                t.id()
            );
        }
    }
}

#[test]
fn a_node_that_unjoins_hands_its_entries_on() {
    let nodes = network(4);
    for k in 0..300u64 {
        nodes[(k % 4) as usize]
            .set(format!("u{k}"), k)
            .expect("set");
    }
    for (i, writer) in nodes.iter().enumerate() {
        for k in (0..300u64).filter(|k| k % 4 == i as u64) {
            assert_eq!(
                writer.get(format!("u{k}")).expect("read"),
                Some(Value::from(k))
            );
        }
    }
    let leaver = &nodes[2];
    let held_before = leaver.chord_stats().stored;
    assert!(
        held_before > 0,
        "the leaving node held nothing: the test proves nothing"
    );
    leaver.unjoin().expect("unjoin");
    assert!(!leaver.is_joined());
    assert!(
        wait_until(DEADLINE, || leaver.chord_stats().stored == 0),
        "the leaving node still holds {} entries",
        leaver.chord_stats().stored
    );
    for t in [&nodes[0], &nodes[1], &nodes[3]] {
        assert!(
            wait_until(DEADLINE, || t.chord_stats().storing_peers == 2),
            "node {} still counts the leaver as storing",
            t.id()
        );
    }
    // Reads from every node, the leecher included, still find every key.
    for (i, reader) in nodes.iter().enumerate() {
        let reads: Vec<_> = (0..300u64)
            .filter(|k| k % 4 == i as u64)
            .map(|k| {
                (
                    k,
                    reader.get_async(format!("u{k}"), DEADLINE).expect("read"),
                )
            })
            .collect();
        for (k, read) in reads {
            assert_eq!(
                read.wait().expect("read after unjoin"),
                Some(Value::from(k)),
                "u{k}"
            );
        }
    }
}
