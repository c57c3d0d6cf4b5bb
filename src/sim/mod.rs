//! Deterministic in-process simulator: many instances of the production sans-IO cores
//! (`crate::proto`) wired through an in-memory network on a virtual clock, so questions like
//! "what does one broadcast cost in a 10,000-node mesh with 5 % loss?" get measured answers on
//! one machine. Same seed, same run: every random draw comes from [`rng::Rng`] and events due
//! at the same virtual millisecond run in scheduling order.
//!
//! Layout: [`rng`] (seeded PRNG), [`network`] (latency, loss, bandwidth settings),
//! [`queue`] (the `(time, seq)` event heap), [`world`] (the engine: nodes, links, crashes,
//! partitions), [`scenario`] (measurements built on the engine: the mesh broadcast study,
//! the sync partition-heal study, the chord studies), [`report`] (tables), [`svg`] (charts), [`memory`]
//! (RSS). What it does not model: CPU time (handling a frame takes zero virtual time), packet
//! level TCP (connections are reliable FIFO byte streams; loss becomes retransmission delay),
//! the OS (no socket buffers, no back-pressure beyond link bandwidth). See docs/simulator.md.

pub mod memory;
pub mod network;
pub mod queue;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod svg;
pub mod trace;
pub mod world;

pub use network::{Latency, NetworkConfig};
pub use queue::SimTime;
pub use world::{CapturedFrame, HostIdx, NetCounters, NodeEvent, NodeIdx, Sim, SimNode};
