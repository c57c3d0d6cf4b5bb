//! Arguments the table functions of the C API share (sync and chord): a key, a msgpack value,
//! a msgpack map of fields to merge. Each turns raw pointers into checked Rust values or a
//! failure that names the argument and says what to pass. Not here: the functions themselves.

use super::boundary::input_bytes;
use super::error::{Failure, FfiResult};
use super::status::RS2P_ERR_INVALID_MSGPACK_ARGUMENT;
use crate::api::Value;
use crate::wire::Limits;

/// A key argument `(key, key_len)`.
///
/// # Safety
/// A non-NULL `key` must address `key_len` readable bytes.
pub(crate) unsafe fn key_arg<'a>(key: *const u8, key_len: usize) -> FfiResult<&'a [u8]> {
    // SAFETY: the caller's promise.
    unsafe { input_bytes(key, key_len, "key") }
}

/// A msgpack argument named `what`, decoded (one value, nothing after it).
///
/// # Safety
/// A non-NULL `ptr` must address `len` readable bytes.
pub(crate) unsafe fn msgpack_arg(ptr: *const u8, len: usize, what: &str) -> FfiResult<Value> {
    // SAFETY: the caller's promise.
    let bytes = unsafe { input_bytes(ptr, len, what) }?;
    Value::decode(bytes, Limits::DEFAULT.max_depth).map_err(|error| {
        Failure::new(
            RS2P_ERR_INVALID_MSGPACK_ARGUMENT,
            format!(
                "argument `{what}` is not one valid msgpack value ({error}); pass msgpack bytes"
            ),
        )
    })
}

/// The `delta_msgpack` argument of the apply-delta functions: one msgpack map, as its pairs.
///
/// # Safety
/// A non-NULL `ptr` must address `len` readable bytes.
pub(crate) unsafe fn delta_arg(ptr: *const u8, len: usize) -> FfiResult<Vec<(Value, Value)>> {
    // SAFETY: the caller's promise.
    match unsafe { msgpack_arg(ptr, len, "delta_msgpack") }? {
        Value::Map(fields) => Ok(fields),
        _ => Err(Failure::new(
            RS2P_ERR_INVALID_MSGPACK_ARGUMENT,
            "argument `delta_msgpack` is msgpack but not a map; pass one msgpack map of the \
             fields to merge",
        )),
    }
}
