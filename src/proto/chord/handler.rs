//! [`ChordHandler`]: the chord rules of PROTOCOL.md §8 as a [`MeshHandler`] layered on the
//! mesh core: link states, the key list, store / delete / delta / retrieve with hop-by-hop
//! forwarding, majority reads, hand-over on join and unjoin, replication to the ring
//! predecessor and re-storing after a storing peer vanishes. Messages it sends go through an
//! outbox: flushed through the [`MeshCtx`] inside mesh callbacks, or through the [`Mesh`] by
//! [`super::ChordNode`] after user commands. Not here: sockets, clocks, dialling itself.

use super::lookups::{Forward, Forwarded, Get, GetId, GetIds, GetOutcome, NIL_GRACE_MS, RETRY_MS};
use super::quick_hash::QuickMap;
use super::ring::{self, distance, key_positions, method_value, Position, RingPos};
use super::ring_index::RingIndex;
use super::routing;
use super::table::Table;
use super::{ChordConfig, ChordError, ChordEvent, ChordStats, ConnId};
use crate::proto::mesh::{Mesh, MeshCtx, MeshHandler, Millis};
use crate::wire::frame::Message;
use crate::wire::{flags, Value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Least time between two dials of the same wanted peer.
const REDIAL_MS: Millis = 30_000;

/// Longest time between two plans of the wanted links when nothing changed.
const REPLAN_MS: Millis = 2_000;

/// A wanted peer not linked this long after we dialled it counts as unreachable.
const DIAL_GRACE_MS: Millis = 5_000;

/// Most positions watched for late answers to repair (and most repairs waiting to be sent).
const MAX_LATE_REPAIRS: usize = 4096;

/// How long a decided repair waits before it is sent (then only if the key is still known):
/// long enough for the `notify` of a delete that raced the read to arrive.
const REPAIR_DELAY_MS: Millis = 500;

/// A position whose answer had not come when its read found a majority.
#[derive(Debug)]
struct LateRepair {
    read: Arc<AgreedRead>,
    until_ms: Millis,
}

/// What a read agreed on, shared by its positions that had not answered yet.
#[derive(Debug)]
struct AgreedRead {
    key: Vec<u8>,
    agreed: Value,
}

/// A read repair decided, waiting to be sent.
#[derive(Debug)]
struct PendingRepair {
    key: Vec<u8>,
    method: usize,
    pos: Position,
    value: Value,
    /// Set on the first tick after the decision.
    due_ms: Option<Millis>,
}

/// A message waiting to be sent (payload: sub-flag first).
#[derive(Debug)]
pub(super) enum Outgoing {
    /// Whisper on this link.
    Link(ConnId, Vec<Value>),
    /// Whisper to this peer.
    Peer(Vec<u8>, Vec<Value>),
    /// Broadcast to the network.
    Broadcast(Vec<Value>),
}

/// What we know of one handshaken peer.
#[derive(Clone, Debug)]
pub struct PeerState {
    pub conn: ConnId,
    pub pos: RingPos,
    pub storing: bool,
    pub addr: (String, u16),
    /// The peer is rs2p (it keeps replicas; py2p and js2p pass them back to us).
    pub rs2p: bool,
}

/// Where a request for a position goes next.
#[derive(Debug, PartialEq)]
enum Hop {
    Local,
    /// The link to the responsible peer.
    Peer(ConnId),
}

pub struct ChordHandler {
    config: ChordConfig,
    my_id: Vec<u8>,
    my_pos: RingPos,
    storing: bool,
    peers: BTreeMap<Vec<u8>, PeerState>,
    /// Who is responsible for a position: this node (`None`, when storing) and the storing
    /// peers (ID, link), rebuilt by [`ChordHandler::reindex`] whenever one of them changes.
    responsible: RingIndex<Option<(Vec<u8>, ConnId)>>,
    table: Table,
    keys: BTreeSet<Vec<u8>>,
    forwarded: Forwarded,
    /// Reads in flight (unordered: [`ChordHandler::expire`] orders what it ends by ID).
    gets: QuickMap<GetId, Get>,
    /// The reads waiting on each (method, position): an answer finds its reads at once.
    gets_by_position: QuickMap<(usize, Position), GetIds>,
    next_get: GetId,
    /// Positions of reads that found their majority before these positions answered: a
    /// late answer that differs is repaired. (method, position) → (agreed value, until).
    late_repairs: QuickMap<(usize, Position), LateRepair>,
    /// Repairs decided and not yet sent: they wait a tick or two, and go out only if the key
    /// is still in our key list then (a delete racing the read would otherwise be undone).
    pending_repairs: Vec<PendingRepair>,
    pub(super) outbox: Vec<Outgoing>,
    events: VecDeque<ChordEvent>,
    /// Storing nodes we know of (from links and [`ChordHandler::learn_peer`]): position →
    /// (ID, address). Source of the ring and finger links we want.
    known: BTreeMap<RingPos, (Vec<u8>, (String, u16))>,
    /// Peers to dial (ID, address), planned on ticks; dialled through the mesh context.
    wanted_dials: Vec<(Vec<u8>, (String, u16))>,
    dialled_at: BTreeMap<Vec<u8>, Millis>,
    /// Links or candidates changed since the wanted links were last planned.
    replan: bool,
    last_plan_ms: Millis,
    stats: ChordStats,
}

impl ChordHandler {
    /// A leeching chord node with ID `node_id` (base58 text).
    pub fn new(node_id: &str, config: ChordConfig) -> Self {
        ChordHandler {
            config,
            my_id: node_id.as_bytes().to_vec(),
            my_pos: RingPos::of_node(node_id.as_bytes()).unwrap_or(RingPos([0; ring::RING_BYTES])),
            storing: false,
            peers: BTreeMap::new(),
            responsible: RingIndex::default(),
            table: Table::default(),
            keys: BTreeSet::new(),
            forwarded: Forwarded::default(),
            gets: QuickMap::default(),
            gets_by_position: QuickMap::default(),
            next_get: 1,
            late_repairs: QuickMap::default(),
            pending_repairs: Vec::new(),
            outbox: Vec::new(),
            events: VecDeque::new(),
            known: BTreeMap::new(),
            wanted_dials: Vec::new(),
            dialled_at: BTreeMap::new(),
            replan: true,
            last_plan_ms: 0,
            stats: ChordStats::default(),
        }
    }

    // ----- inspection ---------------------------------------------------------------------

    pub fn is_storing(&self) -> bool {
        self.storing
    }
    pub fn position(&self) -> RingPos {
        self.my_pos
    }
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.keys.iter().map(Vec::as_slice)
    }
    pub fn stats(&self) -> &ChordStats {
        &self.stats
    }
    pub fn peer_states(&self) -> &BTreeMap<Vec<u8>, PeerState> {
        &self.peers
    }
    /// Entries held locally.
    pub fn stored_len(&self) -> usize {
        self.table.len()
    }
    /// The value held locally at (method index, position), if any.
    pub fn stored(&self, method: usize, pos: &Position) -> Option<&Value> {
        self.table.get(&(method, *pos))
    }
    /// Storing peers among the links.
    pub fn storing_peers(&self) -> usize {
        self.responsible.len() - usize::from(self.storing)
    }
    /// Gets still waiting.
    pub fn gets_in_flight(&self) -> usize {
        self.gets.len()
    }
    /// Forwarded retrieves still waiting for an answer.
    pub fn forwards_in_flight(&self) -> usize {
        self.forwarded.len()
    }
    pub fn poll_event(&mut self) -> Option<ChordEvent> {
        self.events.pop_front()
    }
    /// Addresses this node wants to dial (ring neighbours and fingers) and has not dialled
    /// through a mesh context yet; drained.
    pub fn take_wanted_dials(&mut self) -> Vec<(String, u16)> {
        std::mem::take(&mut self.wanted_dials)
            .into_iter()
            .map(|(_, addr)| addr)
            .collect()
    }

    /// The next hop for `pos` as this node sees it: `None` when it answers itself.
    pub fn next_hop_for(&self, pos: &RingPos) -> Option<&[u8]> {
        self.next_hop(pos).map(|(id, _)| id.as_slice())
    }

    /// The responsible storing peer for `pos` (ID and link); `None` when it is this node
    /// (or nobody stores). Ties go as in [`routing::closest`]: this node first, then peers
    /// in ID order.
    fn next_hop(&self, pos: &RingPos) -> Option<&(Vec<u8>, ConnId)> {
        self.responsible.closest(pos).and_then(Option::as_ref)
    }

    fn hop(&self, pos: &Position) -> Hop {
        match self.next_hop(&pos.ring()) {
            Some((_, conn)) => Hop::Peer(*conn),
            None => Hop::Local,
        }
    }

    /// Rebuilds the responsibility index: after this node or a peer started or stopped
    /// storing, or a peer came or went.
    fn reindex(&mut self) {
        let me = self.storing.then_some((self.my_pos, None));
        let peers = self
            .peers
            .iter()
            .filter(|(_, p)| p.storing)
            .map(|(id, p)| (p.pos, Some((id.clone(), p.conn))));
        self.responsible.rebuild(me.into_iter().chain(peers));
    }

    /// A storing node we may link to (from a peer list or any other source).
    pub fn learn_peer(&mut self, id: &[u8], addr: (String, u16)) {
        if id == self.my_id.as_slice() {
            return;
        }
        if let Some(pos) = RingPos::of_node(id) {
            if self.known.insert(pos, (id.to_vec(), addr)).is_none() {
                self.replan = true;
            }
        }
    }

    // ----- user commands (sent through the outbox) ----------------------------------------

    /// Start storing data and announce it to every link.
    pub fn join(&mut self) {
        self.storing = true;
        self.reindex();
        self.replan = true;
        self.announce_to_all();
    }

    /// Stop storing: announce leeching, hand every entry to the storing peers, clear.
    /// With no storing peer left the entries stay here (nothing else could hold them).
    pub fn unjoin(&mut self) {
        self.storing = false;
        self.reindex();
        self.announce_to_all();
        let entries: Vec<_> = self.table.iter().map(|(k, v)| (*k, v.clone())).collect();
        for ((method, pos), value) in entries {
            if let Hop::Peer(conn) = self.hop(&pos) {
                self.outbox
                    .push(Outgoing::Link(conn, store_msg(method, &pos, value)));
                self.table.remove(&(method, pos));
            }
        }
    }

    /// Writes `value` at the key's five positions (nil deletes); a key new to us is
    /// broadcast with `notify`.
    pub fn set(&mut self, key: &[u8], value: Value) {
        let positions = key_positions(key);
        for (method, pos) in positions.iter().enumerate() {
            self.route_store(method, pos, value.clone(), None);
        }
        if value.is_nil() {
            if self.keys.remove(key) {
                self.outbox.push(Outgoing::Broadcast(vec![
                    sub(flags::sub::NOTIFY),
                    Value::Bin(key.to_vec()),
                    Value::Bin(b"del".to_vec()),
                ]));
            }
        } else if self.keys.insert(key.to_vec()) {
            self.outbox.push(Outgoing::Broadcast(vec![
                sub(flags::sub::NOTIFY),
                Value::Bin(key.to_vec()),
            ]));
        }
    }

    /// Deletes a key this node knows (stores nil at the five positions).
    pub fn delete(&mut self, key: &[u8]) -> Result<(), ChordError> {
        if !self.keys.contains(key) {
            return Err(ChordError::UnknownKey);
        }
        self.set(key, Value::Nil);
        Ok(())
    }

    /// Merges the map `delta` into the key's five entries.
    pub fn apply_delta(&mut self, key: &[u8], delta: Value) -> Result<(), ChordError> {
        if delta.as_map().is_none() {
            return Err(ChordError::DeltaNotAMap);
        }
        let positions = key_positions(key);
        for (method, pos) in positions.iter().enumerate() {
            self.route_delta(method, pos, &delta, None);
        }
        Ok(())
    }

    /// Starts a majority read; its end comes as [`ChordEvent::GetDone`] with this id.
    pub fn get(&mut self, key: &[u8], now_ms: Millis) -> GetId {
        self.get_with_timeout(key, now_ms, self.config.get_timeout_ms)
    }

    /// [`ChordHandler::get`] with its own timeout.
    pub fn get_with_timeout(&mut self, key: &[u8], now_ms: Millis, timeout_ms: Millis) -> GetId {
        let id = self.next_get;
        self.next_get += 1;
        let positions = key_positions(key);
        let mut answers: [Option<Value>; 5] = Default::default();
        for (method, pos) in positions.iter().enumerate() {
            match self.hop(pos) {
                Hop::Local => {
                    answers[method] = Some(self.local_value(method, pos));
                }
                Hop::Peer(conn) => self.outbox.push(Outgoing::Link(
                    conn,
                    vec![
                        sub(flags::sub::RETRIEVE),
                        method_value(method),
                        pos.to_wire(),
                    ],
                )),
            }
        }
        for (method, pos) in positions.iter().enumerate() {
            self.gets_by_position
                .entry((method, *pos))
                .and_modify(|ids| ids.push(id))
                .or_insert(GetIds::One(id));
        }
        self.gets.insert(
            id,
            Get {
                key: key.to_vec(),
                positions,
                answers,
                deadline_ms: now_ms.saturating_add(timeout_ms),
                undecided_since: None,
                asked_ms: now_ms,
            },
        );
        self.check_get(id);
        id
    }

    // ----- rules --------------------------------------------------------------------------

    fn local_value(&self, method: usize, pos: &Position) -> Value {
        self.table
            .get(&(method, *pos))
            .cloned()
            .unwrap_or(Value::Nil)
    }

    fn state_msg(&self) -> Vec<Value> {
        let digit = if self.storing { "0" } else { "1" };
        vec![sub(flags::sub::HANDSHAKE), Value::Str(digit.into())]
    }

    /// Our state on one link, then a notify per key we know.
    fn announce(&mut self, conn: ConnId) {
        self.outbox.push(Outgoing::Link(conn, self.state_msg()));
        for key in &self.keys {
            self.outbox.push(Outgoing::Link(
                conn,
                vec![sub(flags::sub::NOTIFY), Value::Bin(key.clone())],
            ));
        }
    }

    fn announce_to_all(&mut self) {
        let conns: Vec<ConnId> = self.peers.values().map(|p| p.conn).collect();
        for conn in conns {
            self.announce(conn);
        }
    }

    /// The storing peer just before us on the ring: it takes our range if we vanish.
    fn predecessor_peer(&self) -> Option<Vec<u8>> {
        let storing: Vec<&RingPos> = self
            .peers
            .values()
            .filter(|p| p.storing)
            .map(|p| &p.pos)
            .collect();
        let pred = routing::predecessor(&self.my_pos, storing.iter().copied())?;
        self.peers
            .iter()
            .find(|(_, p)| p.storing && p.pos == pred)
            .map(|(id, _)| id.clone())
    }

    fn replicate(&mut self, method: usize, pos: &Position, value: Value) {
        if !self.config.replicate || !self.storing {
            return;
        }
        // Only an rs2p predecessor keeps a replica: a reference node is not responsible for
        // the position and sends the store straight back, and with two writes racing, those
        // echoes can bring an older value back over a newer one.
        let pred = self
            .predecessor_peer()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rs2p));
        if let Some(pred) = pred {
            self.stats.replicas_sent += 1;
            self.outbox
                .push(Outgoing::Peer(pred, store_msg(method, pos, value)));
        }
    }

    /// Stores here or hands the store to the next hop. A store whose next hop is the link it
    /// came in on is kept here (a replica from that peer; bouncing it back would loop).
    fn route_store(&mut self, method: usize, pos: &Position, value: Value, from: Option<ConnId>) {
        match self.hop(pos) {
            Hop::Peer(conn) if Some(conn) != from => {
                self.stats.stores_forwarded += 1;
                self.outbox
                    .push(Outgoing::Link(conn, store_msg(method, pos, value)));
            }
            Hop::Peer(_) => self.table.store((method, *pos), value),
            Hop::Local => {
                // A store from a peer that changes nothing here is not copied on: a py2p
                // predecessor forwards our replica back to us, and that must not ping-pong.
                // Anything that changes the entry, or comes from this node itself (a write,
                // a repair, a range taken over), is.
                let key = (method, *pos);
                // A nil store on an absent entry changes nothing either (nil deletes).
                let held = self.table.get(&key);
                let unchanged = if value.is_nil() {
                    held.is_none()
                } else {
                    held == Some(&value)
                };
                self.table.store(key, value.clone());
                if from.is_none() || !unchanged {
                    self.replicate(method, pos, value);
                }
            }
        }
    }

    fn route_delta(&mut self, method: usize, pos: &Position, delta: &Value, from: Option<ConnId>) {
        let local = match self.hop(pos) {
            Hop::Peer(conn) if Some(conn) != from => {
                self.outbox.push(Outgoing::Link(
                    conn,
                    vec![
                        sub(flags::sub::DELTA),
                        method_value(method),
                        pos.to_wire(),
                        delta.clone(),
                    ],
                ));
                return;
            }
            Hop::Peer(_) => false,
            Hop::Local => true,
        };
        let pairs = delta.as_map().unwrap_or(&[]);
        match self.table.delta((method, *pos), pairs) {
            Ok(merged) if local => self.replicate(method, pos, merged),
            Ok(_) => {}
            Err(_) => self.stats.bad_deltas += 1,
        }
    }

    fn handle_state(&mut self, conn: ConnId, peer: &[u8], digit: &Value) {
        let Some(leeching) = parse_digit(digit) else {
            self.stats.bad_messages += 1;
            return;
        };
        let storing = !leeching;
        let Some(state) = self.peers.get(peer) else {
            return;
        };
        if !storing {
            // A leecher named in a peer list is no ring or finger candidate.
            let pos = state.pos;
            self.known.remove(&pos);
        }
        if state.storing == storing {
            return;
        }
        self.announce(conn);
        let was_pred = self.predecessor_peer();
        if let Some(state) = self.peers.get_mut(peer) {
            state.storing = storing;
        }
        self.reindex();
        self.replan = true;
        let (pos, addr) = match self.peers.get(peer) {
            Some(s) => (s.pos, s.addr.clone()),
            None => return,
        };
        if storing {
            self.known.insert(pos, (peer.to_vec(), addr));
        } else {
            self.known.remove(&pos);
        }
        if storing && self.storing {
            self.meet(conn, peer, pos);
            self.introduce_to_predecessor(peer);
            if was_pred.as_deref() != Some(peer) && self.predecessor_peer().as_deref() == Some(peer)
            {
                self.replicate_own_range();
            }
        }
    }

    /// A peer turned storing while we store: our peer list, then every entry it is closer to.
    fn meet(&mut self, conn: ConnId, peer: &[u8], peer_pos: RingPos) {
        let list: Vec<Value> = self
            .peers
            .iter()
            .filter(|(id, _)| id.as_slice() != peer)
            .map(|(id, p)| peer_list_entry(id, &p.addr))
            .collect();
        self.outbox.push(Outgoing::Link(
            conn,
            vec![sub(flags::sub::PEERS), Value::Array(list)],
        ));
        let closer: Vec<_> = self
            .table
            .iter()
            .filter(|((_, pos), _)| {
                let r = pos.ring();
                distance(&peer_pos, &r) < distance(&self.my_pos, &r)
            })
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for ((method, pos), value) in closer {
            self.stats.handed_over += 1;
            self.route_store(method, &pos, value, None);
        }
    }

    /// Names a storing peer that just linked to us to our predecessor (a one-entry peer list),
    /// so that the predecessor can link to it as a second successor
    /// (`routing::RING_SUCCESSORS`). A predecessor that links to us later gets our whole list
    /// from [`Self::meet`] instead.
    fn introduce_to_predecessor(&mut self, peer: &[u8]) {
        let Some(pred) = self.predecessor_peer() else {
            return;
        };
        if pred == peer {
            return;
        }
        let (Some(pred_conn), Some(entry)) = (
            self.peers.get(&pred).map(|p| p.conn),
            self.peers.get(peer).map(|p| peer_list_entry(peer, &p.addr)),
        ) else {
            return;
        };
        self.outbox.push(Outgoing::Link(
            pred_conn,
            vec![sub(flags::sub::PEERS), Value::Array(vec![entry])],
        ));
    }

    /// Sends a replica of every entry we are responsible for to our predecessor.
    fn replicate_own_range(&mut self) {
        let own: Vec<_> = self
            .table
            .iter()
            .filter(|((_, pos), _)| self.next_hop_for(&pos.ring()).is_none())
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for ((method, pos), value) in own {
            self.replicate(method, &pos, value);
        }
    }

    fn handle_notify(&mut self, payload: &[Value]) {
        let Some(key) = payload.get(1).and_then(Value::as_bytes) else {
            self.stats.bad_messages += 1;
            return;
        };
        if payload.len() == 3 {
            if self.keys.remove(key) {
                self.events.push_back(ChordEvent::KeyDeleted(key.to_vec()));
            }
        } else {
            self.keys.insert(key.to_vec());
            self.events.push_back(ChordEvent::KeyAdded(key.to_vec()));
        }
    }

    fn handle_retrieve(&mut self, conn: ConnId, payload: &[Value], now_ms: Millis) {
        let [_, method_raw, pos_raw] = payload else {
            self.stats.bad_messages += 1;
            return;
        };
        let (Some(method), Some(pos)) =
            (ring::method_index(method_raw), Position::from_wire(pos_raw))
        else {
            self.stats.bad_messages += 1;
            return;
        };
        match self.hop(&pos) {
            Hop::Peer(next) if next != conn => {
                self.stats.retrieves_forwarded += 1;
                self.forwarded.insert(
                    method,
                    pos,
                    conn,
                    Forward {
                        method_raw: method_raw.clone(),
                        pos_raw: pos_raw.clone(),
                        expires_ms: now_ms.saturating_add(super::lookups::FORWARD_TTL_MS),
                        answered_nil: false,
                    },
                );
                self.outbox.push(Outgoing::Link(
                    next,
                    vec![
                        sub(flags::sub::RETRIEVE),
                        method_value(method),
                        pos.to_wire(),
                    ],
                ));
            }
            _ => {
                self.stats.retrieves_answered += 1;
                let value = self.local_value(method, &pos);
                self.outbox.push(Outgoing::Link(
                    conn,
                    vec![
                        sub(flags::sub::RETRIEVED),
                        method_raw.clone(),
                        pos_raw.clone(),
                        value,
                    ],
                ));
            }
        }
    }

    fn handle_retrieved(&mut self, payload: &[Value]) {
        let [_, method_raw, pos_raw, value] = payload else {
            self.stats.bad_messages += 1;
            return;
        };
        let (Some(method), Some(pos)) =
            (ring::method_index(method_raw), Position::from_wire(pos_raw))
        else {
            self.stats.bad_messages += 1;
            return;
        };
        // Route the answer back to whoever we forwarded for: once with a value; a nil once.
        let mut done = Vec::new();
        let mut replies = Vec::new();
        for (conn, fwd) in self.forwarded.waiting_mut(method, &pos) {
            if value.is_nil() && fwd.answered_nil {
                continue;
            }
            replies.push(Outgoing::Link(
                conn,
                vec![
                    sub(flags::sub::RETRIEVED),
                    fwd.method_raw.clone(),
                    fwd.pos_raw.clone(),
                    value.clone(),
                ],
            ));
            if value.is_nil() {
                fwd.answered_nil = true;
            } else {
                done.push(conn);
            }
        }
        self.outbox.extend(replies);
        for conn in done {
            self.forwarded.remove(method, &pos, conn);
        }
        if let Some(late) = self.late_repairs.remove(&(method, pos)) {
            if *value != late.read.agreed {
                let (key, agreed) = (late.read.key.clone(), late.read.agreed.clone());
                self.schedule_repair(key, method, pos, agreed);
            }
        }
        // Our own reads: a nil is provisional, a value is not replaced by a later nil.
        let Some(ids) = self.gets_by_position.get(&(method, pos)).cloned() else {
            return;
        };
        let ids = ids.as_slice();
        for &id in ids {
            if let Some(get) = self.gets.get_mut(&id) {
                let slot = &mut get.answers[method];
                if !slot.as_ref().is_some_and(|v| !v.is_nil()) {
                    *slot = Some(value.clone());
                }
            }
        }
        for &id in ids {
            self.check_get(id);
        }
    }

    fn check_get(&mut self, id: GetId) {
        let Some(outcome) = self.gets.get(&id).and_then(Get::decide) else {
            return;
        };
        let Some(get) = self.remove_get(id) else {
            return;
        };
        if let (GetOutcome::Found(agreed), true) = (&outcome, self.config.read_repair) {
            let mut shared: Option<Arc<AgreedRead>> = None;
            for (method, answer) in get.answers.iter().enumerate() {
                if answer.is_none() && self.late_repairs.len() < MAX_LATE_REPAIRS {
                    let read = shared.get_or_insert_with(|| {
                        Arc::new(AgreedRead {
                            key: get.key.clone(),
                            agreed: agreed.clone(),
                        })
                    });
                    self.late_repairs.insert(
                        (method, get.positions[method]),
                        LateRepair {
                            read: read.clone(),
                            until_ms: get.deadline_ms,
                        },
                    );
                }
                if matches!(answer, Some(v) if v != agreed) {
                    let pos = get.positions[method];
                    self.schedule_repair(get.key.clone(), method, pos, agreed.clone());
                }
            }
        }
        self.events.push_back(ChordEvent::GetDone { id, outcome });
    }

    fn schedule_repair(&mut self, key: Vec<u8>, method: usize, pos: Position, value: Value) {
        if self.pending_repairs.len() < MAX_LATE_REPAIRS {
            self.pending_repairs.push(PendingRepair {
                key,
                method,
                pos,
                value,
                due_ms: None,
            });
        }
    }

    /// Sends the repairs whose wait is over, for keys still in the key list.
    fn send_due_repairs(&mut self, now_ms: Millis) {
        let mut due = Vec::new();
        self.pending_repairs.retain_mut(|r| match r.due_ms {
            None => {
                r.due_ms = Some(now_ms.saturating_add(REPAIR_DELAY_MS));
                true
            }
            Some(at) if at <= now_ms => {
                due.push((r.key.clone(), r.method, r.pos, r.value.clone()));
                false
            }
            Some(_) => true,
        });
        for (key, method, pos, value) in due {
            if self.keys.contains(&key) {
                self.stats.read_repairs += 1;
                self.route_store(method, &pos, value, None);
            }
        }
    }

    fn remove_get(&mut self, id: GetId) -> Option<Get> {
        let get = self.gets.remove(&id)?;
        for (method, pos) in get.positions.iter().enumerate() {
            let key = (method, *pos);
            if self
                .gets_by_position
                .get_mut(&key)
                .is_some_and(|ids| ids.remove(id))
            {
                self.gets_by_position.remove(&key);
            }
        }
        Some(get)
    }

    fn expire(&mut self, now_ms: Millis) {
        self.forwarded.expire(now_ms);
        self.late_repairs.retain(|_, late| late.until_ms > now_ms);
        self.send_due_repairs(now_ms);
        let mut ended = Vec::new();
        let mut reask = Vec::new();
        for (id, get) in self.gets.iter_mut() {
            if get.deadline_ms <= now_ms {
                ended.push((*id, GetOutcome::TimedOut));
                continue;
            }
            if get.decide().is_some() {
                continue;
            }
            if !get.answers.iter().all(Option::is_some) {
                // Some positions never answered: ask them (and the nil ones) again now and
                // then, in case a request or answer was lost with a node.
                if now_ms.saturating_sub(get.asked_ms) < RETRY_MS {
                    continue;
                }
                get.asked_ms = now_ms;
                for (method, answer) in get.answers.iter_mut().enumerate() {
                    if !answer.as_ref().is_some_and(|v| !v.is_nil()) {
                        *answer = None;
                        reask.push((*id, method, get.positions[method]));
                    }
                }
                continue;
            }
            // Every position answered, some or all nil, and no majority: a write may still be
            // on its way to the nil ones, so they are asked again. The same again at least
            // NIL_GRACE_MS later is the answer: nil everywhere means the key is not there,
            // anything else that no value holds three positions.
            match get.undecided_since {
                Some(since) if now_ms.saturating_sub(since) >= NIL_GRACE_MS => {
                    let outcome = if get.all_nil() {
                        GetOutcome::NotFound
                    } else {
                        GetOutcome::NoMajority
                    };
                    ended.push((*id, outcome));
                    continue;
                }
                Some(_) => continue,
                None => get.undecided_since = Some(now_ms),
            }
            get.asked_ms = now_ms;
            for (method, answer) in get.answers.iter_mut().enumerate() {
                if answer.as_ref().is_some_and(Value::is_nil) {
                    *answer = None;
                    reask.push((*id, method, get.positions[method]));
                }
            }
        }
        // In ID order (the map is unordered), so that what goes out is the same every run.
        ended.sort_unstable_by_key(|(id, _)| *id);
        reask.sort_unstable_by_key(|(id, method, _)| (*id, *method));
        for (id, outcome) in ended {
            self.remove_get(id);
            self.events.push_back(ChordEvent::GetDone { id, outcome });
        }
        let mut touched = BTreeSet::new();
        for (id, method, pos) in reask {
            match self.hop(&pos) {
                Hop::Local => {
                    let value = self.local_value(method, &pos);
                    if let Some(get) = self.gets.get_mut(&id) {
                        get.answers[method] = Some(value);
                    }
                }
                Hop::Peer(conn) => self.outbox.push(Outgoing::Link(
                    conn,
                    vec![
                        sub(flags::sub::RETRIEVE),
                        method_value(method),
                        pos.to_wire(),
                    ],
                )),
            }
            touched.insert(id);
        }
        for id in touched {
            self.check_get(id);
        }
    }

    /// A storing peer vanished: entries it was closer to than we are go back into routing
    /// (to us or whoever now holds that range), and if it was our predecessor the new one
    /// gets replicas of our own range.
    fn recover_from_loss(&mut self, lost_pos: RingPos, was_pred: bool) {
        if !self.storing {
            return;
        }
        let near: Vec<_> = self
            .table
            .iter()
            .filter(|((_, pos), _)| {
                let r = pos.ring();
                distance(&lost_pos, &r) < distance(&self.my_pos, &r)
            })
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for ((method, pos), value) in near {
            self.stats.restored += 1;
            self.route_store(method, &pos, value, None);
        }
        if was_pred {
            self.replicate_own_range();
        }
    }

    /// Ring and finger peers we know of but have no link to: dial them (rate-limited).
    fn plan_dials(&mut self, now_ms: Millis) {
        if !self.storing || self.known.is_empty() {
            return;
        }
        // Planning looks at every known node: do it when links or candidates changed, and
        // now and then for the dial timers.
        if !self.replan && now_ms.saturating_sub(self.last_plan_ms) < REPLAN_MS {
            return;
        }
        self.replan = false;
        self.last_plan_ms = now_ms;
        // A wanted peer dialled a while ago and still not linked is unreachable (it may have
        // died before we linked it): forget it, so that the next node takes its place in
        // the ring. A peer list that names it again brings it back, to be dialled again once
        // REDIAL_MS has passed.
        let unreachable: Vec<RingPos> = self
            .known
            .iter()
            .filter(|(_, (id, _))| {
                !self.peers.contains_key(id)
                    && self.dialled_at.get(id).is_some_and(|&t| {
                        (DIAL_GRACE_MS..REDIAL_MS).contains(&now_ms.saturating_sub(t))
                    })
            })
            .map(|(pos, _)| *pos)
            .collect();
        for pos in unreachable {
            self.known.remove(&pos);
        }
        let known: Vec<RingPos> = self.known.keys().copied().collect();
        for pos in routing::wanted_links(&self.my_pos, &known) {
            let Some((id, addr)) = self.known.get(&pos) else {
                continue;
            };
            if self.peers.contains_key(id) {
                continue;
            }
            let recent = self
                .dialled_at
                .get(id)
                .is_some_and(|&t| now_ms.saturating_sub(t) < REDIAL_MS);
            if recent {
                continue;
            }
            self.dialled_at.insert(id.clone(), now_ms);
            self.wanted_dials.push((id.clone(), addr.clone()));
        }
    }

    /// Sends the outbox and dials the wanted peers through a mesh callback's context (for a
    /// layer that queued user commands on this handler from inside a callback).
    pub fn flush(&mut self, ctx: &mut MeshCtx<'_>) {
        self.flush_ctx(ctx);
    }

    /// Sends the outbox through a mesh callback's context, then dials the wanted peers.
    fn flush_ctx(&mut self, ctx: &mut MeshCtx<'_>) {
        for (id, (host, port)) in std::mem::take(&mut self.wanted_dials) {
            let _ = ctx.connect(&host, port, Some(&id));
        }
        // The outbox's buffer is kept: it is refilled on every input.
        let mut outbox = std::mem::take(&mut self.outbox);
        for out in outbox.drain(..) {
            let _ = match out {
                Outgoing::Link(conn, payload) => ctx.send(conn, flags::WHISPER, &payload).map(drop),
                Outgoing::Peer(peer, payload) => ctx.whisper(&peer, &payload).map(drop),
                Outgoing::Broadcast(payload) => {
                    ctx.broadcast(&payload);
                    Ok(())
                }
            };
        }
        self.outbox = outbox;
    }
}

