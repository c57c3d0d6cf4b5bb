//! [`ChordService`]: the chord handler as a running node needs it. API threads queue
//! [`ChordCommand`]s in a [`ChordShared`] and ask the driver to wake the handler; on the I/O
//! thread the service applies them to its [`ChordHandler`], hands finished reads to the
//! reply each read carries, and publishes what API threads may read without waiting for the
//! I/O thread: the key set, key changes for callbacks, counters.
//!
//! Not here: the chord rules (`handler.rs`), threads or sockets (the driver), blocking or
//! timeouts on the caller's side (`crate::api::ChordTable`).

use super::handler::ChordHandler;
use super::{ChordConfig, ChordEvent, ChordStats, GetId, GetOutcome};
use crate::proto::mesh::{ConnId, MeshCtx, MeshHandler, Millis};
use crate::wire::frame::Message;
use crate::wire::Value;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Called once on the I/O thread when a read ends; must be quick (e.g. send on a channel).
/// Dropped without a call when the node stops first.
pub type GetReply = Box<dyn FnOnce(GetOutcome) + Send>;

/// A user command for the chord layer.
pub enum ChordCommand {
    Join,
    Unjoin,
    /// Write `value` (nil deletes) at the key's five positions.
    Set {
        key: Vec<u8>,
        value: Value,
    },
    /// Merge the map `delta` into the key's five entries.
    Delta {
        key: Vec<u8>,
        delta: Value,
    },
    /// A majority read that ends within `timeout_ms`.
    Get {
        key: Vec<u8>,
        timeout_ms: Millis,
        reply: GetReply,
    },
}

/// A change of the key set, for `on_chord_event` callbacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyChange {
    Added(Vec<u8>),
    Deleted(Vec<u8>),
}

/// Counters and state of the chord layer, published after each input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChordSnapshot {
    pub stats: ChordStats,
    /// Entries (method, position) held at this node.
    pub stored: usize,
    pub gets_in_flight: usize,
    /// Storing peers among the links.
    pub storing_peers: usize,
}

/// What API threads and the I/O thread share.
pub struct ChordShared {
    commands: Mutex<VecDeque<ChordCommand>>,
    keys: RwLock<BTreeSet<Vec<u8>>>,
    changes: Mutex<VecDeque<KeyChange>>,
    change_capacity: usize,
    /// Whether anyone listens for key changes (none are queued before).
    record_changes: AtomicBool,
    changes_shed: AtomicU64,
    joined: AtomicBool,
    snapshot: Mutex<ChordSnapshot>,
    pending_commands: AtomicUsize,
    /// A wake-up of the handler is on its way (so the next command needs none).
    wake_pending: AtomicBool,
    notify: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl ChordShared {
    /// Shared state whose change queue holds at most `change_capacity` changes.
    pub fn new(change_capacity: usize) -> Self {
        ChordShared {
            commands: Mutex::new(VecDeque::new()),
            keys: RwLock::new(BTreeSet::new()),
            changes: Mutex::new(VecDeque::new()),
            change_capacity,
            record_changes: AtomicBool::new(false),
            changes_shed: AtomicU64::new(0),
            joined: AtomicBool::new(false),
            snapshot: Mutex::new(ChordSnapshot::default()),
            pending_commands: AtomicUsize::new(0),
            wake_pending: AtomicBool::new(false),
            notify: OnceLock::new(),
        }
    }

    /// What to call when key changes are queued (wakes the dispatcher). Set once.
    pub fn set_notify(&self, notify: impl Fn() + Send + Sync + 'static) {
        let _ = self.notify.set(Box::new(notify));
    }

    /// Queues a command. Returns true when the caller must wake the handler (no wake-up is
    /// on its way yet). Local writes update the key set here at once, so `keys()` reflects
    /// them before the I/O thread runs.
    #[must_use]
    pub fn push(&self, command: ChordCommand) -> bool {
        match &command {
            ChordCommand::Join => self.joined.store(true, Ordering::Release),
            ChordCommand::Unjoin => self.joined.store(false, Ordering::Release),
            ChordCommand::Set { key, value } if value.is_nil() => {
                self.keys.write().remove(key);
            }
            ChordCommand::Set { key, .. } => {
                self.keys.write().insert(key.clone());
            }
            ChordCommand::Delta { .. } | ChordCommand::Get { .. } => {}
        }
        self.pending_commands.fetch_add(1, Ordering::AcqRel);
        self.commands.lock().push_back(command);
        !self.wake_pending.swap(true, Ordering::AcqRel)
    }

    /// Commands queued and not yet applied by the I/O thread.
    pub fn pending_commands(&self) -> usize {
        self.pending_commands.load(Ordering::Acquire)
    }

    /// Whether this node stores data (after `Join`, until `Unjoin`).
    pub fn joined(&self) -> bool {
        self.joined.load(Ordering::Acquire)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.keys.read().contains(key)
    }

    /// The keys this node knows of (its writes and every `notify` heard), in byte order.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.keys.read().iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.keys.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.read().is_empty()
    }

    pub fn snapshot(&self) -> ChordSnapshot {
        self.snapshot.lock().clone()
    }

    /// Start queueing key changes (the first callback was registered).
    pub fn record_changes(&self) {
        self.record_changes.store(true, Ordering::Release);
    }

