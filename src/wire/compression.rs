//! Compression containers of the protocol: zlib (RFC 1950, code 0x13) and gzip (RFC 1952,
//! code 0x11) on miniz_oxide's raw deflate, with bounded incremental decompression, the
//! aligned padding used towards py2p, and the choice of a sender's method from two advertised
//! lists. Not here: bz2, lzma, snappy (never advertised by rs2p, so never sent to it by a
//! conforming peer).
//!
//! The container headers and trailers (Adler-32, CRC-32, ISIZE) are written and checked here;
//! miniz_oxide only sees raw deflate. Compressor state (~300 KiB) is kept per thread and reset
//! between frames instead of being allocated per frame.

use super::WireError;
use miniz_oxide::deflate::core::{
    compress as deflate, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};
use miniz_oxide::inflate::core::{decompress as inflate, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use std::cell::RefCell;

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
        match code {
            0x11 => Some(Method::Gzip),
            0x13 => Some(Method::Zlib),
            _ => None,
        }
    }
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u8> for Method {
    type Error = WireError;
    /// The method for a code, or [`WireError::UnknownCompression`] for codes rs2p does not
    /// implement (bz2, lzma, snappy and unassigned ones).
    fn try_from(code: u8) -> Result<Method, WireError> {
        Method::from_code(code).ok_or(WireError::UnknownCompression(code))
    }
}

/// Deflate level: zlib's default (6), as py2p's `zlib.compress` uses.
const LEVEL: i32 = 6;

/// Two bytes of a zlib header: deflate, 32 KiB window, default level, no dictionary.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x9c];
/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (255).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty non-final stored block, written on a byte boundary.
const EMPTY_STORED_BLOCK: [u8; 5] = [0x00, 0x00, 0x00, 0xff, 0xff];
/// An empty final stored block, written on a byte boundary.
const EMPTY_FINAL_STORED_BLOCK: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];

/// `data` compressed in the method's container.
pub fn compress(method: Method, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    compress_parts_into(method, &[data], None, &mut out);
    out
}

/// Like [`compress`], but pads the container with empty stored deflate blocks so that
/// `(4 + output.len()) % align == 0` (align ≤ 8 and a power of two): the whole frame then has a
/// length that is a multiple of `align`. Used towards py2p peers (see `docs/protocol.md`).
pub fn compress_aligned(method: Method, data: &[u8], align: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    compress_parts_into(method, &[data], Some(align), &mut out);
    out
}

/// Appends the container of the concatenation of `parts` to `out`. With `align`, pads it with
/// empty stored blocks so that `(4 + container length) % align == 0`, counting from the
/// position of `out` at entry. `align` values outside 1..=8 are treated as 1 (no padding).
pub fn compress_parts_into(
    method: Method,
    parts: &[&[u8]],
    align: Option<usize>,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    match method {
        Method::Zlib => out.extend_from_slice(&ZLIB_HEADER),
        Method::Gzip => out.extend_from_slice(&GZIP_HEADER),
    }
    let trailer_len = match method {
        Method::Zlib => 4,
        Method::Gzip => 8,
    };
    match align {
        Some(align) if (2..=8).contains(&align) => {
            deflate_parts(parts, TDEFLFlush::Sync, out);
            let unpadded = 4 + (out.len() - start) + EMPTY_FINAL_STORED_BLOCK.len() + trailer_len;
            // 5 is invertible modulo every align ≤ 8 that is coprime with 5, so some k < align
            // makes the total a multiple of align.
            let k = (0..align)
                .find(|k| (unpadded + 5 * k) % align == 0)
                .unwrap_or(0);
            for _ in 0..k {
                out.extend_from_slice(&EMPTY_STORED_BLOCK);
            }
            out.extend_from_slice(&EMPTY_FINAL_STORED_BLOCK);
        }
        _ => deflate_parts(parts, TDEFLFlush::Finish, out),
    }
    match method {
        Method::Zlib => {
            let adler = parts.iter().fold(1u32, |a, p| adler32(a, p));
            out.extend_from_slice(&adler.to_be_bytes());
        }
        Method::Gzip => {
            let crc = parts.iter().fold(0u32, |c, p| crc32(c, p));
            let size: usize = parts.iter().map(|p| p.len()).sum();
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(size as u32).to_le_bytes());
        }
    }
}

thread_local! {
    static COMPRESSOR: RefCell<Option<Box<CompressorOxide>>> = const { RefCell::new(None) };
}

