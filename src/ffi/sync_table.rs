//! The table of an `rs2p_sync` for C: writes (set, delete, delta — lease-checked by
//! `crate::api::SyncTable`), reads that never wait for the network (value as msgpack or bytes,
//! metadata, length) and `rs2p_key_list`, a snapshot of the keys. Values cross the ABI as
//! msgpack. Not here: the node's life cycle ([`super::sync`]) or the table's rules.

use super::boundary::{input_bytes, run_value, Out, OutBuf};
use super::error::{Failure, FfiResult};
use super::mesh::write_text;
use super::status::{rs2p_status, RS2P_ERR_NOT_BYTES, RS2P_ERR_NOT_FOUND};
use super::sync::{rs2p_sync, run_on_sync};
use super::table_args::{delta_arg, key_arg, msgpack_arg};
use crate::api::Value;
use std::ffi::c_char;

fn not_found(key: &[u8]) -> Failure {
    Failure::new(
        RS2P_ERR_NOT_FOUND,
        format!(
            "the table has no key {:?} (yet); it may not have arrived, or was deleted",
            String::from_utf8_lossy(key)
        ),
    )
}

/// The output buffer and length out-parameter of a read, checked before the table is looked
/// at (so a NULL `out_len` is RS2P_ERR_NULL_ARGUMENT whether or not the key exists).
struct ReadOut {
    out: OutBuf<u8>,
    out_len: Out<usize>,
}

impl ReadOut {
    /// # Safety
    /// `out` writable for `out_cap` bytes (or NULL with 0); `out_len` NULL or a writable
    /// size_t.
    unsafe fn new(out: *mut u8, out_cap: usize, out_len: *mut usize) -> FfiResult<ReadOut> {
        // SAFETY (both): the caller's promises.
        let out = unsafe { OutBuf::new(out, out_cap, "out") }?;
        let out_len = unsafe { Out::new(out_len, "out_len") }?;
        Ok(ReadOut { out, out_len })
    }

    /// Copies `data` and sets the length; on RS2P_ERR_BUFFER_TOO_SMALL only the length (the
    /// size needed) is written.
    fn write(self, data: &[u8]) -> FfiResult<()> {
        if let Err(failure) = self.out.check_fits(data.len()) {
            self.out_len.set(data.len());
            return Err(failure);
        }
        self.out.write(data)?;
        self.out_len.set(data.len());
        Ok(())
    }
}

/// Stores a value (`value_len` bytes of msgpack at `value_msgpack`, any value but nil) at the
/// key (`key_len` bytes; 0 is allowed) and broadcasts it. The write is lease-checked here
/// first. Errors: RS2P_ERR_LEASED (another node holds the key; nothing changed or was sent;
/// rs2p_last_error names the owner), RS2P_ERR_INVALID_MSGPACK_ARGUMENT,
/// RS2P_ERR_INVALID_ARGUMENT (nil: use rs2p_sync_delete), RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_TIMEOUT (the node pushed back for its whole send timeout), RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `value_msgpack`
/// readable for `value_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_set(
    sync: *mut rs2p_sync,
    key: *const u8,
    key_len: usize,
    value_msgpack: *const u8,
    value_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_set", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let value = msgpack_arg(value_msgpack, value_len, "value_msgpack")?;
            if value.is_nil() {
                return Err(Failure::invalid_argument(
                    "the value is nil, which the table cannot hold; delete the key with \
                     rs2p_sync_delete instead",
                ));
            }
            sync.check_open()?;
            Ok(sync.table.set(key, value)?)
        })
    }
}

/// Stores the byte string `(value, value_len)` (sent as msgpack bin) at the key; otherwise as
/// rs2p_sync_set (without RS2P_ERR_INVALID_MSGPACK_ARGUMENT).
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `value` readable for
/// `value_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_set_bytes(
    sync: *mut rs2p_sync,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_set_bytes", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let value = input_bytes(value, value_len, "value")?;
            sync.check_open()?;
            Ok(sync.table.set(key, Value::Bin(value.to_vec()))?)
        })
    }
}

