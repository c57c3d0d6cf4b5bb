//! The one error type of the wire layer. Each variant says what was wrong with the input;
//! `Display` gives a sentence a user can act on.

use std::fmt;

/// What was wrong with bytes handed to a wire decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// A frame's length prefix is above the configured maximum.
    FrameTooLarge { len: u64, max: usize },
    /// A compressed body expands beyond the configured maximum.
    DecompressedTooLarge { max: usize },
    /// The body is not valid data for the compression method tried.
    BadCompression(&'static str),
    /// The input ended before the value or frame was complete.
    Truncated,
    /// Bytes are left over after a complete value.
    TrailingBytes { extra: usize },
    /// Neither the raw body nor any decompression of it matches its SHA-256 checksum.
    BadChecksum,
    /// A msgpack str is not valid UTF-8.
    InvalidUtf8,
    /// Arrays and maps are nested deeper than the configured maximum.
    TooDeep { max: usize },
    /// A msgpack byte that this codec does not accept (ext types, the reserved 0xc1, or the
    /// marker of a map used as a map key).
    UnsupportedMsgpack { byte: u8 },
    /// A msgpack map has two equal keys.
    DuplicateMapKey,
    /// A declared container or string length cannot fit in the remaining input.
    LengthOverflow,
    /// The frame's msgpack is not an array of at least three items
    /// `[msg_type, sender, time, ...]`, or one of those has the wrong type.
    BadMessageShape(&'static str),
    /// A string is not a base58 integer in the Bitcoin alphabet.
    BadBase58,
    /// A compression code that this library does not implement.
    UnknownCompression(u8),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::FrameTooLarge { len, max } => write!(
                f,
                "frame of {len} bytes exceeds the limit of {max} bytes (raise max_frame_len if peers legitimately send larger values)"
            ),
            WireError::DecompressedTooLarge { max } => write!(
                f,
                "compressed body expands beyond the limit of {max} bytes (possible decompression bomb)"
            ),
            WireError::BadCompression(what) => write!(f, "body is not a valid compressed stream: {what}"),
            WireError::Truncated => write!(f, "input ended before the value was complete"),
            WireError::TrailingBytes { extra } => {
                write!(f, "{extra} unexpected bytes after the end of the value")
            }
            WireError::BadChecksum => write!(
                f,
                "frame checksum does not match its contents (corrupt stream or unsupported compression)"
            ),
            WireError::InvalidUtf8 => write!(f, "msgpack str is not valid UTF-8"),
            WireError::TooDeep { max } => {
                write!(f, "msgpack nesting deeper than the limit of {max} levels")
            }
            WireError::UnsupportedMsgpack { byte } => {
                write!(f, "msgpack type byte 0x{byte:02x} is not accepted (ext types, 0xc1 and maps as map keys are not part of the protocol)")
            }
            WireError::DuplicateMapKey => write!(f, "msgpack map has a duplicate key"),
            WireError::LengthOverflow => {
                write!(f, "declared length is larger than the remaining input")
            }
            WireError::BadMessageShape(what) => write!(f, "malformed message: {what}"),
            WireError::BadBase58 => write!(f, "not a base58 integer (Bitcoin alphabet)"),
            WireError::UnknownCompression(code) => {
                write!(f, "compression method 0x{code:02x} is not supported")
            }
        }
    }
}

impl std::error::Error for WireError {}
