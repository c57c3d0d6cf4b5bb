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

use crate::wire::frame::MessageId;
use crate::wire::{Limits, Value};

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
pub struct Mesh {
    _todo: (),
}

impl Mesh {
    pub fn new(config: MeshConfig, now_ms: Millis) -> Self {
        let _ = (config, now_ms);
        todo!()
    }

    pub fn config(&self) -> &MeshConfig {
        todo!()
    }

    /// A socket was accepted from `remote` (host, port); returns its new id and queues our
    /// handshake.
    pub fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId {
        let _ = (remote, now_ms);
        todo!()
    }

    /// A dial emitted as [`Output::Dial`] succeeded; queues our handshake.
    pub fn on_connected(&mut self, conn: ConnId, now_ms: Millis) {
        let _ = (conn, now_ms);
        todo!()
    }

    /// Bytes arrived on `conn`.
    pub fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis) {
        let _ = (conn, data, now_ms);
        todo!()
    }

    /// `conn` is gone: EOF, a socket error, a failed dial, or closed by the driver for
    /// `reason` (the core counts it).
    pub fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        let _ = (conn, reason, now_ms);
        todo!()
    }

    /// Time passed: expire the seen-set, stale partial frames, handshake timeouts, pending
    /// requests.
    pub fn on_tick(&mut self, now_ms: Millis) {
        let _ = now_ms;
        todo!()
    }

    /// Dial `host:port` (user command). Returns the connection id the dial will use.
    pub fn connect(&mut self, host: &str, port: u16, now_ms: Millis) -> ConnId {
        let _ = (host, port, now_ms);
        todo!()
    }

    /// Broadcast `[sub_flag, packets...]` to the whole network; returns its message ID.
    pub fn broadcast(&mut self, sub_flag: u8, packets: Vec<Value>, now_ms: Millis) -> MessageId {
        let _ = (sub_flag, packets, now_ms);
        todo!()
    }

    /// Whisper `[sub_flag, packets...]` to one handshaken peer.
    pub fn whisper(
        &mut self,
        peer: &[u8],
        sub_flag: u8,
        packets: Vec<Value>,
        now_ms: Millis,
    ) -> Result<MessageId, MeshError> {
        let _ = (peer, sub_flag, packets, now_ms);
        todo!()
    }

    /// Reply to `sender`: a whisper if it is a neighbour, else the request/response flow
    /// (the packets are whispered once the target is reached).
    pub fn reply(&mut self, sender: &[u8], packets: Vec<Value>, now_ms: Millis) {
        let _ = (sender, packets, now_ms);
        todo!()
    }

    /// Handshaken peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        todo!()
    }

    pub fn stats(&self) -> &MeshStats {
        todo!()
    }

    /// Count a drop decided outside the core (the driver's queue, a slow peer).
    pub fn count_drop(&mut self, reason: DropReason) {
        let _ = reason;
        todo!()
    }

    /// The next thing for the driver to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        todo!()
    }
}
