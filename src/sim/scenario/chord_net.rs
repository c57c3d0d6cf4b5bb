//! The message-level chord study: N production [`ChordNode`]s (mesh core + chord handler)
//! join one by one, each dialling one random earlier node and storing at once; peer lists
//! teach them the other storing nodes and the handler dials its ring and finger peers
//! itself. Then keys are written, read back from random nodes (hops counted from the
//! `retrieve` frames that actually travelled), a share of the nodes crashes, and every key is
//! read again. Not here: the routing-table model (`chord.rs`), any change to the chord rules.

use super::host_addr;
use crate::proto::chord::ring::key_positions;
use crate::proto::chord::{ChordConfig, ChordEvent, ChordNode, GetId, GetOutcome};
use crate::proto::mesh::MeshConfig;
use crate::sim::memory::heap_in_use_bytes;
use crate::sim::network::NetworkConfig;
use crate::sim::queue::SimTime;
use crate::sim::rng::Rng;
use crate::sim::world::{CapturedFrame, NodeIdx, Sim};
use crate::wire::frame::decode_body;
use crate::wire::{flags, ids, Limits, Value};
use std::collections::BTreeMap;

/// A simulated chord network.
pub struct ChordWorld {
    pub sim: Sim<ChordNode>,
    protocol_id: String,
    chord: ChordConfig,
    id_rng: Rng,
    /// The frames written during the last [`ChordWorld::get`] (for diagnosis).
    pub last_read_frames: Vec<CapturedFrame>,
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
            last_read_frames: Vec::new(),
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
        let node = self
            .sim
            .start(host, |now| ChordNode::new(config, chord, now))?;
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
        while self
            .sim
            .with_node(node, |c, _| c.poll_event())
            .flatten()
            .is_some()
        {}
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
        let hops = retrieve_hops(&frames);
        self.last_read_frames = frames;
        (result, hops)
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
fn retrieve_hops(frames: &[CapturedFrame]) -> Vec<usize> {
    let mut per_pos: BTreeMap<(Vec<u8>, Vec<u8>), usize> = BTreeMap::new();
    let retrieve = u64::from(flags::sub::RETRIEVE);
    for CapturedFrame { frame, .. } in frames {
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
    /// Before the crash: key positions (5 per key) held by exactly one live node, and by none.
    pub positions_one_holder: usize,
    /// Share of nodes linked to their true ring successor and predecessor, after settling and
    /// after the crash and recovery time.
    pub ring_correct_before_crash: f64,
    pub ring_correct_after_crash: f64,
    pub positions_no_holder: usize,
    /// After the crash: keys with at least 3 of their 5 positions still held by a live node
    /// (a majority read can find them), and how many of those read back correctly.
    pub keys_with_majority_after_crash: usize,
    pub majority_keys_readable: usize,
    pub heap_per_node: Option<f64>,
    pub trace_hash: u64,
    pub wall_ms: u128,
}

/// Share of live nodes linked to their true ring successor and predecessor (among all live
/// storing nodes): where this is below 1, greedy routing can end at different nodes for a
/// write and a later read.
pub fn ring_links_correct(w: &ChordWorld) -> f64 {
    use crate::proto::chord::routing::{predecessor, successor};
    let alive = w.sim.alive();
    let all: Vec<_> = alive
        .iter()
        .filter_map(|n| w.sim.node(*n))
        .map(|c| c.chord().position())
        .collect();
    let mut good = 0;
    for c in alive.iter().filter_map(|n| w.sim.node(*n)) {
        let me = c.chord().position();
        let linked: Vec<_> = c
            .chord()
            .peer_states()
            .values()
            .filter(|p| p.storing)
            .map(|p| p.pos)
            .collect();
        let ok = successor(&me, linked.iter()) == successor(&me, all.iter())
            && predecessor(&me, linked.iter()) == predecessor(&me, all.iter());
        good += usize::from(ok);
    }
    good as f64 / alive.len().max(1) as f64
}

/// How many live nodes hold each of the key's five positions.
pub fn holders_per_position(w: &ChordWorld, key: &[u8]) -> [usize; 5] {
    let mut out = [0; 5];
    for (m, pos) in key_positions(key).iter().enumerate() {
        out[m] = w
            .sim
            .alive()
            .into_iter()
            .filter(|n| {
                w.sim
                    .node(*n)
                    .is_some_and(|c| c.chord().stored(m, pos).is_some())
            })
            .count();
    }
    out
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
    let ring_correct_before_crash = ring_links_correct(&w);
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

    let (mut positions_one_holder, mut positions_no_holder) = (0, 0);
    for (key, _) in &keys {
        for h in holders_per_position(&w, key) {
            positions_one_holder += usize::from(h == 1);
            positions_no_holder += usize::from(h == 0);
        }
    }

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
    let ring_correct_after_crash = ring_links_correct(&w);
    let (mut readable, mut wrong_after) = (0, 0);
    let (mut not_found, mut no_majority, mut timed_out) = (0, 0, 0);
    let (mut with_majority, mut majority_readable) = (0, 0);
    for (key, value) in &keys {
        let Some(n) = w.random_live() else {
            break;
        };
        let has_majority = holders_per_position(&w, key)
            .iter()
            .filter(|h| **h > 0)
            .count()
            >= 3;
        with_majority += usize::from(has_majority);
        let result = w.get(n, key, value, 15_000).0;
        if has_majority && result == ReadResult::Correct {
            majority_readable += 1;
        }
        match result {
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
        positions_one_holder,
        positions_no_holder,
        ring_correct_before_crash,
        ring_correct_after_crash,
        keys_with_majority_after_crash: with_majority,
        majority_keys_readable: majority_readable,
        heap_per_node,
        trace_hash: w.sim.trace_hash(),
        wall_ms: wall.elapsed().as_millis(),
    }
}

/// The message-level results with the routing-model column (`model`: same sizes, any order).
pub fn chord_net_table(results: &[ChordStudyResult], model: &[super::chord::HopStudy]) -> String {
    let mut out = String::from(
        "| storing nodes | links/node | true ring links (settled / after crash) | mean hops | p99 hops | max hops | model mean / p99 hops | gets correct | keys readable after 10 % crash | after crash: wrong / not found / no majority / timed out | positions with one holder before crash | keys with a majority of positions left | heap per node | wall time |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let m = model
            .iter()
            .find(|m| m.nodes == r.config.nodes as usize)
            .map_or("—".to_string(), |m| {
                format!("{:.2} / {}", m.mean_hops, m.p99_hops)
            });
        let gets = r.gets_correct + r.gets_wrong + r.gets_failed;
        out.push_str(&format!(
            "| {} | {:.1} | {:.0} % / {:.0} % | {:.2} | {} | {} | {} | {}/{} | {}/{} | {} / {} / {} / {} | {}/{} | {} | {} | {:.1} s |\n",
            r.config.nodes,
            r.mean_links,
            r.ring_correct_before_crash * 100.0,
            r.ring_correct_after_crash * 100.0,
            r.mean_hops,
            r.p99_hops,
            r.max_hops,
            m,
            r.gets_correct,
            gets,
            r.keys_readable_after_crash,
            r.config.keys,
            r.keys_wrong_after_crash,
            r.not_found_after_crash,
            r.no_majority_after_crash,
            r.timed_out_after_crash,
            r.positions_one_holder,
            5 * r.config.keys,
            r.keys_with_majority_after_crash,
            r.heap_per_node
                .map_or("—".to_string(), |b| format!("{:.0} KiB", b / 1024.0)),
            r.wall_ms as f64 / 1000.0
        ));
    }
    for m in model {
        if !results.iter().any(|r| r.config.nodes as usize == m.nodes) {
            out.push_str(&format!(
                "| {} | {:.1} (model) | 100 % (model) | — | — | — | {:.2} / {} | — | — | — | — | — | — | — |\n",
                m.nodes, m.mean_links, m.mean_hops, m.p99_hops
            ));
        }
    }
    out
}

/// Mean and p99 hops by size: messages counted and the routing model.
pub fn chord_hops_chart(
    results: &[ChordStudyResult],
    model: &[super::chord::HopStudy],
) -> crate::sim::svg::LineChart {
    use crate::sim::svg::{LineChart, Series};
    let pts = |f: &dyn Fn(&ChordStudyResult) -> f64| {
        results
            .iter()
            .map(|r| (f64::from(r.config.nodes), f(r)))
            .collect::<Vec<_>>()
    };
    let mpts = |f: &dyn Fn(&super::chord::HopStudy) -> f64| {
        model
            .iter()
            .map(|m| (m.nodes as f64, f(m)))
            .collect::<Vec<_>>()
    };
    LineChart {
        title: "Chord lookups: hops per retrieve by number of storing nodes".into(),
        subtitle: format!(
            "seed {}; solid: retrieve frames counted in the message-level run; dashed: routing-table model",
            results.first().map_or(0, |r| r.config.seed)
        ),
        x_label: "storing nodes".into(),
        y_label: "hops".into(),
        log_x: true,
        series: vec![
            Series {
                label: "mean (messages)".into(),
                points: pts(&|r| r.mean_hops),
                dashed: false,
            },
            Series {
                label: "p99 (messages)".into(),
                points: pts(&|r| r.p99_hops as f64),
                dashed: false,
            },
            Series {
                label: "mean (model)".into(),
                points: mpts(&|m| m.mean_hops),
                dashed: true,
            },
            Series {
                label: "p99 (model)".into(),
                points: mpts(&|m| m.p99_hops as f64),
                dashed: true,
            },
        ],
    }
}
