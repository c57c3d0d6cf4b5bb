//! msgpack values, encoded and decoded by a small codec of our own.
//!
//! Why our own and not rmp/rmpv: the protocol needs (1) bin and str kept apart on decode and
//! chosen exactly on encode, (2) the smallest integer encodings byte-for-byte as
//! u-msgpack-python writes them, so our frames match the reference vectors, (3) hard limits on
//! nesting depth and declared lengths with a precise error instead of a panic or a huge
//! allocation, (4) rejection of ext types and duplicate map keys, and (5) decoding a frame's
//! top-level array without copying the payload twice. A few hundred lines give all of that with
//! no dependency; rmpv would need a wrapper for (3)-(5) anyway.
//!
//! Decoding rules (see `docs/protocol.md`, "msgpack"):
//! * the input ending inside a value is [`WireError::Truncated`]; an array or map whose declared
//!   item count cannot fit in the remaining bytes (at least one byte per item) is
//!   [`WireError::LengthOverflow`], found before anything is allocated;
//! * ext types (0xc7-0xc9, 0xd4-0xd8) and 0xc1 are [`WireError::UnsupportedMsgpack`], and so
//!   is a map used as a map key (u-msgpack-python cannot hash it either);
//! * map keys are compared as Python compares dict keys: `1`, `1.0` and `true` are one key,
//!   str and bin are different keys; arrays compare item by item. A repeat is
//!   [`WireError::DuplicateMapKey`].
//!
//! Not here: what the values mean (see `crate::proto`).

use super::WireError;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// One msgpack value.
///
/// Integers are normalised: a non-negative integer is always [`Value::UInt`], [`Value::Int`]
/// holds negative numbers only, so derived equality compares numbers correctly.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    /// A negative integer (non-negative ones are `UInt`).
    Int(i64),
    UInt(u64),
    F32(f32),
    F64(f64),
    Str(String),
    Bin(Vec<u8>),
    Array(Vec<Value>),
    /// Key/value pairs in wire order. Keys are distinct.
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// Appends the msgpack encoding (smallest integer forms, float64 for `F64`) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Nil => out.push(0xc0),
            Value::Bool(false) => out.push(0xc2),
            Value::Bool(true) => out.push(0xc3),
            Value::UInt(n) => encode_uint(*n, out),
            Value::Int(n) => encode_int(*n, out),
            Value::F32(x) => {
                out.push(0xca);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::F64(x) => {
                out.push(0xcb);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::Str(s) => encode_str(s, out),
            Value::Bin(b) => encode_bin(b, out),
            Value::Array(items) => {
                encode_array_header(items.len(), out);
                for item in items {
                    item.encode(out);
                }
            }
            Value::Map(pairs) => {
                encode_map_header(pairs.len(), out);
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    /// The msgpack encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes exactly one value that spans all of `input` (trailing bytes are an error).
    pub fn decode(input: &[u8], max_depth: usize) -> Result<Value, WireError> {
        let (value, used) = Value::decode_prefix(input, max_depth)?;
        if used != input.len() {
            return Err(WireError::TrailingBytes {
                extra: input.len() - used,
            });
        }
        Ok(value)
    }

    /// Decodes one value from the start of `input`; returns it and the bytes it used.
    pub fn decode_prefix(input: &[u8], max_depth: usize) -> Result<(Value, usize), WireError> {
        let mut reader = Reader::new(input, max_depth);
        let value = reader.value(0)?;
        Ok((value, reader.pos))
    }

    /// The bytes of a bin or a str — the protocol's "accept str or bin" normalisation.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bin(b) => Some(b),
            Value::Str(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UInt(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::UInt(n) => i64::try_from(*n).ok(),
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// The text of a str, or of a bin that is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Bin(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Python truthiness as py2p applies it: false for nil, false, 0, 0.0 and empty
    /// str/bin/array/map; true otherwise.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::UInt(n) => *n != 0,
            Value::F32(x) => *x != 0.0,
            Value::F64(x) => *x != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bin(b) => !b.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Map(pairs) => !pairs.is_empty(),
        }
    }

    /// Python dict-key equality: numbers by value (`1 == 1.0 == true`), str and bin apart,
    /// arrays item by item. Maps are never equal keys (they cannot be keys).
    pub fn key_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bin(a), Value::Bin(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.key_eq(y))
            }
            (a, b) => match (Number::of(a), Number::of(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    fn key_hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Value::Nil => state.write_u8(0),
            Value::Str(s) => {
                state.write_u8(1);
                state.write(s.as_bytes());
            }
            Value::Bin(b) => {
                state.write_u8(2);
                state.write(b);
            }
            Value::Array(items) => {
                state.write_u8(3);
                state.write_usize(items.len());
                for item in items {
                    item.key_hash(state);
                }
            }
            Value::Map(_) => state.write_u8(4),
            other => match Number::of(other) {
                Some(Number::Int(n)) => {
                    state.write_u8(5);
                    n.hash(state);
                }
                Some(Number::Float(x)) => {
                    state.write_u8(6);
                    x.to_bits().hash(state);
                }
                None => state.write_u8(7),
            },
        }
    }
}

/// A number normalised for key comparison: integral floats become integers.
#[derive(PartialEq)]
enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    fn of(v: &Value) -> Option<Number> {
        let float = match v {
            Value::Bool(b) => return Some(Number::Int(i128::from(*b))),
            Value::Int(n) => return Some(Number::Int(i128::from(*n))),
            Value::UInt(n) => return Some(Number::Int(i128::from(*n))),
            Value::F32(x) => f64::from(*x),
            Value::F64(x) => *x,
            _ => return None,
        };
        // Integral floats within the range of i128 compare equal to that integer.
        if float.is_finite() && float.fract() == 0.0 && float.abs() < 1.0e38 {
            Some(Number::Int(float as i128))
        } else {
            Some(Number::Float(float))
        }
    }
}

