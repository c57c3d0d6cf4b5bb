//! The chord table (PROTOCOL.md §8), sans-IO: a distributed hash table on a ring of 2^384
//! positions, built ON the mesh core as a [`crate::proto::mesh::MeshHandler`]
//! ([`ChordHandler`]), not as a copy of it. [`ChordNode`] is the driver-facing node: a
//! `Mesh<ChordHandler>` plus the user commands (join, unjoin, set, delete, delta, get).
//!
//! What it does beyond the reference, wire-compatibly: a forwarder answers a retrieve once
//! with the final value (a nil from further on is passed on once, a later value still
//! follows); forwarded retrieves are kept per requester link, bounded and expiring; reads
//! complete as events, many at once; a read that found a majority writes the agreed value
//! back where positions disagreed (read repair); a responsible node copies each write to its
//! ring predecessor (a plain `store` that the predecessor keeps because its next hop is the
//! sender), and when a storing peer vanishes the entries near its range are routed again;
//! storing nodes want links to their ring neighbours and finger-table peers (see
//! `routing.rs`). Reference quirks (PROTOCOL.md §8) are tolerated, never copied: a bad delta
//! or an unknown method is counted, not a reason to close; the deleter forgets the key.
//!
//! Not here: sockets, clocks, threads (the driver), the C API. Module map: `ring.rs`
//! (distance, positions), `position_text.rs` (positions as base58 text), `routing.rs`
//! (responsibility, wanted links), `ring_index.rs` (responsibility by binary search),
//! `table.rs` (local entries), `lookups.rs` (forwarded retrieves, majority reads),
//! `quick_hash.rs` (the hasher of the read maps), `handler.rs` (the rules),
//! `node.rs` (the node and its commands, sans-IO), `service.rs` (the handler of a running node:
//! queued user commands, replies to reads, state API threads read without waiting).

mod handler;
mod lookups;
mod node;
mod position_text;
mod quick_hash;
pub mod ring;
mod ring_index;
pub mod routing;
mod service;
mod table;
#[cfg(test)]
mod test_draw;

pub use handler::{ChordHandler, PeerState};
pub use lookups::{GetId, GetOutcome, FORWARD_TTL_MS, MAX_FORWARDED, NIL_GRACE_MS};
pub use node::ChordNode;
pub use service::{ChordCommand, ChordService, ChordShared, ChordSnapshot, GetReply, KeyChange};

pub use crate::proto::mesh::ConnId;
use crate::proto::mesh::Millis;

/// Settings of the chord layer.
#[derive(Clone, Debug)]
pub struct ChordConfig {
    /// How long a read may wait for its majority (default 10 s).
    pub get_timeout_ms: Millis,
    /// Write back the agreed value where a read found other answers (default on).
    pub read_repair: bool,
    /// Copy each write held here to the ring predecessor (default on).
    pub replicate: bool,
}

impl Default for ChordConfig {
    fn default() -> Self {
        ChordConfig {
            get_timeout_ms: 10_000,
            read_repair: true,
            replicate: true,
        }
    }
}

/// Something the chord layer tells the user.
#[derive(Clone, Debug, PartialEq)]
pub enum ChordEvent {
    /// A read ended.
    GetDone { id: GetId, outcome: GetOutcome },
    /// A `notify` named a key (two items).
    KeyAdded(Vec<u8>),
    /// A `notify` removed a key we knew (three items).
    KeyDeleted(Vec<u8>),
}

/// Errors from chord commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChordError {
    /// `delete` of a key this node never heard of: set it, or wait for its notify.
    UnknownKey,
    /// A delta must be a map of fields to values.
    DeltaNotAMap,
}

/// Counters of the chord layer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChordStats {
    pub stores_forwarded: u64,
    pub retrieves_forwarded: u64,
    pub retrieves_answered: u64,
    /// Chord messages of the wrong shape (ignored).
    pub bad_messages: u64,
    /// Deltas onto an entry that is not a map (ignored).
    pub bad_deltas: u64,
    pub replicas_sent: u64,
    pub read_repairs: u64,
    /// Entries handed to a storing peer that is closer to them.
    pub handed_over: u64,
    /// Entries routed again after a storing peer vanished.
    pub restored: u64,
}