/// Raw deflate of the concatenated `parts`, ending with `flush` (Finish: final block;
/// Sync: non-final, byte-aligned), appended to `out`.
fn deflate_parts(parts: &[&[u8]], flush: TDEFLFlush, out: &mut Vec<u8>) {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = slot.get_or_insert_with(|| {
            Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                LEVEL, -15, 0,
            )))
        });
        compressor.reset();
        let count = parts.len();
        for (i, part) in parts.iter().enumerate() {
            let step_flush = if i + 1 == count {
                flush
            } else {
                TDEFLFlush::None
            };
            deflate_one(compressor, part, step_flush, out);
        }
        if count == 0 {
            deflate_one(compressor, &[], flush, out);
        }
    })
}

fn deflate_one(c: &mut CompressorOxide, mut input: &[u8], flush: TDEFLFlush, out: &mut Vec<u8>) {
    loop {
        let start = out.len();
        let room = (input.len() / 2).max(256);
        out.resize(start + room, 0);
        let (status, consumed, written) = deflate(c, input, &mut out[start..], flush);
        out.truncate(start + written);
        input = &input[consumed.min(input.len())..];
        match status {
            TDEFLStatus::Done => return,
            TDEFLStatus::Okay => {
                // Done with this part when input is used up and the output buffer was not full
                // (so nothing is pending for the requested flush).
                if input.is_empty() && written < room {
                    return;
                }
            }
            // Bad parameters or callback failure cannot happen with a slice output.
            TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed => return,
        }
    }
}

/// Decompresses a zlib or gzip container (detected from its header, as py2p does), stopping
/// with [`WireError::DecompressedTooLarge`] once the output would exceed `max_out` bytes.
pub fn decompress(data: &[u8], max_out: usize) -> Result<Vec<u8>, WireError> {
    match detect(data) {
        Some(Method::Zlib) => {
            let deflate_start = 2;
            let (out, used) = inflate_bounded(&data[deflate_start..], max_out)?;
            let trailer = &data[deflate_start + used..];
            if trailer.len() < 4 {
                return Err(WireError::BadCompression(
                    "zlib stream ends before its checksum",
                ));
            }
            if trailer[..4] != adler32(1, &out).to_be_bytes() {
                return Err(WireError::BadCompression("zlib Adler-32 checksum mismatch"));
            }
            if trailer.len() > 4 {
                return Err(WireError::BadCompression(
                    "data after the end of the zlib stream",
                ));
            }
            Ok(out)
        }
        Some(Method::Gzip) => {
            let deflate_start = gzip_header_len(data)?;
            let (out, used) = inflate_bounded(&data[deflate_start..], max_out)?;
            let trailer = &data[deflate_start + used..];
            if trailer.len() < 8 {
                return Err(WireError::BadCompression(
                    "gzip stream ends before its trailer",
                ));
            }
            if trailer[..4] != crc32(0, &out).to_le_bytes() {
                return Err(WireError::BadCompression("gzip CRC-32 mismatch"));
            }
            if trailer[4..8] != (out.len() as u32).to_le_bytes() {
                return Err(WireError::BadCompression("gzip length mismatch"));
            }
            if trailer.len() > 8 {
                return Err(WireError::BadCompression(
                    "data after the end of the gzip stream",
                ));
            }
            Ok(out)
        }
        None => Err(WireError::BadCompression(
            "neither a zlib nor a gzip header",
        )),
    }
}

/// The container whose header `data` starts with, if any.
pub fn detect(data: &[u8]) -> Option<Method> {
    match data {
        [0x1f, 0x8b, 0x08, ..] => Some(Method::Gzip),
        [cmf, flg, ..]
            if cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0 =>
        {
            Some(Method::Zlib)
        }
        _ => None,
    }
}

