//! The safe Rust API. TODO(driver work).
