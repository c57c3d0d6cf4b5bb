//! The local store of a chord node: `(method, position) → value`, with the store, delete and
//! delta rules of PROTOCOL.md §8 (deleting an empty position is a no-op; a delta merges into
//! a map, an absent entry counting as `{}`, and is refused onto a non-map). Not here: whether
//! this node should hold an entry (see `routing.rs`).

use super::ring::Position;
use crate::wire::Value;
use std::collections::BTreeMap;

/// One entry's address: method index (0 = sha1 … 4 = sha512) and position.
pub type EntryKey = (usize, Position);

#[derive(Debug, Default)]
pub struct Table {
    entries: BTreeMap<EntryKey, Value>,
}

/// A delta arrived for an entry that holds something other than a map.
#[derive(Debug, PartialEq, Eq)]
pub struct NotAMap;

impl Table {
    /// Stores `value`; nil deletes (a no-op when the entry is empty).
    pub fn store(&mut self, key: EntryKey, value: Value) {
        if value.is_nil() {
            self.entries.remove(&key);
        } else {
            self.entries.insert(key, value);
        }
    }

    /// Merges the pairs of `delta` (a map) into the entry; returns the merged value.
    pub fn delta(&mut self, key: EntryKey, delta: &[(Value, Value)]) -> Result<Value, NotAMap> {
        let slot = self
            .entries
            .entry(key)
            .or_insert_with(|| Value::Map(Vec::new()));
        let Value::Map(pairs) = slot else {
            return Err(NotAMap);
        };
        for (k, v) in delta {
            match pairs.iter_mut().find(|(old, _)| old.key_eq(k)) {
                Some(pair) => pair.1 = v.clone(),
                None => pairs.push((k.clone(), v.clone())),
            }
        }
        Ok(slot.clone())
    }

    pub fn get(&self, key: &EntryKey) -> Option<&Value> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&EntryKey, &Value)> {
        self.entries.iter()
    }

    pub fn remove(&mut self, key: &EntryKey) {
        self.entries.remove(key);
    }
}
