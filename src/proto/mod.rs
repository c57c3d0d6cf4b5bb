//! Sans-IO protocol state machines. Input: bytes from connection N, the passing of time, user
//! commands. Output: frames to write, connections to open or close, events. Nothing here reads
//! a clock, touches a socket or starts a thread; time is always a parameter (`now_ms`, Unix
//! milliseconds), so every rule is unit-testable and a simulator can run thousands of nodes.

pub mod chord;
pub mod mesh;
pub mod sync;
