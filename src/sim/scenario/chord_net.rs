//! The message-level chord study: N production [`ChordNode`]s (mesh core + chord handler)
//! join one by one, each dialling one random earlier node and storing at once; peer lists
//! teach them the other storing nodes and the handler dials its ring and finger peers
//! itself. Then keys are written, read back from random nodes (hops counted from the
//! `retrieve` frames that actually travelled), a share of the nodes crashes, and every key is
//! read again. Not here: the routing-table model (`chord.rs`), any change to the chord rules.

use super::host_addr;
use crate::proto::chord::{ChordConfig, ChordEvent, ChordNode, GetId, GetOutcome};
use crate::proto::mesh::MeshConfig;
use crate::sim::memory::heap_in_use_bytes;
use crate::sim::network::NetworkConfig;
use crate::sim::queue::SimTime;
use crate::sim::rng::Rng;
use crate::sim::world::{NodeIdx, Sim};
use crate::wire::frame::decode_body;
use crate::wire::{flags, ids, Limits, Value};
use std::collections::BTreeMap;

/// A simulated chord network.
pub struct ChordWorld {
    pub sim: Sim<ChordNode>,
    protocol_id: String,
    chord: ChordConfig,
    id_rng: Rng,
}

/// How one read ended, as the requester saw it.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadResult {
    Correct,
    Wrong,
    NotFound,
    TimedOut,
    /// The five positions gave no majority.
    NoMajority,
    /// No `GetDone` before the deadline the study allowed (should not happen).
    NoAnswer,
}

impl ChordWorld {
    pub fn new(seed: u64, net: NetworkConfig, chord: ChordConfig) -> Self {
        let mut sim = Sim::new(seed, net);
        sim.keep_events(false);
        let id_rng = sim.rng().fork(0xc4);
        ChordWorld {
            sim,
            protocol_id: ids::protocol_id("rs2p-sim-chord", "Plaintext"),
            chord,
            id_rng,
        }
    }

    /// Starts a storing chord node on an idle `host`.
    pub fn spawn(&mut self, host: u32) -> Option<NodeIdx> {
        let addr = self.sim.host_addr(host)?.clone();
        let salt = format!(
            "{:016x}{:016x}",
            self.id_rng.next_u64(),
            self.id_rng.next_u64()
        );
        let node_id = ids::node_id(
            &ids::out_addr_repr(&addr.0, addr.1),
            &self.protocol_id,
            &salt,
        );
        let config = MeshConfig::new(self.protocol_id.clone(), node_id, addr);
        let chord = self.chord.clone();
        let node = self.sim.start(host, |now| ChordNode::new(config, chord, now))?;
        self.sim.with_node(node, |c, now| c.join(now));
        Some(node)
    }

    /// Adds `count` storing nodes, one every `interval_ms`, each dialling one random earlier
    /// live node.
    pub fn grow(&mut self, count: u32, interval_ms: SimTime) {
        for _ in 0..count {
            let host = self.sim.add_host(host_addr(self.sim.hosts()));
            let earlier = self.sim.incarnations();
            let Some(node) = self.spawn(host) else {
                continue;
            };
            if earlier > 0 {
                let mut pick = self.sim.rng().below(u64::from(earlier)) as NodeIdx;
                while !self.sim.is_alive(pick) {
                    pick = (pick + 1) % earlier;
                }
                if let Some(addr) = self
                    .sim
                    .host_of(pick)
                    .and_then(|h| self.sim.host_addr(h))
                    .cloned()
                {
                    self.sim
                        .with_node(node, |c, now| c.connect(&addr.0, addr.1, now));
                }
            }
            let until = self.sim.now() + interval_ms;
            self.sim.run_until(until);
        }
    }

    /// A random live node.
    pub fn random_live(&mut self) -> Option<NodeIdx> {
        let alive = self.sim.alive();
        if alive.is_empty() {
            return None;
        }
        Some(alive[self.sim.rng().below(alive.len() as u64) as usize])
    }

    /// Writes `value` at `key` from `node`, then runs until the network is quiet.
    pub fn set(&mut self, node: NodeIdx, key: &[u8], value: Value, max_ms: SimTime) {
        self.sim.with_node(node, |c, now| c.set(key, value, now));
        let deadline = self.sim.now() + max_ms;
        self.sim.run_until_quiet(deadline);
    }

