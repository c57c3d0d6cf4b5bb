//! [`ChordTable`]: a mesh node in a chord network (PROTOCOL.md §8), a distributed hash table
//! whose keys live at five positions of a ring and are read by majority. Commands go to the
//! node's I/O thread through a queue and one wake-up; reads end by an answer sent back to the
//! caller ([`PendingGet`]), so many reads may be in flight from many threads and none waits
//! by polling. The key set and counters are read without waiting for the I/O thread. Key
//! events (`add`/`delete` in py2p) run on the node's dispatcher thread. Everything a
//! [`MeshNode`] offers is reachable through `Deref`.
//!
//! Not the rules (`crate::proto::chord`), not the I/O loop.

use super::{ChordTableConfig, Error, MeshNode, Result, SendMode, Value};
use crate::driver::Command;
use crate::proto::chord::{
    ChordCommand, ChordService, ChordShared, ChordSnapshot, GetOutcome, KeyChange,
};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use parking_lot::RwLock;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

type ChordCallback = Arc<dyn Fn(&ChordTable, &KeyChange) + Send + Sync>;

/// A running chord node. Cheap to clone (all clones are the same node); `Send + Sync`.
/// It starts leeching (reading and writing through storing peers); [`ChordTable::join`]
/// makes it store data too. Closes on [`ChordTable::close`] or when its last clone (and every
/// `MeshNode` taken from it) is dropped.
#[derive(Clone)]
pub struct ChordTable {
    node: MeshNode,
    inner: Arc<ChordInner>,
}

struct ChordInner {
    shared: Arc<ChordShared>,
    callbacks: RwLock<Vec<ChordCallback>>,
    send_timeout: Duration,
    get_timeout: Duration,
}

/// A read in flight (see [`ChordTable::get_async`]): wait for it, or look whether it ended.
pub struct PendingGet {
    key: Vec<u8>,
    answer: Receiver<GetOutcome>,
    deadline: Instant,
}

impl ChordTable {
    /// Starts a mesh node on the configured subnet (default `"chord"`) with the chord
    /// protocol layered on it.
    pub fn new(config: ChordTableConfig) -> Result<ChordTable> {
        let inner = Arc::new(ChordInner {
            shared: Arc::new(ChordShared::new(config.event_capacity)),
            callbacks: RwLock::new(Vec::new()),
            send_timeout: config.node.send_timeout,
            get_timeout: Duration::from_millis(config.chord.get_timeout_ms),
        });
        let node_config = config.node;
        let chord = config.chord;
        let node = MeshNode::start(node_config, |pipe, id| {
            let pipe = pipe.clone();
            inner.shared.set_notify(move || pipe.wake());
            let hook_inner = inner.clone();
            let hook = Box::new(move |node: &MeshNode| deliver(&hook_inner, node));
            let service = ChordService::new(id, chord, inner.shared.clone());
            (service, Some(hook as _))
        })?;
        Ok(ChordTable { node, inner })
    }

    /// The mesh node under the table (also reachable through `Deref`).
    pub fn node(&self) -> &MeshNode {
        &self.node
    }

    /// Start storing data: this node takes its share of the ring from now on.
    pub fn join(&self) -> Result<()> {
        self.command(ChordCommand::Join)
    }

    /// Stop storing: what this node holds is handed to the storing peers now responsible
    /// (kept here when there is none, so nothing is lost).
    pub fn unjoin(&self) -> Result<()> {
        self.command(ChordCommand::Unjoin)
    }

    /// Whether this node stores data (after `join`, until `unjoin`).
    pub fn is_joined(&self) -> bool {
        self.inner.shared.joined()
    }

