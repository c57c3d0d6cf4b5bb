//! The mesh study: N production [`Mesh`] nodes join one by one (each dials one random earlier
//! node, then dials more from the peer lists it receives, up to `max_outgoing`), then one
//! broadcast is measured with and without loss, before and after a share of the nodes crash.

use super::host_addr;
use crate::proto::mesh::{Event, Mesh, MeshConfig};
use crate::sim::memory::{heap_in_use_bytes, resident_bytes};
use crate::sim::network::NetworkConfig;
use crate::sim::queue::SimTime;
use crate::sim::rng::Rng;
use crate::sim::world::{NetCounters, NodeIdx, Sim};
use crate::wire::frame::MessageId;
use crate::wire::{flags, ids, Value};

/// A simulated mesh network and the helpers to grow, hurt and probe it.
pub struct MeshWorld {
    pub sim: Sim<Mesh>,
    protocol_id: String,
    max_outgoing: usize,
    seen_capacity: Option<usize>,
    /// Seeds node-ID salts; separate from the network's draws.
    id_rng: Rng,
}

/// What one broadcast did.
#[derive(Clone, Debug, PartialEq)]
pub struct BroadcastOutcome {
    pub origin: NodeIdx,
    pub id: MessageId,
    pub live_nodes: usize,
    /// Live nodes connected to the origin, the origin excluded: the most that can be reached.
    pub reachable: usize,
    /// Distinct nodes (origin excluded) that handed the message to their user.
    pub reached: usize,
    /// Nodes that handed it to their user more than once (must be 0).
    pub delivered_twice: usize,
    /// Frames all nodes wrote while it spread (includes any other traffic in that window).
    pub frames_sent: u64,
    /// Broadcast relays counted by the cores.
    pub relayed: u64,
    /// Milliseconds after sending when each reached node delivered it, sorted.
    pub delivery_ms: Vec<SimTime>,
    /// False if the network was still busy at the deadline.
    pub went_quiet: bool,
}

impl BroadcastOutcome {
    /// Time until `fraction` of the reachable nodes had it, if they did.
    pub fn time_to(&self, fraction: f64) -> Option<SimTime> {
        if self.reachable == 0 {
            return Some(0);
        }
        let need = ((fraction * self.reachable as f64).ceil() as usize).max(1);
        self.delivery_ms.get(need - 1).copied()
    }

    pub fn reached_fraction(&self) -> f64 {
        if self.reachable == 0 {
            1.0
        } else {
            self.reached as f64 / self.reachable as f64
        }
    }

    pub fn frames_per_node(&self) -> f64 {
        self.frames_sent as f64 / self.live_nodes.max(1) as f64
    }
}

impl MeshWorld {
    /// An empty world. `seen_capacity` overrides the core's default seen-set size.
    pub fn new(seed: u64, net: NetworkConfig, max_outgoing: usize) -> Self {
        let mut sim = Sim::new(seed, net);
        let id_rng = sim.rng().fork(0x1d);
        MeshWorld {
            sim,
            protocol_id: ids::protocol_id("rs2p-sim", "Plaintext"),
            max_outgoing,
            seen_capacity: None,
            id_rng,
        }
    }

    pub fn set_seen_capacity(&mut self, capacity: Option<usize>) {
        self.seen_capacity = capacity;
    }

