//! The library's version as C sees it: `rs2p_version()` at run time. The compile-time macros
//! `RS2P_VERSION_MAJOR/MINOR/PATCH` come from `build.rs` into the header. Both follow the
//! crate version in Cargo.toml.

use std::ffi::{c_char, CStr};

/// The crate version, NUL-terminated.
const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("CARGO_PKG_VERSION contains a NUL byte"),
    };

/// The version of the loaded library as static text "MAJOR.MINOR.PATCH" (never NULL, never
/// freed). Compare it with the RS2P_VERSION_* macros of the header you compiled against.
#[no_mangle]
pub extern "C" fn rs2p_version() -> *const c_char {
    super::boundary::run_value("rs2p_version", VERSION.as_ptr(), || VERSION.as_ptr())
}
