//! What every export runs inside: a panic boundary that turns a Rust panic into
//! `RS2P_ERR_PANIC` (never an abort across the C ABI), and checked conversions of C arguments
//! — input slices, output buffers, out-parameters, C strings — into safe Rust values, each
//! failing with a [`Failure`] that names the argument. Not here: the status numbers
//! ([`super::status`]) or what any export computes.
//!
//! Pointer validity beyond NULL (that a non-NULL pointer really addresses `len` readable or
//! `cap` writable bytes) is the C caller's promise; the `unsafe` constructors below state it.

use super::error::{set_last_error, Failure, FfiResult};
use super::status::{rs2p_status, RS2P_ERR_PANIC, RS2P_OK};
use std::any::Any;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

/// Runs the body of the export `function` and returns its status: `RS2P_OK` on success, the
/// failure's code otherwise (recording the detail for `rs2p_last_error`), `RS2P_ERR_PANIC` if
/// the body panicked.
pub fn run(function: &str, body: impl FnOnce() -> FfiResult<()>) -> rs2p_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => RS2P_OK,
        Ok(Err(failure)) => {
            set_last_error(&format!("{function}: {}", failure.detail));
            failure.status
        }
        Err(payload) => {
            set_last_error(&panic_detail(function, payload.as_ref()));
            RS2P_ERR_PANIC
        }
    }
}

/// Like [`run`] for exports that return a value instead of a status: a panic records the
/// detail and yields `fallback`.
pub fn run_value<T>(function: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            set_last_error(&panic_detail(function, payload.as_ref()));
            fallback
        }
    }
}

fn panic_detail(function: &str, payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("{function}: internal error (Rust panic: {message}); this is a bug in rs2p, please report it")
}

/// The input bytes `(ptr, len)`. NULL with `len == 0` is the empty slice; NULL with a length
/// is `RS2P_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// A non-NULL `ptr` must address `len` readable bytes that stay unchanged for `'a`.
pub unsafe fn input_bytes<'a>(ptr: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null_argument(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid_argument(format!(
            "length of `{what}` ({len}) is larger than any buffer can be"
        )));
    }
    // SAFETY: non-NULL, length checked against isize::MAX; validity is the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A NUL-terminated C string argument as UTF-8 text.
///
/// # Safety
/// A non-NULL `ptr` must point to a NUL-terminated string that stays unchanged for `'a`.
pub unsafe fn input_str<'a>(ptr: *const c_char, what: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(Failure::null_argument(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|error| {
        Failure::new(
            super::status::RS2P_ERR_INVALID_UTF8_ARGUMENT,
            format!(
                "argument `{what}` is not valid UTF-8 (bad byte at offset {}); pass UTF-8 text",
                error.valid_up_to()
            ),
        )
    })
}

/// A single-value out-parameter, written at most once, by [`Out::set`].
pub struct Out<T> {
    ptr: NonNull<T>,
}

impl<T> Out<T> {
    /// Checks `ptr` for NULL.
    ///
    /// # Safety
    /// A non-NULL `ptr` must be valid for writing one `T` (alignment included) for the whole
    /// call.
    pub unsafe fn new(ptr: *mut T, what: &str) -> FfiResult<Out<T>> {
        NonNull::new(ptr)
            .map(|ptr| Out { ptr })
            .ok_or_else(|| Failure::null_argument(what))
    }

    /// Stores `value` in the caller's variable.
    pub fn set(self, value: T) {
        // SAFETY: writable per the promise made to `Out::new`; `write` drops nothing old,
        // which is right for the plain C values used here.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// A caller-provided output buffer `(ptr, cap)`. NULL is allowed with `cap == 0`, so a caller
/// can pass `(NULL, 0)` to learn the size needed from `RS2P_ERR_BUFFER_TOO_SMALL`.
pub struct OutBuf<T> {
    ptr: *mut T,
    cap: usize,
    what: &'static str,
}

impl<T: Copy> OutBuf<T> {
    /// Checks the buffer for NULL with a non-zero capacity.
    ///
    /// # Safety
    /// A non-NULL `ptr` must be valid for writing `cap` values of `T` for the whole call.
    pub unsafe fn new(ptr: *mut T, cap: usize, what: &'static str) -> FfiResult<OutBuf<T>> {
        if ptr.is_null() && cap != 0 {
            return Err(Failure::null_argument(what));
        }
        Ok(OutBuf { ptr, cap, what })
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Fails with `RS2P_ERR_BUFFER_TOO_SMALL` unless `needed` values fit.
    pub fn check_fits(&self, needed: usize) -> FfiResult<()> {
        if needed <= self.cap {
            Ok(())
        } else {
            Err(Failure::buffer_too_small(self.what, needed, self.cap))
        }
    }

    /// Copies `data` to the start of the buffer, failing (writing nothing) if it does not fit.
    pub fn write(&self, data: &[T]) -> FfiResult<()> {
        self.check_fits(data.len())?;
        if !data.is_empty() {
            // SAFETY: data.len() <= cap and ptr is non-NULL (cap > 0) and writable per `new`.
            // `copy` tolerates overlap in case the caller aliased input and output.
            unsafe { std::ptr::copy(data.as_ptr(), self.ptr, data.len()) }
        }
        Ok(())
    }
}
