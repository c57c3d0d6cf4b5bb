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

#[cfg(test)]
mod tests {
    use super::super::error::last_error;
    use super::super::status::{
        RS2P_ERR_BUFFER_TOO_SMALL, RS2P_ERR_INVALID_UTF8_ARGUMENT, RS2P_ERR_NULL_ARGUMENT,
        RS2P_ERR_TRUNCATED,
    };
    use super::*;

    #[test]
    fn a_panic_becomes_a_status_with_its_message() {
        let status = run("rs2p_example", || panic!("deliberate test panic"));
        assert_eq!(status, RS2P_ERR_PANIC);
        let detail = last_error();
        assert!(detail.contains("rs2p_example"), "{detail}");
        assert!(detail.contains("deliberate test panic"), "{detail}");
    }

    #[test]
    fn a_failure_sets_the_detail_and_a_success_keeps_it() {
        let status = run("rs2p_example", || {
            Err(Failure::new(RS2P_ERR_TRUNCATED, "needs more bytes"))
        });
        assert_eq!(status, RS2P_ERR_TRUNCATED);
        assert_eq!(last_error(), "rs2p_example: needs more bytes");
        assert_eq!(run("rs2p_example", || Ok(())), RS2P_OK);
        assert_eq!(last_error(), "rs2p_example: needs more bytes");
    }

    #[test]
    fn run_value_returns_the_fallback_on_panic() {
        assert_eq!(run_value("rs2p_example", 7, || panic!("boom")), 7);
        assert_eq!(run_value("rs2p_example", 7, || 3), 3);
    }

    #[test]
    fn input_bytes_accepts_null_only_when_empty() {
        let empty = unsafe { input_bytes(std::ptr::null(), 0, "data") };
        assert_eq!(empty, Ok(&[][..]));
        let missing = unsafe { input_bytes(std::ptr::null(), 5, "data") };
        let failure = missing.expect_err("NULL with a length");
        assert_eq!(failure.status, RS2P_ERR_NULL_ARGUMENT);
        assert!(failure.detail.contains("`data`"), "{}", failure.detail);
    }

    #[test]
    fn input_str_checks_null_and_utf8() {
        let text = unsafe { input_str(c"mesh".as_ptr(), "subnet") };
        assert_eq!(text, Ok("mesh"));
        let null = unsafe { input_str(std::ptr::null(), "subnet") };
        assert_eq!(null.map_err(|f| f.status), Err(RS2P_ERR_NULL_ARGUMENT));
        let bad = unsafe { input_str(c"ok\xff".as_ptr(), "subnet") };
        let failure = bad.expect_err("invalid UTF-8");
        assert_eq!(failure.status, RS2P_ERR_INVALID_UTF8_ARGUMENT);
        assert!(failure.detail.contains("offset 2"), "{}", failure.detail);
    }

    #[test]
    fn out_buffers_take_null_only_with_zero_capacity_and_never_overflow() {
        let size_query = unsafe { OutBuf::<u8>::new(std::ptr::null_mut(), 0, "out") }
            .expect("NULL with capacity 0 is a size query");
        assert_eq!(
            size_query.write(b"x").map_err(|f| f.status),
            Err(RS2P_ERR_BUFFER_TOO_SMALL)
        );
        let null = unsafe { OutBuf::<u8>::new(std::ptr::null_mut(), 4, "out") };
        assert_eq!(null.err().map(|f| f.status), Some(RS2P_ERR_NULL_ARGUMENT));

        let mut storage = [0u8; 4];
        let out = unsafe { OutBuf::new(storage.as_mut_ptr(), storage.len(), "out") }.expect("buf");
        assert!(out.write(b"12345").is_err());
        out.write(b"1234").expect("fits exactly");
        assert_eq!(&storage, b"1234");
    }

    #[test]
    fn out_params_reject_null_and_write_once() {
        let null = unsafe { Out::<usize>::new(std::ptr::null_mut(), "out_len") };
        assert_eq!(null.err().map(|f| f.status), Some(RS2P_ERR_NULL_ARGUMENT));
        let mut value = 0usize;
        let out = unsafe { Out::new(&mut value, "out_len") }.expect("non-NULL");
        out.set(42);
        assert_eq!(value, 42);
    }
}
