//! The I/O driver: the one place in rs2p that touches sockets and threads.
//!
//! Each node gets one mio event-loop thread ([`event_loop`]) that owns its listener and every
//! connection, feeds bytes into the sans-IO [`crate::proto::mesh::Mesh`] core and writes what
//! it asks for, plus one dispatcher thread ([`dispatch`]) that hands the core's events to user
//! code, so user code never runs on the I/O thread. API threads talk to the I/O thread through
//! [`command`]s over a channel and a waker.
//!
//! Not here: protocol decisions (the core makes them), the public API (`crate::api`).

pub mod clock;
pub mod command;
pub mod dispatch;
pub mod event_loop;
pub mod pacing;
pub mod recv_queue;
pub mod shared;
pub mod write_queue;

mod conn;

pub use command::{Command, CommandSender};
pub use dispatch::{spawn_dispatcher, EventPipe};
pub use event_loop::{spawn_event_loop, DriverConfig};
pub use recv_queue::RecvQueue;
pub use shared::Shared;
