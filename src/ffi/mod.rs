//! The C ABI. TODO(ffi helper).
