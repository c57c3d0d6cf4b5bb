//! [`ChordNode`]: a mesh node running the chord handler, with the driver-facing inputs of
//! the mesh contract (each followed by the dials the chord layer wants) and the user
//! commands, whose messages are sent at once. Not here: the chord rules (`handler.rs`).

use super::handler::{flush_mesh, ChordHandler};
use super::{ChordConfig, ChordError, ChordEvent, GetId};
use crate::proto::mesh::{ConnId, DropReason, Mesh, MeshConfig, Millis, Output};
use crate::wire::Value;

pub struct ChordNode {
    mesh: Mesh<ChordHandler>,
}

impl ChordNode {
    pub fn new(config: MeshConfig, chord: ChordConfig, now_ms: Millis) -> Self {
        let handler = ChordHandler::new(&config.node_id, chord);
        ChordNode {
            mesh: Mesh::with_handler(config, handler, now_ms),
        }
    }

    pub fn mesh(&self) -> &Mesh<ChordHandler> {
        &self.mesh
    }
    pub fn mesh_mut(&mut self) -> &mut Mesh<ChordHandler> {
        &mut self.mesh
    }
    pub fn chord(&self) -> &ChordHandler {
        self.mesh.handler()
    }

    // ----- driver inputs (the mesh contract) ----------------------------------------------

    pub fn on_accepted(&mut self, remote: (String, u16), now_ms: Millis) -> ConnId {
        let conn = self.mesh.on_accepted(remote, now_ms);
        self.dial_wanted(now_ms);
        conn
    }
    pub fn on_connected(&mut self, conn: ConnId, now_ms: Millis) {
        self.mesh.on_connected(conn, now_ms);
        self.dial_wanted(now_ms);
    }
    pub fn on_data(&mut self, conn: ConnId, data: &[u8], now_ms: Millis) {
        self.mesh.on_data(conn, data, now_ms);
        self.dial_wanted(now_ms);
    }
    pub fn on_closed(&mut self, conn: ConnId, reason: DropReason, now_ms: Millis) {
        self.mesh.on_closed(conn, reason, now_ms);
        self.dial_wanted(now_ms);
    }
    /// Time passed: read timeouts, expiring forwarded retrieves, wanted links.
    pub fn on_tick(&mut self, now_ms: Millis) {
        self.mesh.on_tick(now_ms);
        self.dial_wanted(now_ms);
    }
    pub fn poll_output(&mut self) -> Option<Output> {
        self.mesh.poll_output()
    }
    /// The next chord event (reads done, keys added or deleted).
    pub fn poll_event(&mut self) -> Option<ChordEvent> {
        self.mesh.handler_mut().poll_event()
    }

    // ----- user commands ------------------------------------------------------------------

    pub fn connect(&mut self, host: &str, port: u16, now_ms: Millis) -> ConnId {
        self.mesh.connect(host, port, now_ms)
    }
    pub fn join(&mut self, now_ms: Millis) {
        self.mesh.handler_mut().join();
        flush_mesh(&mut self.mesh, now_ms);
    }
    pub fn unjoin(&mut self, now_ms: Millis) {
        self.mesh.handler_mut().unjoin();
        flush_mesh(&mut self.mesh, now_ms);
    }
    /// Writes `value` under `key` (nil deletes).
    pub fn set(&mut self, key: &[u8], value: Value, now_ms: Millis) {
        self.mesh.handler_mut().set(key, value);
        flush_mesh(&mut self.mesh, now_ms);
    }
    pub fn delete(&mut self, key: &[u8], now_ms: Millis) -> Result<(), ChordError> {
        let result = self.mesh.handler_mut().delete(key);
        flush_mesh(&mut self.mesh, now_ms);
        result
    }
    pub fn apply_delta(
        &mut self,
        key: &[u8],
        delta: Value,
        now_ms: Millis,
    ) -> Result<(), ChordError> {
        let result = self.mesh.handler_mut().apply_delta(key, delta);
        flush_mesh(&mut self.mesh, now_ms);
        result
    }
    /// Starts a read; it ends with [`ChordEvent::GetDone`] carrying the returned id.
    pub fn get(&mut self, key: &[u8], now_ms: Millis) -> GetId {
        let id = self.mesh.handler_mut().get(key, now_ms);
        flush_mesh(&mut self.mesh, now_ms);
        id
    }
    /// A storing node we may link to (e.g. from a peer list).
    pub fn learn_peer(&mut self, id: &[u8], addr: (String, u16)) {
        self.mesh.handler_mut().learn_peer(id, addr);
    }

    fn dial_wanted(&mut self, now_ms: Millis) {
        for (host, port) in self.mesh.handler_mut().take_wanted_dials() {
            self.mesh.connect(&host, port, now_ms);
        }
    }
}