/// Appends a non-negative integer in its smallest msgpack form.
pub fn encode_uint(n: u64, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends an integer in its smallest msgpack form (unsigned forms for n ≥ 0).
pub fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        encode_uint(n as u64, out);
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a str (fixstr, str8, str16 or str32).
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else {
        put_len(len, [0xd9, 0xda, 0xdb], out);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends a bin (bin8, bin16 or bin32).
pub fn encode_bin(b: &[u8], out: &mut Vec<u8>) {
    put_len(b.len(), [0xc4, 0xc5, 0xc6], out);
    out.extend_from_slice(b);
}

/// Appends an array header for `len` items (fixarray, array16 or array32).
pub fn encode_array_header(len: usize, out: &mut Vec<u8>) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else {
        put_len16_32(len, [0xdc, 0xdd], out);
    }
}

/// Appends a map header for `len` pairs (fixmap, map16 or map32).
pub fn encode_map_header(len: usize, out: &mut Vec<u8>) {
    if len < 16 {
        out.push(0x80 | len as u8);
    } else {
        put_len16_32(len, [0xde, 0xdf], out);
    }
}

fn put_len(len: usize, codes: [u8; 3], out: &mut Vec<u8>) {
    if len <= 0xff {
        out.extend_from_slice(&[codes[0], len as u8]);
    } else {
        put_len16_32(len, [codes[1], codes[2]], out);
    }
}

fn put_len16_32(len: usize, codes: [u8; 2], out: &mut Vec<u8>) {
    if len <= 0xffff {
        out.push(codes[0]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        // msgpack cannot express more than u32::MAX; callers never build such values.
        out.push(codes[1]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Maps up to this many pairs check duplicates pairwise; larger ones through a hash table.
const PAIRWISE_KEY_CHECK_MAX: usize = 16;

/// A bounded cursor over untrusted msgpack bytes.
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pub(crate) pos: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8], max_depth: usize) -> Self {
        Reader {
            input,
            pos: 0,
            max_depth,
        }
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::Truncated);
        }
        let slice = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let slice = self.take(N)?;
        let mut arr = [0u8; N];
        arr.copy_from_slice(slice);
        Ok(arr)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take_array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// The item count of an array header at the cursor, checked against the remaining input
    /// (each item takes at least one byte). `None` (cursor unmoved) if it is not an array.
    pub(crate) fn array_header(&mut self) -> Result<Option<usize>, WireError> {
        let start = self.pos;
        let marker = self.u8()?;
        let len = match marker {
            0x90..=0x9f => usize::from(marker & 0x0f),
            0xdc => usize::from(self.u16()?),
            0xdd => self.u32()? as usize,
            _ => {
                self.pos = start;
                return Ok(None);
            }
        };
        if len > self.remaining() {
            return Err(WireError::LengthOverflow);
        }
        Ok(Some(len))
    }

    /// Decodes one value at nesting `depth` (0 for a top-level value).
    pub(crate) fn value(&mut self, depth: usize) -> Result<Value, WireError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Value::UInt(u64::from(marker)),
            0xe0..=0xff => Value::Int(i64::from(marker as i8)),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth)?,
            0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth)?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let len = usize::from(self.u8()?);
                self.bin(len)?
            }
            0xc5 => {
                let len = usize::from(self.u16()?);
                self.bin(len)?
            }
            0xc6 => {
                let len = self.u32()? as usize;
                self.bin(len)?
            }
            0xca => Value::F32(f32::from_be_bytes(self.take_array()?)),
            0xcb => Value::F64(f64::from_be_bytes(self.take_array()?)),
            0xcc => Value::UInt(u64::from(self.u8()?)),
            0xcd => Value::UInt(u64::from(self.u16()?)),
            0xce => Value::UInt(u64::from(self.u32()?)),
            0xcf => Value::UInt(self.u64()?),
            0xd0 => int_value(i64::from(self.u8()? as i8)),
            0xd1 => int_value(i64::from(self.u16()? as i16)),
            0xd2 => int_value(i64::from(self.u32()? as i32)),
            0xd3 => int_value(self.u64()? as i64),
            0xd9 => {
                let len = usize::from(self.u8()?);
                self.str(len)?
            }
            0xda => {
                let len = usize::from(self.u16()?);
                self.str(len)?
            }
            0xdb => {
                let len = self.u32()? as usize;
                self.str(len)?
            }
            0xdc => {
                let len = usize::from(self.u16()?);
                self.array(len, depth)?
            }
            0xdd => {
                let len = self.u32()? as usize;
                self.array(len, depth)?
            }
            0xde => {
                let len = usize::from(self.u16()?);
                self.map(len, depth)?
            }
            0xdf => {
                let len = self.u32()? as usize;
                self.map(len, depth)?
            }
            // 0xc1 (never used), ext 8/16/32 (0xc7-0xc9), fixext (0xd4-0xd8).
            0xc1 | 0xc7..=0xc9 | 0xd4..=0xd8 => {
                return Err(WireError::UnsupportedMsgpack { byte: marker })
            }
        })
    }

    fn str(&mut self, len: usize) -> Result<Value, WireError> {
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Value::Str(s.to_owned())),
            Err(_) => Err(WireError::InvalidUtf8),
        }
    }

    fn bin(&mut self, len: usize) -> Result<Value, WireError> {
        Ok(Value::Bin(self.take(len)?.to_vec()))
    }

    fn enter(&self, depth: usize) -> Result<usize, WireError> {
        if depth >= self.max_depth {
            return Err(WireError::TooDeep {
                max: self.max_depth,
            });
        }
        Ok(depth + 1)
    }

    fn array(&mut self, len: usize, depth: usize) -> Result<Value, WireError> {
        let inner = self.enter(depth)?;
        if len > self.remaining() {
            return Err(WireError::LengthOverflow);
        }
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(self.value(inner)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value, WireError> {
        let inner = self.enter(depth)?;
        if len > self.remaining() / 2 {
            return Err(WireError::LengthOverflow);
        }
        let mut pairs: Vec<(Value, Value)> = Vec::with_capacity(len);
        for _ in 0..len {
            let key_marker = self.input.get(self.pos).copied();
            let key = self.value(inner)?;
            if let Value::Map(_) = key {
                return Err(WireError::UnsupportedMsgpack {
                    byte: key_marker.unwrap_or(0x80),
                });
            }
            let value = self.value(inner)?;
            pairs.push((key, value));
        }
        check_distinct_keys(&pairs)?;
        Ok(Value::Map(pairs))
    }
}

fn int_value(n: i64) -> Value {
    if n >= 0 {
        Value::UInt(n as u64)
    } else {
        Value::Int(n)
    }
}

/// A key wrapper hashing and comparing as Python dict keys do.
struct KeyRef<'a>(&'a Value);

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.key_hash(state)
    }
}
impl PartialEq for KeyRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.key_eq(other.0)
    }
}
impl Eq for KeyRef<'_> {}

