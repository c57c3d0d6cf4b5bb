//! Settings of a [`crate::api::SyncTable`]: a mesh node's settings plus the leasing mode, with
//! the sync defaults (subnet `"sync"`, leasing on, so the protocol subnet is `"sync1"`).
//! Not the table itself.

use super::{MeshNodeConfig, Result, SyncTable};
use std::time::Duration;

/// How to build a sync table. `SyncTableConfig::new().build()` gives a leasing table on a free
/// port of 127.0.0.1 that talks to py2p's default `SyncSocket`.
#[derive(Clone, Debug)]
pub struct SyncTableConfig {
    /// Everything a mesh node takes. Its `subnet` (default `"sync"`) gets `"1"` or `"0"`
    /// appended for the protocol ID, as the reference does.
    pub node: MeshNodeConfig,
    /// Whether a key's writer holds it for an hour (default true). Nodes of one table must
    /// agree: the mode is part of the protocol ID.
    pub leasing: bool,
    /// Changes waiting for `on_sync_event` callbacks (default 65,536); beyond it changes are
    /// not reported (counted in `SyncStats::changes_shed`; the table itself is complete).
    pub event_capacity: usize,
}

impl Default for SyncTableConfig {
    fn default() -> Self {
        SyncTableConfig {
            node: MeshNodeConfig::new().subnet("sync"),
            leasing: true,
            event_capacity: 65_536,
        }
    }
}

impl SyncTableConfig {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn leasing(mut self, leasing: bool) -> Self {
        self.leasing = leasing;
        self
    }

    /// The table's name before the leasing suffix.
    pub fn subnet(mut self, subnet: impl Into<String>) -> Self {
        self.node.subnet = subnet.into();
        self
    }

    pub fn bind(mut self, host: impl Into<String>, port: u16) -> Self {
        self.node = self.node.bind(host, port);
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.node.port = port;
        self
    }

    pub fn out_addr(mut self, host: impl Into<String>, port: u16) -> Self {
        self.node = self.node.out_addr(host, port);
        self
    }

    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.node.send_timeout = timeout;
        self
    }

    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n;
        self
    }

    /// Replaces the mesh settings; keep `subnet` as the table's name (default `"sync"`).
    pub fn node(mut self, node: MeshNodeConfig) -> Self {
        self.node = node;
        self
    }

    /// Starts the table (see [`SyncTable::new`]).
    pub fn build(self) -> Result<SyncTable> {
        SyncTable::new(self)
    }
}