    /// Reads `key` from `node`; returns how it ended and, per position sent out, the hops
    /// its `retrieve` took (frames carrying it, forwarding included).
    pub fn get(
        &mut self,
        node: NodeIdx,
        key: &[u8],
        expected: &Value,
        max_ms: SimTime,
    ) -> (ReadResult, Vec<usize>) {
        while self.sim.with_node(node, |c, _| c.poll_event()).flatten().is_some() {}
        self.sim.capture_frames(true);
        let Some(id) = self.sim.with_node(node, |c, now| c.get(key, now)) else {
            self.sim.capture_frames(false);
            return (ReadResult::NoAnswer, Vec::new());
        };
        let start = self.sim.now();
        let mut result = ReadResult::NoAnswer;
        let mut t = start;
        while t < start + max_ms {
            self.sim.run_until_quiet(t + 1000);
            if let Some(done) = self.done(node, id, expected) {
                result = done;
                break;
            }
            t += 1000;
            self.sim.run_until(t);
            if let Some(done) = self.done(node, id, expected) {
                result = done;
                break;
            }
        }
        let frames = self.sim.take_captured();
        self.sim.capture_frames(false);
        (result, retrieve_hops(&frames))
    }

    fn done(&mut self, node: NodeIdx, id: GetId, expected: &Value) -> Option<ReadResult> {
        loop {
            let ev = self.sim.with_node(node, |c, _| c.poll_event()).flatten()?;
            if let ChordEvent::GetDone { id: got, outcome } = ev {
                if got != id {
                    continue;
                }
                return Some(match outcome {
                    GetOutcome::Found(v) if &v == expected => ReadResult::Correct,
                    GetOutcome::Found(_) => ReadResult::Wrong,
                    GetOutcome::NotFound => ReadResult::NotFound,
                    GetOutcome::TimedOut => ReadResult::TimedOut,
                    GetOutcome::NoMajority => ReadResult::NoMajority,
                });
            }
        }
    }
}

/// Hops per (method, position) from the `retrieve` frames written during one read.
fn retrieve_hops(frames: &[(SimTime, NodeIdx, Vec<u8>)]) -> Vec<usize> {
    let mut per_pos: BTreeMap<(Vec<u8>, Vec<u8>), usize> = BTreeMap::new();
    let retrieve = u64::from(flags::sub::RETRIEVE);
    for (_, _, frame) in frames {
        let Some(body) = frame.get(4..) else {
            continue;
        };
        let Ok((msg, _)) = decode_body(body, &Limits::DEFAULT) else {
            continue;
        };
        if msg.payload.first().and_then(Value::as_u64) != Some(retrieve) {
            continue;
        }
        let (Some(m), Some(p)) = (msg.payload.get(1), msg.payload.get(2)) else {
            continue;
        };
        let mut mk = Vec::new();
        m.encode(&mut mk);
        let mut pk = Vec::new();
        p.encode(&mut pk);
        *per_pos.entry((mk, pk)).or_default() += 1;
    }
    per_pos.into_values().collect()
}

/// Settings of the message-level study.
#[derive(Clone, Debug)]
pub struct ChordStudyConfig {
    pub nodes: u32,
    pub seed: u64,
    pub network: NetworkConfig,
    pub chord: ChordConfig,
    pub join_interval_ms: SimTime,
    pub settle_ms: SimTime,
    pub keys: u32,
    /// Reads before the crash (random key from a random node).
    pub gets: u32,
    pub crash_fraction: f64,
    /// Time after the crash for the survivors to notice and re-store.
    pub recover_ms: SimTime,
}

impl ChordStudyConfig {
    pub fn new(nodes: u32, seed: u64) -> Self {
        ChordStudyConfig {
            nodes,
            seed,
            network: NetworkConfig::default(),
            chord: ChordConfig::default(),
            join_interval_ms: 10,
            settle_ms: 40_000,
            keys: 100,
            gets: 200,
            crash_fraction: 0.10,
            recover_ms: 20_000,
        }
    }
}

/// What the message-level study measured.
#[derive(Clone, Debug)]
pub struct ChordStudyResult {
    pub config: ChordStudyConfig,
    /// Mean open connections per node after settling.
    pub mean_links: f64,
    /// Hops of every retrieve that left its requester (one per position not held locally).
    pub mean_hops: f64,
    pub p99_hops: usize,
    pub max_hops: usize,
    pub positions_local: usize,
    pub gets_correct: usize,
    pub gets_wrong: usize,
    pub gets_failed: usize,
    /// After the crash: keys read back correctly, of `keys`.
    pub keys_readable_after_crash: usize,
    pub keys_wrong_after_crash: usize,
    /// After the crash: reads that ended NotFound / NoMajority / TimedOut or never.
    pub not_found_after_crash: usize,
    pub no_majority_after_crash: usize,
    pub timed_out_after_crash: usize,
    pub heap_per_node: Option<f64>,
    pub trace_hash: u64,
    pub wall_ms: u128,
}

