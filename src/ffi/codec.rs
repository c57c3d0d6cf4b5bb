//! The codec exports: protocol IDs and single frames, encoded and decoded without a network.
//! They let C, Python and Node programs (and tests) produce and check exactly the bytes a node
//! sends. Not here: connections or streams of frames (those belong to the mesh objects).
//!
//! All limits are the protocol defaults (`Limits::DEFAULT`: 16 MiB frames, 16 MiB after
//! decompression, 64 levels of msgpack nesting).

use super::boundary::{input_bytes, input_str, run, Out, OutBuf};
use super::error::{Failure, FfiResult};
use super::status::rs2p_status;
use crate::wire::compression::Method;
use crate::wire::frame::{message_id, open_body, unpack, write_frame, MessageId};
use crate::wire::{ids, Limits, WireError};
use std::ffi::c_char;

/// Size of a message ID (the SHA-256 of the packed message), in bytes.
pub const RS2P_MESSAGE_ID_LEN: usize = 32;

/// Size of a frame's length prefix (a big-endian u32), in bytes.
const LENGTH_PREFIX_LEN: usize = 4;

/// Writes the protocol ID of (`subnet`, `encryption`) — base58 of
/// SHA-256(subnet ‖ encryption ‖ "0.7"), as py2p computes it — into `out` as NUL-terminated
/// text, and its length without the NUL into `*out_len`.
///
/// `subnet` and `encryption` are NUL-terminated UTF-8 (py2p uses "Plaintext" or "SSL" for
/// `encryption`; any text is accepted). `out` has room for `out_cap` bytes; pass NULL and 0 to
/// ask for the size. If the ID and its NUL do not fit, returns RS2P_ERR_BUFFER_TOO_SMALL and
/// sets `*out_len` to the ID's length (so `*out_len + 1` bytes are needed); `out` is untouched.
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_UTF8_ARGUMENT, RS2P_ERR_BUFFER_TOO_SMALL.
///
/// # Safety
/// `subnet` and `encryption` must be NUL-terminated strings; `out` must be writable for
/// `out_cap` bytes; `out_len` must point to a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_protocol_id(
    subnet: *const c_char,
    encryption: *const c_char,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    run("rs2p_protocol_id", || {
        // SAFETY (all four): the pointer contracts documented above, made by the C caller.
        let subnet = unsafe { input_str(subnet, "subnet") }?;
        let encryption = unsafe { input_str(encryption, "encryption") }?;
        let out = unsafe { OutBuf::new(out.cast::<u8>(), out_cap, "out") }?;
        let out_len = unsafe { Out::new(out_len, "out_len") }?;

        let id = ids::protocol_id(subnet, encryption);
        let mut text = id.into_bytes();
        let len = text.len();
        text.push(0);
        if let Err(failure) = out.check_fits(text.len()) {
            out_len.set(len);
            return Err(failure);
        }
        out.write(&text)?;
        out_len.set(len);
        Ok(())
    })
}

/// The compression method for a C code: 0 means none.
fn method_of_code(code: u8) -> FfiResult<Option<Method>> {
    if code == 0 {
        return Ok(None);
    }
    Method::from_code(code)
        .map(Some)
        .ok_or_else(|| Failure::wire(&WireError::UnknownCompression(code)))
}

/// Writes the whole frame — 4-byte big-endian length, then SHA-256(packed) ‖ packed, compressed
/// as asked — for the message `packed`.
///
/// `packed` (`packed_len` bytes) is the msgpack array `[msg_type, sender, time, payload...]`;
/// it is checked first (RS2P_ERR_BAD_MESSAGE_SHAPE and the other msgpack errors) so that no
/// frame a peer would reject is produced. `compression` is 0 (none), 0x11 (gzip) or 0x13
/// (zlib); any other value is RS2P_ERR_UNKNOWN_COMPRESSION. A body above 16 MiB is
/// RS2P_ERR_FRAME_TOO_LARGE. On success `*out_len` is the frame's size. `out` has room for
/// `out_cap` bytes; pass NULL and 0 to ask for the size: RS2P_ERR_BUFFER_TOO_SMALL sets
/// `*out_len` to the size needed and leaves `out` untouched.
///
/// # Safety
/// `packed` must be readable for `packed_len` bytes; `out` must be writable for `out_cap`
/// bytes; `out_len` must point to a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_frame_encode(
    packed: *const u8,
    packed_len: usize,
    compression: u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    run("rs2p_frame_encode", || {
        // SAFETY (all three): the pointer contracts documented above, made by the C caller.
        let packed = unsafe { input_bytes(packed, packed_len, "packed") }?;
        let out = unsafe { OutBuf::new(out, out_cap, "out") }?;
        let out_len = unsafe { Out::new(out_len, "out_len") }?;
        let method = method_of_code(compression)?;

        let limits = Limits::DEFAULT;
        let body_len = RS2P_MESSAGE_ID_LEN.saturating_add(packed.len());
        if body_len > limits.max_frame_len {
            return Err(WireError::FrameTooLarge {
                len: body_len as u64,
                max: limits.max_frame_len,
            }
            .into());
        }
        let id = message_id(packed);
        unpack(packed, id, &limits)?;

        let mut frame = Vec::with_capacity(LENGTH_PREFIX_LEN + body_len);
        write_frame(&id, packed, method, &mut frame);
        let frame_body_len = frame.len().saturating_sub(LENGTH_PREFIX_LEN);
        if frame_body_len > limits.max_frame_len {
            return Err(WireError::FrameTooLarge {
                len: frame_body_len as u64,
                max: limits.max_frame_len,
            }
            .into());
        }
        if let Err(failure) = out.check_fits(frame.len()) {
            out_len.set(frame.len());
            return Err(failure);
        }
        out.write(&frame)?;
        out_len.set(frame.len());
        Ok(())
    })
}

