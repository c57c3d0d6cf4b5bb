//! A received message, with a way to reply to its sender. Not the wire format of messages.

use super::node::{MeshNode, NodeInner};
use super::packet::{collect_packets, IntoPacket};
use super::{Error, Result};
use crate::proto::mesh::UserMessage;
use crate::wire::Value;
use std::fmt;
use std::sync::Weak;

/// A broadcast or whisper from another node.
#[derive(Clone)]
pub struct Message {
    /// The packets after the sub-flag.
    pub packets: Vec<Value>,
    /// The sender's node ID.
    pub sender: String,
    /// When it was sent, seconds since the Unix epoch by the sender's clock.
    pub time: i64,
    /// The message ID (SHA-256 of its packed form).
    pub id: [u8; 32],
    /// The main flag it came with (`wire::flags::BROADCAST` or `WHISPER`).
    pub msg_type: u8,
    /// Its sub-flag (`wire::flags::sub::BROADCAST` or `WHISPER`).
    pub sub_flag: u8,
    node: Weak<NodeInner>,
}

impl Message {
    pub(crate) fn from_core(message: UserMessage, node: Weak<NodeInner>) -> Self {
        Message {
            packets: message.packets,
            sender: text(message.sender),
            time: message.time,
            id: message.id,
            msg_type: message.msg_type,
            sub_flag: message.sub_flag,
            node,
        }
    }

    /// Sends `packets` back to the sender: a whisper if it is a neighbour, else through the
    /// protocol's request/response flow. `Error::Closed` once the node is closed.
    pub fn reply<P: IntoPacket>(&self, packets: impl IntoIterator<Item = P>) -> Result<()> {
        let inner = self.node.upgrade().ok_or(Error::Closed)?;
        MeshNode::from_inner(inner).reply_to(self.sender.as_bytes(), collect_packets(packets))
    }
}

/// A node ID as text, without copying when it is valid UTF-8 (base58 always is).
pub(crate) fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("packets", &self.packets)
            .field("sender", &self.sender)
            .field("time", &self.time)
            .field("msg_type", &self.msg_type)
            .field("sub_flag", &self.sub_flag)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.packets == other.packets
            && self.sender == other.sender
            && self.time == other.time
            && self.msg_type == other.msg_type
            && self.sub_flag == other.sub_flag
    }
}