    /// Key changes not reported because the queue was full.
    pub fn changes_shed(&self) -> u64 {
        self.changes_shed.load(Ordering::Relaxed)
    }

    /// Moves the queued key changes into `out`.
    pub fn take_changes(&self, out: &mut Vec<KeyChange>) {
        out.extend(self.changes.lock().drain(..));
    }

    fn publish_change(&self, change: KeyChange) {
        if !self.record_changes.load(Ordering::Acquire) {
            return;
        }
        let mut changes = self.changes.lock();
        if changes.len() >= self.change_capacity {
            self.changes_shed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        changes.push_back(change);
    }

    /// Drops every queued command (the node stopped): reads among them end as closed.
    pub fn clear_commands(&self) {
        let dropped = std::mem::take(&mut *self.commands.lock());
        self.pending_commands
            .fetch_sub(dropped.len(), Ordering::AcqRel);
    }

    fn take_commands(&self) -> VecDeque<ChordCommand> {
        // Cleared first: a command queued after this point brings its own wake-up.
        self.wake_pending.store(false, Ordering::Release);
        std::mem::take(&mut *self.commands.lock())
    }
}

/// The chord handler of a running node: commands in, replies and published state out.
pub struct ChordService {
    handler: ChordHandler,
    shared: std::sync::Arc<ChordShared>,
    waiting: HashMap<GetId, GetReply>,
}

impl ChordService {
    pub fn new(node_id: &str, config: ChordConfig, shared: std::sync::Arc<ChordShared>) -> Self {
        ChordService {
            handler: ChordHandler::new(node_id, config),
            shared,
            waiting: HashMap::new(),
        }
    }

    pub fn handler(&self) -> &ChordHandler {
        &self.handler
    }

    fn apply(&mut self, command: ChordCommand, now_ms: Millis) {
        match command {
            ChordCommand::Join => self.handler.join(),
            ChordCommand::Unjoin => self.handler.unjoin(),
            ChordCommand::Set { key, value } => self.handler.set(&key, value),
            ChordCommand::Delta { key, delta } => {
                // The API checked the shape; a refusal here has nothing to report to.
                let _ = self.handler.apply_delta(&key, delta);
            }
            ChordCommand::Get {
                key,
                timeout_ms,
                reply,
            } => {
                let id = self.handler.get_with_timeout(&key, now_ms, timeout_ms);
                self.waiting.insert(id, reply);
            }
        }
    }

    /// After every input: finished reads to their replies, key changes and counters out.
    fn publish(&mut self) {
        let mut changed = false;
        while let Some(event) = self.handler.poll_event() {
            match event {
                ChordEvent::GetDone { id, outcome } => {
                    if let Some(reply) = self.waiting.remove(&id) {
                        reply(outcome);
                    }
                }
                ChordEvent::KeyAdded(key) => {
                    if self.shared.keys.write().insert(key.clone()) {
                        self.shared.publish_change(KeyChange::Added(key));
                        changed = true;
                    }
                }
                ChordEvent::KeyDeleted(key) => {
                    if self.shared.keys.write().remove(&key) {
                        self.shared.publish_change(KeyChange::Deleted(key));
                        changed = true;
                    }
                }
            }
        }
        *self.shared.snapshot.lock() = ChordSnapshot {
            stats: self.handler.stats().clone(),
            stored: self.handler.stored_len(),
            gets_in_flight: self.handler.gets_in_flight(),
            storing_peers: self.handler.storing_peers(),
        };
        if changed {
            if let Some(notify) = self.shared.notify.get() {
                notify();
            }
        }
    }
}

impl Drop for ChordService {
    fn drop(&mut self) {
        // Reads still queued or waiting end now: their replies are dropped, which their
        // callers see as the node having closed.
        self.shared.clear_commands();
        self.waiting.clear();
    }
}

impl MeshHandler for ChordService {
    fn on_handshake(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, peer: &[u8]) {
        self.handler.on_handshake(ctx, conn, peer);
        self.publish();
    }

    fn on_message(&mut self, ctx: &mut MeshCtx<'_>, conn: ConnId, msg: &Message) -> bool {
        let consumed = self.handler.on_message(ctx, conn, msg);
        self.publish();
        consumed
    }

    fn on_peer_list(&mut self, ctx: &mut MeshCtx<'_>, peers: &[(String, u16, Vec<u8>)]) {
        self.handler.on_peer_list(ctx, peers);
        self.publish();
    }

    fn on_disconnected(&mut self, ctx: &mut MeshCtx<'_>, peer: &[u8]) {
        self.handler.on_disconnected(ctx, peer);
        self.publish();
    }

    fn on_tick(&mut self, ctx: &mut MeshCtx<'_>) {
        self.handler.on_tick(ctx);
        self.publish();
    }

    fn on_wake(&mut self, ctx: &mut MeshCtx<'_>) {
        let now_ms = ctx.now_ms();
        let commands = self.shared.take_commands();
        let count = commands.len();
        for command in commands {
            self.apply(command, now_ms);
        }
        self.shared
            .pending_commands
            .fetch_sub(count, Ordering::AcqRel);
        self.handler.flush(ctx);
        self.publish();
    }
}
