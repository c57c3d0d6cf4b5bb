//! An in-memory network of chord nodes for the chord tests: Dial is answered with
//! `on_accepted` on the target and `on_connected` on the dialler, frames are delivered whole,
//! Close reaches the other end. Nodes get real (SHA-384) IDs, so their ring positions are
//! spread as in a real network. No sockets, no clock: time only moves by `tick_to`.
#![allow(dead_code)]

use rs2p::proto::chord::{ChordConfig, ChordEvent, ChordNode, GetId, GetOutcome};
use rs2p::proto::mesh::{ConnId, DropReason, MeshConfig, Millis, Output};
use rs2p::wire::{ids, Value};
use std::collections::HashMap;

pub const T0: Millis = 1_700_000_000_000;
pub const HOST: &str = "127.0.0.1";

pub fn port_of(node: usize) -> u16 {
    10_000 + node as u16
}

pub fn make_node(i: usize, chord: ChordConfig) -> ChordNode {
    let protocol = ids::protocol_id("chord", "Plaintext");
    let id = ids::node_id(
        &ids::out_addr_repr(HOST, port_of(i)),
        &protocol,
        "test-salt",
    );
    let cfg = MeshConfig::new(protocol, id, (HOST.to_string(), port_of(i)));
    ChordNode::new(cfg, chord, T0)
}

pub struct Net {
    pub nodes: Vec<ChordNode>,
    pub alive: Vec<bool>,
    pub now: Millis,
    pub links: HashMap<(usize, ConnId), (usize, ConnId)>,
    pub events: Vec<Vec<ChordEvent>>,
}

impl Net {
    pub fn new(n: usize) -> Self {
        Net::with_config(n, ChordConfig::default())
    }

    pub fn with_config(n: usize, chord: ChordConfig) -> Self {
        Net::with_nodes((0..n).map(|i| make_node(i, chord.clone())).collect())
    }

    pub fn with_nodes(nodes: Vec<ChordNode>) -> Self {
        let n = nodes.len();
        Net {
            nodes,
            alive: vec![true; n],
            now: T0,
            links: HashMap::new(),
            events: vec![Vec::new(); n],
        }
    }

    pub fn connect(&mut self, a: usize, b: usize) {
        let now = self.now;
        self.nodes[a].connect(HOST, port_of(b), now);
        self.run();
    }

    /// Every node dials every earlier node.
    pub fn full_mesh(&mut self) {
        for a in 1..self.nodes.len() {
            for b in 0..a {
                self.connect(a, b);
            }
        }
    }

    pub fn join_all(&mut self) {
        for i in 0..self.nodes.len() {
            let now = self.now;
            self.nodes[i].join(now);
            self.run();
        }
    }

    /// Applies outputs until every node is quiet.
    pub fn run(&mut self) {
        for _ in 0..100_000 {
            let mut progressed = false;
            for i in 0..self.nodes.len() {
                if !self.alive[i] {
                    continue;
                }
                while let Some(out) = self.nodes[i].poll_output() {
                    progressed = true;
                    self.apply(i, out);
                }
                while let Some(e) = self.nodes[i].poll_event() {
                    self.events[i].push(e);
                }
            }
            if !progressed {
                return;
            }
        }
        panic!("the chord network did not settle");
    }

    fn apply(&mut self, i: usize, out: Output) {
        let now = self.now;
        match out {
            Output::Dial { conn, host, port } => {
                let target = (0..self.nodes.len())
                    .find(|&j| host == HOST && port_of(j) == port && self.alive[j]);
                match target {
                    Some(j) => {
                        let jc = self.nodes[j].on_accepted((HOST.into(), 20_000 + i as u16), now);
                        self.links.insert((i, conn), (j, jc));
                        self.links.insert((j, jc), (i, conn));
                        self.nodes[i].on_connected(conn, now);
                    }
                    None => self.nodes[i].on_closed(conn, DropReason::PeerClosed, now),
                }
            }
            Output::Transmit { conn, frame, .. } => {
                if let Some(&(j, jc)) = self.links.get(&(i, conn)) {
                    if self.alive[j] {
                        self.nodes[j].on_data(jc, &frame, now);
                    }
                }
            }
            Output::Close { conn, .. } => {
                if let Some((j, jc)) = self.links.remove(&(i, conn)) {
                    self.links.remove(&(j, jc));
                    if self.alive[j] {
                        self.nodes[j].on_closed(jc, DropReason::PeerClosed, now);
                    }
                }
            }
            Output::Event(_) => {}
        }
    }

