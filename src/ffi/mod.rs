//! The C ABI: every `extern "C"` function of rs2p, the status codes it returns and the
//! machinery each export runs inside (panic boundary, NULL checks, thread-local error detail).
//!
//! Conventions (see `include/rs2p.h`): functions are `rs2p_<object>_<verb>`, return an
//! [`status::rs2p_status`], and write their out-parameters only on success. Byte data is
//! `(const uint8_t *ptr, size_t len)`; a NULL pointer with length 0 is an empty slice.
//!
//! What is not here: protocol logic. The exports only translate between C and the safe layers
//! below (`crate::wire` today, `crate::api` for the node objects).
//!
//! cbindgen reads this module tree only (not the whole crate), in the order the modules are
//! declared below, so every item meant for the header must be reachable from here.

// Header order: version and status first, then the error detail, then the objects.
pub mod version;

pub mod status;

pub mod error;

pub mod boundary;

pub mod codec;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod mesh_config;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod mesh;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod message;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod events;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod peers;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod stats;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod sync;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod sync_table;
mod table_args;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod sync_events;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod chord;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod chord_table;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod chord_get;

#[allow(non_camel_case_types)] // C names: rs2p_*
pub mod chord_events;
