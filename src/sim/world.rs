//! The simulation engine: N protocol instances, an in-memory TCP-like network between them and
//! a virtual clock, driven by one event queue. It plays the driver's part of the mesh
//! contract (`proto::mesh` header): it answers `Dial` with `on_accepted`/`on_connected` or
//! `on_closed`, turns `Transmit` into `on_data` at the far end after latency, honours `Close`,
//! ticks every node once a virtual second and drains `poll_output` after every input.
//!
//! Not here: what the nodes say (the production core decides) or any scenario (see
//! [`super::scenario`]). Nothing here reads a real clock or touches a socket.
//!
//! Addresses are virtual: a host is an `(ip text, port)` pair that is only ever looked up in a
//! table. A node *incarnation* ([`NodeIdx`]) lives on a host ([`HostIdx`]); a crash ends the
//! incarnation, a restart starts a new one on the same host and address.

use std::collections::{BTreeMap, HashMap};

use super::network::NetworkConfig;
use super::queue::{EventQueue, SimTime};
use super::rng::Rng;
use super::trace::TraceHash;
use crate::proto::chord::ChordNode;
use crate::proto::mesh::{ConnId, DropReason, Event, Mesh, MeshHandler, Millis, Output};

/// One node incarnation (index into the simulator's node table; never reused).
pub type NodeIdx = u32;
/// One host: an address that incarnations come and go on.
pub type HostIdx = u32;
type LinkId = u32;

/// What the simulator needs from a protocol instance: the driver-facing half of the mesh
/// contract. [`Mesh`] implements it with any handler (plain, sync), and so does [`ChordNode`].
pub trait SimNode {
    fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId;
    fn on_connected(&mut self, conn: ConnId, now_ms: Millis);
    fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis);
    fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis);
    fn on_tick(&mut self, now_ms: Millis);
    fn poll_output(&mut self) -> Option<Output>;
}

impl<H: MeshHandler> SimNode for Mesh<H> {
    fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId {
        Mesh::on_accepted(self, remote, now_ms)
    }
    fn on_connected(&mut self, conn: ConnId, now_ms: Millis) {
        Mesh::on_connected(self, conn, now_ms)
    }
    fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis) {
        Mesh::on_data(self, conn, data, now_ms)
    }
    fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        Mesh::on_closed(self, conn, reason, now_ms)
    }
    fn on_tick(&mut self, now_ms: Millis) {
        Mesh::on_tick(self, now_ms)
    }
    fn poll_output(&mut self) -> Option<Output> {
        Mesh::poll_output(self)
    }
}

impl SimNode for ChordNode {
    fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId {
        ChordNode::on_accepted(self, remote, now_ms)
    }
    fn on_connected(&mut self, conn: ConnId, now_ms: Millis) {
        ChordNode::on_connected(self, conn, now_ms)
    }
    fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis) {
        ChordNode::on_data(self, conn, data, now_ms)
    }
    fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        ChordNode::on_closed(self, conn, reason, now_ms)
    }
    fn on_tick(&mut self, now_ms: Millis) {
        ChordNode::on_tick(self, now_ms)
    }
    fn poll_output(&mut self) -> Option<Output> {
        ChordNode::poll_output(self)
    }
}

/// An [`Event`] a node emitted, with when and where.
#[derive(Debug)]
pub struct NodeEvent {
    pub time: SimTime,
    pub node: NodeIdx,
    pub event: Event,
}

/// A frame some node wrote while [`Sim::capture_frames`] was on.
#[derive(Clone, Debug)]
pub struct CapturedFrame {
    pub time: SimTime,
    pub from: NodeIdx,
    /// The far end of the connection, if the simulator still knew it.
    pub to: Option<NodeIdx>,
    /// The whole frame (length prefix included).
    pub frame: Vec<u8>,
}

/// Whole-network counters kept by the simulator itself (the nodes keep their own).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    pub events: u64,
    pub dials: u64,
    pub dials_failed: u64,
    pub frames: u64,
    pub bytes: u64,
    /// Frames written on a connection the simulator no longer knows or that was cut.
    pub frames_on_dead_links: u64,
    /// Frames that arrived at an end that had closed or crashed.
    pub frames_undelivered: u64,
    /// Frames that were delayed by at least one retransmission.
    pub frames_retransmitted: u64,
}