/// Deletes the key everywhere (value and metadata). `*existed` (may be NULL) becomes 1 if this
/// node held the key, 0 if not (then nothing is sent). Errors: RS2P_ERR_LEASED,
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `existed` NULL or a
/// writable int32_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_delete(
    sync: *mut rs2p_sync,
    key: *const u8,
    key_len: usize,
    existed: *mut i32,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_delete", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let existed = Out::new(existed, "existed").ok();
            sync.check_open()?;
            let held = sync.table.delete(key)?;
            if let Some(existed) = existed {
                existed.set(i32::from(held));
            }
            Ok(())
        })
    }
}

/// Merges a msgpack map (`delta_len` bytes at `delta_msgpack`) into the map at the key (an
/// absent key starts as an empty map) and broadcasts the delta; this node becomes the key's
/// owner. Errors: RS2P_ERR_INVALID_MSGPACK_ARGUMENT (not msgpack, or not a map),
/// RS2P_ERR_INVALID_ARGUMENT (the key holds something other than a map), RS2P_ERR_LEASED,
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `delta_msgpack`
/// readable for `delta_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_apply_delta(
    sync: *mut rs2p_sync,
    key: *const u8,
    key_len: usize,
    delta_msgpack: *const u8,
    delta_len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_apply_delta", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let fields = delta_arg(delta_msgpack, delta_len)?;
            sync.check_open()?;
            sync.table.apply_delta(key, fields)?;
            Ok(())
        })
    }
}

/// Writes the msgpack of the key's value into `(out, out_cap)` and its length into
/// `*out_len`. Reads the local table without waiting for the network. Pass NULL and 0 to ask
/// for the size (RS2P_ERR_BUFFER_TOO_SMALL sets `*out_len`). Errors: RS2P_ERR_NOT_FOUND,
/// RS2P_ERR_BUFFER_TOO_SMALL, RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `out` writable for
/// `out_cap` bytes; `out_len` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_get(
    sync: *const rs2p_sync,
    key: *const u8,
    key_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_get", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let out = ReadOut::new(out, out_cap, out_len)?;
            sync.check_open()?;
            let value = sync.table.get(key).ok_or_else(|| not_found(key))?;
            out.write(&value.to_bytes())
        })
    }
}

/// Like rs2p_sync_get, but writes the value's bytes when it is a byte string (bin) or text
/// (str, as UTF-8). Errors: those of rs2p_sync_get and RS2P_ERR_NOT_BYTES (another type: read
/// it with rs2p_sync_get).
///
/// # Safety
/// As for rs2p_sync_get.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_get_bytes(
    sync: *const rs2p_sync,
    key: *const u8,
    key_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_get_bytes", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let out = ReadOut::new(out, out_cap, out_len)?;
            sync.check_open()?;
            let value = sync.table.get(key).ok_or_else(|| not_found(key))?;
            let bytes = value.as_bytes().ok_or_else(|| {
                Failure::new(
                    RS2P_ERR_NOT_BYTES,
                    "the value is not a byte string or text; read its msgpack with rs2p_sync_get",
                )
            })?;
            out.write(bytes)
        })
    }
}

/// Who last wrote the key and when: its owner's node ID (base58 text) into `(owner_out,
/// owner_cap)` with a NUL, the ID's length into `*owner_len`, and the write time (Unix seconds
/// by the writer's clock) into `*time_out` (may be NULL). Pass NULL and 0 to ask for the size
/// (RS2P_ERR_BUFFER_TOO_SMALL sets `*owner_len`; `*owner_len + 1` bytes are needed).
/// Errors: RS2P_ERR_NOT_FOUND, RS2P_ERR_BUFFER_TOO_SMALL, RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `key` readable for `key_len` bytes; `owner_out` writable
/// for `owner_cap` bytes; `owner_len` a writable size_t; `time_out` NULL or a writable int64_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_metadata(
    sync: *const rs2p_sync,
    key: *const u8,
    key_len: usize,
    owner_out: *mut c_char,
    owner_cap: usize,
    owner_len: *mut usize,
    time_out: *mut i64,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_metadata", sync, |sync| {
            let key = key_arg(key, key_len)?;
            let time_out = Out::new(time_out, "time_out").ok();
            OutBuf::new(owner_out.cast::<u8>(), owner_cap, "owner_out")?;
            Out::new(owner_len, "owner_len")?;
            sync.check_open()?;
            let (owner, time) = sync.table.metadata(key).ok_or_else(|| not_found(key))?;
            write_text(&owner, owner_out, owner_cap, owner_len)?;
            if let Some(time_out) = time_out {
                time_out.set(time);
            }
            Ok(())
        })
    }
}

