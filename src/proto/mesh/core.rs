//! The state of one mesh node, minus the extension handler, and the primitives every rule
//! uses: sending a message to one link or to many, dialling, closing a connection (with the
//! routing-table and event bookkeeping that follows) and counting drops. The rules
//! themselves live in `inbound.rs`, `handshake.rs`, `peers.rs`, `relay.rs`, `requests.rs`,
//! `renegotiate.rs` and `timers.rs`.

use super::conn::{Conn, ConnIds, ConnState, LinkKind};
use super::encode::{self, FrameSet};
use super::redial::Redial;
use super::requests::PendingRequests;
use super::seen::SeenSet;
use super::{
    ConnId, Direction, DropReason, Event, MeshConfig, MeshStats, Millis, Output, PeerInfo,
};
use crate::wire::flags;
use crate::wire::frame::{self, MessageId};
use crate::wire::{base58, Value};
use std::collections::{BTreeMap, VecDeque};

/// Least time between two rounds of peer-list requests caused by lost connections.
pub(super) const PEER_REQUEST_INTERVAL_MS: Millis = 1_000;
/// Most connections that may wait for their handshake at once (accepted ones).
pub(super) const MAX_PENDING_HANDSHAKES: usize = 256;
/// A connection with part of a frame buffered and no new bytes for this long is closed.
pub(super) const STALE_PARTIAL_FRAME_MS: Millis = 60_000;
/// A connection to a peer that ends sooner than this after it was opened (a failed dial, a
/// peer that closes us as a duplicate connection) ...
pub(super) const QUICK_LOSS_MS: Millis = 10_000;
/// ... keeps that peer ID out of our peer-list dials for this long, so that a peer which keeps
/// refusing us (or a half-open link it still holds) cannot cause a redial loop.
pub(super) const REDIAL_BACKOFF_MS: Millis = 30_000;
/// Most peer IDs remembered for the redial back-off.
const MAX_BACKOFF_ENTRIES: usize = 4096;
/// Broadcasts older than this (by the receiver's clock) are dropped.
pub(super) const BROADCAST_MAX_AGE_S: i64 = 60;

/// A routing-table entry went away: the handler is told after the current input.
#[derive(Debug)]
pub(super) struct LostPeer(pub(super) Vec<u8>);

/// A standby connection took over a peer's routing entry (see `handshake.rs`, the
/// duplicate-connection rule): the handler is told after the current input, as for a new
/// handshake, but no event fires: the peer never left.
#[derive(Debug)]
pub(super) struct TakenOver {
    pub(super) conn: ConnId,
    pub(super) peer: Vec<u8>,
}

pub(super) struct Core {
    pub(super) config: MeshConfig,
    /// Our node ID as a big-endian integer (for the duplicate-connection rule).
    pub(super) my_id_int: Vec<u8>,
    pub(super) conns: BTreeMap<ConnId, Conn>,
    /// Handshaken peers: peer ID → its one connection.
    pub(super) routing: BTreeMap<Vec<u8>, ConnId>,
    /// Peer IDs being dialled (not yet handshaken) → the dialling connection.
    pub(super) dialling: BTreeMap<Vec<u8>, ConnId>,
    /// Peer IDs not to dial from peer lists until the given time (see [`REDIAL_BACKOFF_MS`]).
    pub(super) redial_after: BTreeMap<Vec<u8>, Millis>,
    /// Lost peers being redialled (see `redial.rs`).
    pub(super) redials: BTreeMap<Vec<u8>, Redial>,
    pub(super) seen: SeenSet,
    pub(super) requests: PendingRequests,
    pub(super) ids: ConnIds,
    pub(super) stats: MeshStats,
    pub(super) outputs: VecDeque<Output>,
    pub(super) lost_peers: Vec<LostPeer>,
    pub(super) taken_over: Vec<TakenOver>,
    /// Reused buffer of flood targets.
    pub(super) scratch_targets: Vec<ConnId>,
    /// Counter mixed into request IDs.
    pub(super) request_counter: u64,
    /// When we last asked our peers for their peer lists after a loss.
    pub(super) last_peer_request_ms: Option<Millis>,
    /// A loss happened since then: ask again on the next tick (losses coalesce, so crash
    /// recovery costs one round of requests per second, not one per lost connection).
    pub(super) peer_request_due: bool,
}

