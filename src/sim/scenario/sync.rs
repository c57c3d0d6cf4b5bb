//! The sync partition study: N production sync nodes (`Mesh<SyncHandler>`, the same core the
//! API runs) join through peer lists, a partition splits the hosts into two halves, keys are
//! written on both sides (each side its own keys, plus a few keys written on both sides), the
//! partition heals, and the study samples once a virtual second how many nodes hold every key
//! with the value written.
//!
//! After the observation, a few fresh nodes join the full table, and the study counts what
//! that costs: dump entries whispered on handshakes, and dump entries passed on.
//!
//! Local writes are the sans-IO equivalent of `api::SyncTable::set`: `SyncShared::write_local`
//! lease-checks and applies the write and hands the frame to `Mesh::broadcast` with the same
//! timestamp. Not here: any change to what the sync core does after a heal (it reconciles
//! through handshake dumps on connections that open again, passed on by every node whose
//! table they changed; this study measures that).

use super::host_addr;
use crate::proto::mesh::{Mesh, MeshConfig};
use crate::proto::sync::{protocol_subnet, LocalWrite, SyncHandler, SyncShared};
use crate::sim::memory::heap_in_use_bytes;
use crate::sim::network::NetworkConfig;
use crate::sim::queue::SimTime;
use crate::sim::rng::Rng;
use crate::sim::world::{NodeIdx, Sim};
use crate::wire::{ids, Value};
use std::sync::Arc;

/// One simulated sync node: the production mesh core with the production sync handler.
pub type SyncNode = Mesh<SyncHandler>;

/// A simulated network of sync nodes.
pub struct SyncWorld {
    pub sim: Sim<SyncNode>,
    protocol_id: String,
    max_outgoing: usize,
    leasing: bool,
    /// Whether the mesh core redials lost links (`MeshConfig::redial_lost_peers`).
    pub mesh_redial: bool,
    id_rng: Rng,
}

impl SyncWorld {
    pub fn new(seed: u64, net: NetworkConfig, max_outgoing: usize, leasing: bool) -> Self {
        let mut sim = Sim::new(seed, net);
        // Sync frames the handler consumes raise no user events; the rest are not read here.
        sim.keep_events(false);
        let id_rng = sim.rng().fork(0x5c);
        SyncWorld {
            sim,
            protocol_id: ids::protocol_id(&protocol_subnet("rs2p-sim", leasing), "Plaintext"),
            max_outgoing,
            leasing,
            mesh_redial: true,
            id_rng,
        }
    }

    /// Starts a fresh sync node (new ID, empty table) on an idle `host`.
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
        config.redial_lost_peers = self.mesh_redial;
        let shared = Arc::new(SyncShared::new(self.leasing, 1));
        self.sim.start(host, |now| {
            Mesh::with_handler(config, SyncHandler::new(shared), now)
        })
    }

    /// Adds `count` hosts with a node each, one every `interval_ms`; each dials one random
    /// live node that joined before it.
    pub fn grow(&mut self, count: u32, interval_ms: SimTime) {
        for _ in 0..count {
            let host = self.sim.add_host(host_addr(self.sim.hosts()));
            let earlier = self.sim.incarnations();
            let Some(node) = self.spawn(host) else {
                continue;
            };
            let live: Vec<NodeIdx> = (0..earlier).filter(|i| self.sim.is_alive(*i)).collect();
            if !live.is_empty() {
                let pick = live[self.sim.rng().below(live.len() as u64) as usize];
                if let Some(addr) = self
                    .sim
                    .host_of(pick)
                    .and_then(|h| self.sim.host_addr(h))
                    .cloned()
                {
                    self.sim
                        .with_node(node, |m, now| m.connect(&addr.0, addr.1, now));
                }
            }
            let until = self.sim.now() + interval_ms;
            self.sim.run_until(until);
        }
    }

    /// A local store on `node`, as `SyncTable::set` does it: applied and broadcast with one
    /// timestamp. False if the node is down or the write was refused (lease).
    pub fn write(&mut self, node: NodeIdx, key: &[u8], value: Value) -> bool {
        let write = LocalWrite::Store {
            key: key.to_vec(),
            value,
        };
        self.sim
            .with_node(node, |m, now| {
                let shared = Arc::clone(m.handler().shared());
                let me = m.config().node_id.clone();
                shared
                    .write_local(me.as_bytes(), write, now, |sub_flag, packets| {
                        m.broadcast(sub_flag, packets, now);
                        Ok::<(), ()>(())
                    })
                    .is_ok()
            })
            .unwrap_or(false)
    }

    /// The value `node` holds at `key`.
    pub fn value(&self, node: NodeIdx, key: &[u8]) -> Option<Value> {
        let m = self.sim.node(node)?;
        let table = m.handler().shared().read();
        table.get(key).map(|e| e.value.clone())
    }

    /// Open connections between a host of `side_a` and one outside it.
    pub fn links_across(&self, side_a: impl Fn(u32) -> bool) -> usize {
        let mut count = 0;
        for n in self.sim.alive() {
            let Some(h) = self.sim.host_of(n) else {
                continue;
            };
            if !side_a(h) {
                continue;
            }
            count += self
                .sim
                .neighbours(n)
                .into_iter()
                .filter(|m| self.sim.host_of(*m).is_some_and(|hm| !side_a(hm)))
                .count();
        }
        count
    }
}

