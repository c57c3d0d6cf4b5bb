//! The extension hook of the mesh core: the sync table and the chord table are built ON the
//! mesh by implementing [`MeshHandler`], not by copying it. The core calls the handler after
//! its own rules: `on_handshake` once a peer's handshake is handled and our peer list is
//! sent (a sync node sends its table there), `on_message` for every frame the mesh itself
//! did not consume (return true to consume it; unconsumed frames with sub-flag broadcast or
//! whisper then go to the user), `on_disconnected` when a peer leaves the routing table and
//! `on_tick` on every tick. [`MeshCtx`] is what a handler may do meanwhile: send, broadcast,
//! whisper, emit events and look at the peers. Not here: any sync or chord rule.

use super::core::Core;
use super::{ConnId, Event, MeshConfig, MeshError, Millis, PeerInfo};
use crate::wire::frame::{Message, MessageId};
use crate::wire::{flags, Value};

/// Protocol logic layered on the mesh (sync, chord). Every method has a no-op default.
pub trait MeshHandler: Send {
    /// A peer's handshake on `conn` was accepted (repeated handshakes included), after the
    /// mesh sent its peer list on that connection.
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        let _ = (ctx, conn, peer);
    }

    /// A frame the mesh did not consume, after broadcast relay. Return true to consume it.
    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        let _ = (ctx, conn, msg);
        false
    }

    /// A peer list arrived: `(host, port, id)` of each well-formed entry.
    fn on_peer_list(&mut self, ctx: &mut MeshCtx<'_>, peers: &[(String, u16, Vec<u8>)]) {
        let _ = (ctx, peers);
    }

    /// `peer` left the routing table.
    fn on_disconnected(&mut self, ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        let _ = (ctx, peer);
    }

    /// The driver was asked to run the handler (see [`super::Mesh::wake_handler`]).
    fn on_wake(&mut self, ctx: &mut MeshCtx<'_>) {
        let _ = ctx;
    }

    /// Called on every [`super::Mesh::on_tick`], after the core's own timers.
    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        let _ = ctx;
    }
}

/// The handler of a plain mesh node: does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopHandler;

impl MeshHandler for NoopHandler {}

impl<H: MeshHandler + ?Sized> MeshHandler for Box<H> {
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        (**self).on_handshake(ctx, conn, peer)
    }
    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        (**self).on_message(ctx, conn, msg)
    }
    fn on_peer_list(&mut self, ctx: &mut MeshCtx<'_>, peers: &[(String, u16, Vec<u8>)]) {
        (**self).on_peer_list(ctx, peers)
    }
    fn on_disconnected(&mut self, ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        (**self).on_disconnected(ctx, peer)
    }
    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        (**self).on_tick(ctx)
    }
    fn on_wake(&mut self, ctx: &mut MeshCtx<'_>) {
        (**self).on_wake(ctx)
    }
}

/// What a [`MeshHandler`] may do while the core calls it.
pub struct MeshCtx<'a> {
    core: &'a mut Core,
    now_ms: Millis,
}

impl<'a> MeshCtx<'a> {
    pub(super) fn new(core: &'a mut Core, now_ms: Millis) -> Self {
        MeshCtx { core, now_ms }
    }

    /// The time of the input being handled.
    pub fn now_ms(&self) -> Millis {
        self.now_ms
    }

    pub fn config(&self) -> &MeshConfig {
        &self.core.config
    }

    /// The peer ID behind a handshaken connection.
    pub fn peer_of(&self, conn: ConnId) -> Option<&[u8]> {
        self.core
            .conns
            .get(&conn)
            .filter(|c| c.is_handshaken())
            .and_then(|c| c.peer_id.as_deref())
    }

    /// Whether the peer on `conn` is rs2p (its handshake advertised the rs2p marker).
    pub fn is_rs2p(&self, conn: ConnId) -> bool {
        self.core
            .conns
            .get(&conn)
            .is_some_and(|c| c.link_kind() == super::conn::LinkKind::Rs2p)
    }

    /// The connection of a handshaken peer.
    pub fn conn_of(&self, peer: &[u8]) -> Option<ConnId> {
        self.core.routing.get(peer).copied()
    }

    pub fn peers(&self) -> Vec<PeerInfo> {
        self.core.peer_infos()
    }

    /// Sends `[msg_type, my_id, now, payload...]` on one handshaken connection (a broadcast
    /// sent this way enters our seen-set but goes to this link only).
    pub fn send(
        &mut self,
        conn: ConnId,
        msg_type: u8,
        payload: &[Value],
    ) -> Result<MessageId, MeshError> {
        check_main_flag(msg_type)?;
        if self.peer_of(conn).is_none() {
            return Err(MeshError::UnknownPeer);
        }
        Ok(self.core.send_message(conn, msg_type, payload, self.now_ms))
    }

    /// Broadcasts `payload` (sub-flag first) to the whole network.
    pub fn broadcast(&mut self, payload: &[Value]) -> MessageId {
        self.core.broadcast_payload(payload, self.now_ms)
    }

    /// Whispers `payload` (sub-flag first) to one handshaken peer.
    pub fn whisper(&mut self, peer: &[u8], payload: &[Value]) -> Result<MessageId, MeshError> {
        let conn = self.conn_of(peer).ok_or(MeshError::UnknownPeer)?;
        self.send(conn, flags::WHISPER, payload)
    }

    /// Dials `host:port` unless `peer` (when given) is already linked or being dialled;
    /// returns the connection the dial uses.
    pub fn connect(&mut self, host: &str, port: u16, peer: Option<&[u8]>) -> Option<ConnId> {
        if let Some(id) = peer {
            let busy = id == self.core.my_id()
                || self.core.routing.contains_key(id)
                || self.core.dialling.contains_key(id);
            if busy {
                return None;
            }
        }
        let expected = peer.map(<[u8]>::to_vec);
        Some(self.core.dial(host, port, expected, self.now_ms))
    }

    /// Queues an event for the user.
    pub fn emit(&mut self, event: Event) {
        self.core.emit(event);
    }
}

/// Only broadcast, renegotiate and whisper may be sent (ping and pong are reserved).
pub(super) fn check_main_flag(msg_type: u8) -> Result<(), MeshError> {
    match msg_type {
        flags::BROADCAST | flags::RENEGOTIATE | flags::WHISPER => Ok(()),
        _ => Err(MeshError::InvalidMessage(
            "main flag must be broadcast (0), renegotiate (1) or whisper (2)",
        )),
    }
}
