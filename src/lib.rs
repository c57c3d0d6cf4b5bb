//! rs2p: the p2p protocol 0.7 — a flooding mesh, a sync table and a chord table — written once
//! in Rust and shipped as a C-ABI library.
//!
//! Layers, from the bottom (arrows point down only):
//! * [`wire`] pure codecs: base58, msgpack, frames, compression, IDs, flags;
//! * [`proto`] sans-IO protocol state machines (time is an input);
//! * [`driver`] the one place with I/O: a mio event loop thread per node;
//! * [`api`] the safe, blocking, thread-safe Rust API;
//! * [`ffi`] `extern "C"` functions, handles and status codes for C and the wrappers.

pub mod api;
pub mod driver;
pub mod ffi;
pub mod proto;
pub mod sim;
pub mod wire;
