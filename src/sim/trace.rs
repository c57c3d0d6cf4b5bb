//! A running 64-bit hash of everything a run fed to the nodes (FNV-1a over the bytes, each
//! record length-prefixed), so two runs can be compared byte for byte by one number. Not a
//! cryptographic hash.

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
    fn bytes(&mut self, data: &[u8]) {
        for b in data {
            self.state ^= u64::from(*b);
            self.state = self.state.wrapping_mul(FNV_PRIME);
        }
    }

    /// Adds one record: a tag, a few numbers and a byte string.
    pub fn record(&mut self, tag: u8, numbers: &[u64], data: &[u8]) {
        self.records += 1;
        self.bytes(&[tag]);
        for n in numbers {
            self.bytes(&n.to_le_bytes());
        }
        self.bytes(&(data.len() as u64).to_le_bytes());
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
