//! Replying to a node that is not a neighbour (PROTOCOL.md §6): the table of our pending
//! requests and the handling of `request` and `response` messages.
//!
//! The requester broadcasts `[request, request_id (str), target_id (bin)]` and remembers the
//! packets; a node holding the target answers on the link the request came in on with
//! broadcast `[response, request_id, [[host, port], target_id]]`; on the first response the
//! requester dials (unless already connected or dialling) and whispers the packets once the
//! target's handshake arrives. Pending requests are bounded in number and in packets each,
//! and expire. `[request, "*"]` (a peer-list request, bin or str) is handled here too.

use super::conn::MAX_QUEUED_WHISPERS;
use super::core::Core;
use super::{ConnId, DropReason, Millis};
use crate::wire::flags;
use crate::wire::frame::{self, Message};
use crate::wire::{base58, Value};
use std::collections::{BTreeMap, VecDeque};

/// Most requests waiting for a response at once; at the cap the oldest is forgotten.
pub(super) const MAX_PENDING_REQUESTS: usize = 1024;
/// A request unanswered for this long is forgotten with its packets.
pub(super) const REQUEST_TTL_MS: Millis = 120_000;

#[derive(Debug)]
struct Pending {
    target: Vec<u8>,
    packets: Vec<Vec<Value>>,
}

/// Our requests waiting for a response, by request ID.
#[derive(Debug)]
pub(super) struct PendingRequests {
    by_id: BTreeMap<Vec<u8>, Pending>,
    /// (expiry, request ID) in creation order.
    order: VecDeque<(Millis, Vec<u8>)>,
}