/// Writes the number of keys in the table to `*out`. Errors: RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `out` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_len(sync: *const rs2p_sync, out: *mut usize) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_len", sync, |sync| {
            let out = Out::new(out, "out")?;
            sync.check_open()?;
            out.set(sync.table.len());
            Ok(())
        })
    }
}

/// The keys of a table at one moment, in no particular order (opaque; free with
/// rs2p_key_list_free). Read-only, so any number of threads may read it at once.
pub struct rs2p_key_list {
    keys: Vec<Vec<u8>>,
}

impl rs2p_key_list {
    /// A list of `keys`, for the other tables' `*_keys` functions (rs2p_chord_keys).
    pub(crate) fn from_keys(keys: Vec<Vec<u8>>) -> rs2p_key_list {
        rs2p_key_list { keys }
    }
}

/// Writes a snapshot of the table's keys to `*out`; free it with rs2p_key_list_free.
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `out` must point to a writable `rs2p_key_list *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_keys(
    sync: *const rs2p_sync,
    out: *mut *mut rs2p_key_list,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_keys", sync, |sync| {
            let out = Out::new(out, "out")?;
            sync.check_open()?;
            let keys = sync.table.keys();
            out.set(Box::into_raw(Box::new(rs2p_key_list { keys })));
            Ok(())
        })
    }
}

/// How many keys the list holds; 0 for NULL.
///
/// # Safety
/// `list` must be NULL or a live key list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_key_list_len(list: *const rs2p_key_list) -> usize {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_key_list_len", 0, || {
        unsafe { list.as_ref() }.map_or(0, |l| l.keys.len())
    })
}

/// Key `index` of the list: `*key` points to its bytes (valid until rs2p_key_list_free; not
/// NUL-terminated) and `*key_len` is their count. Errors: RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_INVALID_ARGUMENT (`index` not below rs2p_key_list_len).
///
/// # Safety
/// `list` must be a live key list; `key` a writable `const uint8_t *`; `key_len` a writable
/// size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_key_list_get(
    list: *const rs2p_key_list,
    index: usize,
    key: *mut *const u8,
    key_len: *mut usize,
) -> rs2p_status {
    super::boundary::run("rs2p_key_list_get", || {
        // SAFETY (all): the pointer contracts documented above.
        let list = unsafe { list.as_ref() }.ok_or_else(|| Failure::null_argument("list"))?;
        let key_out = unsafe { Out::new(key, "key") }?;
        let len_out = unsafe { Out::new(key_len, "key_len") }?;
        let entry = list.keys.get(index).ok_or_else(|| {
            Failure::invalid_argument(format!(
                "index {index} is past the end of the key list ({} keys)",
                list.keys.len()
            ))
        })?;
        key_out.set(entry.as_ptr());
        len_out.set(entry.len());
        Ok(())
    })
}

/// Frees a key list. NULL is accepted and does nothing.
///
/// # Safety
/// `list` must be NULL or a list from rs2p_sync_keys not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_key_list_free(list: *mut rs2p_key_list) {
    run_value("rs2p_key_list_free", (), || {
        if !list.is_null() {
            // SAFETY: from Box::into_raw in rs2p_sync_keys, freed once per the contract.
            drop(unsafe { Box::from_raw(list) });
        }
    })
}
