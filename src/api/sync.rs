//! [`SyncTable`]: a mesh node that holds a dictionary shared by every node of its network
//! (PROTOCOL.md §7). Reads come straight from the table (never waiting for the I/O thread);
//! writes are lease-checked and applied here, then broadcast with the same timestamp; remote
//! writes are applied on the I/O thread by the sync handler. Change events run on the node's
//! dispatcher thread. Everything a [`MeshNode`] offers is reachable through `Deref`.
//! Not the rules (`crate::proto::sync`), not the I/O loop.

use super::{Error, MeshNode, Result, SendMode, SyncEntry, SyncEvent, SyncTableConfig};
use crate::driver::clock::now_ms;
use crate::driver::command::estimated_size;
use crate::driver::Command;
use crate::proto::sync::{
    protocol_subnet, Change, LocalError, LocalOutcome, LocalWrite, SyncHandler, SyncShared,
    SyncStats,
};
use crate::wire::Value;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

type SyncCallback = Arc<dyn Fn(&SyncTable, &SyncEvent) + Send + Sync>;

/// A running sync node. Cheap to clone (all clones are the same node); `Send + Sync`.
/// Closes on [`SyncTable::close`] or when its last clone (and every `MeshNode` taken from it)
/// is dropped.
#[derive(Clone)]
pub struct SyncTable {
    node: MeshNode,
    inner: Arc<SyncInner>,
}

struct SyncInner {
    shared: Arc<SyncShared>,
    callbacks: RwLock<Vec<SyncCallback>>,
    send_timeout: Duration,
}

impl SyncTable {
    /// Starts a mesh node whose protocol subnet is the configured subnet plus `"1"` (leasing)
    /// or `"0"`, with the sync protocol layered on it.
    pub fn new(config: SyncTableConfig) -> Result<SyncTable> {
        let inner = Arc::new(SyncInner {
            shared: Arc::new(SyncShared::new(config.leasing, config.event_capacity)),
            callbacks: RwLock::new(Vec::new()),
            send_timeout: config.node.send_timeout,
        });
        let mut node_config = config.node;
        node_config.subnet = protocol_subnet(&node_config.subnet, config.leasing);
        let node = MeshNode::start(node_config, |pipe, _| {
            let pipe = pipe.clone();
            inner.shared.set_notify(move || pipe.wake());
            let hook_inner = inner.clone();
            let hook = Box::new(move |node: &MeshNode| deliver(&hook_inner, node));
            (SyncHandler::new(inner.shared.clone()), Some(hook as _))
        })?;
        Ok(SyncTable { node, inner })
    }

    /// The mesh node under the table (also reachable through `Deref`).
    pub fn node(&self) -> &MeshNode {
        &self.node
    }

    /// Whether this table's writers hold their keys for an hour.
    pub fn leasing(&self) -> bool {
        self.inner.shared.leasing()
    }

    /// The value at `key` (a str or byte-string key: both are bytes on the wire).
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<Value> {
        let table = self.inner.shared.read();
        table.get(key.as_ref()).map(|e| e.value.clone())
    }

    /// Who last wrote `key` and when: (owner node ID, Unix seconds by its clock).
    pub fn metadata(&self, key: impl AsRef<[u8]>) -> Option<(String, i64)> {
        let table = self.inner.shared.read();
        table
            .get(key.as_ref())
            .map(|e| (text(&e.meta.owner), e.meta.time))
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        self.inner.shared.read().get(key.as_ref()).is_some()
    }

    pub fn len(&self) -> usize {
        self.inner.shared.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.shared.read().is_empty()
    }

    /// Every key, in no particular order.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.inner
            .shared
            .read()
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// A copy of the table: key → value.
    pub fn snapshot(&self) -> HashMap<Vec<u8>, Value> {
        let table = self.inner.shared.read();
        table
            .iter()
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }

    /// A copy of the table with metadata, in no particular order.
    pub fn entries(&self) -> Vec<SyncEntry> {
        let table = self.inner.shared.read();
        table
            .iter()
            .map(|(k, e)| SyncEntry {
                key: k.clone(),
                value: e.value.clone(),
                owner: text(&e.meta.owner),
                time: e.meta.time,
            })
            .collect()
    }

