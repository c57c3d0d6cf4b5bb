//! Frames: `u32 length ‖ maybe_compress(sha256(packed) ‖ packed)` where `packed` is the msgpack
//! array `[msg_type, sender, time, payload...]`. Splitting a byte stream into bodies, checking
//! checksums, packing and unpacking messages. Not here: what a message means.
//!
//! TODO(wire helper): implement.

use super::compression::Method;
use super::{Limits, Value, WireError};

/// SHA-256 digest of `packed`: the message ID and the frame checksum.
pub type MessageId = [u8; 32];

/// A decoded message: `[msg_type, sender, time, payload...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub msg_type: u8,
    /// The sender field as bytes (base58 text), whether it came as bin or str.
    pub sender: Vec<u8>,
    /// Seconds since the Unix epoch, by the sender's clock.
    pub time: i64,
    /// Sub-flag first, then the packets.
    pub payload: Vec<Value>,
    pub id: MessageId,
}

/// SHA-256 of `packed`.
pub fn message_id(packed: &[u8]) -> MessageId {
    let _ = packed;
    todo!()
}

/// msgpack of `[msg_type, sender (bin), time, payload...]`.
pub fn pack(msg_type: u8, sender: &[u8], time: i64, payload: &[Value]) -> Vec<u8> {
    let _ = (msg_type, sender, time, payload);
    todo!()
}

/// Appends one whole frame (length prefix and body) for `packed`, whose ID is `id`,
/// uncompressed or compressed with `method`.
pub fn write_frame(id: &MessageId, packed: &[u8], method: Option<Method>, out: &mut Vec<u8>) {
    let _ = (id, packed, method, out);
    todo!()
}

/// Like [`write_frame`] with a method, but the whole frame's length is a multiple of `align`
/// (see [`super::compression::compress_aligned`]).
pub fn write_frame_aligned(
    id: &MessageId,
    packed: &[u8],
    method: Method,
    align: usize,
    out: &mut Vec<u8>,
) {
    let _ = (id, packed, method, align, out);
    todo!()
}

/// Checks a body and returns `(packed, id)`: the raw body if its first 32 bytes are SHA-256 of
/// the rest, else the decompressed body (zlib or gzip, bounded by `limits`) if that matches.
pub fn open_body(body: &[u8], limits: &Limits) -> Result<(Vec<u8>, MessageId), WireError> {
    let _ = (body, limits);
    todo!()
}

/// Unpacks checked `packed` bytes into a [`Message`]: an array of at least three items, a
/// msg_type integer 0..=255, a sender bin or str, an integer time.
pub fn unpack(packed: &[u8], id: MessageId, limits: &Limits) -> Result<Message, WireError> {
    let _ = (packed, id, limits);
    todo!()
}

/// [`open_body`] then [`unpack`]; also returns the packed bytes for relaying.
pub fn decode_body(body: &[u8], limits: &Limits) -> Result<(Message, Vec<u8>), WireError> {
    let (packed, id) = open_body(body, limits)?;
    let msg = unpack(&packed, id, limits)?;
    Ok((msg, packed))
}

/// Splits a byte stream into frame bodies, accepting any split of the input. A length prefix
/// above `limits.max_frame_len` is an error as soon as its four bytes arrive, before buffering.
#[derive(Debug)]
pub struct FrameSplitter {
    limits: Limits,
    buf: Vec<u8>,
}

impl FrameSplitter {
    pub fn new(limits: Limits) -> Self {
        FrameSplitter {
            limits,
            buf: Vec::new(),
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete body, `Ok(None)` when more bytes are needed.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        todo!()
    }

    /// True when part of a frame is buffered (a length prefix or an incomplete body).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}
