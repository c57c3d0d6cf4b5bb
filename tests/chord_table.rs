//! The chord table over an in-memory network of `Mesh<ChordHandler>` nodes: what a user of
//! the table would notice (reads find what was written, keys are announced, data survives
//! joins, unjoins and a crash).

mod chord_net;

use chord_net::{isolated_config, Net, T0};
use rs2p::proto::chord::ring::key_positions;
use rs2p::proto::chord::{ChordConfig, ChordEvent, GetOutcome};
use rs2p::wire::flags::sub;
use rs2p::wire::Value;

fn bin(s: &str) -> Value {
    Value::Bin(s.as_bytes().to_vec())
}

fn found(s: &str) -> Option<GetOutcome> {
    Some(GetOutcome::Found(bin(s)))
}

/// `n` nodes, all linked, all storing.
fn storing_net(n: usize) -> Net {
    let mut net = Net::new(n);
    net.join_all();
    net.full_mesh();
    net
}

#[test]
fn states_are_exchanged_in_both_directions() {
    let mut net = Net::new(2);
    net.nodes[0].join(T0);
    net.connect(1, 0); // the leecher dials the storing node
    let id0 = net.nodes[0].mesh().config().node_id.clone().into_bytes();
    let id1 = net.nodes[1].mesh().config().node_id.clone().into_bytes();
    assert!(
        net.nodes[1].chord().peer_states()[&id0].storing,
        "dialler learnt the storing state"
    );
    assert!(!net.nodes[0].chord().peer_states()[&id1].storing);
    let now = net.now;
    net.nodes[1].join(now);
    net.run();
    assert!(
        net.nodes[0].chord().peer_states()[&id1].storing,
        "join is announced"
    );
    net.nodes[1].unjoin(now);
    net.run();
    assert!(
        !net.nodes[0].chord().peer_states()[&id1].storing,
        "unjoin is announced"
    );
}

#[test]
fn the_state_digit_is_accepted_as_str_bin_or_int() {
    let mut net = Net::new(2);
    net.connect(1, 0);
    let id1 = net.nodes[1].mesh().config().node_id.clone().into_bytes();
    for (digit, storing) in [
        (Value::UInt(0), true),
        (Value::UInt(1), false),
        (Value::Bin(b"0".to_vec()), true),
        (Value::Str("1".into()), false),
    ] {
        net.inject(0, 1, &[Value::UInt(sub::HANDSHAKE.into()), digit]);
        assert_eq!(net.nodes[0].chord().peer_states()[&id1].storing, storing);
    }
}

#[test]
fn writes_are_read_back_by_majority_across_six_storing_nodes() {
    let mut net = storing_net(6);
    for k in 0..20 {
        net.set(
            k % 6,
            format!("key{k}").as_bytes(),
            bin(&format!("value{k}")),
        );
    }
    for k in 0..20 {
        let (_, outcome) = net.get((k + 3) % 6, format!("key{k}").as_bytes());
        assert_eq!(outcome, found(&format!("value{k}")), "key{k}");
    }
    // Many reads in flight at once, each with its own id.
    let now = net.now;
    let ids: Vec<_> = (0..5)
        .map(|k| net.nodes[2].get(format!("key{k}").as_bytes(), now))
        .collect();
    net.run();
    for (k, id) in ids.into_iter().enumerate() {
        assert_eq!(net.outcome(2, id), found(&format!("value{k}")));
    }
}

#[test]
fn a_missing_key_fails_when_the_timeout_passes() {
    let mut net = Net::with_config(
        5,
        ChordConfig {
            get_timeout_ms: 3_000,
            ..ChordConfig::default()
        },
    );
    net.join_all();
    net.full_mesh();
    let (id, outcome) = net.get(0, b"never written");
    assert_eq!(outcome, None, "nil answers are provisional");
    net.tick_to(T0 + 2_000);
    assert_eq!(net.outcome(0, id), None);
    net.tick_to(T0 + 3_000);
    assert_eq!(net.outcome(0, id), Some(GetOutcome::TimedOut));
}

