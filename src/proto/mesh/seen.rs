//! The seen-set: IDs of recent broadcasts, for de-duplication (PROTOCOL.md §6, §10).
//!
//! Each entry expires 61 s after it *arrived* (by the receiver's clock), so for any frame not
//! dated in the future the entry outlives the frame's acceptance window (`time >= now - 60`).
//! Entries are kept in arrival order in a queue beside a hash set, which makes insertion,
//! lookup and expiry O(1) amortised (no scan like py2p's). At the capacity the oldest entry is
//! forgotten: a late duplicate is the lesser harm.
//!
//! Keys are the first 16 bytes of the SHA-256 message ID (an accidental collision needs about
//! 2^64 entries; a crafted one needs a SHA-256 prefix preimage). Not here: the age check of
//! frames, which the relay does before asking this set.

use super::Millis;
use crate::wire::frame::MessageId;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// How long an entry stays after its arrival: one second more than the acceptance window.
pub(super) const SEEN_TTL_MS: Millis = 61_000;

/// Entries reserved when the set is made.
const INITIAL_ROOM: usize = 16_384;

/// The set of recently seen broadcast IDs.
#[derive(Debug)]
pub(super) struct SeenSet {
    keys: HashSet<u128, BuildHasherDefault<PrefixHasher>>,
    /// (expiry, key) in arrival order.
    order: VecDeque<(Millis, u128)>,
    capacity: usize,
}

impl SeenSet {
    pub(super) fn new(capacity: usize) -> Self {
        // Room for a first burst up front; beyond it the table grows by doubling as usual
        // (reserving the whole capacity would cost every node tens of MiB at start).
        let initial = capacity.min(INITIAL_ROOM);
        SeenSet {
            keys: HashSet::with_capacity_and_hasher(initial, Default::default()),
            order: VecDeque::with_capacity(initial),
            capacity,
        }
    }

    /// Records `id`; returns false if it was already present (a duplicate).
    pub(super) fn insert(&mut self, id: &MessageId, now_ms: Millis) -> bool {
        self.expire(now_ms);
        if self.capacity == 0 {
            return true;
        }
        let key = key_of(id);
        // One probe: `insert` says whether the key was new.
        if !self.keys.insert(key) {
            return false;
        }
        // The new key is not in `order` yet, so trimming cannot forget it.
        while self.order.len() >= self.capacity {
            self.forget_oldest();
        }
        self.order
            .push_back((now_ms.saturating_add(SEEN_TTL_MS), key));
        true
    }

    /// True if `id` is present (does not record it).
    #[cfg(test)]
    pub(super) fn contains(&self, id: &MessageId) -> bool {
        self.keys.contains(&key_of(id))
    }

    /// Forgets every entry whose expiry has come.
    pub(super) fn expire(&mut self, now_ms: Millis) {
        while let Some(&(expiry, _)) = self.order.front() {
            if expiry > now_ms {
                break;
            }
            self.forget_oldest();
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }

    fn forget_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_front() {
            self.keys.remove(&key);
        }
    }
}

fn key_of(id: &MessageId) -> u128 {
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&id[..16]);
    u128::from_le_bytes(prefix)
}

/// The keys are already uniformly distributed (SHA-256 output): hashing them again is waste.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> MessageId {
        let mut id = [0u8; 32];
        id[0] = n;
        id[20] = n;
        id
    }

    #[test]
    fn a_second_insert_of_the_same_id_is_a_duplicate() {
        let mut seen = SeenSet::new(10);
        assert!(seen.insert(&id(1), 0));
        assert!(!seen.insert(&id(1), 5_000));
        assert!(seen.insert(&id(2), 5_000));
    }

    #[test]
    fn entries_last_61_seconds_after_arrival() {
        let mut seen = SeenSet::new(10);
        seen.insert(&id(1), 1_000);
        seen.expire(61_999);
        assert!(seen.contains(&id(1)));
        seen.expire(62_000);
        assert!(!seen.contains(&id(1)));
        assert!(seen.insert(&id(1), 62_000));
    }

    #[test]
    fn at_capacity_the_oldest_entry_is_forgotten() {
        let mut seen = SeenSet::new(3);
        for n in 1..=4 {
            assert!(seen.insert(&id(n), u64::from(n)));
        }
        assert_eq!(seen.len(), 3);
        assert!(!seen.contains(&id(1)));
        assert!(seen.contains(&id(2)) && seen.contains(&id(4)));
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let mut seen = SeenSet::new(0);
        assert!(seen.insert(&id(1), 0));
        assert!(seen.insert(&id(1), 0));
    }
}
