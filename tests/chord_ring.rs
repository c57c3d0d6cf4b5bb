//! Ring arithmetic and responsibility: distance over 2^384 (the sha512 position reduced
//! only inside the distance), the five positions of a key, and who is responsible.

use rs2p::proto::chord::ring::{distance, key_positions, Position, RingPos, RING_BYTES};
use rs2p::proto::chord::routing::{closest, predecessor, successor, wanted_links};
use rs2p::wire::{base58, ids};

fn pos(n: u64) -> RingPos {
    RingPos::reduce(&n.to_be_bytes())
}

#[test]
fn distance_is_clockwise_and_wraps() {
    assert_eq!(distance(&pos(5), &pos(9)), pos(4));
    // 9 → 5 wraps: 2^384 - 4, i.e. all ones except the last byte 0xfc.
    let mut expect = [0xffu8; RING_BYTES];
    expect[RING_BYTES - 1] = 0xfc;
    assert_eq!(distance(&pos(9), &pos(5)), RingPos(expect));
    assert_eq!(distance(&pos(7), &pos(7)), pos(0));
}

#[test]
fn the_sha512_position_is_reduced_only_for_distances() {
    let key = b"some key";
    let positions = key_positions(key);
    let sha512 = &positions[4];
    let raw = ids::chord_positions(key)[4].1.clone();
    assert_eq!(raw.len(), 64, "stored unreduced");
    assert_eq!(sha512.full(), Position::from_be(&raw).unwrap().full());
    // On the wire it is the full 512-bit integer in base58.
    let wire = sha512.to_wire();
    assert_eq!(
        base58::decode(wire.as_bytes().unwrap()).unwrap(),
        Position::from_be(&raw).unwrap().full()
    );
    // Its ring point is the low 384 bits.
    assert_eq!(sha512.ring().0.as_slice(), &raw[16..]);
    // Distances from a node use that reduction.
    let node = RingPos::reduce(&raw[16..]);
    assert_eq!(distance(&node, &sha512.ring()), pos(0));
}

#[test]
fn responsibility_is_the_smallest_distance_ties_to_the_first() {
    let target = pos(100);
    let nodes = [(pos(90), "a"), (pos(99), "b"), (pos(101), "c")];
    let best = closest(&target, nodes.iter().map(|(p, n)| (p, *n)));
    assert_eq!(best.map(|b| b.1), Some("b"));
    // A node exactly at the position is responsible (distance 0).
    let with_exact = [(pos(90), "a"), (pos(100), "x")];
    assert_eq!(
        closest(&target, with_exact.iter().map(|(p, n)| (p, *n))).map(|b| b.1),
        Some("x")
    );
    // Ties go to the first found.
    let tie = [(pos(50), "first"), (pos(50), "second")];
    assert_eq!(
        closest(&target, tie.iter().map(|(p, n)| (p, *n))).map(|b| b.1),
        Some("first")
    );
    // Wrapping: for position 5, a node at 2^384-1 is 6 away, one at 10 is almost a whole turn.
    let high = RingPos([0xff; RING_BYTES]);
    let wrap = [(pos(10), "ten"), (high, "high")];
    assert_eq!(
        closest(&pos(5), wrap.iter().map(|(p, n)| (p, *n))).map(|b| b.1),
        Some("high")
    );
}

#[test]
fn ring_neighbours_and_fingers() {
    let known: Vec<RingPos> = [10u64, 20, 40, 80, 160].iter().map(|&n| pos(n)).collect();
    assert_eq!(successor(&pos(20), &known), Some(pos(40)));
    assert_eq!(predecessor(&pos(20), &known), Some(pos(10)));
    assert_eq!(successor(&pos(160), &known), Some(pos(10)), "wraps");
    let links = wanted_links(&pos(10), &known);
    assert_eq!(links[0], pos(20), "successor first");
    assert_eq!(links[1], pos(160), "then predecessor");
    assert_eq!(links[2], pos(40), "then the successor's successor");
    for p in [pos(40), pos(80)] {
        assert!(links.contains(&p), "finger {p:?} missing from {links:?}");
    }
    assert!(!links.contains(&pos(10)));
}

#[test]
fn key_positions_are_the_wire_positions() {
    for key in [&b""[..], b"a", b"some key", &[0u8; 300], "ключ".as_bytes()] {
        let mine = key_positions(key);
        for (i, (_, be)) in ids::chord_positions(key).iter().enumerate() {
            assert_eq!(mine[i], Position::from_be(be).unwrap(), "method {i}");
        }
    }
}