/// Settings of the partition study.
#[derive(Clone, Debug)]
pub struct SyncStudyConfig {
    pub nodes: u32,
    pub seed: u64,
    pub network: NetworkConfig,
    pub max_outgoing: usize,
    pub leasing: bool,
    pub join_interval_ms: SimTime,
    pub settle_ms: SimTime,
    /// Keys written on each side only.
    pub keys_per_side: u32,
    /// Keys written on both sides (different values).
    pub conflict_keys: u32,
    /// How long the partition lasts (the writes are spread over its first half).
    pub partition_ms: SimTime,
    /// How long after the heal the study watches.
    pub observe_ms: SimTime,
    /// After the heal, redial every connection the partition cut at once (as an application
    /// that reconnects would).
    pub redial_after_heal: bool,
    /// The mesh core's own redial of lost links (`MeshConfig::redial_lost_peers`, on in
    /// production); off, nothing crosses a healed partition unless the scenario redials.
    pub mesh_redial: bool,
    /// Fresh nodes that join the full table after the observation (one every
    /// `join_interval_ms`), to measure what a join costs.
    pub late_joiners: u32,
}

impl SyncStudyConfig {
    pub fn new(nodes: u32, seed: u64) -> Self {
        SyncStudyConfig {
            nodes,
            seed,
            network: NetworkConfig::default(),
            max_outgoing: 4,
            leasing: true,
            join_interval_ms: 10,
            settle_ms: 10_000,
            keys_per_side: 50,
            conflict_keys: 10,
            partition_ms: 30_000,
            observe_ms: 120_000,
            redial_after_heal: false,
            mesh_redial: true,
            late_joiners: 10,
        }
    }

    /// The variants the study reports: no redial at all, the mesh core's own redial (the
    /// core as shipped), and the cut links dialled again by the scenario right after the heal.
    pub fn variants(nodes: u32, seed: u64) -> Vec<SyncStudyConfig> {
        let base = SyncStudyConfig::new(nodes, seed);
        let mut none = base.clone();
        none.mesh_redial = false;
        let mut scenario = base.clone();
        scenario.redial_after_heal = true;
        vec![none, base, scenario]
    }

    /// A short name of the variant, for tables and charts.
    pub fn variant(&self) -> &'static str {
        match (self.redial_after_heal, self.mesh_redial) {
            (true, _) => "cut links redialled at once",
            (false, true) => "core alone (mesh redials)",
            (false, false) => "no redial",
        }
    }
}