#[test]
fn delete_and_delta() {
    let mut net = storing_net(5);
    net.set(0, b"doc", Value::Map(vec![(bin("a"), Value::UInt(1))]));
    let now = net.now;
    net.nodes[1]
        .apply_delta(
            b"doc",
            Value::Map(vec![(bin("b"), Value::UInt(2)), (bin("a"), Value::UInt(3))]),
            now,
        )
        .expect("a map");
    net.run();
    let (_, outcome) = net.get(2, b"doc");
    assert_eq!(
        outcome,
        Some(GetOutcome::Found(Value::Map(vec![
            (bin("a"), Value::UInt(3)),
            (bin("b"), Value::UInt(2))
        ])))
    );
    // A delta on an absent key starts from {}.
    net.nodes[3]
        .apply_delta(b"fresh", Value::Map(vec![(bin("x"), Value::Nil)]), now)
        .unwrap();
    net.run();
    assert_eq!(
        net.get(4, b"fresh").1,
        Some(GetOutcome::Found(Value::Map(vec![(bin("x"), Value::Nil)])))
    );
    // A delta onto a non-map is ignored and counted; the value stays.
    net.set(0, b"plain", bin("text"));
    net.nodes[1]
        .apply_delta(b"plain", Value::Map(vec![(bin("x"), Value::UInt(1))]), now)
        .unwrap();
    net.run();
    let bad: u64 = net.nodes.iter().map(|n| n.chord().stats().bad_deltas).sum();
    assert!(
        bad >= 3,
        "each of the five entries refused the delta ({bad})"
    );
    assert_eq!(net.get(2, b"plain").1, found("text"));
    // Delete: the key is gone for readers.
    net.nodes[0].delete(b"doc", now).expect("known key");
    net.run();
    let (id, outcome) = net.get(3, b"doc");
    assert_eq!(outcome, None);
    net.tick_to(T0 + 10_000);
    assert_eq!(net.outcome(3, id), Some(GetOutcome::TimedOut));
    // Deleting an empty position is a no-op; deleting an unknown key is refused.
    assert!(net.nodes[0].delete(b"doc", net.now).is_err());
    net.set(0, b"never", Value::Nil);
    assert_eq!(net.storing_count(), 5, "nobody dropped out over it");
}

#[test]
fn the_key_list_follows_notify_add_and_delete() {
    let mut net = storing_net(4);
    net.set(0, b"k", bin("v"));
    for i in 1..4 {
        assert!(
            net.events[i].contains(&ChordEvent::KeyAdded(b"k".to_vec())),
            "node {i}"
        );
        assert!(net.nodes[i].chord().keys().any(|k| k == b"k"));
    }
    let now = net.now;
    net.nodes[2].delete(b"k", now).expect("node 2 heard of k");
    net.run();
    for i in [0, 1, 3] {
        assert!(
            net.events[i].contains(&ChordEvent::KeyDeleted(b"k".to_vec())),
            "node {i}"
        );
    }
    for i in 0..4 {
        assert!(
            !net.nodes[i].chord().keys().any(|k| k == b"k"),
            "node {i} forgot k"
        );
    }
}

#[test]
fn a_new_connection_learns_the_key_list() {
    let mut net = Net::new(2);
    net.nodes[0].join(T0);
    net.run();
    net.set(0, b"early", bin("bird"));
    net.connect(1, 0);
    assert!(net.events[1].contains(&ChordEvent::KeyAdded(b"early".to_vec())));
}

