//! Frames: `u32 length ‖ maybe_compress(sha256(packed) ‖ packed)` where `packed` is the msgpack
//! array `[msg_type, sender, time, payload...]`. Splitting a byte stream into bodies, checking
//! checksums, packing and unpacking messages. Not here: what a message means, and sockets.

use super::compression::{self, Method};
use super::msgpack::{encode_array_header, encode_bin, encode_int, encode_uint, Reader};
use super::{Limits, Value, WireError};
use sha2::{Digest, Sha256};

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
    Sha256::digest(packed).into()
}

/// msgpack of `[msg_type, sender (bin), time, payload...]`.
pub fn pack(msg_type: u8, sender: &[u8], time: i64, payload: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + sender.len() + 16 * payload.len());
    pack_into(msg_type, sender, time, payload, &mut out);
    out
}

/// Like [`pack`], appending to a caller's buffer.
pub fn pack_into(msg_type: u8, sender: &[u8], time: i64, payload: &[Value], out: &mut Vec<u8>) {
    encode_array_header(3 + payload.len(), out);
    encode_uint(u64::from(msg_type), out);
    encode_bin(sender, out);
    encode_int(time, out);
    for item in payload {
        item.encode(out);
    }
}

/// Like [`pack`], but `extra % 8` bytes longer (modulo 8) through wider, still valid msgpack
/// forms of the array header, `msg_type` and sender (non-minimal encodings every msgpack
/// decoder accepts; the checksum and ID cover the bytes as sent). Used to give an uncompressed
/// frame, which cannot be padded otherwise, a chosen length modulo 8 (see `docs/protocol.md`,
/// "Aligned frames"). `extra == 0` gives exactly [`pack`]'s bytes.
pub fn pack_padded(
    msg_type: u8,
    sender: &[u8],
    time: i64,
    payload: &[Value],
    extra: usize,
) -> Vec<u8> {
    let target = extra % 8;
    let count = 3 + payload.len();
    // Bytes each field's forms add over the minimal one.
    let array_forms: &[usize] = if count < 16 { &[0, 2, 4] } else { &[0] };
    let type_forms: &[usize] = if msg_type < 0x80 {
        &[0, 1, 2, 4]
    } else {
        &[0, 1, 3]
    };
    let sender_forms: &[usize] = match sender.len() {
        0..=0xff => &[0, 1],
        0x100..=0xffff => &[0, 2],
        _ => &[0],
    };
    let mut choice = (0, 0, 0);
    'search: for &a in array_forms {
        for &t in type_forms {
            for &s in sender_forms {
                if (a + t + s) % 8 == target {
                    choice = (a, t, s);
                    break 'search;
                }
            }
        }
    }
    let (a, t, s) = choice;
    let mut out = Vec::with_capacity(32 + sender.len() + 16 * payload.len());
    match a {
        0 => encode_array_header(count, &mut out),
        2 => {
            out.push(0xdc);
            out.extend_from_slice(&(count as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdd);
            out.extend_from_slice(&(count as u32).to_be_bytes());
        }
    }
    let type_len = if msg_type < 0x80 { 1 + t } else { 2 + t };
    match type_len {
        1 => out.push(msg_type),
        2 => out.extend_from_slice(&[0xcc, msg_type]),
        3 => out.extend_from_slice(&[0xcd, 0, msg_type]),
        _ => out.extend_from_slice(&[0xce, 0, 0, 0, msg_type]),
    }
    match (sender.len(), s) {
        (0..=0xff, 1) => {
            out.push(0xc5);
            out.extend_from_slice(&(sender.len() as u16).to_be_bytes());
            out.extend_from_slice(sender);
        }
        (0x100..=0xffff, 2) => {
            out.push(0xc6);
            out.extend_from_slice(&(sender.len() as u32).to_be_bytes());
            out.extend_from_slice(sender);
        }
        _ => encode_bin(sender, &mut out),
    }
    encode_int(time, &mut out);
    for item in payload {
        item.encode(&mut out);
    }
    out
}

