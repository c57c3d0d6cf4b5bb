//! Peer lists (PROTOCOL.md §6): `whisper [peers, [[[host, port], id], ...]]` sent after every
//! handshake and on request, and dialling the peers such a list names while this node has
//! fewer than `max_outgoing` outgoing connections, from a point of the list that depends on
//! this node's ID (so that joining nodes do not all dial the same few). Never dials our own ID or address, nor an
//! ID already connected or being dialled (py2p mishandles duplicate connections), nor one
//! whose last connection failed quickly (see `core::REDIAL_BACKOFF_MS`).

use super::core::Core;
use super::{ConnId, DropReason, MeshCtx, MeshHandler, Millis};
use crate::wire::flags;
use crate::wire::frame::Message;
use crate::wire::Value;

impl Core {
    /// Sends our peer list (every handshaken peer but the recipient) on `conn`.
    pub(super) fn send_peer_list(&mut self, conn: ConnId, now_ms: Millis) {
        let recipient = self.conns.get(&conn).and_then(|c| c.peer_id.as_deref());
        let entries: Vec<Value> = self
            .routing
            .iter()
            .filter(|(peer, _)| Some(peer.as_slice()) != recipient)
            .filter_map(|(peer, c)| {
                let (host, port) = self.conns.get(c)?.peer_addr.clone()?;
                Some(Value::Array(vec![
                    Value::Array(vec![Value::Str(host), Value::UInt(port.into())]),
                    Value::Bin(peer.clone()),
                ]))
            })
            .collect();
        let payload = [Value::UInt(flags::sub::PEERS.into()), Value::Array(entries)];
        self.send_message(conn, flags::WHISPER, &payload, now_ms);
    }

    /// `[peers, [[[host, port], id], ...]]`: dial listed peers we lack, within max_outgoing,
    /// then hand the list to the handler.
    pub(super) fn handle_peers(
        &mut self,
        handler: &mut dyn MeshHandler,
        msg: &Message,
        now_ms: Millis,
    ) {
        let Some(entries) = msg.payload.get(1).and_then(Value::as_array) else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        let parsed: Vec<(String, u16, Vec<u8>)> =
            entries.iter().filter_map(parse_peer_entry).collect();
        // Lists come in peer-ID order, so every node dialling the head of the lists it gets
        // makes hubs of the same few nodes (3,615 links at 10,000 simulated nodes). Each
        // node starts at its own point of the list instead: a rotation by a hash of its ID,
        // deterministic (the simulator replays a seed) and spread across nodes.
        let start = rotation(self.my_id(), parsed.len());
        let in_turn = parsed[start..].iter().chain(&parsed[..start]);
        for (host, port, id) in in_turn {
            if self.outgoing_count() >= self.config.max_outgoing {
                break;
            }
            let (host, port, id) = (host.clone(), *port, id.clone());
            let is_us = id == self.my_id()
                || (host == self.config.out_addr.0 && port == self.config.out_addr.1);
            if is_us
                || self.routing.contains_key(&id)
                || self.dialling.contains_key(&id)
                || self.backing_off(&id, now_ms)
            {
                continue;
            }
            self.dial(&host, port, Some(id), now_ms);
        }
        if !parsed.is_empty() {
            handler.on_peer_list(&mut MeshCtx::new(self, now_ms), &parsed);
        }
    }
}

/// Where a node with ID `my_id` starts in a peer list of `len` entries (FNV-1a of the ID).
fn rotation(my_id: &[u8], len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let hash = my_id.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % len as u64) as usize
}

/// `[[host, port], id]` with host and id as str or bin → (host, port, id).
pub(super) fn parse_peer_entry(entry: &Value) -> Option<(String, u16, Vec<u8>)> {
    let [addr, id] = entry.as_array()? else {
        return None;
    };
    let (host, port) = parse_addr(addr)?;
    let id = id.as_bytes().filter(|id| !id.is_empty())?.to_vec();
    Some((host, port, id))
}

/// `[host, port]` with host as str or bin.
pub(super) fn parse_addr(addr: &Value) -> Option<(String, u16)> {
    let [host, port] = addr.as_array()? else {
        return None;
    };
    let host = std::str::from_utf8(host.as_bytes()?).ok()?.to_string();
    let port = u16::try_from(port.as_u64()?).ok()?;
    Some((host, port))
}
