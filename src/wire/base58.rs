//! base58 (Bitcoin alphabet) text of non-negative big integers, as the protocol writes node
//! IDs, protocol IDs and chord positions: most significant digit first, no padding, zero is
//! `"1"`. Integers are carried as big-endian byte strings of any length (up to 512 bits and
//! beyond). Not here: base58check or leading-zero-byte conventions of other formats (a leading
//! `1` here is just a zero digit, not a zero byte).

use super::WireError;
use std::cmp::Ordering;

pub(crate) const ALPHABET: &[u8; 58] =
    b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Digit value of each byte, 0xff for bytes outside the alphabet.
pub(crate) const DIGIT_OF: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 58 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// 58^5: limbs of the text side fit a u32, and `limb * 2^24 + carry` fits a u64.
const BASE58_5: u64 = 656_356_768;
const DIGITS_PER_LIMB: usize = 5;
/// Input bytes folded into the limbs at once when encoding.
const BYTES_PER_STEP: usize = 3;

/// base58 text of the unsigned big-endian integer `be` (any length; empty or all zero is `"1"`).
pub fn encode(be: &[u8]) -> String {
    let be = strip_leading_zeros(be);
    if be.is_empty() {
        return "1".to_owned();
    }
    // Little-endian limbs in base 58^5; each step multiplies by 2^(8k) and adds k bytes
    // (k = 3, fewer for the first chunk). Divisions are by a constant: no u128 arithmetic.
    let mut limbs: Vec<u64> = Vec::with_capacity(be.len() * 8 / 29 + 2);
    let first = match be.len() % BYTES_PER_STEP {
        0 => BYTES_PER_STEP,
        n => n,
    };
    let mut at = 0;
    let mut take = first;
    while at < be.len() {
        let chunk = &be[at..at + take];
        let mut carry = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let shift = 8 * take as u32;
        for limb in limbs.iter_mut() {
            let v = (*limb << shift) + carry;
            *limb = v % BASE58_5;
            carry = v / BASE58_5;
        }
        while carry > 0 {
            limbs.push(carry % BASE58_5);
            carry /= BASE58_5;
        }
        at += take;
        take = BYTES_PER_STEP;
    }
    let mut digits: Vec<u8> = Vec::with_capacity(limbs.len() * DIGITS_PER_LIMB);
    for (i, &limb) in limbs.iter().enumerate() {
        let mut v = limb;
        let last = i + 1 == limbs.len();
        for _ in 0..DIGITS_PER_LIMB {
            if last && v == 0 {
                break;
            }
            digits.push(ALPHABET[(v % 58) as usize]);
            v /= 58;
        }
    }
    digits.reverse();
    // Only alphabet bytes were pushed, so this is ASCII.
    String::from_utf8(digits).unwrap_or_default()
}

/// The integer written by `text` as minimal big-endian bytes (zero is the empty vector).
/// Rejects empty text and characters outside the alphabet.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, WireError> {
    if text.is_empty() {
        return Err(WireError::BadBase58);
    }
    // Little-endian u32 limbs; each step multiplies by 58^k and adds k digits (k = 5, fewer
    // for the first chunk).
    let mut limbs: Vec<u32> = Vec::with_capacity(text.len() * 6 / 32 + 2);
    let first = match text.len() % DIGITS_PER_LIMB {
        0 => DIGITS_PER_LIMB,
        n => n,
    };
    let mut at = 0;
    let mut take = first;
    while at < text.len() {
        let mut chunk_value = 0u64;
        let mut scale = 1u64;
        for &ch in &text[at..at + take] {
            let digit = DIGIT_OF[ch as usize];
            if digit == 0xff {
                return Err(WireError::BadBase58);
            }
            chunk_value = chunk_value * 58 + u64::from(digit);
            scale *= 58;
        }
        let mut carry = chunk_value;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * scale + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        while carry > 0 {
            limbs.push(carry as u32);
            carry >>= 32;
        }
        at += take;
        take = DIGITS_PER_LIMB;
    }
    let mut be: Vec<u8> = Vec::with_capacity(limbs.len() * 4);
    for limb in limbs.iter().rev() {
        be.extend_from_slice(&limb.to_be_bytes());
    }
    Ok(strip_leading_zeros(&be).to_vec())
}