/// Runs the message-level study.
pub fn chord_net_study(cfg: &ChordStudyConfig) -> ChordStudyResult {
    let wall = std::time::Instant::now();
    let heap0 = heap_in_use_bytes();
    let mut w = ChordWorld::new(cfg.seed, cfg.network.clone(), cfg.chord.clone());
    w.grow(cfg.nodes, cfg.join_interval_ms);
    let t = w.sim.now() + cfg.settle_ms;
    w.sim.run_until(t);
    let heap_per_node = match (heap0, heap_in_use_bytes()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / f64::from(cfg.nodes.max(1))),
        _ => None,
    };
    let alive = w.sim.alive();
    let mean_links = alive
        .iter()
        .map(|n| w.sim.neighbours(*n).len())
        .sum::<usize>() as f64
        / alive.len().max(1) as f64;

    let mut keys: Vec<(Vec<u8>, Value)> = Vec::new();
    for k in 0..cfg.keys {
        let key = format!("key{k}").into_bytes();
        let value = Value::Str(format!("value {k}"));
        if let Some(n) = w.random_live() {
            w.set(n, &key, value.clone(), 10_000);
        }
        keys.push((key, value));
    }
    let mut hops: Vec<usize> = Vec::new();
    let (mut correct, mut wrong, mut failed) = (0, 0, 0);
    for _ in 0..cfg.gets {
        let (Some(n), false) = (w.random_live(), keys.is_empty()) else {
            break;
        };
        let (key, value) = keys[w.sim.rng().below(keys.len() as u64) as usize].clone();
        let (result, h) = w.get(n, &key, &value, 15_000);
        hops.extend(h);
        match result {
            ReadResult::Correct => correct += 1,
            ReadResult::Wrong => wrong += 1,
            _ => failed += 1,
        }
    }
    let positions_local = (5 * cfg.gets as usize).saturating_sub(hops.len());
    hops.sort_unstable();
    let mean_hops = hops.iter().sum::<usize>() as f64 / hops.len().max(1) as f64;
    let p99 = ((hops.len() as f64 * 0.99).ceil() as usize).clamp(1, hops.len().max(1)) - 1;

    // Crash a share of the storing nodes at random, let the survivors recover, read all keys.
    let mut alive = w.sim.alive();
    let count = (cfg.crash_fraction * alive.len() as f64).round() as usize;
    for _ in 0..count {
        let i = w.sim.rng().below(alive.len() as u64) as usize;
        let node = alive.swap_remove(i);
        if let Some(host) = w.sim.host_of(node) {
            w.sim.crash(host);
        }
    }
    let t = w.sim.now() + cfg.recover_ms;
    w.sim.run_until(t);
    let (mut readable, mut wrong_after) = (0, 0);
    let (mut not_found, mut no_majority, mut timed_out) = (0, 0, 0);
    for (key, value) in &keys {
        let Some(n) = w.random_live() else {
            break;
        };
        match w.get(n, key, value, 15_000).0 {
            ReadResult::Correct => readable += 1,
            ReadResult::Wrong => wrong_after += 1,
            ReadResult::NotFound => not_found += 1,
            ReadResult::NoMajority => no_majority += 1,
            ReadResult::TimedOut | ReadResult::NoAnswer => timed_out += 1,
        }
    }
    ChordStudyResult {
        config: cfg.clone(),
        mean_links,
        mean_hops,
        p99_hops: hops.get(p99).copied().unwrap_or(0),
        max_hops: hops.last().copied().unwrap_or(0),
        positions_local,
        gets_correct: correct,
        gets_wrong: wrong,
        gets_failed: failed,
        keys_readable_after_crash: readable,
        keys_wrong_after_crash: wrong_after,
        not_found_after_crash: not_found,
        no_majority_after_crash: no_majority,
        timed_out_after_crash: timed_out,
        heap_per_node,
        trace_hash: w.sim.trace_hash(),
        wall_ms: wall.elapsed().as_millis(),
    }
}