/// Appends one whole frame (length prefix and body) for `packed`, whose ID is `id`,
/// uncompressed or compressed with `method`.
pub fn write_frame(id: &MessageId, packed: &[u8], method: Option<Method>, out: &mut Vec<u8>) {
    write_frame_inner(id, packed, method, None, out)
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
    write_frame_inner(id, packed, Some(method), Some(align), out)
}

fn write_frame_inner(
    id: &MessageId,
    packed: &[u8],
    method: Option<Method>,
    align: Option<usize>,
    out: &mut Vec<u8>,
) {
    let prefix_at = out.len();
    out.extend_from_slice(&[0; 4]);
    match method {
        None => {
            out.reserve(32 + packed.len());
            out.extend_from_slice(id);
            out.extend_from_slice(packed);
        }
        Some(method) => compression::compress_parts_into(method, &[id, packed], align, out),
    }
    let body_len = (out.len() - prefix_at - 4) as u32;
    out[prefix_at..prefix_at + 4].copy_from_slice(&body_len.to_be_bytes());
}

/// Checks a body and returns `(packed, id)`: the raw body if its first 32 bytes are SHA-256 of
/// the rest, else the decompressed body (zlib or gzip, bounded by `limits`) if that matches.
///
/// A body that is neither checksummed plain data nor a zlib/gzip container is
/// [`WireError::BadChecksum`]; a container whose deflate stream is broken is
/// [`WireError::BadCompression`].
pub fn open_body(body: &[u8], limits: &Limits) -> Result<(Vec<u8>, MessageId), WireError> {
    if let Some(id) = checked_id(body) {
        return Ok((body[32..].to_vec(), id));
    }
    open_compressed(body, limits)
}

/// The compressed half of [`open_body`], for a body whose raw checksum did not match.
fn open_compressed(body: &[u8], limits: &Limits) -> Result<(Vec<u8>, MessageId), WireError> {
    if compression::detect(body).is_none() {
        return Err(WireError::BadChecksum);
    }
    let mut plain = compression::decompress(body, limits.max_decompressed_len)?;
    match checked_id(&plain) {
        Some(id) => {
            plain.drain(..32);
            Ok((plain, id))
        }
        None => Err(WireError::BadChecksum),
    }
}

/// Like [`open_body`], but takes the body by value: an uncompressed body is turned into
/// `packed` in place (no second allocation).
pub fn open_body_owned(
    mut body: Vec<u8>,
    limits: &Limits,
) -> Result<(Vec<u8>, MessageId), WireError> {
    if let Some(id) = checked_id(&body) {
        body.drain(..32);
        return Ok((body, id));
    }
    open_compressed(&body, limits)
}

/// [`open_body_owned`] then [`unpack`]: the cheapest path from a [`FrameSplitter`] body.
pub fn decode_body_owned(body: Vec<u8>, limits: &Limits) -> Result<(Message, Vec<u8>), WireError> {
    let (packed, id) = open_body_owned(body, limits)?;
    let msg = unpack(&packed, id, limits)?;
    Ok((msg, packed))
}

/// The ID if `body` is `sha256(rest) ‖ rest`.
fn checked_id(body: &[u8]) -> Option<MessageId> {
    if body.len() < 32 {
        return None;
    }
    let id = message_id(&body[32..]);
    (body[..32] == id).then_some(id)
}

