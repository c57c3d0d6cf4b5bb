//! The table of an `rs2p_chord` for C: writes (set, delete, delta — sent at once to the key's
//! five positions), blocking majority reads (value as msgpack or bytes), the key count and the
//! key list. Values cross the ABI as msgpack. Also the argument and result helpers the read
//! operations share ([`super::chord_get`]). Not here: the node's life cycle
//! ([`super::chord`]) or the chord rules (`crate::proto::chord`).

use super::boundary::{input_bytes, Out, OutBuf};
use super::chord::{rs2p_chord, run_on_chord};
use super::error::{Failure, FfiResult};
use super::status::{rs2p_status, RS2P_ERR_NOT_BYTES, RS2P_ERR_NOT_FOUND};
use super::sync_table::rs2p_key_list;
use super::table_args::{delta_arg, key_arg, msgpack_arg};
use crate::api::Value;

/// The value of an ended read, or why there is none: RS2P_ERR_NOT_FOUND for "every position
/// holds nothing", the API error's code otherwise.
pub(crate) fn read_result(
    key: &[u8],
    result: crate::api::Result<Option<Value>>,
) -> FfiResult<Value> {
    match result {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(Failure::new(
            RS2P_ERR_NOT_FOUND,
            format!(
                "no position of key {:?} holds a value: it was never set, or was deleted",
                String::from_utf8_lossy(key)
            ),
        )),
        Err(error) => Err(error.into()),
    }
}

/// The bytes of a value read with a *_bytes call: bin, or str as UTF-8.
pub(crate) fn value_bytes(value: &Value) -> FfiResult<&[u8]> {
    value.as_bytes().ok_or_else(|| {
        Failure::new(
            RS2P_ERR_NOT_BYTES,
            "the value is not a byte string or text; read its msgpack with rs2p_chord_get",
        )
    })
}

/// The output buffer and length out-parameter of a read, checked before the read starts (so
/// a NULL `out_len` is RS2P_ERR_NULL_ARGUMENT without any network traffic).
pub(crate) struct ReadOut {
    out: OutBuf<u8>,
    out_len: Out<usize>,
}

impl ReadOut {
    /// # Safety
    /// `out` writable for `out_cap` bytes (or NULL with 0); `out_len` NULL or a writable
    /// size_t.
    pub(crate) unsafe fn new(
        out: *mut u8,
        out_cap: usize,
        out_len: *mut usize,
    ) -> FfiResult<ReadOut> {
        // SAFETY (both): the caller's promises.
        let out = unsafe { OutBuf::new(out, out_cap, "out") }?;
        let out_len = unsafe { Out::new(out_len, "out_len") }?;
        Ok(ReadOut { out, out_len })
    }

    /// Copies `data` and sets the length; on RS2P_ERR_BUFFER_TOO_SMALL only the length (the
    /// size needed) is written.
    pub(crate) fn write(self, data: &[u8]) -> FfiResult<()> {
        if let Err(failure) = self.out.check_fits(data.len()) {
            self.out_len.set(data.len());
            return Err(failure);
        }
        self.out.write(data)?;
        self.out_len.set(data.len());
        Ok(())
    }
}

/// Writes a value (`value_len` bytes of msgpack at `value_msgpack`, any value; nil deletes)
/// at the key's five positions (`key_len` bytes; 0 is allowed) and announces a new key to the
/// network. Sent at once; returns without waiting for the positions to store it. Errors:
/// RS2P_ERR_INVALID_MSGPACK_ARGUMENT, RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT (the node
/// pushed back for its whole send timeout), RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `value_msgpack`
/// readable for `value_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_set(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    value_msgpack: *const u8,
    value_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_set", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let value = msgpack_arg(value_msgpack, value_len, "value_msgpack")?;
            chord.check_open()?;
            Ok(chord.table.set(key, value)?)
        })
    }
}

/// Writes the byte string `(value, value_len)` (sent as msgpack bin) at the key; otherwise as
/// rs2p_chord_set (without RS2P_ERR_INVALID_MSGPACK_ARGUMENT).
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `value` readable for
/// `value_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_set_bytes(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_set_bytes", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let value = input_bytes(value, value_len, "value")?;
            chord.check_open()?;
            Ok(chord.table.set(key, Value::Bin(value.to_vec()))?)
        })
    }
}

/// Deletes the key at its five positions and announces it. `*existed` (may be NULL) becomes 1
/// if this node knew of the key (rs2p_chord_keys lists it), 0 if not (then nothing is sent).
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `existed` NULL or a
/// writable int32_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_delete(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    existed: *mut i32,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_delete", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let existed = Out::new(existed, "existed").ok();
            chord.check_open()?;
            let known = chord.table.delete(key)?;
            if let Some(existed) = existed {
                existed.set(i32::from(known));
            }
            Ok(())
        })
    }
}

