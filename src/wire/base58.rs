//! base58 (Bitcoin alphabet) text of non-negative big integers, as the protocol writes node
//! IDs, protocol IDs and chord positions: most significant digit first, no padding, zero is
//! `"1"`. Integers are carried as big-endian byte strings of any length (up to 512 bits and
//! beyond). Not here: base58check or leading-zero-byte conventions of other formats.
//!
//! TODO(wire helper): implement.