/// One sample after the heal.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncSample {
    /// Virtual ms after the heal.
    pub after_heal_ms: SimTime,
    /// Share of live nodes holding every one-sided key with its value.
    pub nodes_complete: f64,
    /// Share of (node, one-sided key) pairs holding the value written.
    pub pairs_converged: f64,
    /// Share of conflict keys on which all live nodes hold the same value.
    pub conflicts_agreed: f64,
    /// Share of (node, conflict key) pairs holding one of the values written.
    pub conflict_pairs_held: f64,
    /// Open connections between the two halves.
    pub links_across: usize,
}

/// What the partition study measured.
#[derive(Clone, Debug)]
pub struct SyncStudyResult {
    pub config: SyncStudyConfig,
    /// Open connections between the halves just before the partition.
    pub links_across_before: usize,
    /// Share of (node, key) pairs converged on each side's own keys just before the heal,
    /// counting only the nodes of the writer's side.
    pub own_side_converged: f64,
    pub samples: Vec<SyncSample>,
    /// First sample at which every live node held every one-sided key.
    pub full_convergence_ms: Option<SimTime>,
    /// Handshake-dump entries whispered after the heal.
    pub dump_entries_after_heal: u64,
    /// Dump entries passed on after the heal.
    pub passed_on_after_heal: u64,
    /// Share of the (node, conflict key) pairs held just before the heal that still hold the
    /// same value at the end (a dump entry never replaces a held value: 1.0).
    pub conflicts_kept: f64,
    /// What the late joiners cost.
    pub late_join: JoinCost,
    pub heap_per_node: Option<f64>,
    pub trace_hash: u64,
    pub wall_ms: u128,
}

/// The traffic of fresh nodes joining the full table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinCost {
    pub joiners: u32,
    /// Keys in the table they joined.
    pub table_keys: usize,
    /// Dump entries whispered on handshakes meanwhile (by everyone).
    pub dump_entries: u64,
    /// Dump entries passed on meanwhile.
    pub passed_on: u64,
    /// (neighbour, entry) pairs not passed on because the neighbour held the key: what
    /// passing every changing entry on to every other neighbour would have added.
    pub pass_on_skipped: u64,
    /// Joiners holding every key at the end.
    pub complete: u32,
}

impl SyncStudyResult {
    pub fn last(&self) -> Option<&SyncSample> {
        self.samples.last()
    }
}

