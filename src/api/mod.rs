//! The safe Rust API: [`MeshNode`], a blocking, thread-safe handle on one mesh node, built
//! from a [`MeshNodeConfig`]. Messages arrive through [`MeshNode::recv`] and callbacks
//! registered with [`MeshNode::on_event`]; packets are msgpack [`Value`]s, with plain byte
//! strings the easy path ([`IntoPacket`]).
//!
//! Not here: sockets and threads (`crate::driver`), protocol rules (`crate::proto`), the C ABI.

mod config;
mod error;
mod event;
mod message;
mod node;
mod packet;
mod stats;

pub use crate::proto::mesh::{Direction, DropReason, MeshStats};
pub use crate::wire::Value;
pub use config::MeshNodeConfig;
pub use error::{Error, Result};
pub use event::NodeEvent;
pub use message::Message;
pub use node::{MeshNode, SendMode};
pub use packet::IntoPacket;
pub use stats::{NodeStats, PeerInfo};
