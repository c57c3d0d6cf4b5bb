//! Handshakes (PROTOCOL.md §6): building ours, checking theirs, and the one-connection-per-ID
//! rule.
//!
//! Ours is `whisper [handshake, my_id (bin), protocol_id (bin), [out_host, out_port],
//! methods]`, sent uncompressed as the first frame on every connection. The method list is
//! `[zlib, gzip, 0x1F]` (0x1F marks an rs2p node, see `conn.rs`). Its frame length must not
//! be ≡ 4 (mod 8): py2p mis-parses a read that ends exactly four bytes into a frame, and the
//! frames after the handshake are all multiples of 8 long towards py2p peers, so a first
//! frame ≢ 4 keeps every py2p read boundary off that spot. When the natural list gives ≡ 4,
//! we append a second 0x1F, which means the same thing and makes the frame one byte longer.
//!
//! Receiving: a different protocol ID closes the connection without an answer; wrong item
//! types (an integer where an ID is due, …) close it as a bad message; str or bin are both
//! accepted for every ID. Two handshaken connections to one peer ID: keep the outgoing one
//! iff int(my_id) > int(peer_id), else the incoming one; the loser is closed and forgotten
//! without events, and when the new connection wins the routing entry moves silently.
//! Known limit: the two ends decide independently, so if our close of the loser reaches the
//! peer before the winner's handshake does, the peer (not we) reports Disconnected and then
//! Connected again for us.

use super::conn::{ConnState, RS2P_MARKER};
use super::core::Core;
use super::handler::{MeshCtx, MeshHandler};
use super::{ConnId, Direction, DropReason, Event, Millis};
use crate::wire::compression::SUPPORTED;
use crate::wire::flags;
use crate::wire::frame::{self, MessageId};
use crate::wire::{base58, Value};
use std::cmp::Ordering;

/// A peer's handshake, checked.
#[derive(Debug, PartialEq)]
pub(super) struct Handshake {
    pub(super) id: Vec<u8>,
    pub(super) protocol_id: Vec<u8>,
    pub(super) addr: (String, u16),
    pub(super) methods: Vec<u8>,
}

/// The method codes we advertise: ours in order of preference, then the rs2p marker.
pub(super) fn advertised_methods() -> Vec<u8> {
    let mut methods: Vec<u8> = SUPPORTED.iter().map(|m| m.code()).collect();
    methods.push(RS2P_MARKER);
    methods
}

/// Checks the five payload items of a handshake (`payload[0]` is the sub-flag).
pub(super) fn parse(payload: &[Value]) -> Result<Handshake, DropReason> {
    let [_, id, protocol_id, addr, methods] = payload else {
        return Err(DropReason::BadMessageShape);
    };
    let id = id
        .as_bytes()
        .filter(|id| base58::decode(id).is_ok())
        .ok_or(DropReason::BadMessageShape)?;
    let protocol_id = protocol_id.as_bytes().ok_or(DropReason::BadMessageShape)?;
    let addr = super::peers::parse_addr(addr).ok_or(DropReason::BadMessageShape)?;
    let methods = methods
        .as_array()
        .ok_or(DropReason::BadMessageShape)?
        .iter()
        .filter_map(|m| m.as_u64().and_then(|m| u8::try_from(m).ok()))
        .collect();
    Ok(Handshake {
        id: id.to_vec(),
        protocol_id: protocol_id.to_vec(),
        addr,
        methods,
    })
}

impl Core {
    /// Our handshake, packed, with a frame length ≢ 4 (mod 8).
    pub(super) fn our_handshake(&self, now_ms: Millis) -> (Vec<u8>, MessageId) {
        let mut methods = advertised_methods();
        loop {
            let payload = [
                Value::UInt(flags::sub::HANDSHAKE.into()),
                Value::Bin(self.my_id().to_vec()),
                Value::Bin(self.config.protocol_id.as_bytes().to_vec()),
                Value::Array(vec![
                    Value::Str(self.config.out_addr.0.clone()),
                    Value::UInt(self.config.out_addr.1.into()),
                ]),
                Value::Array(methods.iter().map(|&m| Value::UInt(m.into())).collect()),
            ];
            let (packed, id) = self.pack(flags::WHISPER, &payload, now_ms);
            if handshake_frame_len_ok(packed.len()) || methods.len() > 3 {
                return (packed, id);
            }
            methods.push(RS2P_MARKER);
        }
    }

    /// Queues our handshake on a freshly opened connection (plain, paced).
    pub(super) fn send_handshake(&mut self, conn: ConnId, now_ms: Millis) {
        let (packed, id) = self.our_handshake(now_ms);
        let mut frame = Vec::with_capacity(packed.len() + 36);
        frame::write_frame(&id, &packed, None, &mut frame);
        self.transmit(conn, frame, true);
    }