/// Unpacks checked `packed` bytes into a [`Message`]: an array of at least three items, a
/// msg_type integer 0..=255, a sender bin or str, an integer time.
pub fn unpack(packed: &[u8], id: MessageId, limits: &Limits) -> Result<Message, WireError> {
    let mut reader = Reader::new(packed, limits.max_depth);
    let count = match reader.array_header()? {
        Some(count) if count >= 3 => count,
        Some(_) => return Err(WireError::BadMessageShape("fewer than three items")),
        None => return Err(WireError::BadMessageShape("not a msgpack array")),
    };
    // The top-level array is one level of nesting.
    if limits.max_depth == 0 {
        return Err(WireError::TooDeep { max: 0 });
    }
    let msg_type = match reader.value(1)? {
        Value::UInt(n) if n <= 255 => n as u8,
        _ => {
            return Err(WireError::BadMessageShape(
                "msg_type is not an integer from 0 to 255",
            ))
        }
    };
    let sender = match reader.value(1)? {
        Value::Bin(b) => b,
        Value::Str(s) => s.into_bytes(),
        _ => return Err(WireError::BadMessageShape("sender is neither bin nor str")),
    };
    let time = match reader.value(1)?.as_i64() {
        Some(t) => t,
        None => return Err(WireError::BadMessageShape("time is not a 64-bit integer")),
    };
    let mut payload = Vec::with_capacity(count - 3);
    for _ in 3..count {
        payload.push(reader.value(1)?);
    }
    if reader.pos != packed.len() {
        return Err(WireError::TrailingBytes {
            extra: packed.len() - reader.pos,
        });
    }
    Ok(Message {
        msg_type,
        sender,
        time,
        payload,
        id,
    })
}

/// [`open_body`] then [`unpack`]; also returns the packed bytes for relaying.
pub fn decode_body(body: &[u8], limits: &Limits) -> Result<(Message, Vec<u8>), WireError> {
    let (packed, id) = open_body(body, limits)?;
    let msg = unpack(&packed, id, limits)?;
    Ok((msg, packed))
}

/// Consumed bytes are dropped from the front of the buffer only once they are at least this
/// many and at least half the buffer, so compaction costs amortised O(1) per byte.
const COMPACT_MIN: usize = 64 * 1024;

/// Splits a byte stream into frame bodies, accepting any split of the input. A length prefix
/// above `limits.max_frame_len` is an error as soon as its four bytes arrive, before buffering.
#[derive(Debug)]
pub struct FrameSplitter {
    limits: Limits,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    read: usize,
}

