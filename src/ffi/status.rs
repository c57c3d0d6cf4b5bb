//! Status codes returned by every fallible rs2p function, their static descriptions
//! (`rs2p_status_str`) and the mapping from wire-layer errors. Not here: the per-call detail
//! message (see [`super::error`]).
//!
//! The numbers are part of the ABI: a number, once published, keeps its meaning for ever and
//! is never reused for something else. New codes take new numbers.

use crate::wire::WireError;
use std::ffi::{c_char, CStr};

/// Result of an rs2p call: `RS2P_OK` (0) on success, one of the `RS2P_ERR_*` codes otherwise.
/// `rs2p_status_str` names a code; `rs2p_last_error` gives the detail of the last failure.
#[allow(non_camel_case_types)]
pub type rs2p_status = i32;

/// Success.
pub const RS2P_OK: rs2p_status = 0;
/// A required pointer argument was NULL (or a NULL buffer came with a non-zero length).
pub const RS2P_ERR_NULL_ARGUMENT: rs2p_status = 1;
/// An argument has a value outside its documented range.
pub const RS2P_ERR_INVALID_ARGUMENT: rs2p_status = 2;
/// The output buffer is too small; the length out-parameter holds the size needed.
pub const RS2P_ERR_BUFFER_TOO_SMALL: rs2p_status = 3;
/// rs2p hit an internal bug (a Rust panic) and stopped the call safely. Please report it.
pub const RS2P_ERR_PANIC: rs2p_status = 4;
/// A C string argument is not valid UTF-8.
pub const RS2P_ERR_INVALID_UTF8_ARGUMENT: rs2p_status = 5;
/// A frame's length prefix is above the frame size limit.
pub const RS2P_ERR_FRAME_TOO_LARGE: rs2p_status = 10;
/// A compressed frame body expands beyond the decompressed size limit.
pub const RS2P_ERR_DECOMPRESSED_TOO_LARGE: rs2p_status = 11;
/// A frame body is not a valid zlib or gzip stream.
pub const RS2P_ERR_BAD_COMPRESSION: rs2p_status = 12;
/// The input ended before the frame or value was complete; supply more bytes.
pub const RS2P_ERR_TRUNCATED: rs2p_status = 13;
/// Unexpected bytes follow a complete msgpack value.
pub const RS2P_ERR_TRAILING_BYTES: rs2p_status = 14;
/// A frame's SHA-256 checksum does not match its contents.
pub const RS2P_ERR_BAD_CHECKSUM: rs2p_status = 15;
/// A msgpack str inside the data is not valid UTF-8.
pub const RS2P_ERR_INVALID_UTF8: rs2p_status = 16;
/// msgpack arrays and maps are nested deeper than the depth limit.
pub const RS2P_ERR_TOO_DEEP: rs2p_status = 17;
/// A msgpack type that the protocol does not use (ext types, the reserved byte 0xc1).
pub const RS2P_ERR_UNSUPPORTED_MSGPACK: rs2p_status = 18;
/// A msgpack map has the same key twice.
pub const RS2P_ERR_DUPLICATE_MAP_KEY: rs2p_status = 19;
/// A declared msgpack length is larger than the remaining input.
pub const RS2P_ERR_LENGTH_OVERFLOW: rs2p_status = 20;
/// The msgpack is not a message `[msg_type, sender, time, payload...]`.
pub const RS2P_ERR_BAD_MESSAGE_SHAPE: rs2p_status = 21;
/// A string is not a base58 integer (Bitcoin alphabet).
pub const RS2P_ERR_BAD_BASE58: rs2p_status = 22;
/// A compression code rs2p does not implement (it implements 0x11 gzip and 0x13 zlib).
pub const RS2P_ERR_UNKNOWN_COMPRESSION: rs2p_status = 23;
/// An operating-system error (a socket, a thread, a failed dial); the detail says which.
pub const RS2P_ERR_IO: rs2p_status = 30;
/// The address to listen on is already taken by another socket.
pub const RS2P_ERR_ADDR_IN_USE: rs2p_status = 31;
/// The node is closed; create a new one.
pub const RS2P_ERR_CLOSED: rs2p_status = 32;
/// The node is pushing back (its write buffers are full) and the call was asked not to wait.
pub const RS2P_ERR_WOULD_BLOCK: rs2p_status = 33;
/// The call did not complete, or nothing arrived, within its timeout.
pub const RS2P_ERR_TIMEOUT: rs2p_status = 34;
/// No connected (handshaken) peer has that ID.
pub const RS2P_ERR_UNKNOWN_PEER: rs2p_status = 35;
/// A feature this build does not offer (for example "SSL" encryption).
pub const RS2P_ERR_UNSUPPORTED: rs2p_status = 36;
/// A packet asked for as bytes is another msgpack type (read it with the msgpack accessor).
pub const RS2P_ERR_NOT_BYTES: rs2p_status = 37;
/// msgpack bytes passed in by the caller do not decode, or are not one array.
pub const RS2P_ERR_INVALID_MSGPACK_ARGUMENT: rs2p_status = 38;
/// A sync-table write was refused: another node holds the key's lease (nothing was sent;
/// rs2p_last_error names the owner).
pub const RS2P_ERR_LEASED: rs2p_status = 39;
/// The sync table has no such key.
pub const RS2P_ERR_NOT_FOUND: rs2p_status = 40;
/// A chord read found no value held by three of the key's five positions.
pub const RS2P_ERR_NO_MAJORITY: rs2p_status = 41;
// Numbers 42 to 59 are reserved for the sync and chord objects; 6-9 and 24-29 are free for
// later codec and argument errors.

