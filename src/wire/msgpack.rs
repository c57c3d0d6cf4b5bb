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