/// Sends the handler's outbox through the mesh (after a user command).
pub(super) fn flush_mesh(mesh: &mut Mesh<ChordHandler>, now_ms: Millis) {
    let outbox = std::mem::take(&mut mesh.handler_mut().outbox);
    for out in outbox {
        match out {
            Outgoing::Link(conn, payload) => {
                let peer = mesh
                    .handler()
                    .peers
                    .iter()
                    .find(|(_, p)| p.conn == conn)
                    .map(|(id, _)| id.clone());
                if let Some(peer) = peer {
                    send_whisper(mesh, &peer, payload, now_ms);
                }
            }
            Outgoing::Peer(peer, payload) => send_whisper(mesh, &peer, payload, now_ms),
            Outgoing::Broadcast(mut payload) => {
                let Some(flag) = take_sub_flag(&mut payload) else {
                    continue;
                };
                mesh.broadcast(flag, payload, now_ms);
            }
        }
    }
}

fn send_whisper(
    mesh: &mut Mesh<ChordHandler>,
    peer: &[u8],
    mut payload: Vec<Value>,
    now_ms: Millis,
) {
    if let Some(flag) = take_sub_flag(&mut payload) {
        let _ = mesh.whisper(peer, flag, payload, now_ms);
    }
}

fn take_sub_flag(payload: &mut Vec<Value>) -> Option<u8> {
    if payload.is_empty() {
        return None;
    }
    payload
        .remove(0)
        .as_u64()
        .and_then(|f| u8::try_from(f).ok())
}