/// The status code for a wire-layer error. One code per `WireError` variant.
pub fn status_of_wire_error(error: &WireError) -> rs2p_status {
    match error {
        WireError::FrameTooLarge { .. } => RS2P_ERR_FRAME_TOO_LARGE,
        WireError::DecompressedTooLarge { .. } => RS2P_ERR_DECOMPRESSED_TOO_LARGE,
        WireError::BadCompression(_) => RS2P_ERR_BAD_COMPRESSION,
        WireError::Truncated => RS2P_ERR_TRUNCATED,
        WireError::TrailingBytes { .. } => RS2P_ERR_TRAILING_BYTES,
        WireError::BadChecksum => RS2P_ERR_BAD_CHECKSUM,
        WireError::InvalidUtf8 => RS2P_ERR_INVALID_UTF8,
        WireError::TooDeep { .. } => RS2P_ERR_TOO_DEEP,
        WireError::UnsupportedMsgpack { .. } => RS2P_ERR_UNSUPPORTED_MSGPACK,
        WireError::DuplicateMapKey => RS2P_ERR_DUPLICATE_MAP_KEY,
        WireError::LengthOverflow => RS2P_ERR_LENGTH_OVERFLOW,
        WireError::BadMessageShape(_) => RS2P_ERR_BAD_MESSAGE_SHAPE,
        WireError::BadBase58 => RS2P_ERR_BAD_BASE58,
        WireError::UnknownCompression(_) => RS2P_ERR_UNKNOWN_COMPRESSION,
    }
}

/// The status code for an error of the safe Rust API.
pub fn status_of_api_error(error: &crate::api::Error) -> rs2p_status {
    use crate::api::Error;
    match error {
        Error::Io(_) | Error::ConnectFailed { .. } => RS2P_ERR_IO,
        Error::AddrInUse { .. } => RS2P_ERR_ADDR_IN_USE,
        Error::Closed => RS2P_ERR_CLOSED,
        Error::WouldBlock => RS2P_ERR_WOULD_BLOCK,
        Error::Timeout => RS2P_ERR_TIMEOUT,
        Error::UnknownPeer { .. } => RS2P_ERR_UNKNOWN_PEER,
        Error::InvalidArgument(_) => RS2P_ERR_INVALID_ARGUMENT,
        Error::Leased { .. } => RS2P_ERR_LEASED,
        Error::NoMajority { .. } => RS2P_ERR_NO_MAJORITY,
        Error::Unsupported(_) => RS2P_ERR_UNSUPPORTED,
    }
}

/// A short static description of `status`, or of an unknown code.
pub fn describe(status: rs2p_status) -> &'static CStr {
    match status {
        RS2P_OK => c"ok",
        RS2P_ERR_NULL_ARGUMENT => c"a required pointer argument is NULL",
        RS2P_ERR_INVALID_ARGUMENT => c"an argument is out of its documented range",
        RS2P_ERR_BUFFER_TOO_SMALL => {
            c"output buffer too small (the length out-parameter holds the size needed)"
        }
        RS2P_ERR_PANIC => {
            c"internal error in rs2p (a bug; please report it with rs2p_last_error())"
        }
        RS2P_ERR_INVALID_UTF8_ARGUMENT => c"a string argument is not valid UTF-8",
        RS2P_ERR_FRAME_TOO_LARGE => c"frame larger than the frame size limit",
        RS2P_ERR_DECOMPRESSED_TOO_LARGE => c"compressed frame expands beyond the size limit",
        RS2P_ERR_BAD_COMPRESSION => c"frame body is not a valid compressed stream",
        RS2P_ERR_TRUNCATED => c"input ended before the frame was complete",
        RS2P_ERR_TRAILING_BYTES => c"unexpected bytes after a complete msgpack value",
        RS2P_ERR_BAD_CHECKSUM => c"frame checksum does not match its contents",
        RS2P_ERR_INVALID_UTF8 => c"msgpack str is not valid UTF-8",
        RS2P_ERR_TOO_DEEP => c"msgpack nested too deeply",
        RS2P_ERR_UNSUPPORTED_MSGPACK => c"msgpack type not used by the protocol",
        RS2P_ERR_DUPLICATE_MAP_KEY => c"msgpack map has a duplicate key",
        RS2P_ERR_LENGTH_OVERFLOW => c"declared msgpack length exceeds the input",
        RS2P_ERR_BAD_MESSAGE_SHAPE => {
            c"msgpack is not a [msg_type, sender, time, payload...] message"
        }
        RS2P_ERR_BAD_BASE58 => c"not a base58 integer",
        RS2P_ERR_UNKNOWN_COMPRESSION => {
            c"compression method not supported (use 0, 0x11 gzip or 0x13 zlib)"
        }
        RS2P_ERR_IO => c"operating-system error (socket, thread or dial)",
        RS2P_ERR_ADDR_IN_USE => c"address already in use (pick another port, or port 0)",
        RS2P_ERR_CLOSED => c"the node is closed",
        RS2P_ERR_WOULD_BLOCK => c"the node is pushing back; retry later or wait",
        RS2P_ERR_TIMEOUT => c"timed out",
        RS2P_ERR_UNKNOWN_PEER => c"no connected peer has that ID",
        RS2P_ERR_UNSUPPORTED => c"feature not supported by this build",
        RS2P_ERR_NOT_BYTES => c"packet is not a byte string (bin or str)",
        RS2P_ERR_INVALID_MSGPACK_ARGUMENT => c"msgpack argument does not decode to an array",
        RS2P_ERR_LEASED => c"another node holds the key's lease; the write was refused",
        RS2P_ERR_NOT_FOUND => c"no such key",
        RS2P_ERR_NO_MAJORITY => c"no value is held by a majority of the key's positions",
        _ => c"unknown rs2p status code",
    }
}