impl PendingRequests {
    pub(super) fn new() -> Self {
        PendingRequests {
            by_id: BTreeMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Adds `packets` to a pending request for `target`; returns false if there is none.
    fn append_to_target(&mut self, target: &[u8], packets: Vec<Value>) -> bool {
        match self.by_id.values_mut().find(|p| p.target == target) {
            Some(pending) => {
                if pending.packets.len() < MAX_QUEUED_WHISPERS {
                    pending.packets.push(packets);
                }
                true
            }
            None => false,
        }
    }

    fn insert(
        &mut self,
        request_id: Vec<u8>,
        target: Vec<u8>,
        packets: Vec<Value>,
        now_ms: Millis,
    ) {
        while self.by_id.len() >= MAX_PENDING_REQUESTS {
            match self.order.pop_front() {
                Some((_, old)) => {
                    self.by_id.remove(&old);
                }
                None => break,
            }
        }
        self.order
            .push_back((now_ms.saturating_add(REQUEST_TTL_MS), request_id.clone()));
        self.by_id.insert(
            request_id,
            Pending {
                target,
                packets: vec![packets],
            },
        );
    }

    fn take(&mut self, request_id: &[u8]) -> Option<Pending> {
        self.by_id.remove(request_id)
    }

    /// Forgets requests whose time is up.
    pub(super) fn expire(&mut self, now_ms: Millis) {
        while let Some((expiry, _)) = self.order.front() {
            if *expiry > now_ms {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.by_id.remove(&id);
            }
        }
        // Entries answered earlier leave stale order slots; drop them when they dominate.
        if self.order.len() > 2 * MAX_PENDING_REQUESTS {
            let by_id = &self.by_id;
            self.order.retain(|(_, id)| by_id.contains_key(id));
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }
}

impl Core {
    /// Sends `packets` to `target` by whisper: directly if it is a neighbour, after its
    /// handshake if it is being dialled, else through the request/response flow.
    pub(super) fn reply_to(&mut self, target: &[u8], packets: Vec<Value>, now_ms: Millis) {
        if let Some(&conn) = self.routing.get(target) {
            self.whisper_packets(conn, packets, now_ms);
            return;
        }
        if let Some(&conn) = self.dialling.get(target) {
            if let Some(c) = self.conns.get_mut(&conn) {
                if c.queued_whispers.len() < MAX_QUEUED_WHISPERS {
                    c.queued_whispers.push(packets);
                }
            }
            return;
        }
        if self.requests.append_to_target(target, packets.clone()) {
            return;
        }
        let request_id = self.new_request_id(now_ms);
        let payload = [
            Value::UInt(flags::sub::REQUEST.into()),
            Value::Str(request_id.clone()),
            Value::Bin(target.to_vec()),
        ];
        self.requests
            .insert(request_id.into_bytes(), target.to_vec(), packets, now_ms);
        let (packed, id) = self.pack(flags::BROADCAST, &payload, now_ms);
        self.seen.insert(&id, now_ms);
        self.flood(&id, &packed, None, None);
    }

    /// `whisper [whisper, packets...]` on `conn`.
    pub(super) fn whisper_packets(&mut self, conn: ConnId, packets: Vec<Value>, now_ms: Millis) {
        let mut payload = Vec::with_capacity(packets.len() + 1);
        payload.push(Value::UInt(flags::sub::WHISPER.into()));
        payload.extend(packets);
        self.send_message(conn, flags::WHISPER, &payload, now_ms);
    }

    /// An opaque, unpredictable-enough request ID: base58 of SHA-256(node ID, counter, time).
    fn new_request_id(&mut self, now_ms: Millis) -> String {
        self.request_counter += 1;
        let mut seed = self.my_id().to_vec();
        seed.extend_from_slice(&self.request_counter.to_be_bytes());
        seed.extend_from_slice(&now_ms.to_be_bytes());
        base58::encode(&frame::message_id(&seed))
    }

    /// `[request, "*"]` → our peer list; `[request, request_id, target]` for a peer we hold →
    /// broadcast `[response, request_id, [[host, port], target]]` on the incoming link.
    pub(super) fn handle_request(&mut self, conn: ConnId, msg: &Message, now_ms: Millis) {
        let packets = &msg.payload;
        match packets.get(1).and_then(Value::as_bytes) {
            Some(b"*") => {
                self.send_peer_list(conn, now_ms);
                return;
            }
            Some(_) => {}
            None => {
                self.count_drop(DropReason::BadMessageShape);
                return;
            }
        }
        let Some(target) = packets.get(2).and_then(Value::as_bytes) else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        let Some(addr) = self
            .routing
            .get(target)
            .and_then(|c| self.conns.get(c))
            .and_then(|c| c.peer_addr.clone())
        else {
            return;
        };
        let payload = [
            Value::UInt(flags::sub::RESPONSE.into()),
            packets[1].clone(),
            Value::Array(vec![
                Value::Array(vec![Value::Str(addr.0), Value::UInt(addr.1.into())]),
                Value::Bin(target.to_vec()),
            ]),
        ];
        self.send_message(conn, flags::BROADCAST, &payload, now_ms);
    }

    /// `[response, request_id, [[host, port], target]]`: if it answers one of our requests,
    /// reach the target and whisper the queued packets to it.
    pub(super) fn handle_response(&mut self, msg: &Message, now_ms: Millis) {
        let packets = &msg.payload;
        let Some(request_id) = packets.get(1).and_then(Value::as_bytes) else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        let Some(pending) = self.requests.take(request_id) else {
            return;
        };
        let parsed = packets.get(2).and_then(super::peers::parse_peer_entry);
        let Some((host, port, target)) = parsed else {
            self.count_drop(DropReason::BadMessageShape);
            return;
        };
        if target != pending.target {
            self.count_drop(DropReason::BadMessageShape);
            return;
        }
        if let Some(&conn) = self.routing.get(&target) {
            for packets in pending.packets {
                self.whisper_packets(conn, packets, now_ms);
            }
            return;
        }
        let conn = match self.dialling.get(&target) {
            Some(&conn) => conn,
            None => self.dial(&host, port, Some(target), now_ms),
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            for packets in pending.packets {
                if c.queued_whispers.len() < MAX_QUEUED_WHISPERS {
                    c.queued_whispers.push(packets);
                }
            }
        }
    }
}