fn check_distinct_keys(pairs: &[(Value, Value)]) -> Result<(), WireError> {
    if pairs.len() <= PAIRWISE_KEY_CHECK_MAX {
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier.key_eq(key)) {
                return Err(WireError::DuplicateMapKey);
            }
        }
        return Ok(());
    }
    let mut seen: HashMap<KeyRef<'_>, ()> = HashMap::with_capacity(pairs.len());
    for (key, _) in pairs {
        if seen.insert(KeyRef(key), ()).is_some() {
            return Err(WireError::DuplicateMapKey);
        }
    }
    Ok(())
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value::Bin(b.to_vec())
    }
}
impl<const N: usize> From<&[u8; N]> for Value {
    fn from(b: &[u8; N]) -> Self {
        Value::Bin(b.to_vec())
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bin(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<u8> for Value {
    fn from(n: u8) -> Self {
        Value::UInt(u64::from(n))
    }
}
impl From<u16> for Value {
    fn from(n: u16) -> Self {
        Value::UInt(u64::from(n))
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::UInt(u64::from(n))
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::UInt(n)
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::UInt(n as u64)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        int_value(i64::from(n))
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        int_value(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::F64(x)
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> Vec<u8> {
        v.to_bytes()
    }

    #[test]
    fn integers_use_the_smallest_form() {
        assert_eq!(enc(&Value::UInt(0)), [0x00]);
        assert_eq!(enc(&Value::UInt(127)), [0x7f]);
        assert_eq!(enc(&Value::UInt(128)), [0xcc, 0x80]);
        assert_eq!(enc(&Value::UInt(256)), [0xcd, 1, 0]);
        assert_eq!(enc(&Value::UInt(65536)), [0xce, 0, 1, 0, 0]);
        assert_eq!(enc(&Value::UInt(1 << 32)), [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(enc(&Value::Int(-1)), [0xff]);
        assert_eq!(enc(&Value::Int(-32)), [0xe0]);
        assert_eq!(enc(&Value::Int(-33)), [0xd0, 0xdf]);
        assert_eq!(enc(&Value::Int(-129)), [0xd1, 0xff, 0x7f]);
        assert_eq!(enc(&Value::Int(-32769)), [0xd2, 0xff, 0xff, 0x7f, 0xff]);
        assert_eq!(enc(&Value::Int(i64::MIN))[0], 0xd3);
        assert_eq!(enc(&Value::from(5i64)), [0x05]);
    }

    #[test]
    fn strings_and_bins() {
        assert_eq!(enc(&Value::from("")), [0xa0]);
        assert_eq!(enc(&Value::from("a".repeat(31)))[0], 0xbf);
        assert_eq!(enc(&Value::from("a".repeat(32)))[..2], [0xd9, 32]);
        assert_eq!(enc(&Value::from("a".repeat(256)))[..3], [0xda, 1, 0]);
        assert_eq!(
            enc(&Value::from("a".repeat(65536)))[..5],
            [0xdb, 0, 1, 0, 0]
        );
        assert_eq!(enc(&Value::from(&b"ab"[..])), [0xc4, 2, b'a', b'b']);
        assert_eq!(enc(&Value::Bin(vec![0; 256]))[..3], [0xc5, 1, 0]);
        assert_eq!(enc(&Value::Bin(vec![0; 65536]))[..5], [0xc6, 0, 1, 0, 0]);
    }

    #[test]
    fn containers_round_trip() {
        let v = Value::Array(vec![
            Value::Nil,
            Value::Bool(true),
            Value::F64(1.5),
            Value::F32(0.25),
            Value::Map(vec![(
                Value::from("k"),
                Value::Array(vec![Value::UInt(1); 20]),
            )]),
            Value::Map((0..20u64).map(|i| (Value::UInt(i), Value::Nil)).collect()),
        ]);
        let bytes = enc(&v);
        assert_eq!(Value::decode(&bytes, 64).unwrap(), v);
    }

    #[test]
    fn decoder_normalises_signed_forms() {
        assert_eq!(Value::decode(&[0xd0, 0x05], 8).unwrap(), Value::UInt(5));
        assert_eq!(Value::decode(&[0xd0, 0xfb], 8).unwrap(), Value::Int(-5));
    }

    #[test]
    fn decoder_errors() {
        assert_eq!(Value::decode(&[0xa3, b'a'], 8), Err(WireError::Truncated));
        assert_eq!(Value::decode(&[0xcd, 1], 8), Err(WireError::Truncated));
        assert_eq!(
            Value::decode(&[0x01, 0x02], 8),
            Err(WireError::TrailingBytes { extra: 1 })
        );
        assert_eq!(
            Value::decode(&[0xa2, 0xc3, 0x28], 8),
            Err(WireError::InvalidUtf8)
        );
        assert_eq!(
            Value::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], 8),
            Err(WireError::LengthOverflow)
        );
        assert_eq!(
            Value::decode(&[0xdf, 0x00, 0x00, 0x00, 0x02, 0x01, 0x02], 8),
            Err(WireError::LengthOverflow)
        );
        assert_eq!(
            Value::decode(&[0xd4, 0x01, 0x00], 8),
            Err(WireError::UnsupportedMsgpack { byte: 0xd4 })
        );
        assert_eq!(
            Value::decode(&[0xc1], 8),
            Err(WireError::UnsupportedMsgpack { byte: 0xc1 })
        );
        let deep = [0x91u8; 10];
        let mut deep = deep.to_vec();
        deep.push(0xc0);
        assert_eq!(Value::decode(&deep, 5), Err(WireError::TooDeep { max: 5 }));
        assert!(Value::decode(&deep, 10).is_ok());
    }

    #[test]
    fn duplicate_keys_follow_python_equality() {
        // {1: nil, 1.0: nil}
        let mut b = vec![0x82, 0x01, 0xc0, 0xcb];
        b.extend_from_slice(&1.0f64.to_be_bytes());
        b.push(0xc0);
        assert_eq!(Value::decode(&b, 8), Err(WireError::DuplicateMapKey));
        // {1: nil, true: nil}
        assert_eq!(
            Value::decode(&[0x82, 0x01, 0xc0, 0xc3, 0xc0], 8),
            Err(WireError::DuplicateMapKey)
        );
        // {"a": nil, b"a": nil} is fine: str and bytes differ in Python 3.
        assert!(Value::decode(&[0x82, 0xa1, b'a', 0xc0, 0xc4, 1, b'a', 0xc0], 8).is_ok());
        // Large map through the hash path: keys 0..20 then 0.0 again.
        let mut v = vec![0xde, 0, 21];
        for i in 0..20u8 {
            v.extend_from_slice(&[i, 0xc0]);
        }
        v.push(0xca);
        v.extend_from_slice(&0.0f32.to_be_bytes());
        v.push(0xc0);
        assert_eq!(Value::decode(&v, 8), Err(WireError::DuplicateMapKey));
        // A map as a key is refused.
        assert_eq!(
            Value::decode(&[0x81, 0x80, 0xc0], 8),
            Err(WireError::UnsupportedMsgpack { byte: 0x80 })
        );
    }

    #[test]
    fn truthiness() {
        assert!(!Value::Nil.is_truthy());
        assert!(!Value::UInt(0).is_truthy());
        assert!(!Value::F64(0.0).is_truthy());
        assert!(!Value::from("").is_truthy());
        assert!(Value::from("x").is_truthy());
        assert!(!Value::Map(vec![]).is_truthy());
    }
}