/// Runs the partition study.
pub fn sync_study(cfg: &SyncStudyConfig) -> SyncStudyResult {
    let wall = std::time::Instant::now();
    let heap0 = heap_in_use_bytes();
    let mut w = SyncWorld::new(cfg.seed, cfg.network.clone(), cfg.max_outgoing, cfg.leasing);
    w.mesh_redial = cfg.mesh_redial;
    w.grow(cfg.nodes, cfg.join_interval_ms);
    let t = w.sim.now() + cfg.settle_ms;
    w.sim.run_until(t);
    let heap_per_node = match (heap0, heap_in_use_bytes()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / f64::from(cfg.nodes.max(1))),
        _ => None,
    };
    let half = cfg.nodes / 2;
    let side_a = move |h: u32| h < half;
    let links_across_before = w.links_across(side_a);
    let cut: Vec<(NodeIdx, NodeIdx)> = w
        .sim
        .alive()
        .into_iter()
        .filter(|n| w.sim.host_of(*n).is_some_and(side_a))
        .flat_map(|n| {
            w.sim
                .neighbours(n)
                .into_iter()
                .filter(|m| w.sim.host_of(*m).is_some_and(|h| !side_a(h)))
                .map(move |m| (n, m))
                .collect::<Vec<_>>()
        })
        .collect();
    w.sim.partition(|h| u32::from(!side_a(h)));

    // Writes, spread over the first half of the partition, from random nodes of each side.
    let alive = w.sim.alive();
    let (a_nodes, b_nodes): (Vec<NodeIdx>, Vec<NodeIdx>) = alive
        .iter()
        .partition(|n| w.sim.host_of(**n).is_some_and(side_a));
    let mut expected: Vec<(Vec<u8>, Value, bool)> = Vec::new(); // (key, value, written on A)
    let mut conflicts: Vec<Vec<u8>> = Vec::new();
    let writes = 2 * cfg.keys_per_side + 2 * cfg.conflict_keys;
    let gap = (cfg.partition_ms / 2) / SimTime::from(writes.max(1));
    let start = w.sim.now() + 1000;
    w.sim.run_until(start);
    for i in 0..cfg.keys_per_side {
        for (side, nodes) in [(true, &a_nodes), (false, &b_nodes)] {
            if nodes.is_empty() {
                continue;
            }
            let node = nodes[w.sim.rng().below(nodes.len() as u64) as usize];
            let key = format!("{}{i}", if side { "a" } else { "b" }).into_bytes();
            let value = Value::Str(format!("v-{}-{i}", if side { "a" } else { "b" }));
            if w.write(node, &key, value.clone()) {
                expected.push((key, value, side));
            }
            let t = w.sim.now() + gap;
            w.sim.run_until(t);
        }
    }
    for i in 0..cfg.conflict_keys {
        let key = format!("both{i}").into_bytes();
        for (side, nodes) in [("a", &a_nodes), ("b", &b_nodes)] {
            if nodes.is_empty() {
                continue;
            }
            let node = nodes[w.sim.rng().below(nodes.len() as u64) as usize];
            w.write(node, &key, Value::Str(format!("v-{side}-{i}")));
            let t = w.sim.now() + gap;
            w.sim.run_until(t);
        }
        conflicts.push(key);
    }
    let heal_at = (start + cfg.partition_ms).max(w.sim.now());
    w.sim.run_until(heal_at);

    // Before the heal: each side should hold its own keys.
    let mut own = (0usize, 0usize);
    for n in w.sim.alive() {
        let on_a = w.sim.host_of(n).is_some_and(side_a);
        for (key, value, written_on_a) in &expected {
            if *written_on_a == on_a {
                own.1 += 1;
                own.0 += usize::from(w.value(n, key).as_ref() == Some(value));
            }
        }
    }
    let held_before: Vec<Vec<Option<Value>>> = w
        .sim
        .alive()
        .into_iter()
        .map(|n| conflicts.iter().map(|k| w.value(n, k)).collect())
        .collect();
    let alive_before = w.sim.alive();
    let before_heal = counters(&w);
    w.sim.heal();
    if cfg.redial_after_heal {
        for (from, to) in &cut {
            if let Some(addr) = w.sim.host_of(*to).and_then(|h| w.sim.host_addr(h)).cloned() {
                w.sim
                    .with_node(*from, |m, now| m.connect(&addr.0, addr.1, now));
            }
        }
    }
    let mut samples = Vec::new();
    let mut full_convergence_ms = None;
    let mut after = 0;
    loop {
        let sample = sample(&w, &expected, &conflicts, after, side_a);
        if sample.nodes_complete >= 1.0 && full_convergence_ms.is_none() {
            full_convergence_ms = Some(after);
        }
        samples.push(sample);
        if after >= cfg.observe_ms {
            break;
        }
        after += 1000;
        w.sim.run_until(heal_at + after);
    }
    let after_heal = counters(&w);
    let (mut kept, mut held) = (0usize, 0usize);
    for (n, before) in alive_before.iter().zip(&held_before) {
        for (key, value) in conflicts.iter().zip(before) {
            if value.is_some() {
                held += 1;
                kept += usize::from(w.value(*n, key) == *value);
            }
        }
    }
    let late_join = join_cost(&mut w, cfg, &expected, &conflicts);
    SyncStudyResult {
        config: cfg.clone(),
        links_across_before,
        own_side_converged: own.0 as f64 / own.1.max(1) as f64,
        samples,
        full_convergence_ms,
        dump_entries_after_heal: after_heal.dumped - before_heal.dumped,
        passed_on_after_heal: after_heal.passed_on - before_heal.passed_on,
        conflicts_kept: kept as f64 / held.max(1) as f64,
        late_join,
        heap_per_node,
        trace_hash: w.sim.trace_hash(),
        wall_ms: wall.elapsed().as_millis(),
    }
}

