//! Broadcast flooding (PROTOCOL.md §6): the age check, de-duplication and byte-identical
//! relay of received broadcasts, and sending our own. Not here: what a broadcast means
//! (handled afterwards like any frame, see `inbound.rs`).

use super::core::{now_secs, Core, BROADCAST_MAX_AGE_S};
use super::{ConnId, DropReason, Millis};
use crate::wire::flags;
use crate::wire::frame::{Message, MessageId};
use crate::wire::Value;

impl Core {
    /// A broadcast frame arrived on `conn`: returns true if it is fresh and new (then it has
    /// been relayed to every other peer and must be handled locally), false if dropped.
    pub(super) fn accept_broadcast(
        &mut self,
        conn: ConnId,
        msg: &Message,
        packed: &[u8],
        now_ms: Millis,
    ) -> bool {
        if msg.time < now_secs(now_ms) - BROADCAST_MAX_AGE_S {
            self.count_drop(DropReason::Expired);
            return false;
        }
        if !self.seen.insert(&msg.id, now_ms) {
            self.count_drop(DropReason::Duplicate);
            return false;
        }
        let relayed = self.flood(&msg.id, packed, Some(&msg.sender), Some(conn));
        self.stats.relayed += relayed;
        true
    }

    /// Sends our own broadcast `payload` (sub-flag first) to every peer; it enters the
    /// seen-set so that echoes are dropped.
    pub(super) fn broadcast_payload(&mut self, payload: &[Value], now_ms: Millis) -> MessageId {
        let (packed, id) = self.pack(flags::BROADCAST, payload, now_ms);
        self.seen.insert(&id, now_ms);
        self.flood(&id, &packed, None, None);
        id
    }
}
