//! msgpack values, encoded and decoded by a small codec of our own.
//!
//! Why our own and not rmp/rmpv: the protocol needs (1) bin and str kept apart on decode and
//! chosen exactly on encode, (2) the smallest integer encodings byte-for-byte as
//! u-msgpack-python writes them, so our frames match the reference vectors, (3) hard limits on
//! nesting depth and declared lengths with a precise error instead of a panic or a huge
//! allocation, (4) rejection of ext types and duplicate map keys, and (5) decoding a frame's
//! top-level array without copying the payload twice. A few hundred lines give all of that with
//! no dependency; rmpv would need a wrapper for (3)-(5) anyway.
//!
//! Not here: what the values mean (see `crate::proto`).
//!
//! TODO(wire helper): implement.

use super::WireError;

/// One msgpack value.
///
/// Integers are normalised: a non-negative integer is always [`Value::UInt`], [`Value::Int`]
/// holds negative numbers only, so derived equality compares numbers correctly.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    /// A negative integer (non-negative ones are `UInt`).
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Value>),
    /// Key/value pairs in wire order. Keys are distinct.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// Appends the msgpack encoding (smallest integer forms, float64 for `F64`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let _ = out;
        todo!()
    }

    /// The msgpack encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes exactly one value that spans all of `input` (trailing bytes are an error).
    pub fn decode(input: &[u8], max_depth: usize) -> Result<Value, WireError> {
        let _ = (input, max_depth);
        todo!()
    }

    /// Decodes one value from the start of `input`; returns it and the bytes it used.
    pub fn decode_prefix(input: &[u8], max_depth: usize) -> Result<(Value, usize), WireError> {
        let _ = (input, max_depth);
        todo!()
    }

    /// The bytes of a bin or a str — the protocol's "accept str or bin" normalisation.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        todo!()
    }

    pub fn as_u64(&self) -> Option<u64> {
        todo!()
    }

    pub fn as_i64(&self) -> Option<i64> {
        todo!()
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        todo!()
    }

    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        todo!()
    }

    /// Python truthiness as py2p applies it: false for nil, false, 0, 0.0 and empty
    /// str/bin/array/map; true otherwise.
    pub fn is_truthy(&self) -> bool {
        todo!()
    }
}