impl Core {
    pub(super) fn new(config: MeshConfig) -> Self {
        let my_id_int = base58::decode(config.node_id.as_bytes()).unwrap_or_default();
        let seen = SeenSet::new(config.seen_capacity);
        Core {
            config,
            my_id_int,
            conns: BTreeMap::new(),
            routing: BTreeMap::new(),
            dialling: BTreeMap::new(),
            redial_after: BTreeMap::new(),
            redials: BTreeMap::new(),
            seen,
            requests: PendingRequests::new(),
            ids: ConnIds::new(),
            stats: MeshStats::default(),
            outputs: VecDeque::new(),
            lost_peers: Vec::new(),
            taken_over: Vec::new(),
            scratch_targets: Vec::new(),
            request_counter: 0,
            last_peer_request_ms: None,
            peer_request_due: false,
        }
    }

    pub(super) fn my_id(&self) -> &[u8] {
        self.config.node_id.as_bytes()
    }

    pub(super) fn count_drop(&mut self, reason: DropReason) {
        self.stats.dropped[reason as usize] += 1;
    }

    pub(super) fn emit(&mut self, event: Event) {
        if matches!(event, Event::Message(_)) {
            self.stats.delivered += 1;
        }
        self.outputs.push_back(Output::Event(event));
    }

    /// Queues one whole frame for `conn`.
    pub(super) fn transmit(&mut self, conn: ConnId, frame: Vec<u8>, paced: bool) {
        self.stats.frames_out += 1;
        self.stats.bytes_out += frame.len() as u64;
        self.outputs
            .push_back(Output::Transmit { conn, frame, paced });
    }

    /// Sends `packed` to one handshaken connection in the encoding its peer needs. A
    /// connection whose peer has not sent its handshake gets nothing: before it we do not
    /// know how to frame for it (only our handshake goes out then).
    pub(super) fn send_packed(&mut self, conn: ConnId, id: &MessageId, packed: &[u8]) -> bool {
        let Some(kind) = self
            .conns
            .get(&conn)
            .filter(|c| c.is_handshaken())
            .map(Conn::link_kind)
        else {
            return false;
        };
        let frame = encode::build(id, packed, kind);
        self.transmit(conn, frame, kind.paced());
        true
    }

    /// Packs `[msg_type, my_id, now, payload...]`; returns the packed bytes and their ID.
    pub(super) fn pack(
        &self,
        msg_type: u8,
        payload: &[Value],
        now_ms: Millis,
    ) -> (Vec<u8>, MessageId) {
        let packed = frame::pack(msg_type, self.my_id(), now_secs(now_ms), payload);
        let id = frame::message_id(&packed);
        (packed, id)
    }

    /// Like [`Core::pack`], but with wider msgpack forms where needed so that the
    /// uncompressed frame (4-byte prefix, 32-byte checksum, packed) is a multiple of 8 long:
    /// the frame discipline towards py2p when a frame cannot be compressed.
    pub(super) fn pack_plain_aligned(
        &self,
        msg_type: u8,
        payload: &[Value],
        now_ms: Millis,
    ) -> (Vec<u8>, MessageId) {
        let (packed, id) = self.pack(msg_type, payload, now_ms);
        let residue = (36 + packed.len()) % encode::PY2P_ALIGN;
        if residue == 0 {
            return (packed, id);
        }
        let extra = encode::PY2P_ALIGN - residue;
        let packed = frame::pack_padded(msg_type, self.my_id(), now_secs(now_ms), payload, extra);
        let id = frame::message_id(&packed);
        (packed, id)
    }

