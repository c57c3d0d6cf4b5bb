//! The mesh protocol core (PROTOCOL.md §6), sans-IO.
//!
//! CONTRACT (shared between the proto and the driver work; signatures here are fixed, bodies
//! are filled in by the proto work; add, do not change):
//!
//! * The core allocates every [`ConnId`]. For an accepted socket the driver calls
//!   [`Mesh::on_accepted`]; for a dial the core emits [`Output::Dial`] (after
//!   [`Mesh::connect`] or on its own from a peer list) and the driver answers with
//!   [`Mesh::on_connected`] or [`Mesh::on_closed`].
//! * Bytes read from a socket go to [`Mesh::on_data`]. Bytes to write come out as
//!   [`Output::Transmit`], one whole frame each; the driver owns write buffers and flushes
//!   them. When `paced` is set the peer may be a py2p node: the driver writes each such frame
//!   with its own write call, and only when the previous one has left the socket's send queue.
//! * The driver calls [`Mesh::on_tick`] at least once a second.
//! * The driver drains [`Mesh::poll_output`] after every input.
//!
//! IMPLEMENTATION NOTES (additions to the contract):
//!
//! * [`Mesh`] is generic over a [`MeshHandler`] (default [`NoopHandler`], so `Mesh` and
//!   [`Mesh::new`] are unchanged); [`Mesh::with_handler`] layers sync or chord on the mesh,
//!   [`Mesh::handler`] / [`Mesh::handler_mut`] reach it. See `handler.rs`.
//! * [`MeshStats::resend_ignored`] counts `renegotiate [resend]` frames (ignored, never a
//!   close).
//! * Frames towards a peer that advertised [`RS2P_MARKER`] are plain and unpaced; towards any
//!   other peer every frame after our handshake is compressed and padded to a multiple of 8
//!   (or, with no common method, packed with wider msgpack forms to the same end; relayed
//!   broadcasts cannot be re-packed, so that last case is best effort), paced. Our handshake
//!   is plain, paced and never ≡ 4 (mod 8). See `handshake.rs` and `conn.rs`.
//! * Nothing but our handshake is sent on a connection before the peer's handshake arrived;
//!   frames the peer sends before its handshake are still handled (relayed, delivered), but
//!   answers to them are not sent.
//! * A peer whose connection ended within 10 s of opening (a failed dial, a refused
//!   duplicate) is not dialled again from peer lists for 30 s: no redial loops.
//! * A working link this node dialled that the driver reports closed (`PeerClosed`: EOF,
//!   reset, socket error) is redialled after 1, 2, 4, 8 and 16 s, then given up
//!   ([`MeshStats::redials`], [`MeshStats::redials_given_up`]; see `redial.rs`).
//! * Module map: `core.rs` state and send/close primitives, `conn.rs` per-connection state,
//!   `inbound.rs` decoding and dispatch, `handshake.rs`, `peers.rs`, `relay.rs`, `seen.rs`,
//!   `requests.rs`, `renegotiate.rs`, `timers.rs`, `redial.rs`, `encode.rs`, `handler.rs`;
//!   tests under `tests/` (an in-memory network of nodes and a raw scripted peer).

mod conn;
mod core;
mod encode;
mod handler;
mod handshake;
mod inbound;
mod peers;
mod redial;
mod relay;
mod renegotiate;
mod requests;
mod seen;
mod timers;

#[cfg(test)]
mod tests;

pub use conn::RS2P_MARKER;
pub use handler::{MeshCtx, MeshHandler, NoopHandler};

use self::conn::{Conn, ConnState};
use self::core::{Core, MAX_PENDING_HANDSHAKES};
use crate::wire::frame::MessageId;
use crate::wire::{flags, Limits, Value};

/// Identifies one connection of one node. Never reused within a node.
pub type ConnId = u64;

/// Wall-clock time in milliseconds since the Unix epoch (virtual in the simulator).
pub type Millis = u64;

/// Settings of one mesh node.
#[derive(Clone, Debug)]
pub struct MeshConfig {
    /// Protocol ID text (see `wire::ids::protocol_id`).
    pub protocol_id: String,
    /// This node's ID text (base58).
    pub node_id: String,
    /// The address other nodes should dial to reach this node.
    pub out_addr: (String, u16),
    /// Peers this node dials on its own from peer lists (default 4).
    pub max_outgoing: usize,
    pub limits: Limits,
    /// Most broadcast IDs remembered for de-duplication (default 1,000,000).
    pub seen_capacity: usize,
    /// Seconds a connection may take to send a valid handshake (default 30).
    pub handshake_timeout_s: u64,
    /// Redial lost links this node dialled (default on; see `redial.rs`).
    pub redial_lost_peers: bool,
}

impl MeshConfig {
    /// Defaults for everything but the identities.
    pub fn new(protocol_id: String, node_id: String, out_addr: (String, u16)) -> Self {
        MeshConfig {
            protocol_id,
            node_id,
            out_addr,
            max_outgoing: 4,
            limits: Limits::DEFAULT,
            seen_capacity: 1_000_000,
            handshake_timeout_s: 30,
            redial_lost_peers: true,
        }
    }
}

