//! Tests of the sync table without sockets: the lease check branch by branch, the table's
//! rules, and whole nodes on the mesh core's in-memory network (the mesh tests' harness,
//! reused as is). Time is virtual throughout.

#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../../mesh/tests/harness.rs"]
mod harness;

mod lease;
mod network;
mod pass_on;
mod table;
