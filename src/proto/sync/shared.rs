//! [`SyncShared`]: one sync node's table behind a read-write lock, its counters and its queue
//! of changes for the user, shared by the handler (which applies remote writes on the I/O
//! thread) and the API (which reads without waiting for that thread and makes local writes).
//! Every change is queued while the table lock is held, so events come in table order.
//! Not the wire parsing (`handler.rs`), not threads or sockets.

use super::lease::Meta;
use super::table::{Change, Refusal, Table, REFUSALS};
use crate::proto::mesh::Millis;
use crate::wire::{flags, Value};
use once_cell::sync::OnceCell;
use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of one sync node (remote writes only: refused local writes are errors instead).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Remote stores, deletes, deltas and dump entries applied.
    pub accepted: u64,
    /// Remote writes not applied, indexed by `Refusal as usize`.
    pub refused: [u64; REFUSALS],
    /// Table entries whispered to peers on their handshakes.
    pub dump_entries_sent: u64,
    /// Changes not queued for the user because the queue was full.
    pub changes_shed: u64,
    /// Dump entries passed on: whispered to another neighbour after they changed our table.
    pub dump_entries_passed_on: u64,
    /// (neighbour, entry) pairs not passed on because the neighbour holds the key: it listed
    /// the key to us, or it received our own dump after the entry arrived.
    pub pass_on_skipped: u64,
}

impl SyncStats {
    pub fn refused(&self, why: Refusal) -> u64 {
        self.refused[why as usize]
    }
}

/// A local write.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalWrite {
    /// Store `value` (nil deletes).
    Store { key: Vec<u8>, value: Value },
    /// Merge `fields` into the map at `key`.
    Delta {
        key: Vec<u8>,
        fields: Vec<(Value, Value)>,
    },
}

/// Why a local write was not made.
#[derive(Debug, PartialEq)]
pub enum LocalError<E> {
    /// Another owner holds the key's lease; `Meta` is its holder.
    Leased(Meta),
    /// A delta onto a key holding something other than a map.
    NotAMap,
    /// The frame could not be handed to the mesh; nothing was changed.
    Send(E),
}

/// What a local write did.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalOutcome {
    /// Applied and sent.
    Applied(Change),
    /// A delete of a key we do not hold: nothing changed and nothing was sent.
    Missing,
}

struct ChangeQueue {
    changes: VecDeque<Change>,
    capacity: usize,
}

/// The state one sync node shares between its handler and its API handles.
pub struct SyncShared {
    table: RwLock<Table>,
    accepted: AtomicU64,
    refused: [AtomicU64; REFUSALS],
    dump_entries_sent: AtomicU64,
    changes_shed: AtomicU64,
    dump_entries_passed_on: AtomicU64,
    pass_on_skipped: AtomicU64,
    /// Changes are queued only while someone listens.
    record_changes: AtomicBool,
    changes: Mutex<ChangeQueue>,
    notify: OnceCell<Box<dyn Fn() + Send + Sync>>,
}

/// Whole seconds of a millisecond time (the protocol's `time`).
pub fn secs(now_ms: Millis) -> i64 {
    i64::try_from(now_ms / 1000).unwrap_or(i64::MAX)
}

impl SyncShared {
    /// An empty table; at most `change_capacity` changes wait for the user.
    pub fn new(leasing: bool, change_capacity: usize) -> Self {
        SyncShared {
            table: RwLock::new(Table::new(leasing)),
            accepted: AtomicU64::new(0),
            refused: Default::default(),
            dump_entries_sent: AtomicU64::new(0),
            changes_shed: AtomicU64::new(0),
            dump_entries_passed_on: AtomicU64::new(0),
            pass_on_skipped: AtomicU64::new(0),
            record_changes: AtomicBool::new(false),
            changes: Mutex::new(ChangeQueue {
                changes: VecDeque::new(),
                capacity: change_capacity.max(1),
            }),
            notify: OnceCell::new(),
        }
    }

