//! An in-memory network of 2–5 mesh nodes: Dial outputs are answered with `on_accepted` on
//! the target node and `on_connected` on the dialler, Transmit frames are delivered whole to
//! the other end, Close reaches the other end as `on_closed(PeerClosed)`. Outputs are
//! applied in order, node by node, until nothing is left to do.

use crate::proto::mesh::{
    ConnId, DropReason, Event, Mesh, MeshConfig, MeshHandler, Millis, NoopHandler, Output,
    UserMessage,
};
use crate::wire::ids;
use std::collections::{HashMap, HashSet};

pub const T0: Millis = 1_700_000_000_000;
pub const HOST: &str = "127.0.0.1";

pub fn port_of(node: usize) -> u16 {
    10_000 + node as u16
}

/// Node IDs "node1", "node2", … : base58 integers ordered like their index.
pub fn node_id(node: usize) -> String {
    format!("node{}", node + 1)
}

pub fn protocol() -> String {
    ids::protocol_id("mesh", "Plaintext")
}

pub fn config(node: usize) -> MeshConfig {
    MeshConfig::new(protocol(), node_id(node), (HOST.to_string(), port_of(node)))
}

/// One frame a node wrote.
#[derive(Clone, Debug)]
pub struct Sent {
    pub node: usize,
    pub frame: Vec<u8>,
    pub paced: bool,
}

pub struct Net<H: MeshHandler = NoopHandler> {
    pub nodes: Vec<Mesh<H>>,
    pub now: Millis,
    /// (node, conn) → (other node, its conn).
    pub links: HashMap<(usize, ConnId), (usize, ConnId)>,
    pub events: Vec<Vec<Event>>,
    pub closes: Vec<(usize, ConnId, DropReason)>,
    pub sent: Vec<Sent>,
    /// Nodes whose address refuses dials (as if nothing listened there).
    pub unreachable: HashSet<usize>,
}

impl Net<NoopHandler> {
    /// `n` plain nodes, each configured by `tweak`.
    pub fn new(n: usize, tweak: impl Fn(usize, &mut MeshConfig)) -> Self {
        Net::with_nodes(
            (0..n)
                .map(|i| {
                    let mut cfg = config(i);
                    tweak(i, &mut cfg);
                    Mesh::new(cfg, T0)
                })
                .collect(),
        )
    }
}

impl<H: MeshHandler> Net<H> {
    pub fn with_nodes(nodes: Vec<Mesh<H>>) -> Self {
        let n = nodes.len();
        Net {
            nodes,
            now: T0,
            links: HashMap::new(),
            events: vec![Vec::new(); n],
            closes: Vec::new(),
            sent: Vec::new(),
            unreachable: HashSet::new(),
        }
    }

    /// Node `a` dials node `b` (the dial is answered by `run`).
    pub fn connect(&mut self, a: usize, b: usize) -> ConnId {
        self.nodes[a].connect(HOST, port_of(b), self.now)
    }

    /// Applies outputs until every node is quiet.
    pub fn run(&mut self) {
        for _round in 0..10_000 {
            let mut progressed = false;
            for i in 0..self.nodes.len() {
                while let Some(out) = self.nodes[i].poll_output() {
                    progressed = true;
                    self.apply(i, out);
                }
            }
            if !progressed {
                return;
            }
        }
        panic!("the network did not settle within 10000 rounds");
    }

    fn apply(&mut self, i: usize, out: Output) {
        let now = self.now;
        match out {
            Output::Dial { conn, host, port } => {
                let target = (0..self.nodes.len()).find(|&j| {
                    host == HOST && port_of(j) == port && !self.unreachable.contains(&j)
                });
                match target {
                    Some(j) => {
                        let remote = (HOST.to_string(), 20_000 + i as u16);
                        let jc = self.nodes[j].on_accepted(remote, now);
                        self.links.insert((i, conn), (j, jc));
                        self.links.insert((j, jc), (i, conn));
                        self.nodes[i].on_connected(conn, now);
                    }
                    None => self.nodes[i].on_closed(conn, DropReason::PeerClosed, now),
                }
            }
            Output::Transmit { conn, frame, paced } => {
                if let Some(&(j, jc)) = self.links.get(&(i, conn)) {
                    self.nodes[j].on_data(jc, &frame, now);
                }
                self.sent.push(Sent {
                    node: i,
                    frame,
                    paced,
                });
            }
            Output::Close { conn, reason, .. } => {
                self.closes.push((i, conn, reason));
                if let Some((j, jc)) = self.links.remove(&(i, conn)) {
                    self.links.remove(&(j, jc));
                    self.nodes[j].on_closed(jc, DropReason::PeerClosed, now);
                }
            }
            Output::Event(e) => self.events[i].push(e),
        }
    }

    /// The link behind node `i`'s `conn` breaks: both ends see it closed.
    pub fn break_link(&mut self, i: usize, conn: ConnId) {
        let now = self.now;
        if let Some((j, jc)) = self.links.remove(&(i, conn)) {
            self.links.remove(&(j, jc));
            self.nodes[j].on_closed(jc, DropReason::PeerClosed, now);
        }
        self.nodes[i].on_closed(conn, DropReason::PeerClosed, now);
    }

    /// Advances the clock and ticks every node.
    pub fn tick_to(&mut self, now: Millis) {
        self.now = now;
        for node in &mut self.nodes {
            node.on_tick(now);
        }
        self.run();
    }

    /// Sorted IDs of node `i`'s handshaken peers.
    pub fn peer_ids(&self, i: usize) -> Vec<String> {
        let mut ids: Vec<String> = self.nodes[i]
            .peers()
            .into_iter()
            .map(|p| String::from_utf8_lossy(&p.id).into_owned())
            .collect();
        ids.sort();
        ids
    }

    pub fn messages(&self, i: usize) -> Vec<&UserMessage> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    pub fn connected_events(&self, i: usize) -> usize {
        self.events[i]
            .iter()
            .filter(|e| matches!(e, Event::Connected { .. }))
            .count()
    }

    pub fn disconnected_events(&self, i: usize) -> usize {
        self.events[i]
            .iter()
            .filter(|e| matches!(e, Event::Disconnected { .. }))
            .count()
    }

    /// Node `a` and node `b` each connect to the other over a chain of calls, then run.
    pub fn line(&mut self, pairs: &[(usize, usize)]) {
        for &(a, b) in pairs {
            self.connect(a, b);
            self.run();
        }
    }
}