enum Ev {
    /// The dial's SYN reached the target host.
    Accept {
        link: LinkId,
    },
    /// The SYN-ACK reached the dialler.
    Connected {
        link: LinkId,
    },
    DialFailed {
        node: NodeIdx,
        conn: ConnId,
    },
    Deliver {
        link: LinkId,
        to: u8,
        data: Vec<u8>,
    },
    /// The far end closed (FIN/RST reached `to`).
    PeerClosed {
        link: LinkId,
        to: u8,
    },
    Tick {
        node: NodeIdx,
    },
}

#[derive(Clone, Copy, Default)]
struct Lane {
    /// When the sender's side of the link is free to put the next frame on the wire.
    busy_until_us: u64,
    /// Arrival time of the last frame sent this way (FIFO floor).
    last_arrival: SimTime,
}

/// One connection. End 0 dialled, end 1 accepted.
struct Link {
    node: [NodeIdx; 2],
    conn: [ConnId; 2],
    accepted: bool,
    open: [bool; 2],
    /// Cut by a partition: frames in flight are lost with the connection.
    cut: bool,
    latency: u64,
    /// `lane[s]` carries frames from end `s` to end `1 - s`.
    lane: [Lane; 2],
}

struct NodeSlot<N> {
    /// `None` once crashed.
    proto: Option<N>,
    host: HostIdx,
    conns: BTreeMap<ConnId, LinkId>,
}

struct Host {
    addr: (String, u16),
    current: Option<NodeIdx>,
    group: u32,
}

/// The simulator. See the module header.
pub struct Sim<N> {
    /// Unix milliseconds at virtual time 0 (nodes see `epoch_ms + now`).
    epoch_ms: Millis,
    now: SimTime,
    tick_ms: u64,
    queue: EventQueue<Ev>,
    pending_non_tick: usize,
    net: NetworkConfig,
    rng: Rng,
    nodes: Vec<NodeSlot<N>>,
    hosts: Vec<Host>,
    by_addr: HashMap<(String, u16), HostIdx>,
    links: Vec<Link>,
    trace: TraceHash,
    events: Vec<NodeEvent>,
    /// Keep the core's events (`take_events`)? Studies that never read them turn this off.
    keep_events: bool,
    /// Frames written while capturing.
    captured: Option<Vec<CapturedFrame>>,
    counters: NetCounters,
}

/// Virtual time 0 is 2023-11-14T22:13:20Z, so message times look real.
pub const DEFAULT_EPOCH_MS: Millis = 1_700_000_000_000;

impl<N: SimNode> Sim<N> {
    pub fn new(seed: u64, net: NetworkConfig) -> Self {
        Sim {
            epoch_ms: DEFAULT_EPOCH_MS,
            now: 0,
            tick_ms: 1000,
            queue: EventQueue::default(),
            pending_non_tick: 0,
            net,
            rng: Rng::new(seed),
            nodes: Vec::new(),
            hosts: Vec::new(),
            by_addr: HashMap::new(),
            links: Vec::new(),
            trace: TraceHash::default(),
            events: Vec::new(),
            keep_events: true,
            captured: None,
            counters: NetCounters::default(),
        }
    }

    // ----- clock and inspection -------------------------------------------------------------

    /// Virtual milliseconds since the start.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// What the nodes see as the time: Unix milliseconds.
    pub fn now_ms(&self) -> Millis {
        self.epoch_ms + self.now
    }

    pub fn epoch_ms(&self) -> Millis {
        self.epoch_ms
    }

    pub fn network(&self) -> &NetworkConfig {
        &self.net
    }

    /// Change the network (e.g. the loss rate) from now on; existing links keep their latency.
    pub fn set_network(&mut self, net: NetworkConfig) {
        self.net = net;
    }

    pub fn trace_hash(&self) -> u64 {
        self.trace.value()
    }

    pub fn counters(&self) -> &NetCounters {
        &self.counters
    }

    /// The simulator's own RNG, for scenarios (so one seed drives everything).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Keep the nodes' events for [`Sim::take_events`] (the default) or drop them at once.
    pub fn keep_events(&mut self, keep: bool) {
        self.keep_events = keep;
        if !keep {
            self.events.clear();
        }
    }

    /// Starts (or restarts, emptying) a copy of every frame written from now on, for a study
    /// that wants to see what travelled (e.g. which requests were forwarded).
    pub fn capture_frames(&mut self, on: bool) {
        self.captured = on.then(Vec::new);
    }

