//! Tests of the engine alone, with a tiny flooding node standing in for the production core
//! (each `Transmit` here is one 8-byte message number; the engine never looks inside).

use super::*;
use crate::proto::mesh::UserMessage;
use crate::sim::network::Latency;
use std::collections::{BTreeSet, VecDeque};

#[derive(Default)]
struct Flooder {
    conns: BTreeSet<ConnId>,
    next_conn: ConnId,
    seen: BTreeSet<u64>,
    out: VecDeque<Output>,
    closed: u32,
    received: Vec<u64>,
}

impl Flooder {
    fn dial(&mut self, host: &str, port: u16) {
        self.next_conn += 1;
        self.out.push_back(Output::Dial {
            conn: self.next_conn,
            host: host.to_string(),
            port,
        });
    }

    fn flood(&mut self, msg: u64, except: Option<ConnId>) {
        self.seen.insert(msg);
        for &c in &self.conns {
            if Some(c) != except {
                self.out.push_back(Output::Transmit {
                    conn: c,
                    frame: msg.to_le_bytes().to_vec(),
                    paced: false,
                });
            }
        }
    }
}

impl SimNode for Flooder {
    fn on_accepted(&mut self, _remote: (String, u16), _now: Millis) -> ConnId {
        self.next_conn += 1;
        self.conns.insert(self.next_conn);
        self.next_conn
    }
    fn on_connected(&mut self, conn: ConnId, _now: Millis) {
        self.conns.insert(conn);
    }
    fn on_data(&mut self, conn: ConnId, data: &[u8], _now: Millis) {
        let msg = u64::from_le_bytes(data.try_into().unwrap_or([0; 8]));
        self.received.push(msg);
        if self.seen.contains(&msg) {
            return;
        }
        self.flood(msg, Some(conn));
        self.out
            .push_back(Output::Event(Event::Message(UserMessage {
                msg_type: 0,
                sub_flag: 0,
                sender: Vec::new(),
                time: 0,
                id: [0; 32],
                packets: Vec::new(),
                conn,
            })));
    }
    fn on_closed(&mut self, conn: ConnId, _reason: DropReason, _now: Millis) {
        self.conns.remove(&conn);
        self.closed += 1;
    }
    fn on_tick(&mut self, _now: Millis) {}
    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

fn addr(i: u32) -> (String, u16) {
    (format!("10.0.0.{i}"), 1)
}

/// `n` flooders, each dialling one random earlier one (a random tree).
fn tree(seed: u64, n: u32, net: NetworkConfig) -> Sim<Flooder> {
    let mut sim = Sim::new(seed, net);
    for i in 0..n {
        let h = sim.add_host(addr(i));
        let node = sim.start(h, |_| Flooder::default()).unwrap();
        if i > 0 {
            let target = sim.rng().below(u64::from(i)) as u32;
            let (host, port) = addr(target);
            sim.with_node(node, |f, _| f.dial(&host, port));
        }
    }
    sim.run_until(10_000);
    sim
}

#[test]
fn a_flood_over_a_tree_reaches_every_node_once() {
    let mut sim = tree(1, 200, NetworkConfig::default());
    assert_eq!(sim.open_links(), 199);
    assert_eq!(sim.component(0).len(), 200);
    sim.with_node(0, |f, _| f.flood(42, None));
    assert!(sim.run_until_quiet(60_000));
    let events = sim.take_events();
    assert_eq!(events.len(), 199);
    let nodes: BTreeSet<NodeIdx> = events.iter().map(|e| e.node).collect();
    assert_eq!(nodes.len(), 199);
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let run = |seed| {
        let net = NetworkConfig {
            loss: 0.05,
            ..NetworkConfig::default()
        };
        let mut sim = tree(seed, 100, net);
        sim.with_node(5, |f, _| f.flood(7, None));
        sim.run_until_quiet(60_000);
        sim.trace_hash()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn frames_on_one_link_arrive_in_order_despite_loss() {
    let net = NetworkConfig {
        loss: 0.3,
        ..NetworkConfig::default()
    };
    let mut sim = tree(3, 2, net);
    sim.with_node(0, |f, _| {
        for m in 0..200 {
            f.flood(m, None);
        }
    });
    sim.run_until_quiet(1_000_000);
    let got = &sim.node(1).unwrap().received;
    assert_eq!(*got, (0..200).collect::<Vec<u64>>());
    assert!(sim.counters().frames_retransmitted > 0);
}

#[test]
fn bandwidth_serialises_frames_on_a_link() {
    let net = NetworkConfig {
        latency: Latency::Fixed { ms: 10 },
        bandwidth_bytes_per_ms: 1, // 8 ms per 8-byte frame
        ..NetworkConfig::default()
    };
    let mut sim = tree(4, 2, net);
    let start = sim.now();
    sim.with_node(0, |f, _| {
        for m in 0..10 {
            f.flood(m, None);
        }
    });
    sim.run_until_quiet(start + 1_000);
    // Ten frames of 8 ms each, then 10 ms of latency.
    assert_eq!(sim.now() - start, 80 + 10);
}

#[test]
fn a_crash_closes_the_neighbours_connections_and_refuses_dials() {
    let mut sim = tree(5, 30, NetworkConfig::default());
    let neighbours = sim.neighbours(0);
    assert!(!neighbours.is_empty());
    sim.crash(0);
    sim.run_until(sim.now() + 5_000);
    for n in &neighbours {
        assert_eq!(sim.node(*n).unwrap().closed, 1);
    }
    let (host, port) = addr(0);
    sim.with_node(1, |f, _| f.dial(&host, port));
    sim.run_until(sim.now() + 5_000);
    assert_eq!(sim.node(1).unwrap().closed, 2);
    // A restart on the same address accepts again.
    let new = sim.start(0, |_| Flooder::default()).unwrap();
    sim.with_node(1, |f, _| f.dial(&host, port));
    sim.run_until(sim.now() + 5_000);
    assert_eq!(sim.neighbours(new), vec![1]);
}

#[test]
fn a_partition_cuts_links_until_healed() {
    let mut sim = tree(6, 50, NetworkConfig::default());
    sim.partition(|h| u32::from(h >= 25));
    sim.run_until(sim.now() + 1);
    let side = sim.component(0);
    assert!(side.iter().all(|n| *n < 25));
    let (host, port) = addr(40);
    sim.with_node(0, |f, _| f.dial(&host, port));
    sim.run_until(sim.now() + 10_000);
    assert!(!sim.component(0).contains(&40));
    sim.heal();
    sim.with_node(0, |f, _| f.dial(&host, port));
    sim.run_until(sim.now() + 10_000);
    assert!(sim.component(0).contains(&40));
}
