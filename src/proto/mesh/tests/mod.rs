//! Tests of the mesh core without sockets: an in-memory network of a few `Mesh` instances
//! (`harness.rs`) and a scripted raw peer that feeds hand-made frames to one node
//! (`raw.rs`). Time is virtual throughout.

mod bad_input;
mod encoding;
mod flooding;
mod handler;
mod handshake;
mod harness;
mod raw;
mod redial;
mod requests;