/// Sums of the sync counters over the live nodes.
#[derive(Clone, Copy, Default)]
struct Counters {
    dumped: u64,
    passed_on: u64,
    skipped: u64,
}

fn counters(w: &SyncWorld) -> Counters {
    let mut sum = Counters::default();
    for m in w.sim.alive().into_iter().filter_map(|n| w.sim.node(n)) {
        let stats = m.handler().shared().stats();
        sum.dumped += stats.dump_entries_sent;
        sum.passed_on += stats.dump_entries_passed_on;
        sum.skipped += stats.pass_on_skipped;
    }
    sum
}

/// `cfg.late_joiners` fresh nodes join the table as the first nodes did; counted until the
/// network has been quiet for 10 s.
fn join_cost(
    w: &mut SyncWorld,
    cfg: &SyncStudyConfig,
    expected: &[(Vec<u8>, Value, bool)],
    conflicts: &[Vec<u8>],
) -> JoinCost {
    let before = counters(w);
    let first_new = w.sim.incarnations();
    let table_keys = w
        .sim
        .alive()
        .first()
        .and_then(|&n| w.sim.node(n))
        .map_or(0, |m| m.handler().shared().read().len());
    w.grow(cfg.late_joiners, cfg.join_interval_ms);
    let t = w.sim.now() + 10_000;
    w.sim.run_until(t);
    let after = counters(w);
    let complete = (first_new..w.sim.incarnations())
        .filter(|&n| {
            expected
                .iter()
                .all(|(k, v, _)| w.value(n, k).as_ref() == Some(v))
                && conflicts.iter().all(|k| w.value(n, k).is_some())
        })
        .count();
    JoinCost {
        joiners: cfg.late_joiners,
        table_keys,
        dump_entries: after.dumped - before.dumped,
        passed_on: after.passed_on - before.passed_on,
        pass_on_skipped: after.skipped - before.skipped,
        complete: u32::try_from(complete).unwrap_or(u32::MAX),
    }
}

fn sample(
    w: &SyncWorld,
    expected: &[(Vec<u8>, Value, bool)],
    conflicts: &[Vec<u8>],
    after_heal_ms: SimTime,
    side_a: impl Fn(u32) -> bool,
) -> SyncSample {
    let alive = w.sim.alive();
    let (mut complete, mut pairs) = (0usize, 0usize);
    for &n in &alive {
        let held = expected
            .iter()
            .filter(|(k, v, _)| w.value(n, k).as_ref() == Some(v))
            .count();
        pairs += held;
        complete += usize::from(held == expected.len());
    }
    let conflict_held: usize = alive
        .iter()
        .map(|&n| {
            conflicts
                .iter()
                .filter(|k| w.value(n, k).is_some_and(|v| is_conflict_value(k, &v)))
                .count()
        })
        .sum();
    let agreed = conflicts
        .iter()
        .filter(|k| {
            let mut values = alive.iter().map(|&n| w.value(n, k));
            let first = values.next().flatten();
            first.is_some() && values.all(|v| v == first)
        })
        .count();
    SyncSample {
        after_heal_ms,
        nodes_complete: complete as f64 / alive.len().max(1) as f64,
        pairs_converged: pairs as f64 / (alive.len() * expected.len()).max(1) as f64,
        conflicts_agreed: agreed as f64 / conflicts.len().max(1) as f64,
        conflict_pairs_held: conflict_held as f64 / (alive.len() * conflicts.len()).max(1) as f64,
        links_across: w.links_across(side_a),
    }
}

