//! The sync table (PROTOCOL.md §7), sans-IO: a dictionary every node of a mesh holds alike,
//! layered on the mesh core as a [`MeshHandler`](crate::proto::mesh::MeshHandler)
//! ([`SyncHandler`]), not a copy of it.
//!
//! * `lease.rs` — the lease check, a pure function of (held metadata, write, clock, delta,
//!   leasing).
//! * `table.rs` — the table and its rules: store, delete (store of nil; deleting a missing
//!   key is a no-op), delta (merged into a map; onto a non-map ignored), handshake-dump
//!   entries (ignored while a truthy value is held).
//! * `shared.rs` — the table behind a lock, shared by the handler (I/O thread) and the API
//!   (reads never wait for the I/O thread), counters, the queue of changes for the user and
//!   local writes (lease-checked, applied and sent with one timestamp).
//! * `handler.rs` — wire in and out: `store`/`delta` frames, the table dump on handshakes.
//! * `pass_on.rs` — whispered dump entries that changed the table, waiting to be passed on
//!   to the other neighbours (so keys cross a healed partition), and who is skipped.
//!
//! The protocol ID of a sync node is computed from its subnet plus `"1"` (leasing on) or
//! `"0"` (off): see [`protocol_subnet`]. Not here: sockets, threads, callbacks (`crate::api`).

mod handler;
mod lease;
mod pass_on;
mod shared;
mod table;

#[cfg(test)]
mod tests;

pub use handler::SyncHandler;
pub use lease::{may_write, Meta, LEASE_SECONDS};
pub use pass_on::PASS_ON_DELAY_MS;
pub use shared::{secs, LocalError, LocalOutcome, LocalWrite, SyncShared, SyncStats};
pub use table::{Change, Entry, Refusal, Table, REFUSALS};

/// The subnet a sync table's protocol ID is computed from: `subnet` + `"1"` or `"0"`.
pub fn protocol_subnet(subnet: &str, leasing: bool) -> String {
    format!("{subnet}{}", if leasing { '1' } else { '0' })
}
