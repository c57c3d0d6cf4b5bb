//! Settings of a [`crate::api::ChordTable`]: a mesh node's settings plus the chord layer's
//! (read timeout, read repair, replication), with the chord defaults (subnet `"chord"`, as
//! py2p's `ChordSocket`). Not the table itself.

use super::{ChordTable, MeshNodeConfig, Result};
use crate::proto::chord::ChordConfig;
use std::time::Duration;

/// How to build a chord table. `ChordTableConfig::new().build()` gives a leeching chord node
/// on a free port of 127.0.0.1 that talks to py2p's default `ChordSocket`; call
/// [`ChordTable::join`] to store data.
#[derive(Clone, Debug)]
pub struct ChordTableConfig {
    /// Everything a mesh node takes (default subnet `"chord"`).
    pub node: MeshNodeConfig,
    /// The chord layer's own settings.
    pub chord: ChordConfig,
    /// Key changes waiting for `on_chord_event` callbacks (default 65,536); beyond it changes
    /// are not reported (the key set itself stays complete).
    pub event_capacity: usize,
}

impl Default for ChordTableConfig {
    fn default() -> Self {
        ChordTableConfig {
            node: MeshNodeConfig::new().subnet("chord"),
            chord: ChordConfig::default(),
            event_capacity: 65_536,
        }
    }
}

impl ChordTableConfig {
    pub fn new() -> Self {
        Self::default()
    }

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

    /// How long [`ChordTable::get`] waits for a majority (default 10 s).
    pub fn get_timeout(mut self, timeout: Duration) -> Self {
        self.chord.get_timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Write the agreed value back where a read found other answers (default on).
    pub fn read_repair(mut self, on: bool) -> Self {
        self.chord.read_repair = on;
        self
    }

    /// Copy each write held here to the ring predecessor (default on).
    pub fn replicate(mut self, on: bool) -> Self {
        self.chord.replicate = on;
        self
    }

    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n;
        self
    }

    /// Replaces the mesh settings; keep `subnet` as the table's name (default `"chord"`).
    pub fn node(mut self, node: MeshNodeConfig) -> Self {
        self.node = node;
        self
    }

    /// Starts the node (see [`ChordTable::new`]).
    pub fn build(self) -> Result<ChordTable> {
        ChordTable::new(self)
    }
}
