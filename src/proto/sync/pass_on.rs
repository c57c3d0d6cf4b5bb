//! Passing handshake-dump entries on, so that keys cross a healed partition: a dump entry
//! that changed this node's table is whispered on, as the same five-item entry (original
//! owner and time), to the node's other neighbours. Entries wait here for at least
//! [`PASS_ON_DELAY_MS`] and leave on a tick, so that a neighbour that shows meanwhile that it
//! holds the key (its own dump or a passed-on entry lists it) is skipped: a fresh node that
//! opens several links at once receives the same table from each and passes almost nothing
//! on. A neighbour whose handshake came after the entry was taken received this node's own
//! dump, which already lists the key, and is skipped too.
//!
//! This is bookkeeping only: not the table rules (`table.rs`), not the wire (`handler.rs`).

use super::lease::Meta;
use crate::proto::mesh::Millis;
use crate::wire::Value;
use std::collections::BTreeMap;

/// How long an applied dump entry waits before it is passed on (it leaves on the first tick
/// after that, so 0.5 to 1.5 s per hop with one tick a second).
pub const PASS_ON_DELAY_MS: Millis = 500;

/// An applied dump entry waiting to be passed on.
#[derive(Debug)]
struct Waiting {
    value: Value,
    meta: Meta,
    /// The neighbour it came from (never sent back there).
    from: Vec<u8>,
    /// Handshakes counted when it was taken: later ones got our own dump.
    handshakes_then: u64,
    taken_ms: Millis,
    /// Neighbours that showed meanwhile that they hold the key.
    holders: Vec<Vec<u8>>,
}

/// One entry to whisper to one neighbour.
#[derive(Debug, PartialEq)]
pub struct Outgoing {
    pub to: Vec<u8>,
    pub key: Vec<u8>,
    pub value: Value,
    pub meta: Meta,
}

/// The neighbours of one sync node and the dump entries waiting to be passed on to them.
/// Ordered maps, so what leaves depends only on what came in (the simulator replays a seed).
#[derive(Debug, Default)]
pub struct PassOn {
    /// Handshaken neighbour → the handshake count at its latest handshake.
    neighbours: BTreeMap<Vec<u8>, u64>,
    handshakes: u64,
    waiting: BTreeMap<Vec<u8>, Waiting>,
}

impl PassOn {
    /// `peer` handshook (again): it receives our whole table as a dump now.
    pub fn handshake(&mut self, peer: &[u8]) {
        self.handshakes += 1;
        self.neighbours.insert(peer.to_vec(), self.handshakes);
    }

    /// `peer` left.
    pub fn disconnected(&mut self, peer: &[u8]) {
        self.neighbours.remove(peer);
    }

    /// A dump entry from `from` changed our table at `key`: pass it on later.
    pub fn take(&mut self, from: &[u8], key: Vec<u8>, value: Value, meta: Meta, now_ms: Millis) {
        let waiting = Waiting {
            value,
            meta,
            from: from.to_vec(),
            handshakes_then: self.handshakes,
            taken_ms: now_ms,
            holders: Vec::new(),
        };
        self.waiting.insert(key, waiting);
    }

    /// `peer` sent a dump entry for `key` that we did not need: it holds the key.
    pub fn holder(&mut self, peer: &[u8], key: &[u8]) {
        if let Some(waiting) = self.waiting.get_mut(key) {
            if !waiting.holders.iter().any(|h| h == peer) {
                waiting.holders.push(peer.to_vec());
            }
        }
    }

    /// Whether entries are waiting.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The entries due at `now_ms`, one per (neighbour, key), and how many (neighbour, key)
    /// pairs were skipped because the neighbour holds the key (it listed the key to us, or
    /// received our own dump after we took the entry). `still_held(key, value, meta)`
    /// says whether our table still holds what was taken (a newer write travels by itself).
    pub fn due(
        &mut self,
        now_ms: Millis,
        still_held: impl Fn(&[u8], &Value, &Meta) -> bool,
    ) -> (Vec<Outgoing>, u64) {
        let due: Vec<Vec<u8>> = self
            .waiting
            .iter()
            .filter(|(_, w)| now_ms.saturating_sub(w.taken_ms) >= PASS_ON_DELAY_MS)
            .map(|(key, _)| key.clone())
            .collect();
        let (mut out, mut skipped) = (Vec::new(), 0);
        for key in due {
            let Some(w) = self.waiting.remove(&key) else {
                continue;
            };
            if !still_held(&key, &w.value, &w.meta) {
                continue;
            }
            for (peer, &since) in &self.neighbours {
                if *peer == w.from {
                    continue;
                }
                if since > w.handshakes_then || w.holders.contains(peer) {
                    skipped += 1;
                    continue;
                }
                out.push(Outgoing {
                    to: peer.clone(),
                    key: key.clone(),
                    value: w.value.clone(),
                    meta: w.meta.clone(),
                });
            }
        }
        (out, skipped)
    }
}