    /// Writes `value` at the key's five positions and announces a new key to the network.
    /// A nil value deletes (see [`ChordTable::delete`]).
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl Into<Value>) -> Result<()> {
        self.node
            .wait_for_room(SendMode::Block(self.inner.send_timeout))?;
        self.command(ChordCommand::Set {
            key: key.as_ref().to_vec(),
            value: value.into(),
        })
    }

    /// Deletes `key` at its five positions and announces it. `Ok(false)` when this node has
    /// never heard of the key (nothing is sent).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        if !self.inner.shared.contains_key(key) {
            return Ok(false);
        }
        self.set(key, Value::Nil).map(|()| true)
    }

    /// Merges `fields` into the map at `key`'s five positions (an absent entry starts as an
    /// empty map; an entry that is not a map is left alone by the nodes holding it).
    pub fn apply_delta<K: Into<Value>, V: Into<Value>>(
        &self,
        key: impl AsRef<[u8]>,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<()> {
        let delta = Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self.node
            .wait_for_room(SendMode::Block(self.inner.send_timeout))?;
        self.command(ChordCommand::Delta {
            key: key.as_ref().to_vec(),
            delta,
        })
    }

    /// Reads `key` by majority with the configured timeout (default 10 s): `Ok(Some(value))`
    /// when three of its five positions agree, `Ok(None)` when every position answered that
    /// it holds nothing, `Err(Error::NoMajority)` when they disagree, `Err(Error::Timeout)`
    /// when too few answered in time.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        self.get_timeout(key, self.inner.get_timeout)
    }

    /// [`ChordTable::get`] with its own timeout.
    pub fn get_timeout(&self, key: impl AsRef<[u8]>, timeout: Duration) -> Result<Option<Value>> {
        self.get_async(key, timeout)?.wait()
    }

    /// Starts a read and returns at once; the [`PendingGet`] gives its result. Any number
    /// may be in flight.
    pub fn get_async(&self, key: impl AsRef<[u8]>, timeout: Duration) -> Result<PendingGet> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let key = key.as_ref().to_vec();
        self.command(ChordCommand::Get {
            key: key.clone(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            reply: Box::new(move |outcome| {
                let _ = tx.send(outcome);
            }),
        })?;
        Ok(PendingGet {
            key,
            answer: rx,
            deadline: Instant::now() + timeout,
        })
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        self.inner.shared.contains_key(key.as_ref())
    }

    /// The keys this node knows of (its own writes and every key announced on the network
    /// since it joined the mesh), in byte order. Values are read with [`ChordTable::get`].
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.inner.shared.keys()
    }

    /// How many keys [`ChordTable::keys`] lists.
    pub fn len(&self) -> usize {
        self.inner.shared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.shared.is_empty()
    }

    /// Counters and state of the chord layer (the mesh's are in `stats()`), as of the I/O
    /// thread's last input.
    pub fn chord_stats(&self) -> ChordSnapshot {
        self.inner.shared.snapshot()
    }

    /// Registers a callback for keys added to or deleted from the network's key set (local
    /// writes are not reported). Callbacks run on the node's dispatcher thread, in order, and
    /// may call any method, `close()` included (a blocking `get` holds up later events until
    /// it ends); a panicking callback is caught. Changes before the first registration are
    /// not reported.
    pub fn on_chord_event(
        &self,
        callback: impl Fn(&ChordTable, &KeyChange) + Send + Sync + 'static,
    ) {
        self.inner.callbacks.write().push(Arc::new(callback));
        self.inner.shared.record_changes();
    }

    /// Stops the node (see [`MeshNode::close`]) and drops the callbacks; reads in flight end
    /// with `Err(Error::Closed)`. Idempotent.
    pub fn close(&self) {
        self.node.close();
        self.inner.callbacks.write().clear();
    }

    fn command(&self, command: ChordCommand) -> Result<()> {
        if self.node.is_closed() {
            return Err(Error::Closed);
        }
        if self.inner.shared.push(command) {
            if let Err(e) = self.node.submit(Command::WakeHandler) {
                // The I/O thread is gone: nothing will run what is queued. Dropping it ends
                // waiting reads as closed.
                self.inner.shared.clear_commands();
                return Err(e);
            }
        }
        Ok(())
    }
}

impl PendingGet {
    /// The key being read.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Waits until the read ends or its timeout passes (see [`ChordTable::get`]).
    pub fn wait(self) -> Result<Option<Value>> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.answer.recv_timeout(left) {
            Ok(outcome) => self.result(outcome),
            Err(RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(Error::Closed),
        }
    }

    /// The result if the read has ended, without waiting.
    pub fn try_result(&self) -> Option<Result<Option<Value>>> {
        match self.answer.try_recv() {
            Ok(outcome) => Some(self.result(outcome)),
            Err(TryRecvError::Empty) if Instant::now() >= self.deadline => {
                Some(Err(Error::Timeout))
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(Error::Closed)),
        }
    }

    fn result(&self, outcome: GetOutcome) -> Result<Option<Value>> {
        match outcome {
            GetOutcome::Found(value) => Ok(Some(value)),
            GetOutcome::NotFound => Ok(None),
            GetOutcome::NoMajority => Err(Error::NoMajority {
                key: String::from_utf8_lossy(&self.key).into_owned(),
            }),
            GetOutcome::TimedOut => Err(Error::Timeout),
        }
    }
}

impl Deref for ChordTable {
    type Target = MeshNode;

    fn deref(&self) -> &MeshNode {
        &self.node
    }
}

/// The dispatcher hook: hands the queued key changes to the callbacks.
fn deliver(inner: &Arc<ChordInner>, node: &MeshNode) {
    let mut changes = Vec::new();
    inner.shared.take_changes(&mut changes);
    if changes.is_empty() {
        return;
    }
    let callbacks: Vec<ChordCallback> = inner.callbacks.read().clone();
    if callbacks.is_empty() {
        return;
    }
    let table = ChordTable {
        node: node.clone(),
        inner: inner.clone(),
    };
    for change in changes {
        for callback in &callbacks {
            let _ = catch_unwind(AssertUnwindSafe(|| callback(&table, &change)));
        }
    }
}