/// Why a connection was closed or a frame dropped; each has a counter in [`MeshStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DropReason {
    FrameTooLarge = 0,
    DecompressedTooLarge = 1,
    BadChecksum = 2,
    BadMsgpack = 3,
    BadMessageShape = 4,
    WrongProtocol = 5,
    HandshakeTimeout = 6,
    StalePartialFrame = 7,
    DuplicateConnection = 8,
    /// A broadcast older than 60 s (frame dropped, connection kept).
    Expired = 9,
    /// A broadcast already seen (frame dropped, connection kept).
    Duplicate = 10,
    /// A frame with a flag no handler knows (frame dropped, connection kept).
    UnknownFlag = 11,
    /// The peer stopped reading and its write buffer passed the limit (set by the driver).
    SlowPeer = 12,
    /// Closed by the peer or by a socket error.
    PeerClosed = 13,
    /// The node's user queue was full (message shed, connection kept; set by the driver).
    QueueFull = 14,
    /// Too many connections still waiting for a handshake.
    TooManyPending = 15,
}

/// Number of [`DropReason`] values.
pub const DROP_REASONS: usize = 16;

/// Per-node counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MeshStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Broadcast frames forwarded to other peers (one per peer it went to).
    pub relayed: u64,
    /// Messages handed to the user.
    pub delivered: u64,
    /// Indexed by `DropReason as usize`.
    pub dropped: [u64; DROP_REASONS],
    /// `renegotiate [resend]` frames received and ignored (added to the contract).
    pub resend_ignored: u64,
    /// Dials made to redial a lost peer (see `redial.rs`).
    pub redials: u64,
    /// Lost peers given up on after the last redial failed.
    pub redials_given_up: u64,
}

/// Whether this node dialled a connection or accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// A message for the user: sub-flag `broadcast` or `whisper`, unconsumed by the protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct UserMessage {
    /// The main flag it came with (broadcast or whisper).
    pub msg_type: u8,
    /// The sub-flag (broadcast 0x00 or whisper 0x02).
    pub sub_flag: u8,
    pub sender: Vec<u8>,
    pub time: i64,
    pub id: MessageId,
    /// The packets after the sub-flag.
    pub packets: Vec<Value>,
    /// The connection it arrived on.
    pub conn: ConnId,
}

/// Something the user may want to know.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A peer completed its handshake (one per peer ID).
    Connected {
        peer: Vec<u8>,
    },
    /// A handshaken peer's connection went away.
    Disconnected {
        peer: Vec<u8>,
    },
    Message(UserMessage),
}

/// What the core asks the driver to do.
#[derive(Debug, PartialEq)]
pub enum Output {
    /// Open a TCP connection; answer with `on_connected(conn)` or `on_closed(conn)`.
    Dial {
        conn: ConnId,
        host: String,
        port: u16,
    },
    /// Write one whole frame on `conn`. `paced`: see the module contract.
    Transmit {
        conn: ConnId,
        frame: Vec<u8>,
        paced: bool,
    },
    /// Close `conn` once its queued frames are written (`flush`) or at once.
    Close {
        conn: ConnId,
        reason: DropReason,
        flush: bool,
    },
    Event(Event),
}

/// A handshaken peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: Vec<u8>,
    /// The address it advertised in its handshake.
    pub addr: (String, u16),
    pub direction: Direction,
    pub conn: ConnId,
}

/// Errors from user commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeshError {
    /// No handshaken connection to that peer ID.
    UnknownPeer,
    /// Flags or packets the protocol does not allow (e.g. a reserved main flag).
    InvalidMessage(&'static str),
}

/// The mesh state machine of one node.
///
/// `H` is the protocol layered on the mesh (see [`MeshHandler`]); a plain mesh node is
/// `Mesh` (= `Mesh<NoopHandler>`), made by [`Mesh::new`].
pub struct Mesh<H: MeshHandler = NoopHandler> {
    core: Core,
    handler: H,
}

impl Mesh<NoopHandler> {
    pub fn new(config: MeshConfig, now_ms: Millis) -> Self {
        Mesh::with_handler(config, NoopHandler, now_ms)
    }
}

impl<H: MeshHandler> Mesh<H> {
    /// A node whose unconsumed messages and peer events also go to `handler`.
    pub fn with_handler(config: MeshConfig, handler: H, now_ms: Millis) -> Self {
        let _ = now_ms;
        Mesh {
            core: Core::new(config),
            handler,
        }
    }

