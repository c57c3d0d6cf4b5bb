//! Protocol IDs, node IDs, the node-ID salt and the five chord positions of a key
//! (PROTOCOL.md §5 and §8). Not here: deciding which address a node advertises.

use super::base58;
use super::sha1::sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The protocol ID: base58 of SHA-256(subnet ‖ encryption ‖ "0.7").
pub fn protocol_id(subnet: &str, encryption: &str) -> String {
    let mut h = Sha256::new();
    h.update(subnet.as_bytes());
    h.update(encryption.as_bytes());
    h.update(b"0.7");
    base58::encode(&h.finalize())
}

/// Python's `repr` of an `(host, port)` tuple, e.g. `('127.0.0.1', 44565)`.
///
/// The host is quoted as Python 3 quotes a str: single quotes, or double quotes when the text
/// holds a `'` and no `"`; backslash, the chosen quote, `\t`, `\n`, `\r` are escaped; other
/// ASCII controls, DEL and U+0080..=U+00A0 and U+00AD become `\xNN`; other control characters
/// become `\uNNNN`/`\UNNNNNNNN`. Other non-ASCII characters are copied as they are (Python
/// also escapes some rarer non-printable characters, such as unassigned code points and
/// separators beyond U+00A0; hosts never contain those).
pub fn out_addr_repr(host: &str, port: u16) -> String {
    let quote = if host.contains('\'') && !host.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(host.len() + 12);
    out.push('(');
    out.push(quote);
    for ch in host.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c as u32 == 0xad => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out.push_str(", ");
    out.push_str(&port.to_string());
    out.push(')');
    out
}

/// A node ID: base58 of SHA-384(out_addr_repr ‖ protocol_id ‖ salt).
pub fn node_id(out_addr_repr: &str, protocol_id: &str, salt: &str) -> String {
    let mut h = Sha384::new();
    h.update(out_addr_repr.as_bytes());
    h.update(protocol_id.as_bytes());
    h.update(salt.as_bytes());
    base58::encode(&h.finalize())
}

/// A fresh random UUID4 text (from the OS random source), used as the node-ID salt.
pub fn new_salt() -> String {
    let mut b = random_16();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// 16 bytes from getrandom(2), or /dev/urandom where that is unavailable. As a last resort
/// (neither source works) the clock and a stack address are mixed through SHA-256: the salt
/// only has to differ between processes, it is not a secret.
fn random_16() -> [u8; 16] {
    let mut buf = [0u8; 16];
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            break;
        }
        filled += n as usize;
    }
    if filled == buf.len() {
        return buf;
    }
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        if f.read_exact(&mut buf).is_ok() {
            return buf;
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(now.to_le_bytes());
    h.update((&buf as *const _ as usize).to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    buf.copy_from_slice(&h.finalize()[..16]);
    buf
}

/// The chord hash methods, in the protocol's order.
pub const CHORD_METHODS: [&str; 5] = ["sha1", "sha224", "sha256", "sha384", "sha512"];

/// The five chord positions of `key` as big-endian integers, with their method names:
/// `sha1 << 224`, `sha224 << 160`, `sha256 << 128`, `sha384`, `sha512` (unreduced, 512 bits).
pub fn chord_positions(key: &[u8]) -> [(&'static str, Vec<u8>); 5] {
    fn shifted(digest: &[u8], shift_bytes: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(digest.len() + shift_bytes);
        v.extend_from_slice(digest);
        v.resize(digest.len() + shift_bytes, 0);
        v
    }
    [
        (CHORD_METHODS[0], shifted(&sha1(key), 224 / 8)),
        (CHORD_METHODS[1], shifted(&Sha224::digest(key), 160 / 8)),
        (CHORD_METHODS[2], shifted(&Sha256::digest(key), 128 / 8)),
        (CHORD_METHODS[3], Sha384::digest(key).to_vec()),
        (CHORD_METHODS[4], Sha512::digest(key).to_vec()),
    ]
}

/// [`chord_positions`] with each position as base58 text, as it travels on the wire.
pub fn chord_positions_b58(key: &[u8]) -> [(&'static str, String); 5] {
    chord_positions(key).map(|(method, be)| (method, base58::encode(&be)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(out_addr_repr("127.0.0.1", 44565), "('127.0.0.1', 44565)");
        assert_eq!(out_addr_repr("a'b", 1), "(\"a'b\", 1)");
        assert_eq!(out_addr_repr("a'b\"", 1), "('a\\'b\"', 1)");
        assert_eq!(out_addr_repr("a\\b\n", 1), "('a\\\\b\\n', 1)");
        assert_eq!(out_addr_repr("\u{1}\u{7f}é", 1), "('\\x01\\x7fé', 1)");
    }

    #[test]
    fn salts_are_uuid4_text() {
        let a = new_salt();
        let b = new_salt();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]));
    }
}