impl MeshHandler for ChordHandler {
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        if self.peers.get(peer).is_some_and(|p| p.conn == conn) {
            return;
        }
        let Some(pos) = RingPos::of_node(peer) else {
            return;
        };
        let addr = ctx
            .peers()
            .into_iter()
            .find(|p| p.conn == conn)
            .map(|p| p.addr)
            .unwrap_or_default();
        if let Some(old) = self.peers.get(peer) {
            self.forwarded.forget_link(old.conn);
        }
        self.replan = true;
        self.peers.insert(
            peer.to_vec(),
            PeerState {
                conn,
                pos,
                storing: false,
                addr,
                rs2p: ctx.is_rs2p(conn),
            },
        );
        self.reindex();
        self.announce(conn);
        self.flush_ctx(ctx);
    }

    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        let Some(flag) = msg.payload.first().and_then(Value::as_u64) else {
            return false;
        };
        let now_ms = ctx.now_ms();
        let p = &msg.payload;
        let consumed = match u8::try_from(flag).unwrap_or(u8::MAX) {
            flags::sub::HANDSHAKE if p.len() == 2 => {
                if let Some(peer) = ctx.peer_of(conn).map(<[u8]>::to_vec) {
                    self.handle_state(conn, &peer, &p[1]);
                }
                true
            }
            flags::sub::NOTIFY => {
                self.handle_notify(p);
                true
            }
            flags::sub::STORE => {
                match p.as_slice() {
                    [_, m, pos, value] => match (ring::method_index(m), Position::from_wire(pos)) {
                        (Some(m), Some(pos)) => {
                            self.route_store(m, &pos, value.clone(), Some(conn))
                        }
                        _ => self.stats.bad_messages += 1,
                    },
                    _ => self.stats.bad_messages += 1,
                }
                true
            }
            flags::sub::DELTA => {
                match p.as_slice() {
                    [_, m, pos, rest @ ..] => {
                        let delta = rest.first().cloned().unwrap_or(Value::Map(Vec::new()));
                        match (
                            ring::method_index(m),
                            Position::from_wire(pos),
                            delta.as_map(),
                        ) {
                            (Some(m), Some(pos), Some(_)) => {
                                self.route_delta(m, &pos, &delta, Some(conn))
                            }
                            _ => self.stats.bad_messages += 1,
                        }
                    }
                    _ => self.stats.bad_messages += 1,
                }
                true
            }
            flags::sub::RETRIEVE => {
                self.handle_retrieve(conn, p, now_ms);
                true
            }
            flags::sub::RETRIEVED => {
                self.handle_retrieved(p);
                true
            }
            _ => false,
        };
        self.flush_ctx(ctx);
        consumed
    }

    fn on_peer_list(&mut self, ctx: &mut MeshCtx<'_>, peers: &[(String, u16, Vec<u8>)]) {
        for (host, port, id) in peers {
            if !self.peers.contains_key(id) {
                self.learn_peer(id, (host.clone(), *port));
            }
        }
        self.flush_ctx(ctx);
    }

    fn on_disconnected(&mut self, ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        let was_pred = self.predecessor_peer().as_deref() == Some(peer);
        let Some(state) = self.peers.remove(peer) else {
            return;
        };
        self.reindex();
        // A vanished peer is no ring or finger candidate until a peer list names it again
        // (else the ring link to its successor would never be planned).
        self.known.remove(&state.pos);
        self.replan = true;
        self.forwarded.forget_link(state.conn);
        if state.storing {
            self.recover_from_loss(state.pos, was_pred);
        }
        self.flush_ctx(ctx);
    }

    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        let now_ms = ctx.now_ms();
        self.expire(now_ms);
        self.plan_dials(now_ms);
        self.flush_ctx(ctx);
    }
}

fn sub(flag: u8) -> Value {
    Value::UInt(flag.into())
}

fn store_msg(method: usize, pos: &Position, value: Value) -> Vec<Value> {
    vec![
        sub(flags::sub::STORE),
        method_value(method),
        pos.to_wire(),
        value,
    ]
}

/// The state digit, as py2p reads it with `int()`: "0"/"1" as str or bin, or an integer.
/// Returns `Some(true)` for leeching.
fn parse_digit(value: &Value) -> Option<bool> {
    if let Some(n) = value.as_i64() {
        return Some(n != 0);
    }
    let text = value.as_str()?.trim();
    text.parse::<i64>().ok().map(|n| n != 0)
}

/// One entry of a peer-list message: `[[host, port], id]`.
fn peer_list_entry(id: &[u8], addr: &(String, u16)) -> Value {
    Value::Array(vec![
        Value::Array(vec![Value::Str(addr.0.clone()), Value::UInt(addr.1.into())]),
        Value::Bin(id.to_vec()),
    ])
}
