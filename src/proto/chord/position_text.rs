//! base58 text of chord positions (at most 512 bits) without heap work: the same text and the
//! same integers as [`crate::wire::base58`], on fixed arrays. Every read writes five positions
//! and decodes about five answers, so this is on the read path. Not here: IDs or any integer
//! above 2^512 (`decode` refuses those; use `crate::wire::base58`).

use super::ring::POSITION_BYTES;
use crate::wire::base58::{ALPHABET, DIGIT_OF};

/// 58^5 (< 2^30): one division by it yields five digits, and `rem << 32 | word` fits a u64.
const BASE58_5: u64 = 656_356_768;
const WORDS: usize = POSITION_BYTES / 4;
/// Digits of the largest position: 58^88 > 2^512.
pub const MAX_DIGITS: usize = 88;

/// The base58 text of the big-endian integer `be` (at most 64 bytes, leading zeros allowed),
/// appended to `out`; zero is `"1"`.
pub fn encode_into(be: &[u8], out: &mut Vec<u8>) {
    let be = &be[be.len().saturating_sub(POSITION_BYTES)..];
    // Big-endian u32 words, right-aligned.
    let mut words = [0u32; WORDS];
    let mut padded = [0u8; POSITION_BYTES];
    padded[POSITION_BYTES - be.len()..].copy_from_slice(be);
    for (word, bytes) in words.iter_mut().zip(padded.chunks_exact(4)) {
        let mut b = [0u8; 4];
        b.copy_from_slice(bytes);
        *word = u32::from_be_bytes(b);
    }
    let mut start = words.iter().position(|&w| w != 0).unwrap_or(WORDS);
    // Least significant digit first.
    let mut digits = [0u8; MAX_DIGITS + 5];
    let mut count = 0;
    while start < WORDS {
        let mut rem = 0u64;
        for word in &mut words[start..] {
            let cur = (rem << 32) | u64::from(*word);
            *word = (cur / BASE58_5) as u32;
            rem = cur % BASE58_5;
        }
        for _ in 0..5 {
            digits[count] = (rem % 58) as u8;
            rem /= 58;
            count += 1;
        }
        while start < WORDS && words[start] == 0 {
            start += 1;
        }
    }
    while count > 1 && digits[count - 1] == 0 {
        count -= 1;
    }
    let count = count.max(1);
    out.extend(
        digits[..count]
            .iter()
            .rev()
            .map(|&d| ALPHABET[usize::from(d)]),
    );
}

/// The integer written by `text` as 64 big-endian bytes; `None` for empty text, a character
/// outside the alphabet, or a value of 2^512 or more.
pub fn decode(text: &[u8]) -> Option<[u8; POSITION_BYTES]> {
    if text.is_empty() {
        return None;
    }
    // Little-endian u32 limbs; each step multiplies by 58^k and adds k digits.
    let mut limbs = [0u32; WORDS];
    let mut used = 0;
    let first = match text.len() % 5 {
        0 => 5,
        n => n,
    };
    let mut at = 0;
    let mut take = first;
    while at < text.len() {
        let mut chunk = 0u64;
        let mut scale = 1u64;
        for &ch in &text[at..at + take] {
            let digit = DIGIT_OF[usize::from(ch)];
            if digit == 0xff {
                return None;
            }
            chunk = chunk * 58 + u64::from(digit);
            scale *= 58;
        }
        let mut carry = chunk;
        for limb in &mut limbs[..used] {
            let v = u64::from(*limb) * scale + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        while carry > 0 {
            let slot = limbs.get_mut(used)?;
            *slot = carry as u32;
            carry >>= 32;
            used += 1;
        }
        at += take;
        take = 5;
    }
    let mut be = [0u8; POSITION_BYTES];
    for (i, limb) in limbs.iter().enumerate() {
        let end = POSITION_BYTES - 4 * i;
        be[end - 4..end].copy_from_slice(&limb.to_be_bytes());
    }
    Some(be)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::chord::test_draw::Draw;
    use crate::wire::base58;

    fn strip(be: &[u8]) -> &[u8] {
        let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
        &be[first..]
    }

    #[test]
    fn encodes_as_the_wire_codec_at_every_length() {
        let mut draw = Draw(0x2545_f491_4f6c_dd1d);
        for n in 0..=POSITION_BYTES {
            let mut samples = vec![vec![0u8; n], vec![0xff; n]];
            samples.extend((0..20).map(|_| draw.bytes(n)));
            if n > 1 {
                let mut lead = draw.bytes(n);
                lead[0] = 0;
                samples.push(lead);
            }
            for be in samples {
                let mut mine = Vec::new();
                encode_into(&be, &mut mine);
                assert_eq!(mine, base58::encode(&be).into_bytes(), "{be:02x?}");
            }
        }
    }

    #[test]
    fn decodes_as_the_wire_codec() {
        let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
        for n in 0..=POSITION_BYTES {
            for _ in 0..20 {
                let text = base58::encode(&draw.bytes(n));
                let mine = decode(text.as_bytes()).expect("in range");
                assert_eq!(
                    strip(&mine),
                    base58::decode(text.as_bytes()).unwrap().as_slice()
                );
            }
        }
        // Leading "1"s are zero digits; zero itself is "1".
        let padded = format!("111{}", base58::encode(&[7, 8, 9]));
        assert_eq!(strip(&decode(padded.as_bytes()).unwrap()), &[7, 8, 9]);
        assert_eq!(decode(b"1"), Some([0; POSITION_BYTES]));
        assert_eq!(decode(&[b'1'; 500]), Some([0; POSITION_BYTES]));
    }

    #[test]
    fn refuses_what_is_no_position() {
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"abc0"), None, "0 is not base58");
        assert_eq!(decode(b"abcl"), None, "l is not base58");
        // 2^512 - 1 is the largest position; 2^512 is refused.
        let max = base58::encode(&[0xff; POSITION_BYTES]);
        assert_eq!(decode(max.as_bytes()), Some([0xff; POSITION_BYTES]));
        let mut over = vec![1u8];
        over.extend([0u8; POSITION_BYTES]);
        assert_eq!(decode(base58::encode(&over).as_bytes()), None);
        assert_eq!(decode(&[b'z'; MAX_DIGITS + 1]), None);
    }
}