#[test]
fn lookups_are_forwarded_through_a_line_and_answered_back() {
    let n = 6;
    let nodes = (0..n)
        .map(|i| isolated_config(i, ChordConfig::default()))
        .collect();
    let mut net = Net::with_nodes(nodes);
    for i in 1..n {
        net.connect(i, i - 1);
    }
    for i in 1..n {
        let now = net.now;
        net.nodes[i].join(now);
        net.run();
    }
    // Node 0 leeches at the end of the line: everything goes through node 1.
    for k in 0..10 {
        net.set(0, format!("line{k}").as_bytes(), bin(&format!("v{k}")));
    }
    assert_eq!(
        net.nodes[0].chord().stored_len(),
        0,
        "a leecher with storing peers stores nothing"
    );
    for k in 0..10 {
        assert_eq!(
            net.get(0, format!("line{k}").as_bytes()).1,
            found(&format!("v{k}"))
        );
    }
    let forwarded: u64 = (1..n)
        .map(|i| net.nodes[i].chord().stats().retrieves_forwarded)
        .sum();
    assert!(forwarded > 0, "some lookups went further than one hop");
    for i in 0..n {
        assert_eq!(
            net.nodes[i].chord().forwards_in_flight(),
            0,
            "node {i} has nothing left waiting"
        );
    }
}

#[test]
fn a_provisional_nil_is_replaced_by_a_later_answer() {
    let nodes = (0..2)
        .map(|i| isolated_config(i, ChordConfig::default()))
        .collect();
    let mut net = Net::with_nodes(nodes);
    net.connect(0, 1);
    let now = net.now;
    net.nodes[1].join(now);
    net.run();
    // Node 0 asks node 1 (storing) for the five positions; we drop what node 1 would say and
    // answer as a py2p forwarder does: nil at once, the value later.
    let id = net.nodes[0].get(b"k", now);
    while net.nodes[0].poll_output().is_some() {}
    let positions = key_positions(b"k");
    let methods = ["sha1", "sha224", "sha256", "sha384", "sha512"];
    let answer = |i: usize, v: Value| {
        vec![
            Value::UInt(sub::RETRIEVED.into()),
            Value::Str(methods[i].into()),
            positions[i].to_wire(),
            v,
        ]
    };
    for i in 0..5 {
        net.inject(0, 1, &answer(i, Value::Nil));
    }
    assert_eq!(net.outcome(0, id), None, "nil never completes a read");
    for i in 0..3 {
        net.inject(0, 1, &answer(i, bin("late")));
    }
    assert_eq!(net.outcome(0, id), found("late"));
}

#[test]
fn a_joining_node_receives_the_entries_it_is_closer_to() {
    let mut net = Net::new(2);
    net.nodes[0].join(T0);
    net.run();
    for k in 0..60 {
        net.set(0, format!("h{k}").as_bytes(), bin(&format!("{k}")));
    }
    assert_eq!(net.nodes[0].chord().stored_len(), 300);
    net.connect(1, 0);
    let now = net.now;
    net.nodes[1].join(now);
    net.run();
    assert!(net.nodes[0].chord().stats().handed_over > 0);
    assert!(
        net.nodes[1].chord().stored_len() > 0,
        "the newcomer holds its share"
    );
    for k in 0..60 {
        assert_eq!(
            net.get(1, format!("h{k}").as_bytes()).1,
            found(&format!("{k}"))
        );
    }
}

#[test]
fn unjoin_hands_every_entry_to_the_storing_peers() {
    let mut net = storing_net(4);
    for k in 0..50 {
        net.set(0, format!("u{k}").as_bytes(), bin(&format!("{k}")));
    }
    let now = net.now;
    assert!(net.nodes[2].chord().stored_len() > 0);
    net.nodes[2].unjoin(now);
    net.run();
    assert_eq!(net.nodes[2].chord().stored_len(), 0);
    for k in 0..50 {
        assert_eq!(
            net.get(2, format!("u{k}").as_bytes()).1,
            found(&format!("{k}")),
            "u{k}"
        );
    }
}

