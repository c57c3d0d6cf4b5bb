//! Ring arithmetic of the chord table (PROTOCOL.md §8): positions on a ring of 2^384, the
//! clockwise distance between two of them, a node's position from its base58 ID, and a
//! stored position (the full, unreduced integer, as keys are kept and sent). Not here: who
//! is responsible for what (see `routing.rs`).

use crate::wire::{base58, Value};

/// Bytes of a reduced ring position (384 bits).
pub const RING_BYTES: usize = 48;

/// A point on the ring: an integer mod 2^384, big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RingPos(pub [u8; RING_BYTES]);

impl RingPos {
    /// `be` (any length, big-endian) reduced mod 2^384: its low 48 bytes.
    pub fn reduce(be: &[u8]) -> RingPos {
        let mut out = [0u8; RING_BYTES];
        let take = be.len().min(RING_BYTES);
        out[RING_BYTES - take..].copy_from_slice(&be[be.len() - take..]);
        RingPos(out)
    }

    /// The position of a node: its base58 ID read as an integer; `None` if the ID is not
    /// base58.
    pub fn of_node(id: &[u8]) -> Option<RingPos> {
        base58::decode(id).ok().map(|be| RingPos::reduce(&be))
    }

    /// `self + 2^bit` mod 2^384 (finger targets).
    pub fn plus_pow2(&self, bit: usize) -> RingPos {
        let mut out = self.0;
        if bit >= RING_BYTES * 8 {
            return RingPos(out);
        }
        let mut i = RING_BYTES - 1 - bit / 8;
        let mut carry = 1u16 << (bit % 8);
        loop {
            let v = u16::from(out[i]) + carry;
            out[i] = v as u8;
            carry = v >> 8;
            if carry == 0 || i == 0 {
                break;
            }
            i -= 1;
        }
        RingPos(out)
    }
}

/// `(b - a) mod 2^384`: how far clockwise `b` lies from `a`. Six 64-bit limbs with borrow
/// (routing computes this for every candidate of every hop).
pub fn distance(a: &RingPos, b: &RingPos) -> RingPos {
    let mut out = [0u8; RING_BYTES];
    let mut borrow = false;
    for limb in (0..RING_BYTES / 8).rev() {
        let range = limb * 8..limb * 8 + 8;
        let x = u64::from_be_bytes(limb_bytes(&b.0, limb));
        let y = u64::from_be_bytes(limb_bytes(&a.0, limb));
        let (d1, o1) = x.overflowing_sub(y);
        let (d2, o2) = d1.overflowing_sub(u64::from(borrow));
        borrow = o1 || o2;
        out[range].copy_from_slice(&d2.to_be_bytes());
    }
    RingPos(out)
}

/// The `index`-th 8-byte limb of a ring position, most significant first.
fn limb_bytes(bytes: &[u8; RING_BYTES], index: usize) -> [u8; 8] {
    let mut limb = [0u8; 8];
    limb.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
    limb
}

/// Most bytes a stored position has: 512 bits, the widest hash (sha512). A position from the
/// wire above 2^512 names no key's position and is refused as a bad message.
pub const POSITION_BYTES: usize = 64;

/// A stored position: the full integer (the sha512 one has 512 bits) as minimal big-endian
/// bytes, which is how the tables are keyed, plus its reduction for distances. Fixed size and
/// `Copy` (reads and lookup tables copy it freely); ordered and hashed like its bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Position {
    len: u8,
    /// `bytes[..len]` is the integer, minimal big-endian; the rest is zero.
    bytes: [u8; POSITION_BYTES],
}

impl Position {
    /// The position of the integer `be` (big-endian, leading zeros allowed); `None` above
    /// 2^512.
    pub fn from_be(be: &[u8]) -> Option<Position> {
        let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
        let digits = &be[first..];
        if digits.len() > POSITION_BYTES {
            return None;
        }
        let mut bytes = [0u8; POSITION_BYTES];
        bytes[..digits.len()].copy_from_slice(digits);
        Some(Position {
            len: digits.len() as u8,
            bytes,
        })
    }

    /// `digest` followed by `zero_bytes` zero bytes (a digest shifted left); digests are at
    /// most 64 bytes and the shift leaves the total within 64 here, anything beyond is cut.
    fn shifted_digest(digest: &[u8], zero_bytes: usize) -> Position {
        let first = digest.iter().position(|&b| b != 0).unwrap_or(digest.len());
        let digits = &digest[first..];
        let mut bytes = [0u8; POSITION_BYTES];
        let len = if digits.is_empty() {
            0
        } else {
            (digits.len() + zero_bytes).min(POSITION_BYTES)
        };
        let take = digits.len().min(len);
        bytes[..take].copy_from_slice(&digits[..take]);
        Position {
            len: len as u8,
            bytes,
        }
    }

    /// The integer as minimal big-endian bytes (empty for zero).
    pub fn full(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// A position as it travels: base58 text as bin or str.
    pub fn from_wire(value: &Value) -> Option<Position> {
        let be = super::position_text::decode(value.as_bytes()?)?;
        Position::from_be(&be)
    }

    pub fn ring(&self) -> RingPos {
        RingPos::reduce(self.full())
    }

    /// The wire form we send: base58 text as bin.
    pub fn to_wire(&self) -> Value {
        let mut text = Vec::with_capacity(super::position_text::MAX_DIGITS);
        super::position_text::encode_into(self.full(), &mut text);
        Value::Bin(text)
    }
}

impl Ord for Position {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.full().cmp(other.full())
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Position {
    /// Length and leading eight bytes only: positions are hash outputs, so those bytes are
    /// as good as all of them, and lookups per read are many. Equal positions hash equal.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.bytes[..8]);
        state.write_u64(u64::from_le_bytes(head) ^ u64::from(self.len));
    }
}

impl std::fmt::Debug for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Position(")?;
        for b in self.full() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// The chord hash methods by index (0 = sha1 … 4 = sha512), from their wire names.
pub fn method_index(name: &Value) -> Option<usize> {
    let name = name.as_bytes()?;
    crate::wire::ids::CHORD_METHODS
        .iter()
        .position(|m| m.as_bytes() == name)
}

/// The wire form of a method name: bin.
pub fn method_value(index: usize) -> Value {
    Value::Bin(
        crate::wire::ids::CHORD_METHODS
            .get(index)
            .copied()
            .unwrap_or("sha1")
            .as_bytes()
            .to_vec(),
    )
}

/// The five positions of `key`, by method index: the same integers as
/// [`crate::wire::ids::chord_positions`] (sha1, sha224 and sha256 shifted left to 384 bits;
/// sha384; sha512), built on the stack.
pub fn key_positions(key: &[u8]) -> [Position; 5] {
    use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
    [
        Position::shifted_digest(&crate::wire::sha1::sha1(key), 224 / 8),
        Position::shifted_digest(&Sha224::digest(key), 160 / 8),
        Position::shifted_digest(&Sha256::digest(key), 128 / 8),
        Position::shifted_digest(&Sha384::digest(key), 0),
        Position::shifted_digest(&Sha512::digest(key), 0),
    ]
}
