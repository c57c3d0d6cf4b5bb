//! A quick hasher (the multiply-rotate scheme of rustc's FxHash) for the chord layer's own
//! lookup maps: reads by position and positions awaiting a late answer, looked up several
//! times per read. Their keys are positions of this node's own reads (hash outputs), so the
//! hasher needs no defence against chosen keys; a peer only ever looks such a key up.
//!
//! Not for maps whose keys peers choose (forwarded retrieves stay in an ordered map).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`QuickHasher`].
pub type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// FxHash: eight bytes at a time, rotate, xor, multiply.
#[derive(Default, Clone, Copy)]
pub struct QuickHasher {
    hash: u64,
}

impl QuickHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
        self.add(bytes.len() as u64);
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(bytes: &[u8]) -> u64 {
        let mut h = QuickHasher::default();
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn different_positions_hash_apart() {
        assert_ne!(hash_of(&[1, 2, 3]), hash_of(&[1, 2, 4]));
        // Length counts: a trailing zero byte is a different key.
        assert_ne!(hash_of(&[1, 2, 3]), hash_of(&[1, 2, 3, 0]));
        assert_eq!(hash_of(&[9; 64]), hash_of(&[9; 64]));
    }

    #[test]
    fn a_map_finds_what_it_holds() {
        let mut map: QuickMap<(usize, Vec<u8>), u32> = QuickMap::default();
        for i in 0..1000u32 {
            map.insert((i as usize % 5, i.to_be_bytes().to_vec()), i);
        }
        for i in 0..1000u32 {
            assert_eq!(
                map.get(&(i as usize % 5, i.to_be_bytes().to_vec())),
                Some(&i)
            );
        }
    }
}