/// The body of the first frame in `input` and the number of bytes that frame spans.
fn first_frame_body<'a>(input: &'a [u8], limits: &Limits) -> FfiResult<(&'a [u8], usize)> {
    let prefix: [u8; LENGTH_PREFIX_LEN] = input
        .get(..LENGTH_PREFIX_LEN)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(WireError::Truncated)?;
    let body_len = u32::from_be_bytes(prefix);
    if u64::from(body_len) > limits.max_frame_len as u64 {
        return Err(WireError::FrameTooLarge {
            len: u64::from(body_len),
            max: limits.max_frame_len,
        }
        .into());
    }
    let frame_len = LENGTH_PREFIX_LEN + body_len as usize;
    match input.get(LENGTH_PREFIX_LEN..frame_len) {
        Some(body) => Ok((body, frame_len)),
        None => Err(WireError::Truncated.into()),
    }
}

/// Decodes the first frame in `frame` (`frame_len` bytes; bytes after that frame are ignored)
/// and checks it the way a node does: size limits, checksum (uncompressed, zlib or gzip body,
/// detected as py2p does) and message shape.
///
/// On success: the packed message (msgpack `[msg_type, sender, time, payload...]`) goes to
/// `packed_out` with its size in `*packed_len`, the 32-byte message ID (SHA-256 of the packed
/// message) to `id_out`, and the number of input bytes the frame used to `*consumed`. Nothing
/// is written on failure, except that RS2P_ERR_BUFFER_TOO_SMALL sets `*packed_len` to the size
/// needed (`packed_out` may be NULL with `packed_cap` 0 to ask for it).
/// Errors: RS2P_ERR_TRUNCATED (incomplete frame: read more and call again),
/// RS2P_ERR_FRAME_TOO_LARGE (length prefix above 16 MiB), RS2P_ERR_DECOMPRESSED_TOO_LARGE,
/// RS2P_ERR_BAD_CHECKSUM, RS2P_ERR_BAD_MESSAGE_SHAPE and the msgpack errors,
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_BUFFER_TOO_SMALL.
///
/// # Safety
/// `frame` must be readable for `frame_len` bytes; `packed_out` must be writable for
/// `packed_cap` bytes; `id_out` must be writable for RS2P_MESSAGE_ID_LEN (32) bytes;
/// `packed_len` and `consumed` must point to writable size_t variables.
#[no_mangle]
pub unsafe extern "C" fn rs2p_frame_decode(
    frame: *const u8,
    frame_len: usize,
    packed_out: *mut u8,
    packed_cap: usize,
    packed_len: *mut usize,
    id_out: *mut u8,
    consumed: *mut usize,
) -> rs2p_status {
    run("rs2p_frame_decode", || {
        // SAFETY (all five): the pointer contracts documented above, made by the C caller;
        // `id_out` must have room for RS2P_MESSAGE_ID_LEN bytes.
        let input = unsafe { input_bytes(frame, frame_len, "frame") }?;
        let packed_out = unsafe { OutBuf::new(packed_out, packed_cap, "packed_out") }?;
        let packed_len = unsafe { Out::new(packed_len, "packed_len") }?;
        let id_out = unsafe { Out::new(id_out.cast::<MessageId>(), "id_out") }?;
        let consumed = unsafe { Out::new(consumed, "consumed") }?;

        let limits = Limits::DEFAULT;
        let (body, frame_size) = first_frame_body(input, &limits)?;
        let (packed, id) = open_body(body, &limits)?;
        unpack(&packed, id, &limits)?;

        if let Err(failure) = packed_out.check_fits(packed.len()) {
            packed_len.set(packed.len());
            return Err(failure);
        }
        packed_out.write(&packed)?;
        packed_len.set(packed.len());
        id_out.set(id);
        consumed.set(frame_size);
        Ok(())
    })
}
