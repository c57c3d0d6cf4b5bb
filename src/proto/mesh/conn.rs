//! Per-connection state of the mesh core: where the connection is in its life (dialling,
//! waiting for the peer's handshake, handshaken), the frame splitter of its input, what the
//! peer told us in its handshake, and how frames to it must be encoded (see [`LinkKind`]).
//! Not here: decisions about the routing table or the network (see `handshake.rs`,
//! `relay.rs`).

use super::{ConnId, Direction, Millis};
use crate::wire::compression::{self, Method};
use crate::wire::frame::FrameSplitter;
use crate::wire::{Limits, Value};

/// The method code rs2p advertises as a capability marker: nobody implements it (codes
/// 0x14–0x1F name no method), so the references ignore it, and a peer listing it is rs2p.
pub const RS2P_MARKER: u8 = 0x1F;

/// Most packet sets queued on one connection for the reply flow.
pub(super) const MAX_QUEUED_WHISPERS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ConnState {
    /// We emitted a Dial; the driver has not answered yet.
    Dialing,
    /// Open, our handshake sent, the peer's not yet received.
    AwaitingHandshake,
    /// The peer's handshake arrived; the connection is in the routing table.
    Handshaken,
}

/// How frames to a connection are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LinkKind {
    /// An rs2p peer: plain frames, written as the driver likes (unpaced).
    Rs2p,
    /// A possible py2p peer that shares `Method`: every frame compressed and padded to a
    /// multiple of 8 bytes, paced (see the module contract and `docs`).
    Aligned(Method),
    /// The peer's handshake has not arrived, or it shares no method with us: plain, paced.
    PlainPaced,
}

impl LinkKind {
    pub(super) fn paced(self) -> bool {
        !matches!(self, LinkKind::Rs2p)
    }
}

/// One connection of the node.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) direction: Direction,
    pub(super) state: ConnState,
    /// When the connection was opened (or dialled): starts the handshake timer.
    pub(super) opened_ms: Millis,
    /// When bytes last arrived: the stale-partial-frame timer.
    pub(super) last_data_ms: Millis,
    pub(super) splitter: FrameSplitter,
    /// The peer's ID from its handshake.
    pub(super) peer_id: Option<Vec<u8>>,
    /// The address the peer advertised in its handshake.
    pub(super) peer_addr: Option<(String, u16)>,
    /// Method codes the peer advertised (or last renegotiated).
    pub(super) methods: Vec<u8>,
    /// The peer ID we dialled this connection for (from a peer list or a response).
    pub(super) expected_id: Option<Vec<u8>>,
    /// The address we dialled (outgoing connections): where a lost link is redialled.
    pub(super) dialled_addr: Option<(String, u16)>,
    /// Packet sets to whisper once the expected peer's handshake arrives (reply flow).
    pub(super) queued_whispers: Vec<Vec<Value>>,
}

impl Conn {
    pub(super) fn new(
        direction: Direction,
        state: ConnState,
        now_ms: Millis,
        limits: Limits,
    ) -> Self {
        Conn {
            direction,
            state,
            opened_ms: now_ms,
            last_data_ms: now_ms,
            splitter: FrameSplitter::new(limits),
            peer_id: None,
            peer_addr: None,
            methods: Vec::new(),
            expected_id: None,
            dialled_addr: None,
            queued_whispers: Vec::new(),
        }
    }

    pub(super) fn is_handshaken(&self) -> bool {
        self.state == ConnState::Handshaken
    }

    /// How frames to this peer must be written, from what its handshake advertised.
    pub(super) fn link_kind(&self) -> LinkKind {
        if !self.is_handshaken() {
            return LinkKind::PlainPaced;
        }
        if self.methods.contains(&RS2P_MARKER) {
            return LinkKind::Rs2p;
        }
        match compression::choose(compression::SUPPORTED, &self.methods) {
            Some(method) => LinkKind::Aligned(method),
            None => LinkKind::PlainPaced,
        }
    }
}

/// Allocates connection ids: never reused within a node.
#[derive(Debug)]
pub(super) struct ConnIds {
    next: ConnId,
}

impl ConnIds {
    pub(super) fn new() -> Self {
        ConnIds { next: 1 }
    }
    pub(super) fn allocate(&mut self) -> ConnId {
        let id = self.next;
        self.next += 1;
        id
    }
}
