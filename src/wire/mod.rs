//! The wire layer: pure codecs for the p2p protocol 0.7, with no I/O, no clock and no state
//! beyond what a caller hands in.
//!
//! What is here: base58 integers ([`base58`]), msgpack values ([`msgpack`]), frames and their
//! checksums ([`frame`]), compression containers ([`compression`]), protocol and node IDs
//! ([`ids`]) and the flag numbers ([`flags`]). What is not: connections, peers, timers or any
//! protocol decision — those live in `crate::proto`.
//!
//! Every decoder here takes untrusted bytes and returns a [`WireError`] on bad input; none
//! panics, and every size it allocates is bounded by a [`Limits`] value.

pub mod base58;
pub mod compression;
pub mod error;
pub mod flags;
pub mod frame;
pub mod ids;
pub mod msgpack;
pub mod sha1;

pub use error::WireError;
pub use msgpack::Value;

/// Bounds applied while decoding input from a peer. The defaults follow PROTOCOL.md §10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted frame body (the u32 length prefix), in bytes.
    pub max_frame_len: usize,
    /// Largest accepted body after decompression, in bytes.
    pub max_decompressed_len: usize,
    /// Deepest accepted nesting of msgpack arrays and maps.
    pub max_depth: usize,
}

impl Limits {
    /// 16 MiB frames, 16 MiB after decompression, 64 levels of nesting.
    pub const DEFAULT: Limits = Limits {
        max_frame_len: 16 * 1024 * 1024,
        max_decompressed_len: 16 * 1024 * 1024,
        max_depth: 64,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