    /// Stores `value` at `key` and broadcasts it. `Err(Error::Leased)` when another node
    /// holds the key (nothing is sent). A nil value deletes (see [`SyncTable::delete`]).
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl Into<Value>) -> Result<()> {
        let store = LocalWrite::Store {
            key: key.as_ref().to_vec(),
            value: value.into(),
        };
        self.write(store).map(|_| ())
    }

    /// Deletes `key` (value and metadata) everywhere; `Ok(false)` when this node does not hold
    /// it (nothing is sent). `Err(Error::Leased)` when another node holds it.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let store = LocalWrite::Store {
            key: key.as_ref().to_vec(),
            value: Value::Nil,
        };
        self.write(store)
            .map(|outcome| outcome != LocalOutcome::Missing)
    }

    /// Merges `fields` into the map at `key` (an absent key starts as an empty map) and
    /// broadcasts the delta; this node becomes the key's owner. Returns the merged map.
    /// `Err(Error::Leased)` when another node holds the key with leasing on;
    /// `Err(Error::InvalidArgument)` when the key holds something other than a map.
    pub fn apply_delta<K: Into<Value>, V: Into<Value>>(
        &self,
        key: impl AsRef<[u8]>,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Value> {
        let delta = LocalWrite::Delta {
            key: key.as_ref().to_vec(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        };
        match self.write(delta)? {
            LocalOutcome::Applied(Change::Update { value, .. }) => Ok(value),
            _ => Ok(Value::Map(Vec::new())),
        }
    }

    /// Counters of the sync layer (the mesh's are in `stats()`).
    pub fn sync_stats(&self) -> SyncStats {
        self.inner.shared.stats()
    }

    /// Registers a callback for table changes (local and remote). Callbacks run on the node's
    /// dispatcher thread, in table order, and may call any method, `close()` included; a
    /// panicking callback is caught. Changes made before the first registration are not
    /// reported. Mesh events (connects, messages) go to `on_event` as for a [`MeshNode`].
    pub fn on_sync_event(&self, callback: impl Fn(&SyncTable, &SyncEvent) + Send + Sync + 'static) {
        self.inner.callbacks.write().push(Arc::new(callback));
        self.inner.shared.record_changes();
    }

    /// Stops the node (see [`MeshNode::close`]) and drops the sync callbacks. Idempotent.
    pub fn close(&self) {
        self.node.close();
        self.inner.callbacks.write().clear();
    }

    fn write(&self, write: LocalWrite) -> Result<LocalOutcome> {
        let key = match &write {
            LocalWrite::Store { key, .. } | LocalWrite::Delta { key, .. } => text(key),
        };
        self.node
            .wait_for_room(SendMode::Block(self.inner.send_timeout))?;
        let now = now_ms();
        let node = &self.node;
        let sent =
            self.inner
                .shared
                .write_local(node.id().as_bytes(), write, now, |sub_flag, packets| {
                    let cost = estimated_size(&packets);
                    node.submit(Command::BroadcastAt {
                        sub_flag,
                        packets,
                        at_ms: now,
                        cost,
                    })
                });
        sent.map_err(|e| match e {
            LocalError::Leased(holder) => Error::Leased {
                key,
                owner: text(&holder.owner),
                since: holder.time,
            },
            LocalError::NotAMap => Error::InvalidArgument(format!(
                "key {key:?} holds a value that is not a map; a delta needs a map or no value"
            )),
            LocalError::Send(e) => e,
        })
    }
}

impl Deref for SyncTable {
    type Target = MeshNode;

    fn deref(&self) -> &MeshNode {
        &self.node
    }
}

/// The dispatcher hook: hands the queued changes to the sync callbacks.
fn deliver(inner: &Arc<SyncInner>, node: &MeshNode) {
    let mut changes = Vec::new();
    inner.shared.take_changes(&mut changes);
    if changes.is_empty() {
        return;
    }
    let callbacks: Vec<SyncCallback> = inner.callbacks.read().clone();
    if callbacks.is_empty() {
        return;
    }
    let table = SyncTable {
        node: node.clone(),
        inner: inner.clone(),
    };
    for change in changes {
        let event = SyncEvent::from(change);
        for callback in &callbacks {
            let _ = catch_unwind(AssertUnwindSafe(|| callback(&table, &event)));
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