    /// Starts a fresh node (new ID) on an existing, idle `host`.
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
        let mut config = MeshConfig::new(self.protocol_id.clone(), node_id, addr);
        config.max_outgoing = self.max_outgoing;
        if let Some(c) = self.seen_capacity {
            config.seen_capacity = c;
        }
        self.sim.start(host, |now| Mesh::new(config, now))
    }

    /// Adds `count` hosts with a node each, one every `interval_ms`; each but the very first
    /// node of the world dials one random live node that joined before it.
    pub fn grow(&mut self, count: u32, interval_ms: SimTime) {
        for _ in 0..count {
            let host = self.sim.add_host(host_addr(self.sim.hosts()));
            let earlier = self.sim.incarnations();
            let Some(node) = self.spawn(host) else {
                continue;
            };
            if let Some(pick) = self.random_live_below(earlier) {
                self.dial(node, pick);
            }
            let until = self.sim.now() + interval_ms;
            self.sim.run_until(until);
        }
    }

    /// `from` dials the host `to` runs on.
    pub fn dial(&mut self, from: NodeIdx, to: NodeIdx) {
        let Some(addr) = self
            .sim
            .host_of(to)
            .and_then(|h| self.sim.host_addr(h))
            .cloned()
        else {
            return;
        };
        self.sim
            .with_node(from, |m, now| m.connect(&addr.0, addr.1, now));
    }

    /// Crashes `fraction` of the live nodes, chosen at random; returns them.
    pub fn crash_fraction(&mut self, fraction: f64) -> Vec<NodeIdx> {
        let mut alive = self.sim.alive();
        let count = (fraction * alive.len() as f64).round() as usize;
        let mut crashed = Vec::with_capacity(count);
        for _ in 0..count {
            let i = self.sim.rng().below(alive.len() as u64) as usize;
            let node = alive.swap_remove(i);
            if let Some(host) = self.sim.host_of(node) {
                self.sim.crash(host);
                crashed.push(node);
            }
        }
        crashed
    }

    /// Restarts the host of a crashed node with a new node ID, rejoining through `bootstrap`.
    pub fn restart(&mut self, crashed: NodeIdx, bootstrap: NodeIdx) -> Option<NodeIdx> {
        let host = self.sim.host_of(crashed)?;
        let node = self.spawn(host)?;
        self.dial(node, bootstrap);
        Some(node)
    }

    /// Sends one broadcast from `origin` and runs until the network is quiet (or `max_ms`
    /// passed), then counts who got it.
    pub fn broadcast(
        &mut self,
        origin: NodeIdx,
        text: &str,
        max_ms: SimTime,
    ) -> Option<BroadcastOutcome> {
        let before: Vec<(u64, u64)> = self.frame_counts();
        let _ = self.sim.take_events();
        let live = self.sim.alive();
        let reachable = self.sim.component(origin).len().saturating_sub(1);
        let start = self.sim.now();
        let packets = vec![Value::Str(text.to_string())];
        let id = self.sim.with_node(origin, |m, now| {
            m.broadcast(flags::sub::BROADCAST, packets, now)
        })?;
        let went_quiet = self.sim.run_until_quiet(start + max_ms);
        let after = self.frame_counts();
        let (mut frames_sent, mut relayed) = (0, 0);
        for (i, (f1, r1)) in after.iter().enumerate() {
            let (f0, r0) = before.get(i).copied().unwrap_or((0, 0));
            frames_sent += f1.saturating_sub(f0);
            relayed += r1.saturating_sub(r0);
        }
        let mut times: Vec<Option<SimTime>> = vec![None; self.sim.incarnations() as usize];
        let mut delivered_twice = 0;
        let mut counts = vec![0u32; self.sim.incarnations() as usize];
        for e in self.sim.take_events() {
            if let Event::Message(m) = &e.event {
                if m.id == id && e.node != origin {
                    let n = e.node as usize;
                    counts[n] += 1;
                    if counts[n] == 2 {
                        delivered_twice += 1;
                    }
                    times[n].get_or_insert(e.time - start);
                }
            }
        }
        let mut delivery_ms: Vec<SimTime> = times.into_iter().flatten().collect();
        delivery_ms.sort_unstable();
        Some(BroadcastOutcome {
            origin,
            id,
            live_nodes: live.len(),
            reachable,
            reached: delivery_ms.len(),
            delivered_twice,
            frames_sent,
            relayed,
            delivery_ms,
            went_quiet,
        })
    }

    /// `(frames_out, relayed)` per incarnation (zeros for crashed ones).
    fn frame_counts(&self) -> Vec<(u64, u64)> {
        (0..self.sim.incarnations())
            .map(|i| {
                self.sim
                    .node(i)
                    .map(|m| (m.stats().frames_out, m.stats().relayed))
                    .unwrap_or((0, 0))
            })
            .collect()
    }

    /// A random live node among the first `limit` incarnations (tries random picks first,
    /// then falls back to a scan, so it stays cheap while most nodes are alive).
    fn random_live_below(&mut self, limit: u32) -> Option<NodeIdx> {
        if limit == 0 {
            return None;
        }
        for _ in 0..32 {
            let i = self.sim.rng().below(u64::from(limit)) as NodeIdx;
            if self.sim.is_alive(i) {
                return Some(i);
            }
        }
        let alive: Vec<NodeIdx> = (0..limit).filter(|i| self.sim.is_alive(*i)).collect();
        if alive.is_empty() {
            return None;
        }
        Some(alive[self.sim.rng().below(alive.len() as u64) as usize])
    }

    /// A random live node.
    pub fn random_live(&mut self) -> Option<NodeIdx> {
        let alive = self.sim.alive();
        if alive.is_empty() {
            return None;
        }
        let i = self.sim.rng().below(alive.len() as u64) as usize;
        Some(alive[i])
    }
}