    /// Frames written since capturing started or since the last call.
    pub fn take_captured(&mut self) -> Vec<CapturedFrame> {
        self.captured
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Events emitted since the last call.
    pub fn take_events(&mut self) -> Vec<NodeEvent> {
        std::mem::take(&mut self.events)
    }

    /// A live node incarnation.
    pub fn node(&self, idx: NodeIdx) -> Option<&N> {
        self.nodes.get(idx as usize)?.proto.as_ref()
    }

    pub fn is_alive(&self, idx: NodeIdx) -> bool {
        self.node(idx).is_some()
    }

    /// Every node incarnation ever started (live or crashed).
    pub fn incarnations(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// Live incarnations, in index order.
    pub fn alive(&self) -> Vec<NodeIdx> {
        (0..self.incarnations())
            .filter(|i| self.is_alive(*i))
            .collect()
    }

    /// Hosts added so far (numbered from 0).
    pub fn hosts(&self) -> u32 {
        self.hosts.len() as u32
    }

    pub fn host_of(&self, idx: NodeIdx) -> Option<HostIdx> {
        self.nodes.get(idx as usize).map(|n| n.host)
    }

    pub fn host_addr(&self, host: HostIdx) -> Option<&(String, u16)> {
        self.hosts.get(host as usize).map(|h| &h.addr)
    }

    /// The incarnation currently running on `host`.
    pub fn host_node(&self, host: HostIdx) -> Option<NodeIdx> {
        self.hosts.get(host as usize)?.current
    }

    /// Open connections of `idx` (both ends open, not cut), as neighbour incarnations; one
    /// entry per connection.
    pub fn neighbours(&self, idx: NodeIdx) -> Vec<NodeIdx> {
        let Some(slot) = self.nodes.get(idx as usize) else {
            return Vec::new();
        };
        slot.conns
            .values()
            .filter_map(|&l| {
                let link = &self.links[l as usize];
                let side = usize::from(link.node[0] != idx);
                let up = link.accepted && link.open[0] && link.open[1] && !link.cut;
                up.then_some(link.node[1 - side])
            })
            .collect()
    }

    /// The live incarnations reachable from `start` over open connections (including it).
    pub fn component(&self, start: NodeIdx) -> Vec<NodeIdx> {
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        if !self.is_alive(start) {
            return out;
        }
        let mut stack = vec![start];
        seen[start as usize] = true;
        while let Some(n) = stack.pop() {
            out.push(n);
            for m in self.neighbours(n) {
                if self.is_alive(m) && !seen[m as usize] {
                    seen[m as usize] = true;
                    stack.push(m);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Connections currently open at both ends.
    pub fn open_links(&self) -> usize {
        self.links
            .iter()
            .filter(|l| l.accepted && l.open[0] && l.open[1] && !l.cut)
            .count()
    }

    // ----- building the world ---------------------------------------------------------------

    /// Adds a host listening at `addr` (nothing runs there yet).
    pub fn add_host(&mut self, addr: (String, u16)) -> HostIdx {
        let idx = self.hosts.len() as HostIdx;
        self.by_addr.insert(addr.clone(), idx);
        self.hosts.push(Host {
            addr,
            current: None,
            group: 0,
        });
        idx
    }

    /// Starts a node on `host` (which must be down), built by `make` at the current time.
    /// Returns `None` if the host does not exist or something already runs there.
    pub fn start(&mut self, host: HostIdx, make: impl FnOnce(Millis) -> N) -> Option<NodeIdx> {
        let h = self.hosts.get(host as usize)?;
        if h.current.is_some() {
            return None;
        }
        let idx = self.nodes.len() as NodeIdx;
        let proto = make(self.now_ms());
        self.nodes.push(NodeSlot {
            proto: Some(proto),
            host,
            conns: BTreeMap::new(),
        });
        self.hosts[host as usize].current = Some(idx);
        self.trace
            .record(b'S', &[self.now, u64::from(idx), u64::from(host)], &[]);
        let phase = 1 + self.rng.below(self.tick_ms);
        self.queue.push(self.now + phase, Ev::Tick { node: idx });
        self.drain(idx);
        Some(idx)
    }

    /// Runs a user command on a live node, then carries out what it asked for.
    pub fn with_node<R>(&mut self, idx: NodeIdx, f: impl FnOnce(&mut N, Millis) -> R) -> Option<R> {
        let now_ms = self.now_ms();
        let proto = self.nodes.get_mut(idx as usize)?.proto.as_mut()?;
        let r = f(proto, now_ms);
        self.trace.record(b'U', &[self.now, u64::from(idx)], &[]);
        self.drain(idx);
        Some(r)
    }

    /// Crashes the node on `host`: its connections reset (the far ends learn after one
    /// latency), bytes in flight to it are lost, its state is freed.
    pub fn crash(&mut self, host: HostIdx) -> Option<NodeIdx> {
        let idx = self.hosts.get(host as usize)?.current?;
        self.hosts[host as usize].current = None;
        let slot = &mut self.nodes[idx as usize];
        slot.proto = None;
        let conns = std::mem::take(&mut slot.conns);
        self.trace.record(b'C', &[self.now, u64::from(idx)], &[]);
        for (_, l) in conns {
            let link = &mut self.links[l as usize];
            let side = usize::from(link.node[0] != idx);
            link.open[side] = false;
            let other = 1 - side;
            if link.open[other] && (other == 0 || link.accepted) {
                let at = self.now + link.latency;
                self.push(
                    at,
                    Ev::PeerClosed {
                        link: l,
                        to: other as u8,
                    },
                );
            }
        }
        Some(idx)
    }

    /// Splits the hosts into groups (`group_of(host)`); connections between groups are cut
    /// at once (both ends see them close) and dials between groups time out until
    /// [`Sim::heal`].
    pub fn partition(&mut self, group_of: impl Fn(HostIdx) -> u32) {
        for (i, h) in self.hosts.iter_mut().enumerate() {
            h.group = group_of(i as HostIdx);
        }
        self.trace.record(b'P', &[self.now], &[]);
        for l in 0..self.links.len() {
            let link = &self.links[l];
            if link.cut || !(link.open[0] || link.open[1]) {
                continue;
            }
            let g0 = self.hosts[self.nodes[link.node[0] as usize].host as usize].group;
            let g1 = self.hosts[self.nodes[link.node[1] as usize].host as usize].group;
            if g0 == g1 {
                continue;
            }
            let accepted = link.accepted;
            let open = link.open;
            self.links[l].cut = true;
            for (side, &is_open) in open.iter().enumerate() {
                if is_open && (side == 0 || accepted) {
                    self.push(
                        self.now,
                        Ev::PeerClosed {
                            link: l as LinkId,
                            to: side as u8,
                        },
                    );
                }
            }
        }
    }

    /// Ends the partition: every host can reach every other again.
    pub fn heal(&mut self) {
        for h in &mut self.hosts {
            h.group = 0;
        }
        self.trace.record(b'H', &[self.now], &[]);
    }

    /// Delivers `frame` on the connection from `from` to `to` as if `from` had written it
    /// (used to inject duplicates, replays or old frames). False if they are not connected.
    pub fn inject(&mut self, from: NodeIdx, to: NodeIdx, frame: Vec<u8>) -> bool {
        let Some(slot) = self.nodes.get(from as usize) else {
            return false;
        };
        let found = slot.conns.iter().find_map(|(&conn, &l)| {
            let link = &self.links[l as usize];
            let side = usize::from(link.node[0] != from);
            (link.node[1 - side] == to && link.accepted && link.open[1 - side]).then_some(conn)
        });
        match found {
            Some(conn) => {
                self.transmit(from, conn, frame);
                true
            }
            None => false,
        }
    }

    // ----- running --------------------------------------------------------------------------

    /// Runs every event due up to and including `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs until nothing but timer ticks is pending (the network is quiet) or `deadline`
    /// passes. Returns true if it went quiet.
    pub fn run_until_quiet(&mut self, deadline: SimTime) -> bool {
        while self.pending_non_tick > 0 {
            match self.queue.peek_time() {
                Some(t) if t <= deadline => self.step(),
                _ => break,
            }
        }
        self.pending_non_tick == 0
    }

    fn push(&mut self, at: SimTime, ev: Ev) {
        if !matches!(ev, Ev::Tick { .. }) {
            self.pending_non_tick += 1;
        }
        self.queue.push(at, ev);
    }

    fn step(&mut self) {
        let Some((t, ev)) = self.queue.pop() else {
            return;
        };
        if !matches!(ev, Ev::Tick { .. }) {
            self.pending_non_tick -= 1;
        }
        self.now = t;
        self.counters.events += 1;
        let now_ms = self.now_ms();
        match ev {
            Ev::Tick { node } => {
                let Some(p) = self.proto_mut(node) else {
                    return;
                };
                p.on_tick(now_ms);
                self.trace.record(b'T', &[t, u64::from(node)], &[]);
                self.drain(node);
                self.queue.push(t + self.tick_ms, Ev::Tick { node });
            }
            Ev::Accept { link } => self.accept(link),
            Ev::Connected { link } => {
                let l = &self.links[link as usize];
                let (node, conn) = (l.node[0], l.conn[0]);
                if !l.open[0] {
                    return;
                }
                let Some(p) = self.proto_mut(node) else {
                    return;
                };
                p.on_connected(conn, now_ms);
                self.trace.record(b'K', &[t, u64::from(node), conn], &[]);
                self.drain(node);
            }
            Ev::DialFailed { node, conn } => {
                let Some(slot) = self.nodes.get_mut(node as usize) else {
                    return;
                };
                if let Some(l) = slot.conns.remove(&conn) {
                    self.links[l as usize].open[0] = false;
                }
                let Some(p) = self.proto_mut(node) else {
                    return;
                };
                p.on_closed(conn, DropReason::PeerClosed, now_ms);
                self.trace.record(b'F', &[t, u64::from(node), conn], &[]);
                self.drain(node);
            }
            Ev::Deliver { link, to, data } => {
                let l = &self.links[link as usize];
                let side = usize::from(to);
                let (node, conn) = (l.node[side], l.conn[side]);
                if !l.open[side] || l.cut {
                    self.counters.frames_undelivered += 1;
                    return;
                }
                let Some(p) = self.proto_mut(node) else {
                    self.counters.frames_undelivered += 1;
                    return;
                };
                p.on_data(conn, &data, now_ms);
                self.trace.record(b'D', &[t, u64::from(node), conn], &data);
                self.drain(node);
            }
            Ev::PeerClosed { link, to } => {
                let l = &mut self.links[link as usize];
                let side = usize::from(to);
                if !l.open[side] {
                    return;
                }
                l.open[side] = false;
                let (node, conn) = (l.node[side], l.conn[side]);
                let Some(slot) = self.nodes.get_mut(node as usize) else {
                    return;
                };
                slot.conns.remove(&conn);
                let Some(p) = self.proto_mut(node) else {
                    return;
                };
                p.on_closed(conn, DropReason::PeerClosed, now_ms);
                self.trace.record(b'X', &[t, u64::from(node), conn], &[]);
                self.drain(node);
            }
        }
    }

    fn proto_mut(&mut self, idx: NodeIdx) -> Option<&mut N> {
        self.nodes.get_mut(idx as usize)?.proto.as_mut()
    }

    fn accept(&mut self, link: LinkId) {
        let l = &self.links[link as usize];
        let (dialler, target) = (l.node[0], l.node[1]);
        let latency = l.latency;
        if !l.open[0] {
            // The dialler gave up or crashed before the SYN arrived: nothing to accept.
            self.links[link as usize].open[1] = false;
            return;
        }
        let dialler_host = self.nodes[dialler as usize].host;
        let remote = (
            self.hosts[dialler_host as usize].addr.0.clone(),
            32768 + (link % 28000) as u16,
        );
        let now_ms = self.now_ms();
        let Some(p) = self.proto_mut(target) else {
            // The target crashed after the dial went out: refused.
            self.links[link as usize].open[1] = false;
            let conn = self.links[link as usize].conn[0];
            self.push(
                self.now + latency,
                Ev::DialFailed {
                    node: dialler,
                    conn,
                },
            );
            return;
        };
        let conn = p.on_accepted(remote, now_ms);
        let l = &mut self.links[link as usize];
        l.conn[1] = conn;
        l.accepted = true;
        self.nodes[target as usize].conns.insert(conn, link);
        self.trace
            .record(b'A', &[self.now, u64::from(target), conn], &[]);
        // Scheduled before the target's first bytes, so the dialler is connected first.
        self.push(self.now + latency, Ev::Connected { link });
        self.drain(target);
    }

    /// Carries out everything `idx` has queued.
    fn drain(&mut self, idx: NodeIdx) {
        loop {
            let Some(out) = self.proto_mut(idx).and_then(|p| p.poll_output()) else {
                return;
            };
            match out {
                Output::Dial { conn, host, port } => self.dial(idx, conn, host, port),
                Output::Transmit { conn, frame, .. } => self.transmit(idx, conn, frame),
                Output::Close { conn, .. } => self.close(idx, conn),
                Output::Event(event) if self.keep_events => self.events.push(NodeEvent {
                    time: self.now,
                    node: idx,
                    event,
                }),
                Output::Event(_) => {}
            }
        }
    }

    fn dial(&mut self, idx: NodeIdx, conn: ConnId, host: String, port: u16) {
        self.counters.dials += 1;
        let target_host = self.by_addr.get(&(host, port)).copied();
        let my_host = self.nodes[idx as usize].host;
        let target = target_host.and_then(|h| self.hosts[h as usize].current);
        let latency = self.net.latency.sample(&mut self.rng);
        let fail_after = match (target_host, target) {
            (Some(h), Some(_))
                if self.hosts[h as usize].group != self.hosts[my_host as usize].group =>
            {
                Some(self.net.connect_timeout_ms)
            }
            (Some(_), Some(_)) => None,
            _ => Some((2 * latency).max(self.net.refused_ms)),
        };
        if let Some(after) = fail_after {
            self.counters.dials_failed += 1;
            self.push(self.now + after, Ev::DialFailed { node: idx, conn });
            return;
        }
        let Some(target) = target else { return };
        let link = self.links.len() as LinkId;
        self.links.push(Link {
            node: [idx, target],
            conn: [conn, 0],
            accepted: false,
            open: [true, true],
            cut: false,
            latency,
            lane: [Lane::default(); 2],
        });
        self.nodes[idx as usize].conns.insert(conn, link);
        self.push(self.now + latency, Ev::Accept { link });
    }

    fn transmit(&mut self, idx: NodeIdx, conn: ConnId, frame: Vec<u8>) {
        if self.captured.is_some() {
            let to = self.nodes[idx as usize].conns.get(&conn).map(|&l| {
                let link = &self.links[l as usize];
                link.node[usize::from(link.node[0] == idx)]
            });
            if let Some(captured) = self.captured.as_mut() {
                captured.push(CapturedFrame {
                    time: self.now,
                    from: idx,
                    to,
                    frame: frame.clone(),
                });
            }
        }
        self.counters.frames += 1;
        self.counters.bytes += frame.len() as u64;
        let Some(&l) = self.nodes[idx as usize].conns.get(&conn) else {
            self.counters.frames_on_dead_links += 1;
            return;
        };
        let loss_delay = self.net.loss_delay(&mut self.rng);
        if loss_delay > 0 {
            self.counters.frames_retransmitted += 1;
        }
        let ser_us = self.net.serialisation_us(frame.len());
        let now_us = self.now * 1000;
        let link = &mut self.links[l as usize];
        if link.cut {
            self.counters.frames_on_dead_links += 1;
            return;
        }
        let side = usize::from(link.node[0] != idx);
        let lane = &mut link.lane[side];
        lane.busy_until_us = lane.busy_until_us.max(now_us) + ser_us;
        let on_wire = lane.busy_until_us.div_ceil(1000);
        let arrival = (on_wire + link.latency + loss_delay).max(lane.last_arrival);
        lane.last_arrival = arrival;
        let to = (1 - side) as u8;
        self.push(
            arrival,
            Ev::Deliver {
                link: l,
                to,
                data: frame,
            },
        );
    }

    fn close(&mut self, idx: NodeIdx, conn: ConnId) {
        let Some(l) = self.nodes[idx as usize].conns.remove(&conn) else {
            return;
        };
        let link = &mut self.links[l as usize];
        let side = usize::from(link.node[0] != idx);
        link.open[side] = false;
        let other = 1 - side;
        if link.open[other] && (other == 0 || link.accepted) && !link.cut {
            // The FIN follows the bytes already sent.
            let at = (self.now + link.latency).max(link.lane[side].last_arrival);
            self.push(
                at,
                Ev::PeerClosed {
                    link: l,
                    to: other as u8,
                },
            );
        }
    }
}

#[cfg(test)]
#[path = "world_tests.rs"]
mod tests;