/// Merges a msgpack map (`delta_len` bytes at `delta_msgpack`) into the map at the key's five
/// positions (an absent entry starts as an empty map; a position holding something other than
/// a map leaves it alone). Errors: RS2P_ERR_INVALID_MSGPACK_ARGUMENT (not msgpack, or not a
/// map), RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `delta_msgpack`
/// readable for `delta_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_apply_delta(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    delta_msgpack: *const u8,
    delta_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_apply_delta", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let fields = delta_arg(delta_msgpack, delta_len)?;
            chord.check_open()?;
            Ok(chord.table.apply_delta(key, fields)?)
        })
    }
}

/// Reads the key by majority, waiting up to `timeout_ms` (0: the node's default), and writes
/// the msgpack of its value into `(out, out_cap)` and its length into `*out_len`. Errors:
/// RS2P_ERR_NOT_FOUND (every position answered that it holds nothing), RS2P_ERR_NO_MAJORITY
/// (all five answered and no value is held by three), RS2P_ERR_TIMEOUT (too few answered in
/// time), RS2P_ERR_BUFFER_TOO_SMALL (`*out_len` is set to the size needed; the read is over:
/// call again with a bigger buffer, which reads again, or use rs2p_chord_get_start, whose
/// operation keeps the result), RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED. Many threads may
/// read at once.
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_get(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    timeout_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_get", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let out = ReadOut::new(out, out_cap, out_len)?;
            chord.check_open()?;
            let timeout = chord.read_timeout(timeout_ms);
            let value = read_result(key, chord.table.get_timeout(key, timeout))?;
            out.write(&value.to_bytes())
        })
    }
}

/// Like rs2p_chord_get, but writes the value's bytes when it is a byte string (bin) or text
/// (str, as UTF-8). Errors: those of rs2p_chord_get and RS2P_ERR_NOT_BYTES (another type: read
/// it with rs2p_chord_get).
///
/// # Safety
/// As for rs2p_chord_get.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_get_bytes(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    timeout_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_get_bytes", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let out = ReadOut::new(out, out_cap, out_len)?;
            chord.check_open()?;
            let timeout = chord.read_timeout(timeout_ms);
            let value = read_result(key, chord.table.get_timeout(key, timeout))?;
            out.write(value_bytes(&value)?)
        })
    }
}

/// Writes the number of keys this node knows of to `*out`: its own writes and every key
/// announced on the network since it joined the mesh (not a count of the network's data).
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `out` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_len(chord: *const rs2p_chord, out: *mut usize) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_len", chord, |chord| {
            let out = Out::new(out, "out")?;
            chord.check_open()?;
            out.set(chord.table.len());
            Ok(())
        })
    }
}

/// Writes a snapshot of the keys this node knows of (see rs2p_chord_len) to `*out`, in byte
/// order; read it with rs2p_key_list_len and rs2p_key_list_get, free it with
/// rs2p_key_list_free. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `out` must point to a writable `rs2p_key_list *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_keys(
    chord: *const rs2p_chord,
    out: *mut *mut rs2p_key_list,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_keys", chord, |chord| {
            let out = Out::new(out, "out")?;
            chord.check_open()?;
            let list = rs2p_key_list::from_keys(chord.table.keys());
            out.set(Box::into_raw(Box::new(list)));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::status::{RS2P_ERR_CLOSED, RS2P_ERR_NO_MAJORITY, RS2P_ERR_TIMEOUT};
    use super::*;
    use crate::api::Error;

    #[test]
    fn each_end_of_a_read_has_its_status() {
        let found = read_result(b"k", Ok(Some(Value::from("v"))));
        assert_eq!(found, Ok(Value::from("v")));
        let status = |result| read_result(b"k", result).map_err(|f: Failure| f.status);
        assert_eq!(status(Ok(None)), Err(RS2P_ERR_NOT_FOUND));
        assert_eq!(
            status(Err(Error::NoMajority { key: "k".into() })),
            Err(RS2P_ERR_NO_MAJORITY)
        );
        assert_eq!(status(Err(Error::Timeout)), Err(RS2P_ERR_TIMEOUT));
        assert_eq!(status(Err(Error::Closed)), Err(RS2P_ERR_CLOSED));
    }

    #[test]
    fn the_bytes_of_a_value_are_its_bin_or_str() {
        assert_eq!(value_bytes(&Value::Bin(b"ab".to_vec())), Ok(&b"ab"[..]));
        assert_eq!(value_bytes(&Value::from("ab")), Ok(&b"ab"[..]));
        let number = Value::from(7u64);
        let number = value_bytes(&number).map_err(|f| f.status);
        assert_eq!(number, Err(RS2P_ERR_NOT_BYTES));
    }
}