/// Compares two big-endian unsigned integers of any length (leading zero bytes ignored).
pub fn cmp_be(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_leading_zeros(a);
    let b = strip_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_leading_zeros(be: &[u8]) -> &[u8] {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    &be[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers() {
        assert_eq!(encode(&[]), "1");
        assert_eq!(encode(&[0, 0]), "1");
        assert_eq!(encode(&[1]), "2");
        assert_eq!(encode(&[57]), "z");
        assert_eq!(encode(&[58]), "21");
        assert_eq!(decode(b"1").unwrap(), Vec::<u8>::new());
        assert_eq!(decode(b"111").unwrap(), Vec::<u8>::new());
        assert_eq!(decode(b"21").unwrap(), vec![58]);
    }

    #[test]
    fn round_trips_long_values() {
        let mut be = vec![0u8; 64];
        for (i, b) in be.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let text = encode(&be);
        assert_eq!(decode(text.as_bytes()).unwrap(), be);
        let all_ff = vec![0xffu8; 64];
        assert_eq!(decode(encode(&all_ff).as_bytes()).unwrap(), all_ff);
    }

    /// The textbook digit-by-digit algorithm, to check the limb arithmetic against.
    fn reference_encode(be: &[u8]) -> String {
        let mut n: Vec<u8> = strip_leading_zeros(be).to_vec();
        let mut digits = Vec::new();
        while !n.is_empty() {
            let mut rem = 0u32;
            let mut next = Vec::with_capacity(n.len());
            for &b in &n {
                let v = rem * 256 + u32::from(b);
                let q = v / 58;
                rem = v % 58;
                if !(next.is_empty() && q == 0) {
                    next.push(q as u8);
                }
            }
            digits.push(ALPHABET[rem as usize]);
            n = next;
        }
        if digits.is_empty() {
            digits.push(b'1');
        }
        digits.reverse();
        String::from_utf8(digits).unwrap_or_default()
    }

    #[test]
    fn agrees_with_the_textbook_algorithm_at_every_length() {
        for len in 0..=70usize {
            for seed in 0..4u8 {
                let be: Vec<u8> = (0..len)
                    .map(|i| {
                        (i as u8)
                            .wrapping_mul(89)
                            .wrapping_add(seed.wrapping_mul(41))
                            ^ 0x5a
                    })
                    .collect();
                let text = encode(&be);
                assert_eq!(text, reference_encode(&be), "len {len} seed {seed}");
                assert_eq!(
                    decode(text.as_bytes()).unwrap(),
                    strip_leading_zeros(&be),
                    "len {len}"
                );
            }
            let ones = vec![0xffu8; len];
            assert_eq!(
                encode(&ones),
                reference_encode(&ones),
                "all ones, len {len}"
            );
            assert_eq!(
                decode(encode(&ones).as_bytes()).unwrap(),
                strip_leading_zeros(&ones)
            );
        }
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(decode(b""), Err(WireError::BadBase58));
        assert_eq!(decode(b"0"), Err(WireError::BadBase58));
        assert_eq!(decode(b"abcO"), Err(WireError::BadBase58));
        assert_eq!(decode(b"l"), Err(WireError::BadBase58));
        assert_eq!(decode("é".as_bytes()), Err(WireError::BadBase58));
    }

    #[test]
    fn compares_as_integers() {
        assert_eq!(cmp_be(&[0, 0, 5], &[5]), Ordering::Equal);
        assert_eq!(cmp_be(&[1, 0], &[0xff]), Ordering::Greater);
        assert_eq!(cmp_be(&[], &[0]), Ordering::Equal);
        assert_eq!(cmp_be(&[2], &[3]), Ordering::Less);
    }
}