    /// Packs and sends one message on one handshaken connection.
    pub(super) fn send_message(
        &mut self,
        conn: ConnId,
        msg_type: u8,
        payload: &[Value],
        now_ms: Millis,
    ) -> MessageId {
        let plain_to_py2p = self
            .conns
            .get(&conn)
            .is_some_and(|c| c.is_handshaken() && c.link_kind() == LinkKind::PlainPaced);
        let (packed, id) = if plain_to_py2p {
            self.pack_plain_aligned(msg_type, payload, now_ms)
        } else {
            self.pack(msg_type, payload, now_ms)
        };
        if msg_type == flags::BROADCAST {
            self.seen.insert(&id, now_ms);
        }
        self.send_packed(conn, &id, &packed);
        id
    }

    /// Sends `packed` to every routing-table peer except the one whose ID is `skip_peer`
    /// and the link `skip_conn`; returns how many links it went to.
    pub(super) fn flood(
        &mut self,
        id: &MessageId,
        packed: &[u8],
        skip_peer: Option<&[u8]>,
        skip_conn: Option<ConnId>,
    ) -> u64 {
        let mut targets = std::mem::take(&mut self.scratch_targets);
        targets.clear();
        targets.extend(
            self.routing
                .iter()
                .filter(|(peer, &conn)| {
                    Some(peer.as_slice()) != skip_peer && Some(conn) != skip_conn
                })
                .map(|(_, &conn)| conn),
        );
        let mut frames = FrameSet::new(id, packed);
        let mut sent = 0;
        let count = targets.len();
        for (index, &conn) in targets.iter().enumerate() {
            let Some(kind) = self.conns.get(&conn).map(Conn::link_kind) else {
                continue;
            };
            let frame = frames.frame_for(kind, index + 1 == count);
            self.transmit(conn, frame, kind.paced());
            sent += 1;
        }
        self.scratch_targets = targets;
        sent
    }

    /// Emits a Dial and records the new outgoing connection (for `expected` peer, if known).
    pub(super) fn dial(
        &mut self,
        host: &str,
        port: u16,
        expected: Option<Vec<u8>>,
        now_ms: Millis,
    ) -> ConnId {
        let conn_id = self.ids.allocate();
        let mut conn = Conn::new(
            Direction::Outgoing,
            ConnState::Dialing,
            now_ms,
            self.config.limits,
        );
        if let Some(peer) = expected {
            self.dialling.insert(peer.clone(), conn_id);
            conn.expected_id = Some(peer);
        }
        conn.dialled_addr = Some((host.to_string(), port));
        self.conns.insert(conn_id, conn);
        self.outputs.push_back(Output::Dial {
            conn: conn_id,
            host: host.to_string(),
            port,
        });
        conn_id
    }

    /// Closes `conn` on our side (emits Close) and forgets it; see [`Core::forget`].
    pub(super) fn close(&mut self, conn: ConnId, reason: DropReason, flush: bool, now_ms: Millis) {
        if self.forget(conn, reason, now_ms) {
            self.outputs.push_back(Output::Close {
                conn,
                reason,
                flush,
            });
        }
    }

    /// Forgets `conn` (closed by either side), counting `reason`. If it held a routing-table
    /// entry, a standby connection to the same peer takes the entry over silently; without
    /// one, fires Disconnected and asks the remaining peers for their peer lists. Returns
    /// false if the connection was unknown (already forgotten).
    pub(super) fn forget(&mut self, conn_id: ConnId, reason: DropReason, now_ms: Millis) -> bool {
        let Some(conn) = self.conns.remove(&conn_id) else {
            return false;
        };
        self.count_drop(reason);
        if now_ms.saturating_sub(conn.opened_ms) < QUICK_LOSS_MS {
            if let Some(id) = conn.peer_id.as_ref().or(conn.expected_id.as_ref()) {
                self.back_off(id.clone(), now_ms);
            }
        }
        if let Some(expected) = &conn.expected_id {
            if self.dialling.get(expected) == Some(&conn_id) {
                self.dialling.remove(expected);
            }
        }
        if let Some(peer) = conn.peer_id {
            if self.routing.get(&peer) == Some(&conn_id) {
                if let Some(standby) = self.standby_for(&peer) {
                    self.routing.insert(peer.clone(), standby);
                    self.taken_over.push(TakenOver {
                        conn: standby,
                        peer,
                    });
                    return true;
                }
                self.routing.remove(&peer);
                self.emit(Event::Disconnected { peer: peer.clone() });
                self.lost_peers.push(LostPeer(peer));
                self.request_peer_lists_after_loss(now_ms);
            }
        }
        true
    }

