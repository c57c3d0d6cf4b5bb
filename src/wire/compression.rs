//! Compression containers of the protocol: zlib (RFC 1950, code 0x13) and gzip (RFC 1952,
//! code 0x11) on miniz_oxide, with bounded incremental decompression, and the choice of a
//! sender's method from two advertised lists. Not here: bz2, lzma, snappy (never advertised by
//! rs2p, so never sent to it by a conforming peer).
//!
//! TODO(wire helper): implement.

use super::WireError;

/// A compression method rs2p implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Method {
    Gzip = 0x11,
    Zlib = 0x13,
}

/// The methods rs2p advertises, in its order of preference.
pub const SUPPORTED: &[Method] = &[Method::Zlib, Method::Gzip];

impl Method {
    pub fn from_code(code: u8) -> Option<Method> {
        let _ = code;
        todo!()
    }
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// `data` compressed in the method's container.
pub fn compress(method: Method, data: &[u8]) -> Vec<u8> {
    let _ = (method, data);
    todo!()
}

/// Like [`compress`], but pads the container with empty stored deflate blocks so that
/// `(4 + output.len()) % align == 0` (align ≤ 8 and a power of two): the whole frame then has a
/// length that is a multiple of `align`. Used towards py2p peers (see `docs/protocol.md`).
pub fn compress_aligned(method: Method, data: &[u8], align: usize) -> Vec<u8> {
    let _ = (method, data, align);
    todo!()
}

/// Decompresses a zlib or gzip container (detected from its header, as py2p does), stopping
/// with [`WireError::DecompressedTooLarge`] once the output would exceed `max_out` bytes.
pub fn decompress(data: &[u8], max_out: usize) -> Result<Vec<u8>, WireError> {
    let _ = (data, max_out);
    todo!()
}

/// The method a sender uses: the first of `ours` (our advertised order) that `theirs`
/// (the peer's advertised codes) also lists and that we implement.
pub fn choose(ours: &[Method], theirs: &[u8]) -> Option<Method> {
    let _ = (ours, theirs);
    todo!()
}