#[test]
fn a_read_repairs_positions_that_disagree() {
    let mut net = storing_net(5);
    net.set(0, b"r", bin("good"));
    let pos = key_positions(b"r")[1];
    let holder = net
        .responsible(&pos.ring())
        .expect("a storing node holds it");
    let other = (holder + 1) % 5;
    let store_nil = [
        Value::UInt(sub::STORE.into()),
        Value::Bin(b"sha224".to_vec()),
        pos.to_wire(),
        Value::Nil,
    ];
    net.inject(holder, other, &store_nil);
    assert_eq!(net.nodes[holder].chord().stored(1, &pos), None, "damaged");
    assert_eq!(net.get(other, b"r").1, found("good"));
    // A repair waits a tick or two (a delete racing the read could still arrive).
    assert_eq!(net.nodes[holder].chord().stored(1, &pos), None, "not yet");
    let later = net.now + 2_000;
    net.tick_to(later);
    let later = net.now + 2_000;
    net.tick_to(later);
    assert!(net.nodes[other].chord().stats().read_repairs >= 1);
    assert_eq!(
        net.nodes[holder].chord().stored(1, &pos),
        Some(&bin("good")),
        "repaired"
    );
}

#[test]
fn a_read_does_not_repair_a_key_deleted_meanwhile() {
    let mut net = storing_net(5);
    net.set(0, b"gone", bin("old"));
    let pos = key_positions(b"gone")[1];
    let holder = net
        .responsible(&pos.ring())
        .expect("a storing node holds it");
    let reader = (holder + 1) % 5;
    // The reader finds a majority for the old value while one position already has the
    // delete, then the delete's notify arrives before the repair would go out.
    let store_nil = [
        Value::UInt(sub::STORE.into()),
        Value::Bin(b"sha224".to_vec()),
        pos.to_wire(),
        Value::Nil,
    ];
    net.inject(holder, reader, &store_nil);
    assert_eq!(net.get(reader, b"gone").1, found("old"));
    let notify_delete = [
        Value::UInt(sub::NOTIFY.into()),
        Value::Bin(b"gone".to_vec()),
        Value::Bin(b"del".to_vec()),
    ];
    net.inject(reader, holder, &notify_delete);
    for _ in 0..3 {
        let later = net.now + 2_000;
        net.tick_to(later);
    }
    assert_eq!(net.nodes[reader].chord().stats().read_repairs, 0);
    assert_eq!(
        net.nodes[holder].chord().stored(1, &pos),
        None,
        "the delete stands"
    );
}

#[test]
fn every_key_stays_readable_after_one_of_eight_storing_nodes_crashes() {
    let mut net = storing_net(8);
    for k in 0..200 {
        net.set(
            k % 8,
            format!("c{k}").as_bytes(),
            bin(&format!("value {k}")),
        );
    }
    net.crash(5);
    for k in 0..200 {
        let reader = [0, 1, 2, 3, 4, 6, 7][k % 7];
        assert_eq!(
            net.get(reader, format!("c{k}").as_bytes()).1,
            found(&format!("value {k}")),
            "c{k}"
        );
    }
}

/// The issue's churn case at message level: links come from peer lists and the nodes' own
/// ring and finger dials (not a full mesh), 2,000 keys written from every node, then one
/// storing node vanishes: every key still reads its value from every survivor's side.
#[test]
fn two_thousand_keys_stay_readable_after_a_crash_in_a_peer_list_network() {
    let mut net = Net::new(8);
    net.join_all();
    for i in 1..8 {
        net.connect(i, 0);
    }
    for second in 1..6 {
        let now = net.now + 1000 * second;
        net.tick_to(now);
    }
    for k in 0..2000u64 {
        net.set(
            (k % 8) as usize,
            format!("churn{k}").as_bytes(),
            Value::from(k),
        );
    }
    net.crash(3);
    let survivors = [0, 1, 2, 4, 5, 6, 7];
    let mut wrong = Vec::new();
    for k in 0..2000u64 {
        let reader = survivors[(k % 7) as usize];
        let outcome = net.get(reader, format!("churn{k}").as_bytes()).1;
        if outcome != Some(GetOutcome::Found(Value::from(k))) {
            wrong.push((k, outcome));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} keys read wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}