    /// A handshaken connection to `peer` that the routing table does not use (a second
    /// connection the peer dialled; see the duplicate-connection rule in `handshake.rs`).
    fn standby_for(&self, peer: &[u8]) -> Option<ConnId> {
        self.conns
            .iter()
            .find(|(id, c)| {
                c.is_handshaken()
                    && c.peer_id.as_deref() == Some(peer)
                    && self.routing.get(peer) != Some(id)
            })
            .map(|(&id, _)| id)
    }

    fn back_off(&mut self, peer: Vec<u8>, now_ms: Millis) {
        if self.redial_after.len() >= MAX_BACKOFF_ENTRIES {
            self.expire_backoffs(now_ms);
            if self.redial_after.len() >= MAX_BACKOFF_ENTRIES {
                self.redial_after.clear();
            }
        }
        self.redial_after
            .insert(peer, now_ms.saturating_add(REDIAL_BACKOFF_MS));
    }

    pub(super) fn expire_backoffs(&mut self, now_ms: Millis) {
        self.redial_after.retain(|_, until| *until > now_ms);
    }

    /// True while `peer` must not be dialled from a peer list.
    pub(super) fn backing_off(&self, peer: &[u8], now_ms: Millis) -> bool {
        self.redial_after
            .get(peer)
            .is_some_and(|&until| until > now_ms)
    }

    /// `whisper [request, b"*"]` to every routing-table peer.
    /// Asks for peer lists at once unless we did so less than a second ago; then the next
    /// tick asks, once for all the losses in between.
    pub(super) fn request_peer_lists_after_loss(&mut self, now_ms: Millis) {
        let recently = self
            .last_peer_request_ms
            .is_some_and(|last| now_ms.saturating_sub(last) < PEER_REQUEST_INTERVAL_MS);
        if recently {
            self.peer_request_due = true;
        } else {
            self.last_peer_request_ms = Some(now_ms);
            self.request_peer_lists(now_ms);
        }
    }

    /// Sends the peer-list request a coalesced loss left due (called on every tick).
    pub(super) fn send_due_peer_request(&mut self, now_ms: Millis) {
        if self.peer_request_due {
            self.peer_request_due = false;
            self.last_peer_request_ms = Some(now_ms);
            self.request_peer_lists(now_ms);
        }
    }

    pub(super) fn request_peer_lists(&mut self, now_ms: Millis) {
        if self.routing.is_empty() {
            return;
        }
        let payload = [
            Value::UInt(flags::sub::REQUEST.into()),
            Value::Bin(b"*".to_vec()),
        ];
        let (packed, id) = self.pack(flags::WHISPER, &payload, now_ms);
        self.flood(&id, &packed, None, None);
    }

    /// Outgoing connections alive (dialling, waiting or handshaken).
    pub(super) fn outgoing_count(&self) -> usize {
        self.conns
            .values()
            .filter(|c| c.direction == Direction::Outgoing)
            .count()
    }

    pub(super) fn peer_infos(&self) -> Vec<PeerInfo> {
        self.routing
            .iter()
            .filter_map(|(peer, &conn_id)| {
                let conn = self.conns.get(&conn_id)?;
                Some(PeerInfo {
                    id: peer.clone(),
                    addr: conn.peer_addr.clone().unwrap_or_default(),
                    direction: conn.direction,
                    conn: conn_id,
                })
            })
            .collect()
    }
}

/// Whole seconds of a millisecond time, as the protocol's `time` field.
pub(super) fn now_secs(now_ms: Millis) -> i64 {
    i64::try_from(now_ms / 1000).unwrap_or(i64::MAX)
}
