//! The thread-local detail of the last failed rs2p call (`rs2p_last_error`), and [`Failure`],
//! the status-plus-detail value that exports return internally. Not here: catching panics and
//! checking arguments (see [`super::boundary`]).
//!
//! Only failures write the detail; a successful call leaves it alone. So the string returned by
//! `rs2p_last_error` stays valid and unchanged until the next *failing* rs2p call on the same
//! thread.

use super::status::{
    rs2p_status, status_of_wire_error, RS2P_ERR_BUFFER_TOO_SMALL, RS2P_ERR_INVALID_ARGUMENT,
    RS2P_ERR_NULL_ARGUMENT,
};
use crate::wire::WireError;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// Why an export failed: the code it returns and the detail it leaves for `rs2p_last_error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub status: rs2p_status,
    pub detail: String,
}

/// What exports return internally; the boundary turns it into a status code.
pub type FfiResult<T> = Result<T, Failure>;

impl Failure {
    pub fn new(status: rs2p_status, detail: impl Into<String>) -> Failure {
        Failure {
            status,
            detail: detail.into(),
        }
    }

    /// A required pointer argument named `what` was NULL.
    pub fn null_argument(what: &str) -> Failure {
        Failure::new(
            RS2P_ERR_NULL_ARGUMENT,
            format!("argument `{what}` is NULL; pass a valid pointer"),
        )
    }

    /// An argument is outside its documented range.
    pub fn invalid_argument(detail: impl Into<String>) -> Failure {
        Failure::new(RS2P_ERR_INVALID_ARGUMENT, detail)
    }

    /// The output buffer `what` holds `capacity` bytes but the result needs `needed`.
    pub fn buffer_too_small(what: &str, needed: usize, capacity: usize) -> Failure {
        Failure::new(
            RS2P_ERR_BUFFER_TOO_SMALL,
            format!(
                "output buffer `{what}` has room for {capacity} bytes but {needed} are needed; \
                 call again with a buffer of at least {needed} bytes"
            ),
        )
    }

    /// A wire-layer decoding or encoding error.
    pub fn wire(error: &WireError) -> Failure {
        Failure::new(status_of_wire_error(error), error.to_string())
    }
}

impl From<crate::api::Error> for Failure {
    fn from(error: crate::api::Error) -> Failure {
        Failure::new(
            super::status::status_of_api_error(&error),
            error.to_string(),
        )
    }
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Failure {
        Failure::wire(&error)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `detail` as this thread's last error. Interior NUL bytes (possible when the detail
/// quotes user data) are replaced so the message is never cut short or lost.
pub fn set_last_error(detail: &str) {
    let text = CString::new(detail.replace('\0', "\u{fffd}")).unwrap_or_default();
    // `try_with` fails only while the thread is being torn down; the detail is then unreadable
    // anyway, so dropping it is the right outcome.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

/// The current thread's last error detail, as an owned string ("" if none yet).
pub fn last_error() -> String {
    LAST_ERROR
        .try_with(|slot| slot.borrow().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The detail message of the last failed rs2p call on the calling thread, or "" if no rs2p
/// call has failed on this thread yet. Never NULL. The string belongs to rs2p: do not free it;
/// it stays valid until the next failing rs2p call on the same thread (successful calls leave
/// it unchanged). Copy it if you need it longer.
#[no_mangle]
pub extern "C" fn rs2p_last_error() -> *const c_char {
    let empty = c"".as_ptr();
    super::boundary::run_value("rs2p_last_error", empty, || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(empty)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_belongs_to_the_thread_that_failed() {
        set_last_error("failure on the main test thread");
        let other = std::thread::spawn(|| {
            let before = last_error();
            set_last_error("failure on another thread");
            (before, last_error())
        })
        .join()
        .expect("helper thread");
        assert_eq!(other.0, "");
        assert_eq!(other.1, "failure on another thread");
        assert_eq!(last_error(), "failure on the main test thread");
    }

    #[test]
    fn a_nul_in_the_detail_does_not_lose_the_message() {
        set_last_error("bad\0value");
        assert_eq!(last_error(), "bad\u{fffd}value");
    }
}