    /// The table, for reading. Holding the guard holds back writers: keep it short.
    pub fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table.read()
    }

    pub fn leasing(&self) -> bool {
        self.table.read().leasing()
    }

    pub fn stats(&self) -> SyncStats {
        let mut refused = [0; REFUSALS];
        for (count, counter) in refused.iter_mut().zip(&self.refused) {
            *count = counter.load(Ordering::Relaxed);
        }
        SyncStats {
            accepted: self.accepted.load(Ordering::Relaxed),
            refused,
            dump_entries_sent: self.dump_entries_sent.load(Ordering::Relaxed),
            changes_shed: self.changes_shed.load(Ordering::Relaxed),
            dump_entries_passed_on: self.dump_entries_passed_on.load(Ordering::Relaxed),
            pass_on_skipped: self.pass_on_skipped.load(Ordering::Relaxed),
        }
    }

    /// From now on, queue changes for [`SyncShared::take_changes`].
    pub fn record_changes(&self) {
        self.record_changes.store(true, Ordering::Release);
    }

    /// Sets what is called after a change is queued, e.g. waking the thread that takes them.
    /// It runs with the table lock held, so it must only signal, never touch the table.
    /// Only the first call has an effect.
    pub fn set_notify(&self, notify: impl Fn() + Send + Sync + 'static) {
        let _ = self.notify.set(Box::new(notify));
    }

    /// Moves the queued changes, oldest first, to `out`.
    pub fn take_changes(&self, out: &mut Vec<Change>) {
        out.extend(self.changes.lock().changes.drain(..));
    }

    /// A write by this node (`me`) at `now_ms`: lease-checked with `(me, now)`; when accepted
    /// `send(sub_flag, packets)` is called with the table locked (so the frames of two local
    /// writes leave in the order they were applied) and, if it succeeds, the write is applied
    /// with the same time. A delete of a key we lack does nothing and sends nothing.
    pub fn write_local<E>(
        &self,
        me: &[u8],
        write: LocalWrite,
        now_ms: Millis,
        send: impl FnOnce(u8, Vec<Value>) -> Result<(), E>,
    ) -> Result<LocalOutcome, LocalError<E>> {
        let now_s = secs(now_ms);
        let meta = Meta::new(me, now_s);
        let mut table = self.table.write();
        let (key, is_delta) = match &write {
            LocalWrite::Store { key, value } => {
                if value.is_nil() && table.get(key).is_none() {
                    return Ok(LocalOutcome::Missing);
                }
                (key, false)
            }
            LocalWrite::Delta { key, .. } => (key, true),
        };
        table
            .check(key, &meta, now_s, is_delta)
            .map_err(LocalError::Leased)?;
        if is_delta
            && table
                .get(key)
                .is_some_and(|e| !matches!(e.value, Value::Map(_)))
        {
            return Err(LocalError::NotAMap);
        }
        let applied = match write {
            LocalWrite::Store { key, value } => {
                let packets = vec![Value::Bin(key.clone()), value.clone()];
                send(flags::sub::STORE, packets).map_err(LocalError::Send)?;
                table.store(key, value, meta, now_s)
            }
            LocalWrite::Delta { key, fields } => {
                let packets = vec![Value::Bin(key.clone()), Value::Map(fields.clone())];
                send(flags::sub::DELTA, packets).map_err(LocalError::Send)?;
                table.delta(key, fields, meta, now_s)
            }
        };
        match applied {
            Ok(change) => {
                self.queue_change(&change);
                Ok(LocalOutcome::Applied(change))
            }
            // Checked above under the same lock; kept as an error rather than a panic.
            Err(Refusal::NotAMap) => Err(LocalError::NotAMap),
            Err(_) => Err(LocalError::Leased(Meta::new(me, now_s))),
        }
    }

    /// Applies a remote write with `apply`, counting the outcome and queueing the change.
    pub(super) fn apply_remote(
        &self,
        apply: impl FnOnce(&mut Table) -> Result<Change, Refusal>,
    ) -> Result<Change, Refusal> {
        let mut table = self.table.write();
        match apply(&mut table) {
            Ok(change) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
                self.queue_change(&change);
                Ok(change)
            }
            Err(why) => {
                self.count_refusal(why);
                Err(why)
            }
        }
    }

    pub(super) fn count_refusal(&self, why: Refusal) {
        self.refused[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_dump_entries(&self, n: u64) {
        self.dump_entries_sent.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn count_passed_on(&self, sent: u64, skipped: u64) {
        self.dump_entries_passed_on
            .fetch_add(sent, Ordering::Relaxed);
        self.pass_on_skipped.fetch_add(skipped, Ordering::Relaxed);
    }

    /// Queues `change` for the user (table lock held by the caller).
    fn queue_change(&self, change: &Change) {
        if !self.record_changes.load(Ordering::Acquire) {
            return;
        }
        let mut queue = self.changes.lock();
        if queue.changes.len() >= queue.capacity {
            drop(queue);
            self.changes_shed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        queue.changes.push_back(change.clone());
        drop(queue);
        if let Some(notify) = self.notify.get() {
            notify();
        }
    }
}
