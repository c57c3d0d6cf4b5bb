//! A running 64-bit hash of everything a run fed to the nodes (FNV-1a style over 8-byte words,
//! each record length-prefixed), so two runs can be compared byte for byte by one number. Not
//! a cryptographic hash.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[derive(Clone, Debug)]
pub struct TraceHash {
    state: u64,
    records: u64,
}

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash {
            state: FNV_OFFSET,
            records: 0,
        }
    }
}

impl TraceHash {
    fn word(&mut self, w: u64) {
        self.state ^= w;
        self.state = self.state.wrapping_mul(FNV_PRIME).rotate_left(29);
    }

    fn bytes(&mut self, data: &[u8]) {
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
        }
    }

    /// Adds one record: a tag, a few numbers and a byte string.
    pub fn record(&mut self, tag: u8, numbers: &[u64], data: &[u8]) {
        self.records += 1;
        self.word(u64::from(tag));
        for n in numbers {
            self.word(*n);
        }
        self.word(data.len() as u64);
        self.bytes(data);
    }

    pub fn value(&self) -> u64 {
        self.state
    }

    /// Records added so far.
    pub fn records(&self) -> u64 {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_byte_changes_the_hash() {
        let hash = |data: &[u8]| {
            let mut t = TraceHash::default();
            t.record(b'D', &[1, 2], data);
            t.value()
        };
        let data: Vec<u8> = (0..=20).collect();
        for i in 0..data.len() {
            let mut other = data.clone();
            other[i] ^= 1;
            assert_ne!(hash(&data), hash(&other), "byte {i}");
        }
        assert_ne!(hash(&data), hash(&data[..20]));
    }
}
