//! base58 (Bitcoin alphabet) text of non-negative big integers, as the protocol writes node
//! IDs, protocol IDs and chord positions: most significant digit first, no padding, zero is
//! `"1"`. Integers are carried as big-endian byte strings of any length (up to 512 bits and
//! beyond). Not here: base58check or leading-zero-byte conventions of other formats (a leading
//! `1` here is just a zero digit, not a zero byte).

use super::WireError;
use std::cmp::Ordering;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Digit value of each byte, 0xff for bytes outside the alphabet.
const DIGIT_OF: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 58 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// 58^10, the largest power of 58 below 2^64 that keeps `limb * 256 + carry` in a u64.
const BIG_BASE: u64 = 430_804_206_899_405_824;
const BIG_DIGITS: usize = 10;

/// base58 text of the unsigned big-endian integer `be` (any length; empty or all zero is `"1"`).
pub fn encode(be: &[u8]) -> String {
    let be = strip_leading_zeros(be);
    if be.is_empty() {
        return "1".to_owned();
    }
    // Little-endian limbs in base 58^10; each input byte multiplies by 256 and adds.
    let mut limbs: Vec<u64> = Vec::with_capacity(be.len() / 7 + 1);
    for &byte in be {
        let mut carry = u128::from(byte);
        for limb in limbs.iter_mut() {
            let v = u128::from(*limb) * 256 + carry;
            *limb = (v % u128::from(BIG_BASE)) as u64;
            carry = v / u128::from(BIG_BASE);
        }
        while carry > 0 {
            limbs.push((carry % u128::from(BIG_BASE)) as u64);
            carry /= u128::from(BIG_BASE);
        }
    }
    let mut digits: Vec<u8> = Vec::with_capacity(limbs.len() * BIG_DIGITS);
    for (i, &limb) in limbs.iter().enumerate() {
        let mut v = limb;
        let last = i + 1 == limbs.len();
        for _ in 0..BIG_DIGITS {
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
    // Little-endian bytes; each digit multiplies by 58 and adds.
    let mut le: Vec<u8> = Vec::with_capacity(text.len() * 3 / 4 + 1);
    for &ch in text {
        let digit = DIGIT_OF[ch as usize];
        if digit == 0xff {
            return Err(WireError::BadBase58);
        }
        let mut carry = u32::from(digit);
        for byte in le.iter_mut() {
            let v = u32::from(*byte) * 58 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            le.push(carry as u8);
            carry >>= 8;
        }
    }
    le.reverse();
    Ok(le)
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
