//! The safe Rust API: [`MeshNode`], a blocking, thread-safe handle on one mesh node, built
//! from a [`MeshNodeConfig`]. Messages arrive through [`MeshNode::recv`] and callbacks
//! registered with [`MeshNode::on_event`]; packets are msgpack [`Value`]s, with plain byte
//! strings the easy path ([`IntoPacket`]). [`SyncTable`] is a mesh node holding the sync
//! table (built from a [`SyncTableConfig`]; change events through `on_sync_event`).
//! [`ChordTable`] is a mesh node in a chord network (a DHT read by majority; built from a
//! [`ChordTableConfig`]; reads through [`ChordTable::get`] or [`PendingGet`]).
//!
//! Not here: sockets and threads (`crate::driver`), protocol rules (`crate::proto`), the C ABI.

mod chord;
mod chord_config;
mod config;
mod error;
mod event;
mod message;
mod node;
mod packet;
mod stats;
mod sync;
mod sync_config;
mod sync_event;

pub use crate::proto::chord::{ChordConfig, ChordSnapshot, ChordStats, KeyChange};
pub use crate::proto::mesh::{Direction, DropReason, MeshStats};
pub use crate::proto::sync::{Refusal as SyncRefusal, SyncStats};
pub use crate::wire::Value;
pub use chord::{ChordTable, PendingGet};
pub use chord_config::ChordTableConfig;
pub use config::MeshNodeConfig;
pub use error::{Error, Result};
pub use event::NodeEvent;
pub use message::Message;
pub use node::{MeshNode, SendMode};
pub use packet::IntoPacket;
pub use stats::{NodeStats, PeerInfo};
pub use sync::SyncTable;
pub use sync_config::SyncTableConfig;
pub use sync_event::{SyncEntry, SyncEvent};
