//! base58 (Bitcoin alphabet) text of non-negative big integers, as the protocol writes node
//! IDs, protocol IDs and chord positions: most significant digit first, no padding, zero is
//! `"1"`. Integers are carried as big-endian byte strings of any length (up to 512 bits and
//! beyond). Not here: base58check or leading-zero-byte conventions of other formats.
//!
//! TODO(wire helper): implement.

use super::WireError;
use std::cmp::Ordering;

/// base58 text of the unsigned big-endian integer `be` (any length; empty or all zero is `"1"`).
pub fn encode(be: &[u8]) -> String {
    let _ = be;
    todo!()
}

/// The integer written by `text` as minimal big-endian bytes (zero is the empty vector).
/// Rejects empty text and characters outside the alphabet.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, WireError> {
    let _ = text;
    todo!()
}

/// Compares two big-endian unsigned integers of any length (leading zero bytes ignored).
pub fn cmp_be(a: &[u8], b: &[u8]) -> Ordering {
    let _ = (a, b);
    todo!()
}
