//! The production mesh core in the simulator: properties a user of a large network relies on —
//! a broadcast reaches every connected node exactly once, duplicated and replayed frames are
//! never delivered twice, frames older than 60 s go nowhere, and a seed fixes the whole run.

use rs2p::proto::mesh::{DropReason, Event};
use rs2p::sim::scenario::mesh::MeshWorld;
use rs2p::sim::{NetworkConfig, NodeIdx};
use rs2p::wire::frame::{message_id, pack, write_frame, MessageId};
use rs2p::wire::{flags, Value};

/// A joined, settled mesh of `n` nodes (max_outgoing 4), internet-like latency.
fn mesh(seed: u64, n: u32, loss: f64) -> MeshWorld {
    let net = NetworkConfig {
        loss,
        ..NetworkConfig::default()
    };
    let mut world = MeshWorld::new(seed, net, 4);
    world.grow(n, 10);
    let until = world.sim.now() + 10_000;
    world.sim.run_until(until);
    world
}

/// A broadcast frame as `sender` would write it, sent at `time_s`, and its ID.
fn broadcast_frame(sender: &[u8], time_s: i64, text: &str) -> (Vec<u8>, MessageId) {
    let payload = [
        Value::UInt(flags::sub::BROADCAST.into()),
        Value::Str(text.into()),
    ];
    let packed = pack(flags::BROADCAST, sender, time_s, &payload);
    let id = message_id(&packed);
    let mut frame = Vec::new();
    write_frame(&id, &packed, None, &mut frame);
    (frame, id)
}

/// How many times each incarnation handed message `id` to its user since the last call.
fn deliveries(world: &mut MeshWorld, id: &MessageId) -> Vec<u32> {
    let mut counts = vec![0; world.sim.incarnations() as usize];
    for e in world.sim.take_events() {
        if let Event::Message(m) = e.event {
            if &m.id == id {
                counts[e.node as usize] += 1;
            }
        }
    }
    counts
}

fn node_id(world: &MeshWorld, n: NodeIdx) -> Vec<u8> {
    world
        .sim
        .node(n)
        .map(|m| m.config().node_id.as_bytes().to_vec())
        .unwrap_or_default()
}

fn total_relayed(world: &MeshWorld) -> u64 {
    world
        .sim
        .alive()
        .iter()
        .filter_map(|n| world.sim.node(*n))
        .map(|m| m.stats().relayed)
        .sum()
}

#[test]
fn a_thousand_node_mesh_delivers_one_broadcast_to_every_node_exactly_once() {
    let mut world = mesh(1, 1_000, 0.0);
    let origin = 0;
    assert_eq!(
        world.sim.component(origin).len(),
        1_000,
        "joining through peer lists should leave one connected network"
    );
    let outcome = world
        .broadcast(origin, "hello, everyone", 120_000)
        .expect("origin is alive");
    assert!(outcome.went_quiet);
    assert_eq!(outcome.reachable, 999);
    assert_eq!(outcome.reached, 999, "every other node gets the broadcast");
    assert_eq!(outcome.delivered_twice, 0, "and none gets it twice");
}

#[test]
fn duplicated_frames_are_delivered_once() {
    let mut world = mesh(2, 200, 0.0);
    let a = 3;
    let neighbours = world.sim.neighbours(a);
    assert!(!neighbours.is_empty());
    let now_s = (world.sim.now_ms() / 1000) as i64;
    let (frame, id) = broadcast_frame(&node_id(&world, a), now_s, "said twice");
    // `a` writes the same bytes twice to each neighbour, and a neighbour echoes them back.
    for &n in &neighbours {
        assert!(world.sim.inject(a, n, frame.clone()));
        assert!(world.sim.inject(a, n, frame.clone()));
    }
    assert!(world.sim.inject(neighbours[0], a, frame.clone()));
    let deadline = world.sim.now() + 60_000;
    assert!(world.sim.run_until_quiet(deadline));
    let counts = deliveries(&mut world, &id);
    for n in world.sim.alive() {
        assert_eq!(
            counts[n as usize], 1,
            "node {n} delivered the message {} times",
            counts[n as usize]
        );
    }
    let dropped: u64 = world
        .sim
        .alive()
        .iter()
        .filter_map(|n| world.sim.node(*n))
        .map(|m| m.stats().dropped[DropReason::Duplicate as usize])
        .sum();
    assert!(
        dropped >= neighbours.len() as u64,
        "the copies were counted as duplicates"
    );
}

#[test]
fn no_node_relays_or_delivers_a_frame_older_than_sixty_seconds() {
    let mut world = mesh(3, 200, 0.0);
    let a = 7;
    let b = world.sim.neighbours(a)[0];
    let sender = node_id(&world, a);

    // Sent at time t0, it spreads once.
    let t0 = (world.sim.now_ms() / 1000) as i64;
    let (fresh, fresh_id) = broadcast_frame(&sender, t0, "fresh");
    assert!(world.sim.inject(a, b, fresh.clone()));
    let deadline = world.sim.now() + 60_000;
    assert!(world.sim.run_until_quiet(deadline));
    assert!(deliveries(&mut world, &fresh_id).iter().sum::<u32>() >= 199);

    // 61 virtual seconds later the same bytes are a replay of an expired frame.
    let later = world.sim.now() + 61_000;
    world.sim.run_until(later);
    let relayed_before = total_relayed(&world);
    let expired_before = world
        .sim
        .node(b)
        .map(|m| m.stats().dropped[DropReason::Expired as usize]);
    assert!(world.sim.inject(a, b, fresh));
    // And a frame stamped 61 s ago that nobody has seen.
    let now_s = (world.sim.now_ms() / 1000) as i64;
    let (old, old_id) = broadcast_frame(&sender, now_s - 61, "old");
    assert!(world.sim.inject(a, b, old));
    let deadline = world.sim.now() + 60_000;
    assert!(world.sim.run_until_quiet(deadline));

    let events = world.sim.take_events();
    let delivered_again = events
        .iter()
        .any(|e| matches!(&e.event, Event::Message(m) if m.id == fresh_id || m.id == old_id));
    assert!(!delivered_again, "an expired frame reached a user");
    assert_eq!(
        total_relayed(&world),
        relayed_before,
        "an expired frame was relayed"
    );
    let expired_after = world
        .sim
        .node(b)
        .map(|m| m.stats().dropped[DropReason::Expired as usize]);
    assert_eq!(expired_after, expired_before.map(|v| v + 2));
}

#[test]
fn the_seed_fixes_the_run() {
    let run = |seed| {
        let mut world = mesh(seed, 150, 0.05);
        let origin = world.random_live().expect("nodes are alive");
        world.broadcast(origin, "same every time", 120_000);
        world.crash_fraction(0.1);
        let until = world.sim.now() + 5_000;
        world.sim.run_until(until);
        world.sim.trace_hash()
    };
    assert_eq!(run(11), run(11), "same seed, same trace");
    assert_ne!(run(11), run(12), "another seed, another trace");
}
