//! Every `WireError` variant, reached from crafted input through the public wire API — the
//! way bytes from a hostile or broken peer would reach it.

use rs2p::wire::base58;
use rs2p::wire::compression::{self, Method};
use rs2p::wire::frame::{decode_body, message_id, pack, write_frame, FrameSplitter};
use rs2p::wire::{Limits, Value, WireError};

/// A body `sha256(packed) ‖ packed` for arbitrary `packed` bytes, so only the msgpack is wrong.
fn checksummed(packed: &[u8]) -> Vec<u8> {
    let mut body = message_id(packed).to_vec();
    body.extend_from_slice(packed);
    body
}

fn decode(packed: &[u8]) -> Result<(), WireError> {
    decode_body(&checksummed(packed), &Limits::DEFAULT).map(|_| ())
}

/// A zlib stream of `1 + 258 * matches` zero bytes: one literal zero, then `matches` copies of
/// (length 258, distance 1) in a fixed-Huffman block. About 1.6 compressed bytes per 258 out.
fn zero_bomb(matches: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let reversed = (0..len).fold(0, |r, i| r | (((code >> i) & 1) << (len - 1 - i)));
            self.put(reversed, len);
        }
    }
    let mut bits = Bits {
        out: vec![0x78, 0x9c],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..matches {
        bits.code(0xc5, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: distance 1
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.put(0, 8 - bits.n);
    }
    let total = 1 + 258 * matches as u64;
    // Adler-32 of `total` zero bytes: a stays 1, b grows by 1 per byte.
    let adler = (((total % 65521) as u32) << 16) | 1;
    let mut out = bits.out;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

#[test]
fn the_bomb_builder_makes_valid_zlib() {
    let small = zero_bomb(1000);
    assert_eq!(
        compression::decompress(&small, 1 << 20),
        Ok(vec![0u8; 1 + 258 * 1000])
    );
}

#[test]
fn frame_too_large_as_soon_as_the_prefix_arrives() {
    let mut splitter = FrameSplitter::new(Limits::DEFAULT);
    splitter.push(&[0x01, 0x00]);
    assert_eq!(splitter.next_body(), Ok(None));
    splitter.push(&[0x00, 0x01]); // 16 MiB + 1, and no body at all
    assert_eq!(
        splitter.next_body(),
        Err(WireError::FrameTooLarge {
            len: 16 * 1024 * 1024 + 1,
            max: 16 * 1024 * 1024
        })
    );
    assert_eq!(splitter.buffered(), 4);
}

#[test]
fn decompression_bomb_stops_at_the_limit() {
    // ~100 MiB of zeros in ~600 KiB of zlib, sent as a frame body.
    let bomb = zero_bomb(100 * 1024 * 1024 / 258);
    assert!(bomb.len() < 1024 * 1024);
    let mut frame = (bomb.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&bomb);
    let mut splitter = FrameSplitter::new(Limits::DEFAULT);
    splitter.push(&frame);
    let body = splitter.next_body().unwrap().unwrap();
    assert_eq!(
        decode_body(&body, &Limits::DEFAULT),
        Err(WireError::DecompressedTooLarge {
            max: 16 * 1024 * 1024
        })
    );
}

#[test]
fn wrong_checksum() {
    let packed = pack(0, b"me", 1, &[Value::UInt(0)]);
    let mut frame = Vec::new();
    write_frame(&message_id(&packed), &packed, None, &mut frame);
    let last = frame.len() - 1;
    frame[last] ^= 0x01;
    assert_eq!(
        decode_body(&frame[4..], &Limits::DEFAULT),
        Err(WireError::BadChecksum)
    );
    // A valid zlib container whose content does not carry a matching checksum.
    let body = compression::compress(Method::Zlib, &[0u8; 40]);
    assert_eq!(
        decode_body(&body, &Limits::DEFAULT),
        Err(WireError::BadChecksum)
    );
    // Too short to hold a checksum at all.
    assert_eq!(
        decode_body(b"short", &Limits::DEFAULT),
        Err(WireError::BadChecksum)
    );
}

#[test]
fn bad_compression_data() {
    // zlib header, then a block of the reserved type 3.
    assert!(matches!(
        decode_body(
            &[0x78, 0x9c, 0x07, 0x00, 0x00, 0x00, 0x00],
            &Limits::DEFAULT
        ),
        Err(WireError::BadCompression(_))
    ));
    // A gzip container cut in the middle.
    let packed = pack(0, b"me", 1, &[Value::Bin(vec![1; 500])]);
    let mut frame = Vec::new();
    write_frame(
        &message_id(&packed),
        &packed,
        Some(Method::Gzip),
        &mut frame,
    );
    let cut = &frame[4..frame.len() - 10];
    assert!(matches!(
        decode_body(cut, &Limits::DEFAULT),
        Err(WireError::BadCompression(_))
    ));
}

#[test]
fn truncated_msgpack() {
    let packed = pack(0, b"me", 1, &[Value::from("hello")]);
    assert_eq!(
        decode(&packed[..packed.len() - 2]),
        Err(WireError::Truncated)
    );
    assert_eq!(
        Value::decode(&[0xcb, 0x3f, 0xf0], 8),
        Err(WireError::Truncated)
    );
}

#[test]
fn trailing_bytes() {
    let mut packed = pack(0, b"me", 1, &[Value::UInt(0)]);
    packed.extend_from_slice(&[0xc0, 0xc0]);
    assert_eq!(decode(&packed), Err(WireError::TrailingBytes { extra: 2 }));
    assert_eq!(
        Value::decode(&[0xc0, 0xc0], 8),
        Err(WireError::TrailingBytes { extra: 1 })
    );
}

#[test]
fn invalid_utf8_str() {
    // [0, "me", 1, <str of 0xff 0xfe>]
    let packed = [0x94, 0x00, 0xc4, 0x02, b'm', b'e', 0x01, 0xa2, 0xff, 0xfe];
    assert_eq!(decode(&packed), Err(WireError::InvalidUtf8));
}

#[test]
fn nesting_too_deep() {
    // [0, "me", 1, [[[[...nil...]]]]] with 100 levels inside the message.
    let mut packed = vec![0x94, 0x00, 0xc4, 0x02, b'm', b'e', 0x01];
    packed.extend(std::iter::repeat(0x91).take(100));
    packed.push(0xc0);
    assert_eq!(decode(&packed), Err(WireError::TooDeep { max: 64 }));
    let deep = Limits {
        max_depth: 200,
        ..Limits::DEFAULT
    };
    assert!(decode_body(&checksummed(&packed), &deep).is_ok());
}

#[test]
fn ext_types_and_reserved_byte() {
    for ext in [
        vec![0xd4, 0x01, 0x00],
        vec![0xc7, 0x01, 0xff, 0x00],
        vec![0xd6, 0xff, 0, 0, 0, 0], // the timestamp ext py2p would accept
    ] {
        let mut packed = vec![0x94, 0x00, 0xc4, 0x02, b'm', b'e', 0x01];
        packed.extend_from_slice(&ext);
        assert_eq!(
            decode(&packed),
            Err(WireError::UnsupportedMsgpack { byte: ext[0] })
        );
    }
    assert_eq!(
        Value::decode(&[0xc1], 8),
        Err(WireError::UnsupportedMsgpack { byte: 0xc1 })
    );
}

#[test]
fn duplicate_map_key() {
    // [0, "me", 1, {"a": 1, "a": 2}]
    let packed = [
        0x94, 0x00, 0xc4, 0x02, b'm', b'e', 0x01, 0x82, 0xa1, b'a', 0x01, 0xa1, b'a', 0x02,
    ];
    assert_eq!(decode(&packed), Err(WireError::DuplicateMapKey));
}

#[test]
fn declared_length_beyond_the_input() {
    // An array32 claiming 4 billion items in a 12-byte message.
    let packed = [
        0xdd, 0xff, 0xff, 0xff, 0xff, 0x00, 0xc4, 0x02, b'm', b'e', 0x01, 0xc0,
    ];
    assert_eq!(decode(&packed), Err(WireError::LengthOverflow));
    // The same inside the payload, as a map32.
    let packed = [
        0x94, 0x00, 0xc4, 0x02, b'm', b'e', 0x01, 0xdf, 0x7f, 0xff, 0xff, 0xff,
    ];
    assert_eq!(decode(&packed), Err(WireError::LengthOverflow));
}

#[test]
fn bad_message_shape() {
    let shape = |r: Result<(), WireError>| matches!(r, Err(WireError::BadMessageShape(_)));
    assert!(shape(decode(&[0xc0])), "not an array");
    assert!(shape(decode(&[0x81, 0x00, 0x00])), "a map");
    assert!(shape(decode(&[0x92, 0x00, 0xa0])), "two items");
    assert!(shape(decode(&[0x90])), "empty array");
    // msg_type above 255, negative, or a str.
    assert!(shape(decode(&[0x93, 0xcd, 0x01, 0x00, 0xa0, 0x01])));
    assert!(shape(decode(&[0x93, 0xff, 0xa0, 0x01])));
    assert!(shape(decode(&[0x93, 0xa1, b'0', 0xa0, 0x01])));
    // sender an integer.
    assert!(shape(decode(&[0x93, 0x00, 0x05, 0x01])));
    // time a str, a float, or above i64::MAX.
    assert!(shape(decode(&[0x93, 0x00, 0xa0, 0xa1, b'1'])));
    let mut float_time = vec![0x93, 0x00, 0xa0, 0xcb];
    float_time.extend_from_slice(&1.0f64.to_be_bytes());
    assert!(shape(decode(&float_time)));
    let mut huge_time = vec![0x93, 0x00, 0xa0, 0xcf];
    huge_time.extend_from_slice(&u64::MAX.to_be_bytes());
    assert!(shape(decode(&huge_time)));
    // The minimal good shape, with a str sender, passes.
    assert!(decode(&[0x93, 0x00, 0xa1, b'x', 0x01]).is_ok());
}

#[test]
fn bad_base58() {
    assert_eq!(base58::decode(b""), Err(WireError::BadBase58));
    assert_eq!(base58::decode(b"3soAb1XFyvZ0"), Err(WireError::BadBase58));
    assert_eq!(base58::decode(b"I"), Err(WireError::BadBase58));
}

#[test]
fn unknown_compression_code() {
    for code in [0x10u8, 0x12, 0x20, 0x14] {
        assert_eq!(
            Method::try_from(code),
            Err(WireError::UnknownCompression(code))
        );
    }
    assert_eq!(Method::try_from(0x13), Ok(Method::Zlib));
}

#[test]
fn every_error_says_what_to_do() {
    let errors = [
        WireError::FrameTooLarge { len: 1, max: 0 },
        WireError::DecompressedTooLarge { max: 1 },
        WireError::BadCompression("x"),
        WireError::Truncated,
        WireError::TrailingBytes { extra: 1 },
        WireError::BadChecksum,
        WireError::InvalidUtf8,
        WireError::TooDeep { max: 1 },
        WireError::UnsupportedMsgpack { byte: 0xc1 },
        WireError::DuplicateMapKey,
        WireError::LengthOverflow,
        WireError::BadMessageShape("x"),
        WireError::BadBase58,
        WireError::UnknownCompression(0x10),
    ];
    for e in errors {
        assert!(e.to_string().len() > 15, "{e:?}");
    }
}