/// Length of the gzip header at the start of `data` (optional fields included).
fn gzip_header_len(data: &[u8]) -> Result<usize, WireError> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let short = WireError::BadCompression("gzip header is cut short");
    if data.len() < 10 {
        return Err(short);
    }
    let flags = data[3];
    if flags & 0xe0 != 0 {
        return Err(WireError::BadCompression(
            "gzip header has reserved flags set",
        ));
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let len_bytes = data.get(pos..pos + 2).ok_or(short.clone())?;
        pos += 2 + usize::from(u16::from_le_bytes([len_bytes[0], len_bytes[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = data.get(pos..).ok_or(short.clone())?;
            let nul = rest.iter().position(|&b| b == 0).ok_or(short.clone())?;
            pos += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    if pos > data.len() {
        return Err(short);
    }
    Ok(pos)
}

/// Inflates the raw deflate stream at the start of `input` into at most `max_out` bytes.
/// Returns the output and the number of input bytes the stream used.
fn inflate_bounded(input: &[u8], max_out: usize) -> Result<(Vec<u8>, usize), WireError> {
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut decompressor = Box::<DecompressorOxide>::default();
    let mut out = vec![0u8; input.len().saturating_mul(4).max(64).min(max_out)];
    let mut out_pos = 0;
    let mut in_pos = 0;
    loop {
        let (status, consumed, written) = inflate(
            &mut decompressor,
            &input[in_pos..],
            &mut out,
            out_pos,
            flags,
        );
        in_pos += consumed;
        out_pos += written;
        match status {
            TINFLStatus::Done => {
                if out_pos > max_out {
                    return Err(WireError::DecompressedTooLarge { max: max_out });
                }
                out.truncate(out_pos);
                return Ok((out, in_pos));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= max_out {
                    return Err(WireError::DecompressedTooLarge { max: max_out });
                }
                let new_len = out.len().saturating_mul(2).min(max_out);
                out.resize(new_len, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(WireError::BadCompression("deflate stream is cut short"))
            }
            _ => return Err(WireError::BadCompression("invalid deflate data")),
        }
    }
}

/// The method a sender uses: the first of `ours` (our advertised order) that `theirs`
/// (the peer's advertised codes) also lists and that we implement.
pub fn choose(ours: &[Method], theirs: &[u8]) -> Option<Method> {
    ours.iter().copied().find(|m| theirs.contains(&m.code()))
}

/// Adler-32 (RFC 1950) continued from `adler` (start with 1).
pub fn adler32(adler: u32, data: &[u8]) -> u32 {
    miniz_oxide::mz_adler32_oxide(adler, data)
}

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE, as gzip uses) continued from `crc` (start with 0).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = CRC32_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..5000u32).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn crc32_known_value() {
        assert_eq!(crc32(0, b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(crc32(0, b"1234"), b"56789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trips_both_containers() {
        for method in [Method::Zlib, Method::Gzip] {
            for data in [Vec::new(), b"hello".to_vec(), sample()] {
                let packed = compress(method, &data);
                assert_eq!(detect(&packed), Some(method));
                assert_eq!(decompress(&packed, 1 << 20).unwrap(), data);
            }
        }
    }

    #[test]
    fn aligned_output_decodes_and_is_aligned() {
        for method in [Method::Zlib, Method::Gzip] {
            for len in 0..40 {
                let data: Vec<u8> = sample()[..len * 37].to_vec();
                for align in [1, 2, 4, 8] {
                    let packed = compress_aligned(method, &data, align);
                    assert_eq!((4 + packed.len()) % align, 0, "len {len} align {align}");
                    assert_eq!(decompress(&packed, 1 << 20).unwrap(), data);
                }
            }
        }
    }

    #[test]
    fn output_bound_is_enforced() {
        let zeros = vec![0u8; 1 << 20];
        let packed = compress(Method::Zlib, &zeros);
        assert_eq!(decompress(&packed, 1 << 20).unwrap().len(), 1 << 20);
        assert_eq!(
            decompress(&packed, (1 << 20) - 1),
            Err(WireError::DecompressedTooLarge { max: (1 << 20) - 1 })
        );
    }

    #[test]
    fn corrupt_streams_are_refused() {
        let mut packed = compress(Method::Gzip, &sample());
        let n = packed.len();
        packed[n - 6] ^= 1;
        assert!(matches!(
            decompress(&packed, 1 << 20),
            Err(WireError::BadCompression(_))
        ));
        let packed = compress(Method::Zlib, &sample());
        assert!(matches!(
            decompress(&packed[..packed.len() / 2], 1 << 20),
            Err(WireError::BadCompression(_))
        ));
        assert!(matches!(
            decompress(b"plain", 1 << 20),
            Err(WireError::BadCompression(_))
        ));
        // Valid zlib header followed by an invalid block type (BTYPE = 11).
        assert!(matches!(
            decompress(&[0x78, 0x9c, 0x07, 0, 0, 0, 0, 0], 1 << 20),
            Err(WireError::BadCompression(_))
        ));
    }

    #[test]
    fn choose_follows_our_order() {
        assert_eq!(choose(SUPPORTED, &[0x11, 0x13]), Some(Method::Zlib));
        assert_eq!(choose(SUPPORTED, &[0x20, 0x11]), Some(Method::Gzip));
        assert_eq!(choose(SUPPORTED, &[0x10, 0x12]), None);
        assert_eq!(Method::from_code(0x13), Some(Method::Zlib));
        assert_eq!(Method::from_code(0x10), None);
    }
}