    /// Node `i` vanishes without a word: every link it had breaks.
    pub fn crash(&mut self, i: usize) {
        self.alive[i] = false;
        let now = self.now;
        let ends: Vec<((usize, ConnId), (usize, ConnId))> = self
            .links
            .iter()
            .filter(|((a, _), _)| *a == i)
            .map(|(k, v)| (*k, *v))
            .collect();
        for (mine, (j, jc)) in ends {
            self.links.remove(&mine);
            self.links.remove(&(j, jc));
            self.nodes[j].on_closed(jc, DropReason::PeerClosed, now);
        }
        self.run();
    }

    pub fn tick_to(&mut self, now: Millis) {
        self.now = now;
        for i in 0..self.nodes.len() {
            if self.alive[i] {
                self.nodes[i].on_tick(now);
            }
        }
        self.run();
    }

    pub fn set(&mut self, i: usize, key: &[u8], value: Value) {
        let now = self.now;
        self.nodes[i].set(key, value, now);
        self.run();
    }

    /// Starts a read on node `i` and runs the network; its outcome if it ended.
    pub fn get(&mut self, i: usize, key: &[u8]) -> (GetId, Option<GetOutcome>) {
        let now = self.now;
        let id = self.nodes[i].get(key, now);
        self.run();
        (id, self.outcome(i, id))
    }

    pub fn outcome(&self, i: usize, id: GetId) -> Option<GetOutcome> {
        self.events[i].iter().find_map(|e| match e {
            ChordEvent::GetDone { id: done, outcome } if *done == id => Some(outcome.clone()),
            _ => None,
        })
    }

    /// Index of the node that holds (responsible for) `pos` among storing live nodes.
    pub fn storing_count(&self) -> usize {
        (0..self.nodes.len())
            .filter(|&i| self.alive[i] && self.nodes[i].chord().is_storing())
            .count()
    }
}

/// A whole frame `whisper [payload...]` from `sender`, as a peer would write it (plain).
pub fn whisper_frame(sender: &[u8], now: Millis, payload: &[Value]) -> Vec<u8> {
    use rs2p::wire::frame;
    let packed = frame::pack(
        rs2p::wire::flags::WHISPER,
        sender,
        (now / 1000) as i64,
        payload,
    );
    let id = frame::message_id(&packed);
    let mut out = Vec::new();
    frame::write_frame(&id, &packed, None, &mut out);
    out
}

impl Net {
    /// Node `i`'s connection to node `j`, and node `j`'s ID.
    pub fn link_to(&self, i: usize, j: usize) -> (ConnId, Vec<u8>) {
        let j_id = self.nodes[j].mesh().config().node_id.as_bytes().to_vec();
        let conn = self.nodes[i]
            .mesh()
            .peers()
            .into_iter()
            .find(|p| p.id == j_id)
            .map(|p| p.conn)
            .expect("linked");
        (conn, j_id)
    }

    /// Node `i` receives `whisper [payload...]` from node `j` over their link.
    pub fn inject(&mut self, i: usize, j: usize, payload: &[Value]) {
        let (conn, j_id) = self.link_to(i, j);
        let frame = whisper_frame(&j_id, self.now, payload);
        let now = self.now;
        self.nodes[i].on_data(conn, &frame, now);
        self.run();
    }

    /// The storing live node responsible for a ring point (it answers it itself).
    pub fn responsible(&self, pos: &rs2p::proto::chord::ring::RingPos) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| {
            self.alive[i]
                && self.nodes[i].chord().is_storing()
                && self.nodes[i].chord().next_hop_for(pos).is_none()
        })
    }
}

/// Makes a network where nodes only dial what they are told to (no peer-list dials).
pub fn isolated_config(i: usize, chord: ChordConfig) -> ChordNode {
    let protocol = ids::protocol_id("chord", "Plaintext");
    let id = ids::node_id(
        &ids::out_addr_repr(HOST, port_of(i)),
        &protocol,
        "test-salt",
    );
    let mut cfg = MeshConfig::new(protocol, id, (HOST.to_string(), port_of(i)));
    cfg.max_outgoing = 0;
    ChordNode::new(cfg, chord, T0)
}
