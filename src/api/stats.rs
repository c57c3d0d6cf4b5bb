//! Read-only views of a node: its peers and its counters. Not the counting itself.

use crate::proto::mesh::{Direction, MeshStats};

/// A handshaken peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its node ID.
    pub id: String,
    /// The address it advertised.
    pub host: String,
    pub port: u16,
    /// Whether this node dialled it.
    pub direction: Direction,
}

/// Counters of a node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// The protocol core's counters; `dropped[DropReason::QueueFull]` includes messages shed
    /// by the dispatcher and the receive queue.
    pub mesh: MeshStats,
    /// Messages waiting in the `recv` queue.
    pub recv_queue_len: usize,
    /// Messages shed because the `recv` queue was full.
    pub recv_queue_shed: u64,
    /// Messages shed because the dispatcher thread fell behind.
    pub dispatch_shed: u64,
    /// Bytes queued for writing over all connections.
    pub write_buffered: u64,
    /// Bytes of user sends not yet taken by the I/O thread.
    pub pending_send_bytes: u64,
    /// Open TCP connections, handshaken or not.
    pub connections: usize,
}