impl FrameSplitter {
    pub fn new(limits: Limits) -> Self {
        FrameSplitter {
            limits,
            buf: Vec::new(),
            read: 0,
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.read == self.buf.len() {
            self.buf.clear();
            self.read = 0;
        } else if self.read >= COMPACT_MIN && self.read * 2 >= self.buf.len() {
            self.buf.drain(..self.read);
            self.read = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete body, `Ok(None)` when more bytes are needed.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        let pending = &self.buf[self.read..];
        if pending.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([pending[0], pending[1], pending[2], pending[3]]);
        if len as u64 > self.limits.max_frame_len as u64 {
            return Err(WireError::FrameTooLarge {
                len: u64::from(len),
                max: self.limits.max_frame_len,
            });
        }
        let len = len as usize;
        if pending.len() - 4 < len {
            return Ok(None);
        }
        let body = pending[4..4 + len].to_vec();
        self.read += 4 + len;
        if self.read == self.buf.len() {
            self.buf.clear();
            self.read = 0;
        }
        Ok(Some(body))
    }

    /// True when part of a frame is buffered (a length prefix or an incomplete body).
    pub fn has_partial(&self) -> bool {
        self.buf.len() > self.read
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_frame(method: Option<Method>) -> (Vec<u8>, Vec<u8>) {
        let payload = [Value::UInt(0), Value::from("hello"), Value::UInt(7)];
        let packed = pack(0, b"sender", 1_764_000_000, &payload);
        let mut out = Vec::new();
        write_frame(&message_id(&packed), &packed, method, &mut out);
        (packed, out)
    }

    #[test]
    fn frames_round_trip_in_any_split() {
        for method in [None, Some(Method::Zlib), Some(Method::Gzip)] {
            let (packed, frame) = sample_frame(method);
            let mut stream = Vec::new();
            for _ in 0..3 {
                stream.extend_from_slice(&frame);
            }
            for chunk in 1..=stream.len() {
                let mut splitter = FrameSplitter::new(Limits::DEFAULT);
                let mut got = Vec::new();
                for piece in stream.chunks(chunk) {
                    splitter.push(piece);
                    while let Some(body) = splitter.next_body().unwrap() {
                        let owned = decode_body_owned(body.clone(), &Limits::DEFAULT).unwrap();
                        let borrowed = decode_body(&body, &Limits::DEFAULT).unwrap();
                        assert_eq!(owned, borrowed);
                        got.push(owned);
                    }
                }
                assert_eq!(got.len(), 3);
                assert!(!splitter.has_partial());
                for (msg, p) in got {
                    assert_eq!(p, packed);
                    assert_eq!(msg.sender, b"sender");
                    assert_eq!(msg.time, 1_764_000_000);
                    assert_eq!(msg.payload[1], Value::from("hello"));
                    assert_eq!(msg.id, message_id(&packed));
                }
            }
        }
    }

    #[test]
    fn aligned_frames_have_aligned_length() {
        for n in 0..64usize {
            let payload = [Value::UInt(0), Value::Bin(vec![7; n * 13])];
            let packed = pack(0, b"s", 1, &payload);
            for method in [Method::Zlib, Method::Gzip] {
                let mut out = vec![0xaa; n % 3];
                write_frame_aligned(&message_id(&packed), &packed, method, 8, &mut out);
                let frame = &out[n % 3..];
                assert_eq!(frame.len() % 8, 0);
                let (msg, p) = decode_body(&frame[4..], &Limits::DEFAULT).unwrap();
                assert_eq!(p, packed);
                assert_eq!(msg.payload, payload);
            }
        }
    }

    #[test]
    fn padded_packs_decode_to_the_same_message() {
        let payload = [Value::UInt(5), Value::from("x")];
        for sender_len in [3usize, 300] {
            let sender = vec![b'A'; sender_len];
            for msg_type in [2u8, 200] {
                let minimal = pack(msg_type, &sender, 1_764_000_000, &payload);
                assert_eq!(
                    pack_padded(msg_type, &sender, 1_764_000_000, &payload, 0),
                    minimal
                );
                for extra in 0..8 {
                    let packed = pack_padded(msg_type, &sender, 1_764_000_000, &payload, extra);
                    assert_eq!((packed.len() - minimal.len()) % 8, extra);
                    let msg = unpack(&packed, message_id(&packed), &Limits::DEFAULT).unwrap();
                    assert_eq!(msg.msg_type, msg_type);
                    assert_eq!(msg.sender, sender);
                    assert_eq!(msg.payload, payload);
                }
            }
        }
    }

    #[test]
    fn oversized_prefix_is_refused_before_the_body() {
        let limits = Limits {
            max_frame_len: 100,
            ..Limits::DEFAULT
        };
        let mut splitter = FrameSplitter::new(limits);
        splitter.push(&101u32.to_be_bytes()[..3]);
        assert_eq!(splitter.next_body(), Ok(None));
        splitter.push(&101u32.to_be_bytes()[3..]);
        assert_eq!(
            splitter.next_body(),
            Err(WireError::FrameTooLarge { len: 101, max: 100 })
        );
    }

    #[test]
    fn splitter_compacts_its_buffer() {
        let (_, frame) = sample_frame(None);
        let mut splitter = FrameSplitter::new(Limits::DEFAULT);
        for _ in 0..100_000 {
            splitter.push(&frame[..frame.len() - 1]);
            splitter.push(&frame[frame.len() - 1..]);
            splitter.push(&frame[..2]);
            assert!(splitter.next_body().unwrap().is_some());
            splitter.push(&frame[2..]);
            assert!(splitter.next_body().unwrap().is_some());
        }
        assert_eq!(splitter.buffered(), 0);
        assert!(splitter.buf.capacity() < 4 * COMPACT_MIN);
    }
}