/// A static, NUL-terminated English description of `status` (never NULL; unknown codes get
/// a generic text). The string lives for the whole life of the program; do not free it.
#[no_mangle]
pub extern "C" fn rs2p_status_str(status: rs2p_status) -> *const c_char {
    let fallback = c"unknown rs2p status code".as_ptr();
    super::boundary::run_value("rs2p_status_str", fallback, || describe(status).as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wire_error_has_its_published_number() {
        let cases = [
            (WireError::FrameTooLarge { len: 1, max: 0 }, 10),
            (WireError::DecompressedTooLarge { max: 0 }, 11),
            (WireError::BadCompression("x"), 12),
            (WireError::Truncated, 13),
            (WireError::TrailingBytes { extra: 1 }, 14),
            (WireError::BadChecksum, 15),
            (WireError::InvalidUtf8, 16),
            (WireError::TooDeep { max: 1 }, 17),
            (WireError::UnsupportedMsgpack { byte: 0xc1 }, 18),
            (WireError::DuplicateMapKey, 19),
            (WireError::LengthOverflow, 20),
            (WireError::BadMessageShape("x"), 21),
            (WireError::BadBase58, 22),
            (WireError::UnknownCompression(0x10), 23),
        ];
        for (error, number) in cases {
            assert_eq!(status_of_wire_error(&error), number, "{error:?}");
        }
    }

    #[test]
    fn every_api_error_has_its_published_number() {
        use crate::api::Error;
        let io = || std::io::Error::other("x");
        let cases = [
            (Error::Io(io()), 30),
            (
                Error::ConnectFailed {
                    addr: "a".into(),
                    source: io(),
                },
                30,
            ),
            (Error::AddrInUse { addr: "a".into() }, 31),
            (Error::Closed, 32),
            (Error::WouldBlock, 33),
            (Error::Timeout, 34),
            (Error::UnknownPeer { peer: "p".into() }, 35),
            (Error::Unsupported("SSL".into()), 36),
            (Error::InvalidArgument("x".into()), 2),
            (
                Error::Leased {
                    key: "k".into(),
                    owner: "o".into(),
                    since: 0,
                },
                39,
            ),
            (Error::NoMajority { key: "k".into() }, 41),
        ];
        for (error, number) in cases {
            assert_eq!(status_of_api_error(&error), number, "{error:?}");
        }
        assert_eq!(
            (RS2P_ERR_NOT_BYTES, RS2P_ERR_INVALID_MSGPACK_ARGUMENT),
            (37, 38)
        );
        assert_eq!((RS2P_ERR_LEASED, RS2P_ERR_NOT_FOUND), (39, 40));
    }

    #[test]
    fn every_known_status_has_its_own_description() {
        let unknown = describe(9999);
        let known: Vec<rs2p_status> = (0..=5).chain(10..=23).chain(30..=41).collect();
        let texts: std::collections::HashSet<&CStr> = known.iter().map(|&s| describe(s)).collect();
        assert_eq!(texts.len(), known.len(), "two codes share a description");
        assert!(!texts.contains(unknown));
        for reserved in (6..=9).chain(24..=29).chain(42..=59) {
            assert_eq!(
                describe(reserved),
                unknown,
                "code {reserved} is not assigned yet"
            );
        }
    }
}