/// Settings of one [`study`] run.
#[derive(Clone, Debug)]
pub struct StudyConfig {
    pub nodes: u32,
    pub seed: u64,
    pub max_outgoing: usize,
    pub join_interval_ms: SimTime,
    /// Quiet time after joining and after the crash, before measuring.
    pub settle_ms: SimTime,
    pub losses: Vec<f64>,
    pub crash_fraction: f64,
    /// Longest a broadcast is followed.
    pub broadcast_window_ms: SimTime,
    pub network: NetworkConfig,
    pub seen_capacity: Option<usize>,
}

impl StudyConfig {
    pub fn new(nodes: u32, seed: u64) -> Self {
        StudyConfig {
            nodes,
            seed,
            max_outgoing: 4,
            join_interval_ms: 10,
            settle_ms: 10_000,
            losses: vec![0.0, 0.05],
            crash_fraction: 0.10,
            broadcast_window_ms: 120_000,
            network: NetworkConfig::default(),
            seen_capacity: None,
        }
    }
}

/// One measured broadcast of a study.
#[derive(Clone, Debug)]
pub struct Phase {
    /// e.g. "loss 0%" or "after crash, loss 5%".
    pub label: String,
    pub loss: f64,
    pub after_crash: bool,
    pub outcome: BroadcastOutcome,
}

/// What a study measured.
#[derive(Clone, Debug)]
pub struct StudyResult {
    pub config: StudyConfig,
    pub open_links: usize,
    pub mean_degree: f64,
    pub max_degree: usize,
    /// Size of the origin's component right after joining, over all nodes.
    pub joined_component: usize,
    pub phases: Vec<Phase>,
    /// Resident memory growth while joining, divided by the node count (bytes).
    pub rss_per_node: Option<u64>,
    /// Heap growth while joining and settling, divided by the node count (bytes): the nodes'
    /// own state plus the simulator's per-node and per-link tables and any frames still in
    /// flight. Unlike RSS it does not count pages the allocator keeps after peaks.
    pub heap_per_node: Option<u64>,
    pub wall_ms: u128,
    pub events: u64,
    /// The simulator's whole-run network counters.
    pub net: NetCounters,
    pub trace_hash: u64,
    /// Where the run's time and traffic went, stage by stage.
    pub stages: Vec<StageCost>,
}

/// The cost of one stage of a study: host (wall) time and the simulated traffic it handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCost {
    /// "join", "settle", "crash + settle" or "broadcasts".
    pub name: &'static str,
    pub wall_ms: u128,
    pub events: u64,
    pub frames: u64,
    pub bytes: u64,
}

