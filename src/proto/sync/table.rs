//! The dictionary of one sync node: key → (value, metadata), and the rules that change it —
//! store, delete (a store of nil), delta (a map merged into the stored map) and the
//! handshake-dump entry — each passing the lease check first. No I/O, no locking, no
//! counting (see `shared.rs`); not the wire parsing (see `handler.rs`).

use super::lease::{may_write, Meta};
use crate::wire::Value;
use std::collections::BTreeMap;

/// A stored key's value and who wrote it when.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub value: Value,
    pub meta: Meta,
}

/// What an accepted write did, for the user's events.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The key now holds `value` (for a delta, the merged map), written by `meta`.
    Update {
        key: Vec<u8>,
        value: Value,
        meta: Meta,
    },
    /// The key and its metadata are gone.
    Delete { key: Vec<u8> },
}

/// Why a write was not applied; each has a counter in [`super::SyncStats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Refusal {
    /// The lease check refused it (another owner holds the key).
    Leased = 0,
    /// A delta onto a key holding something other than a map.
    NotAMap = 1,
    /// A handshake-dump entry for a key that holds a truthy value (ignored by rule).
    HoldingValue = 2,
    /// A delete of a key this node does not hold (a no-op).
    MissingKey = 3,
    /// A store or delta whose items do not have the protocol's shape.
    Malformed = 4,
}

/// Number of [`Refusal`] values.
pub const REFUSALS: usize = 5;

/// The table. Keys are byte strings; values are never nil. Ordered by key, so that what a
/// node sends (its handshake dump) depends only on its contents: the simulator replays a
/// seed byte for byte.
#[derive(Debug)]
pub struct Table {
    entries: BTreeMap<Vec<u8>, Entry>,
    leasing: bool,
}

impl Table {
    pub fn new(leasing: bool) -> Self {
        Table {
            entries: BTreeMap::new(),
            leasing,
        }
    }

    pub fn leasing(&self) -> bool {
        self.leasing
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.entries.iter()
    }

    /// `Err(holder)` when the lease check refuses a write by `write` at `key`.
    pub fn check(&self, key: &[u8], write: &Meta, now_s: i64, delta: bool) -> Result<(), Meta> {
        let held = self.entries.get(key).map(|e| &e.meta);
        if may_write(held, write, now_s, delta, self.leasing) {
            Ok(())
        } else {
            Err(held.cloned().unwrap_or_else(|| write.clone()))
        }
    }

    /// A store by `meta`; a nil `value` deletes the key and its metadata.
    pub fn store(
        &mut self,
        key: Vec<u8>,
        value: Value,
        meta: Meta,
        now_s: i64,
    ) -> Result<Change, Refusal> {
        if value.is_nil() && !self.entries.contains_key(&key) {
            return Err(Refusal::MissingKey);
        }
        self.check(&key, &meta, now_s, false)
            .map_err(|_| Refusal::Leased)?;
        if value.is_nil() {
            self.entries.remove(&key);
            return Ok(Change::Delete { key });
        }
        let change = Change::Update {
            key: key.clone(),
            value: value.clone(),
            meta: meta.clone(),
        };
        self.entries.insert(key, Entry { value, meta });
        Ok(change)
    }

    /// A delta by `meta`: `fields` merged into the stored map (absent: an empty one), the
    /// delta's fields winning; the key's metadata becomes `meta`.
    pub fn delta(
        &mut self,
        key: Vec<u8>,
        fields: Vec<(Value, Value)>,
        meta: Meta,
        now_s: i64,
    ) -> Result<Change, Refusal> {
        self.check(&key, &meta, now_s, true)
            .map_err(|_| Refusal::Leased)?;
        let mut merged = match self.entries.get(&key).map(|e| &e.value) {
            None => Vec::new(),
            Some(Value::Map(pairs)) => pairs.clone(),
            Some(_) => return Err(Refusal::NotAMap),
        };
        merge_into(&mut merged, fields);
        let value = Value::Map(merged);
        let change = Change::Update {
            key: key.clone(),
            value: value.clone(),
            meta: meta.clone(),
        };
        self.entries.insert(key, Entry { value, meta });
        Ok(change)
    }

    /// One entry of a peer's handshake dump: ignored while we hold a truthy value at the key,
    /// otherwise a store by the entry's original owner and time.
    pub fn dump_entry(
        &mut self,
        key: Vec<u8>,
        value: Value,
        meta: Meta,
        now_s: i64,
    ) -> Result<Change, Refusal> {
        if self.entries.get(&key).is_some_and(|e| e.value.is_truthy()) {
            return Err(Refusal::HoldingValue);
        }
        self.store(key, value, meta, now_s)
    }
}

/// Python's `dict.update`: each field replaces an equal key's value (keys compared as Python
/// would) or is appended.
fn merge_into(target: &mut Vec<(Value, Value)>, fields: Vec<(Value, Value)>) {
    for (field, value) in fields {
        match target.iter_mut().find(|(k, _)| k.key_eq(&field)) {
            Some(slot) => slot.1 = value,
            None => target.push((field, value)),
        }
    }
}