    /// A handshake arrived on `conn` (payload of five items).
    pub(super) fn handle_handshake(
        &mut self,
        handler: &mut dyn MeshHandler,
        conn: ConnId,
        payload: &[Value],
        now_ms: Millis,
    ) {
        let hs = match parse(payload) {
            Ok(hs) => hs,
            Err(reason) => return self.close(conn, reason, false, now_ms),
        };
        if hs.protocol_id != self.config.protocol_id.as_bytes() {
            return self.close(conn, DropReason::WrongProtocol, false, now_ms);
        }
        if hs.id == self.my_id() {
            // We dialled ourselves.
            return self.close(conn, DropReason::DuplicateConnection, false, now_ms);
        }
        let Some(previous_id) = self.conns.get(&conn).map(|c| c.peer_id.clone()) else {
            return;
        };
        // A peer that changes its ID on a live connection leaves under the old one.
        if let Some(old) = previous_id.filter(|old| *old != hs.id) {
            if self.routing.get(&old) == Some(&conn) {
                self.routing.remove(&old);
                self.emit(Event::Disconnected { peer: old.clone() });
                self.lost_peers.push(super::core::LostPeer(old));
            }
        }
        let is_new_peer = match self.routing.get(&hs.id).copied() {
            Some(existing) if existing != conn => match self.keeps(existing, conn, &hs.id) {
                Survivor::Both => {
                    // The peer dialled us twice: it closes one of the two, and whichever
                    // stays takes the routing entry (see `Core::forget`).
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.state = ConnState::Handshaken;
                        c.peer_id = Some(hs.id.clone());
                        c.peer_addr = Some(hs.addr);
                        c.methods = hs.methods;
                    }
                    return;
                }
                Survivor::Existing => {
                    let queued = self
                        .conns
                        .get_mut(&conn)
                        .map(|c| std::mem::take(&mut c.queued_whispers))
                        .unwrap_or_default();
                    self.close(conn, DropReason::DuplicateConnection, false, now_ms);
                    for packets in queued {
                        self.whisper_packets(existing, packets, now_ms);
                    }
                    return;
                }
                Survivor::New => {
                    self.routing.insert(hs.id.clone(), conn);
                    let moved = self
                        .conns
                        .get_mut(&existing)
                        .map(|c| std::mem::take(&mut c.queued_whispers))
                        .unwrap_or_default();
                    self.close(existing, DropReason::DuplicateConnection, false, now_ms);
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.queued_whispers.extend(moved);
                    }
                    false
                }
            },
            Some(_) => false,
            None => true,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.state = ConnState::Handshaken;
        c.peer_id = Some(hs.id.clone());
        c.peer_addr = Some(hs.addr);
        c.methods = hs.methods;
        let queued = std::mem::take(&mut c.queued_whispers);
        let expected = c.expected_id.take();
        if let Some(expected) = &expected {
            if self.dialling.get(expected) == Some(&conn) {
                self.dialling.remove(expected);
            }
        }
        if is_new_peer {
            self.routing.insert(hs.id.clone(), conn);
            self.emit(Event::Connected {
                peer: hs.id.clone(),
            });
        }
        self.send_peer_list(conn, now_ms);
        if expected.as_deref().map_or(true, |e| e == hs.id.as_slice()) {
            for packets in queued {
                self.whisper_packets(conn, packets, now_ms);
            }
        }
        handler.on_handshake(&mut MeshCtx::new(self, now_ms), conn, &hs.id);
    }

    /// Which of two connections to one peer survives (the duplicate-connection rule). Both
    /// ends must pick the same one, or each closes the connection the other kept and the
    /// peers end up unlinked:
    /// - one connection each way: the one dialled by the node with the larger ID;
    /// - both dialled by us: the one handshaken first (the peer keeps both until we close
    ///   the other);
    /// - both dialled by the peer: both, for now; the peer closes one as above.
    fn keeps(&self, existing: ConnId, new: ConnId, peer_id: &[u8]) -> Survivor {
        let direction = |c: ConnId| self.conns.get(&c).map(|c| c.direction);
        let (Some(existing_dir), Some(new_dir)) = (direction(existing), direction(new)) else {
            return Survivor::Existing;
        };
        match (existing_dir, new_dir) {
            (Direction::Outgoing, Direction::Outgoing) => return Survivor::Existing,
            (Direction::Incoming, Direction::Incoming) => return Survivor::Both,
            _ => {}
        }
        let peer_int = base58::decode(peer_id).unwrap_or_default();
        let keep_outgoing = base58::cmp_be(&self.my_id_int, &peer_int) == Ordering::Greater;
        if (new_dir == Direction::Outgoing) == keep_outgoing {
            Survivor::New
        } else {
            Survivor::Existing
        }
    }
}

/// The outcome of the duplicate-connection rule, see [`Core::keeps`].
enum Survivor {
    Existing,
    New,
    Both,
}

/// py2p's reader fails when a read ends four bytes into a frame: our first frame avoids
/// a length ≡ 4 (mod 8) (the frame is the 4-byte prefix, the 32-byte checksum and `packed`).
pub(super) fn handshake_frame_len_ok(packed_len: usize) -> bool {
    (4 + 32 + packed_len) % 8 != 4
}
