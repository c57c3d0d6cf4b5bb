//! What callbacks registered with `MeshNode::on_event` receive. Not the dispatcher.

use super::Message;

/// Something that happened on a node, in the order it happened.
#[derive(Clone, Debug)]
pub enum NodeEvent {
    /// A peer completed its handshake.
    Connected { peer: String },
    /// A handshaken peer went away.
    Disconnected { peer: String },
    /// A message arrived (it is also in the `recv` queue, unless that was full).
    Message(Message),
}