/// Measures stages as they end: each [`StageMeter::end`] records what happened since the
/// previous one.
struct StageMeter {
    since: std::time::Instant,
    counters: NetCounters,
    stages: Vec<StageCost>,
}

impl StageMeter {
    fn new(counters: &NetCounters) -> Self {
        StageMeter {
            since: std::time::Instant::now(),
            counters: counters.clone(),
            stages: Vec::new(),
        }
    }

    fn end(&mut self, name: &'static str, counters: &NetCounters) {
        self.stages.push(StageCost {
            name,
            wall_ms: self.since.elapsed().as_millis(),
            events: counters.events - self.counters.events,
            frames: counters.frames - self.counters.frames,
            bytes: counters.bytes - self.counters.bytes,
        });
        self.since = std::time::Instant::now();
        self.counters = counters.clone();
    }
}

/// Runs the mesh study described by `cfg`.
pub fn study(cfg: &StudyConfig) -> StudyResult {
    let started = std::time::Instant::now();
    let rss_before = resident_bytes();
    let heap_before = heap_in_use_bytes();
    let mut world = MeshWorld::new(cfg.seed, cfg.network.clone(), cfg.max_outgoing);
    world.set_seen_capacity(cfg.seen_capacity);
    let mut meter = StageMeter::new(world.sim.counters());
    world.grow(cfg.nodes, cfg.join_interval_ms);
    meter.end("join", world.sim.counters());
    let until = world.sim.now() + cfg.settle_ms;
    world.sim.run_until(until);
    meter.end("settle", world.sim.counters());
    let rss_after = resident_bytes();
    let heap_after = heap_in_use_bytes();
    let heap_per_node = match (heap_before, heap_after) {
        (Some(b), Some(a)) if cfg.nodes > 0 => Some(a.saturating_sub(b) / u64::from(cfg.nodes)),
        _ => None,
    };
    let rss_per_node = match (rss_before, rss_after) {
        (Some(b), Some(a)) if cfg.nodes > 0 => Some(a.saturating_sub(b) / u64::from(cfg.nodes)),
        _ => None,
    };
    let alive = world.sim.alive();
    let degrees: Vec<usize> = alive
        .iter()
        .map(|n| world.sim.neighbours(*n).len())
        .collect();
    let max_degree = degrees.iter().copied().max().unwrap_or(0);
    let mean_degree = degrees.iter().sum::<usize>() as f64 / degrees.len().max(1) as f64;
    let open_links = world.sim.open_links();
    let joined_component = alive
        .first()
        .map(|n| world.sim.component(*n).len())
        .unwrap_or(0);

    let mut phases = Vec::new();
    for after_crash in [false, true] {
        if after_crash {
            meter.end("broadcasts", world.sim.counters());
            world.crash_fraction(cfg.crash_fraction);
            let until = world.sim.now() + cfg.settle_ms;
            world.sim.run_until(until);
            meter.end("crash + settle", world.sim.counters());
        }
        for &loss in &cfg.losses {
            let mut net = cfg.network.clone();
            net.loss = loss;
            world.sim.set_network(net);
            let Some(origin) = world.random_live() else {
                continue;
            };
            let label = format!(
                "{}loss {}%",
                if after_crash { "after crash, " } else { "" },
                (loss * 100.0).round()
            );
            if let Some(outcome) = world.broadcast(origin, &label, cfg.broadcast_window_ms) {
                phases.push(Phase {
                    label,
                    loss,
                    after_crash,
                    outcome,
                });
            }
        }
    }
    meter.end("broadcasts", world.sim.counters());
    StudyResult {
        config: cfg.clone(),
        open_links,
        mean_degree,
        max_degree,
        joined_component,
        phases,
        rss_per_node,
        heap_per_node,
        wall_ms: started.elapsed().as_millis(),
        events: world.sim.counters().events,
        net: world.sim.counters().clone(),
        trace_hash: world.sim.trace_hash(),
        stages: meter.stages,
    }
}
