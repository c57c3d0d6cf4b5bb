//! Settings of a [`crate::api::MeshNode`]: addresses, protocol, limits and queue sizes, with
//! defaults and chainable setters. Not validation of the network itself (see `MeshNode::new`).

use super::{MeshNode, Result};
use crate::wire::Limits;
use std::time::Duration;

/// How to build a mesh node. `MeshNodeConfig::new().port(0).build()` gives a node on a free
/// port of 127.0.0.1.
#[derive(Clone, Debug)]
pub struct MeshNodeConfig {
    /// Address to listen on (default `127.0.0.1`; `0.0.0.0` listens everywhere).
    pub bind_host: String,
    /// Port to listen on; 0 picks a free one (see `MeshNode::local_port`). Default 0.
    pub port: u16,
    /// The address other nodes should dial; default the bind address (the LAN address when
    /// binding `0.0.0.0`) and the bound port.
    pub out_addr: Option<(String, u16)>,
    /// Network name; nodes with another subnet refuse this one. Default `"mesh"`.
    pub subnet: String,
    /// `"Plaintext"` (the only one this build supports) or `"SSL"`.
    pub encryption: String,
    /// Peers dialled on the node's own from peer lists (default 4).
    pub max_outgoing: usize,
    /// Dial a lost peer's address again (after 1, 2, 4, 8 and 16 s, then give up) when a
    /// link this node dialled breaks without either side closing it (default on; see
    /// docs/protocol.md "Redialling lost peers").
    pub redial_lost_peers: bool,
    /// Bounds on what peers may send.
    pub limits: Limits,
    /// Broadcast IDs remembered for de-duplication (default 1,000,000).
    pub seen_capacity: usize,
    /// Seconds a new connection has to send its handshake (default 30).
    pub handshake_timeout_s: u64,
    /// Messages held for `recv` (default 65,536). When full, newly arrived messages are shed
    /// and counted as `DropReason::QueueFull`. 0: messages go to callbacks only.
    pub recv_queue_capacity: usize,
    /// Messages waiting for the dispatcher thread (default 65,536); beyond it they are shed and
    /// counted as `DropReason::QueueFull`.
    pub dispatch_capacity: usize,
    /// Bytes queued on every connection above which sends push back (default 4 MiB).
    pub write_soft_limit: usize,
    /// Bytes queued on one connection above which it is closed as a slow peer (default 64 MiB).
    pub write_hard_limit: usize,
    /// A connection whose queued bytes have not moved for this long is closed as a slow peer
    /// (default 60 s).
    pub write_stall_timeout: Duration,
    /// How long `send` and `whisper` wait for room (default 10 s).
    pub send_timeout: Duration,
    /// How long `connect` waits for the TCP connection (default 10 s).
    pub connect_timeout: Duration,
    /// How long `close()` keeps writing out frames still queued (sends made just before it)
    /// before it closes the connections anyway (default 2 s; 0 drops them at once).
    pub close_flush_timeout: Duration,
}

impl Default for MeshNodeConfig {
    fn default() -> Self {
        MeshNodeConfig {
            bind_host: "127.0.0.1".to_owned(),
            port: 0,
            out_addr: None,
            subnet: "mesh".to_owned(),
            encryption: "Plaintext".to_owned(),
            max_outgoing: 4,
            redial_lost_peers: true,
            limits: Limits::DEFAULT,
            seen_capacity: 1_000_000,
            handshake_timeout_s: 30,
            recv_queue_capacity: 65_536,
            dispatch_capacity: 65_536,
            write_soft_limit: 4 << 20,
            write_hard_limit: 64 << 20,
            write_stall_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            close_flush_timeout: Duration::from_secs(2),
        }
    }
}

impl MeshNodeConfig {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bind(mut self, host: impl Into<String>, port: u16) -> Self {
        self.bind_host = host.into();
        self.port = port;
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn out_addr(mut self, host: impl Into<String>, port: u16) -> Self {
        self.out_addr = Some((host.into(), port));
        self
    }

    pub fn subnet(mut self, subnet: impl Into<String>) -> Self {
        self.subnet = subnet.into();
        self
    }

    pub fn encryption(mut self, encryption: impl Into<String>) -> Self {
        self.encryption = encryption.into();
        self
    }

    pub fn max_outgoing(mut self, n: usize) -> Self {
        self.max_outgoing = n;
        self
    }

    /// Whether to redial lost peers (see the field's documentation).
    pub fn redial_lost_peers(mut self, on: bool) -> Self {
        self.redial_lost_peers = on;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Seconds a new connection has to complete its handshake before it is closed.
    pub fn handshake_timeout_s(mut self, seconds: u64) -> Self {
        self.handshake_timeout_s = seconds;
        self
    }

    pub fn recv_queue_capacity(mut self, n: usize) -> Self {
        self.recv_queue_capacity = n;
        self
    }

    pub fn dispatch_capacity(mut self, n: usize) -> Self {
        self.dispatch_capacity = n;
        self
    }

    pub fn write_limits(mut self, soft: usize, hard: usize) -> Self {
        self.write_soft_limit = soft;
        self.write_hard_limit = hard;
        self
    }

    pub fn write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = timeout;
        self
    }

    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    pub fn close_flush_timeout(mut self, timeout: Duration) -> Self {
        self.close_flush_timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Starts the node (see [`MeshNode::new`]).
    pub fn build(self) -> Result<MeshNode> {
        MeshNode::new(self)
    }
}