    pub fn config(&self) -> &MeshConfig {
        &self.core.config
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// A socket was accepted from `remote` (host, port); returns its new id and queues our
    /// handshake.
    pub fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId {
        let _ = remote;
        let core = &mut self.core;
        let conn_id = core.ids.allocate();
        let waiting = core
            .conns
            .values()
            .filter(|c| c.direction == Direction::Incoming && !c.is_handshaken())
            .count();
        if waiting >= MAX_PENDING_HANDSHAKES {
            core.count_drop(DropReason::TooManyPending);
            core.outputs.push_back(Output::Close {
                conn: conn_id,
                reason: DropReason::TooManyPending,
                flush: false,
            });
            return conn_id;
        }
        let conn = Conn::new(
            Direction::Incoming,
            ConnState::AwaitingHandshake,
            now_ms,
            core.config.limits,
        );
        core.conns.insert(conn_id, conn);
        core.send_handshake(conn_id, now_ms);
        conn_id
    }

    /// A dial emitted as [`Output::Dial`] succeeded; queues our handshake.
    pub fn on_connected(&mut self, conn: ConnId, now_ms: Millis) {
        let Some(c) = self.core.conns.get_mut(&conn) else {
            return;
        };
        if c.state != ConnState::Dialing {
            return;
        }
        c.state = ConnState::AwaitingHandshake;
        c.opened_ms = now_ms;
        c.last_data_ms = now_ms;
        self.core.send_handshake(conn, now_ms);
    }

    /// Bytes arrived on `conn`.
    pub fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis) {
        self.core.on_data(&mut self.handler, conn, data, now_ms);
        self.run_lost_peer_hooks(now_ms);
    }

    /// `conn` is gone: EOF, a socket error, a failed dial, or closed by the driver for
    /// `reason` (the core counts it).
    pub fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        self.core.note_loss(conn, reason, now_ms);
        self.core.forget(conn, reason, now_ms);
        self.run_lost_peer_hooks(now_ms);
    }

    /// Time passed: expire the seen-set, stale partial frames, handshake timeouts, pending
    /// requests.
    pub fn on_tick(&mut self, now_ms: Millis) {
        self.core.on_tick(now_ms);
        self.run_lost_peer_hooks(now_ms);
        self.handler
            .on_tick(&mut MeshCtx::new(&mut self.core, now_ms));
    }

    /// Runs the handler's [`MeshHandler::on_wake`] (the driver does this when asked to, e.g.
    /// after user commands were queued for the handler).
    pub fn wake_handler(&mut self, now_ms: Millis) {
        self.handler
            .on_wake(&mut MeshCtx::new(&mut self.core, now_ms));
        self.run_lost_peer_hooks(now_ms);
    }

    /// Dial `host:port` (user command). Returns the connection id the dial will use.
    pub fn connect(&mut self, host: &str, port: u16, now_ms: Millis) -> ConnId {
        self.core.dial(host, port, None, now_ms)
    }

    /// Broadcast `[sub_flag, packets...]` to the whole network; returns its message ID.
    pub fn broadcast(&mut self, sub_flag: u8, packets: Vec<Value>, now_ms: Millis) -> MessageId {
        let payload = with_sub_flag(sub_flag, packets);
        self.core.broadcast_payload(&payload, now_ms)
    }

    /// Whisper `[sub_flag, packets...]` to one handshaken peer.
    pub fn whisper(
        &mut self,
        peer: &[u8],
        sub_flag: u8,
        packets: Vec<Value>,
        now_ms: Millis,
    ) -> Result<MessageId, MeshError> {
        let conn = *self.core.routing.get(peer).ok_or(MeshError::UnknownPeer)?;
        let payload = with_sub_flag(sub_flag, packets);
        Ok(self
            .core
            .send_message(conn, flags::WHISPER, &payload, now_ms))
    }

    /// Reply to `sender`: a whisper if it is a neighbour, else the request/response flow
    /// (the packets are whispered once the target is reached).
    pub fn reply(&mut self, sender: &[u8], packets: Vec<Value>, now_ms: Millis) {
        self.core.reply_to(sender, packets, now_ms);
    }

    /// Handshaken peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.core.peer_infos()
    }

    pub fn stats(&self) -> &MeshStats {
        &self.core.stats
    }

    /// Count a drop decided outside the core (the driver's queue, a slow peer).
    pub fn count_drop(&mut self, reason: DropReason) {
        self.core.count_drop(reason);
    }

    /// The next thing for the driver to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.core.outputs.pop_front()
    }

    /// Tells the handler about peers that left the routing table during the last input, and
    /// about standby connections that took a peer's entry over (as a fresh handshake).
    fn run_lost_peer_hooks(&mut self, now_ms: Millis) {
        while !self.core.lost_peers.is_empty() || !self.core.taken_over.is_empty() {
            let lost = std::mem::take(&mut self.core.lost_peers);
            for core::LostPeer(peer) in lost {
                self.handler
                    .on_disconnected(&mut MeshCtx::new(&mut self.core, now_ms), &peer);
            }
            let taken_over = std::mem::take(&mut self.core.taken_over);
            for core::TakenOver { conn, peer } in taken_over {
                self.handler
                    .on_handshake(&mut MeshCtx::new(&mut self.core, now_ms), conn, &peer);
            }
        }
    }
}

fn with_sub_flag(sub_flag: u8, packets: Vec<Value>) -> Vec<Value> {
    let mut payload = Vec::with_capacity(packets.len() + 1);
    payload.push(Value::UInt(sub_flag.into()));
    payload.extend(packets);
    payload
}