/// Whether `value` is one of the two values the study writes at conflict key `key`
/// (`both{i}` → `v-a-{i}` or `v-b-{i}`).
fn is_conflict_value(key: &[u8], value: &Value) -> bool {
    let (Some(i), Value::Str(v)) = (key.strip_prefix(b"both"), value) else {
        return false;
    };
    let i = String::from_utf8_lossy(i);
    *v == format!("v-a-{i}") || *v == format!("v-b-{i}")
}

fn variant(r: &SyncStudyResult) -> &'static str {
    r.config.variant()
}

/// The study as Markdown: convergence after the heal (one row per variant), then what the
/// late joiners cost.
pub fn sync_table(results: &[SyncStudyResult]) -> String {
    let mut out = String::from(
        "| nodes | after the heal | links across before / after | own side before heal | one-sided keys: nodes with every key | one-sided (node, key) pairs | full convergence | conflict (node, key) pairs holding a written value | conflict values held before the heal kept | conflict keys agreed | dump entries / passed on after heal | heap per node | wall |\n\
         |---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let Some(last) = r.last() else { continue };
        out.push_str(&format!(
            "| {} | {} | {} / {} | {:.1} % | {:.1} % | {:.1} % | {} | {:.1} % | {:.1} % | {:.0} % | {} / {} | {} | {:.1} s |\n",
            r.config.nodes,
            variant(r),
            r.links_across_before,
            last.links_across,
            r.own_side_converged * 100.0,
            last.nodes_complete * 100.0,
            last.pairs_converged * 100.0,
            r.full_convergence_ms
                .map_or("never".to_string(), |t| format!(
                    "{:.0} s",
                    t as f64 / 1000.0
                )),
            last.conflict_pairs_held * 100.0,
            r.conflicts_kept * 100.0,
            last.conflicts_agreed * 100.0,
            r.dump_entries_after_heal,
            r.passed_on_after_heal,
            r.heap_per_node
                .map_or("—".to_string(), |b| format!("{:.1} KiB", b / 1024.0)),
            r.wall_ms as f64 / 1000.0,
        ));
    }
    out.push_str(
        "\nFresh nodes joining the full table afterwards:\n\n\
         | variant | joiners | keys in the table | dump entries whispered on handshakes | dump entries passed on | skipped (neighbour held the key) | joiners with every key |\n\
         |:---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let j = &r.late_join;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            variant(r),
            j.joiners,
            j.table_keys,
            j.dump_entries,
            j.passed_on,
            j.pass_on_skipped,
            j.complete
        ));
    }
    out
}

/// Share of nodes holding every key over time after the heal, one line per variant.
pub fn sync_chart(results: &[SyncStudyResult]) -> crate::sim::svg::LineChart {
    use crate::sim::svg::{LineChart, Series};
    let mut series = Vec::new();
    for r in results {
        let name = r.config.variant();
        series.push(Series {
            label: format!("{name}: all keys"),
            points: r
                .samples
                .iter()
                .map(|s| (s.after_heal_ms as f64 / 1000.0, s.nodes_complete * 100.0))
                .collect(),
            dashed: false,
        });
        series.push(Series {
            label: format!("{name}: pairs"),
            points: r
                .samples
                .iter()
                .map(|s| (s.after_heal_ms as f64 / 1000.0, s.pairs_converged * 100.0))
                .collect(),
            dashed: true,
        });
    }
    let c = results.first().map(|r| r.config.clone());
    LineChart {
        title: format!(
            "Sync table, {} nodes: keys converged after a partition heals",
            c.as_ref().map_or(0, |c| c.nodes)
        ),
        subtitle: c.map_or(String::new(), |c| {
            format!(
                "seed {}, two halves, {} keys per side + {} on both, partition {} s, max_outgoing {}",
                c.seed,
                c.keys_per_side,
                c.conflict_keys,
                c.partition_ms / 1000,
                c.max_outgoing
            )
        }),
        x_label: "virtual s after the heal".into(),
        y_label: "% converged".into(),
        log_x: false,
        series,
    }
}
