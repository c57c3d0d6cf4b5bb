//! `rs2p_mesh_config`: the opaque settings builder a C program fills in before starting a node
//! with `rs2p_mesh_new`. Not here: validating the settings against the network (binding the
//! port, refusing "SSL") — that happens when the node starts.

use super::boundary::{input_str, run, Out};
use super::error::{Failure, FfiResult};
use super::status::rs2p_status;
use crate::api::MeshNodeConfig;
use crate::wire::Limits;
use std::ffi::c_char;

/// Settings for a mesh node (opaque; create with rs2p_mesh_config_new, free with
/// rs2p_mesh_config_free). Not thread-safe: fill it in from one thread at a time.
pub struct rs2p_mesh_config {
    pub(crate) config: MeshNodeConfig,
}

impl rs2p_mesh_config {
    /// The defaults the C API documents: those of the Rust API, whose subnet "mesh" is the
    /// default protocol of py2p's and js2p's mesh sockets (`mesh.default_protocol`).
    pub(crate) fn defaults() -> MeshNodeConfig {
        MeshNodeConfig::new()
    }
}

/// The config behind a non-NULL pointer.
///
/// # Safety
/// A non-NULL `cfg` must come from rs2p_mesh_config_new and not be freed yet.
unsafe fn config_mut<'a>(cfg: *mut rs2p_mesh_config) -> FfiResult<&'a mut rs2p_mesh_config> {
    // SAFETY: the caller's promise above.
    unsafe { cfg.as_mut() }.ok_or_else(|| Failure::null_argument("cfg"))
}

/// Creates a config with the defaults: listen on 127.0.0.1 port 0 (a free port), advertise the
/// bind address and the bound port, subnet "mesh" and encryption "Plaintext" (the default
/// protocol of py2p's and js2p's mesh sockets), max_outgoing 4, 16 MiB frame and decompressed limits, a receive queue
/// of 65536 messages, 30 s for a new connection's handshake. Free it with
/// rs2p_mesh_config_free. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `out` must point to a writable `rs2p_mesh_config *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_new(out: *mut *mut rs2p_mesh_config) -> rs2p_status {
    run("rs2p_mesh_config_new", || {
        // SAFETY: the pointer contract documented above.
        let out = unsafe { Out::new(out, "out") }?;
        let config = rs2p_mesh_config {
            config: rs2p_mesh_config::defaults(),
        };
        out.set(Box::into_raw(Box::new(config)));
        Ok(())
    })
}

/// Sets the address to listen on: `host` ("127.0.0.1", "0.0.0.0" for every interface...) and
/// `port` (0 picks a free one; rs2p_mesh_port tells which). Unless rs2p_mesh_config_set_out_addr
/// says otherwise, peers are told to dial this host (this machine's LAN address for
/// "0.0.0.0") and the bound port. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_UTF8_ARGUMENT,
/// RS2P_ERR_INVALID_ARGUMENT (empty host).
///
/// # Safety
/// `cfg` must be a live config; `host` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_bind(
    cfg: *mut rs2p_mesh_config,
    host: *const c_char,
    port: u16,
) -> rs2p_status {
    run("rs2p_mesh_config_set_bind", || {
        // SAFETY (both): the pointer contracts documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        let host = non_empty(unsafe { input_str(host, "host") }?, "host")?;
        cfg.config.bind_host = host.to_owned();
        cfg.config.port = port;
        Ok(())
    })
}

/// Sets the address other nodes are told to dial (for a node behind NAT or bound to
/// "0.0.0.0"). It is also part of the node ID. `port` must not be 0. Errors:
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_UTF8_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config; `host` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_out_addr(
    cfg: *mut rs2p_mesh_config,
    host: *const c_char,
    port: u16,
) -> rs2p_status {
    run("rs2p_mesh_config_set_out_addr", || {
        // SAFETY (both): the pointer contracts documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        let host = non_empty(unsafe { input_str(host, "host") }?, "host")?;
        if port == 0 {
            return Err(Failure::invalid_argument(
                "out address port 0 cannot be dialled; give the port peers should connect to",
            ));
        }
        cfg.config.out_addr = Some((host.to_owned(), port));
        Ok(())
    })
}

/// Sets the protocol: `subnet` (any text, "mesh" by default; nodes with another subnet refuse
/// this one) and `encryption` ("Plaintext"; "SSL" is accepted here but rs2p_mesh_new then
/// fails with RS2P_ERR_UNSUPPORTED in this build). Errors: RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_INVALID_UTF8_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config; `subnet` and `encryption` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_protocol(
    cfg: *mut rs2p_mesh_config,
    subnet: *const c_char,
    encryption: *const c_char,
) -> rs2p_status {
    run("rs2p_mesh_config_set_protocol", || {
        // SAFETY (all three): the pointer contracts documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        let subnet = unsafe { input_str(subnet, "subnet") }?;
        let encryption = unsafe { input_str(encryption, "encryption") }?;
        cfg.config.subnet = subnet.to_owned();
        cfg.config.encryption = encryption.to_owned();
        Ok(())
    })
}

/// Sets how many peers the node dials on its own from the peer lists it learns (default 4;
/// 0 dials only what rs2p_mesh_connect asks for). Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_max_outgoing(
    cfg: *mut rs2p_mesh_config,
    n: u32,
) -> rs2p_status {
    run("rs2p_mesh_config_set_max_outgoing", || {
        // SAFETY: the pointer contract documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        cfg.config.max_outgoing = usize::try_from(n).unwrap_or(usize::MAX);
        Ok(())
    })
}

/// Sets the largest frame body a peer may send and the largest size a compressed body may
/// expand to, in bytes (both 16 MiB by default). Larger frames are dropped and counted (see
/// rs2p_mesh_stats). Both must be at least 64 bytes. Errors: RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_limits(
    cfg: *mut rs2p_mesh_config,
    max_frame_len: u64,
    max_decompressed_len: u64,
) -> rs2p_status {
    run("rs2p_mesh_config_set_limits", || {
        // SAFETY: the pointer contract documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        const SMALLEST: u64 = 64;
        if max_frame_len < SMALLEST || max_decompressed_len < SMALLEST {
            return Err(Failure::invalid_argument(format!(
                "limits {max_frame_len} / {max_decompressed_len} bytes are too small for any \
                 message; use at least {SMALLEST}"
            )));
        }
        let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        cfg.config.limits = Limits {
            max_frame_len: to_usize(max_frame_len),
            max_decompressed_len: to_usize(max_decompressed_len),
            ..cfg.config.limits
        };
        Ok(())
    })
}

/// Sets how many received messages wait for rs2p_mesh_recv (default 65536). When the queue is
/// full newly arrived messages are dropped and counted as "queue_full". 0 means messages go
/// to the callback only. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_queue_capacity(
    cfg: *mut rs2p_mesh_config,
    messages: u64,
) -> rs2p_status {
    run("rs2p_mesh_config_set_queue_capacity", || {
        // SAFETY: the pointer contract documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        cfg.config.recv_queue_capacity = usize::try_from(messages).unwrap_or(usize::MAX);
        Ok(())
    })
}

/// Sets how many seconds a new connection has to complete its handshake before it is closed
/// (default 30; at least 1). Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `cfg` must be a live config.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_set_handshake_timeout(
    cfg: *mut rs2p_mesh_config,
    seconds: u32,
) -> rs2p_status {
    run("rs2p_mesh_config_set_handshake_timeout", || {
        // SAFETY: the pointer contract documented above.
        let cfg = unsafe { config_mut(cfg) }?;
        if seconds == 0 {
            return Err(Failure::invalid_argument(
                "a handshake timeout of 0 s would close every connection; use at least 1",
            ));
        }
        cfg.config.handshake_timeout_s = u64::from(seconds);
        Ok(())
    })
}

/// Frees a config. NULL is accepted and does nothing. Nodes started from it are unaffected.
///
/// # Safety
/// `cfg` must be NULL or a config from rs2p_mesh_config_new not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_config_free(cfg: *mut rs2p_mesh_config) {
    super::boundary::run_value("rs2p_mesh_config_free", (), || {
        if !cfg.is_null() {
            // SAFETY: from Box::into_raw in rs2p_mesh_config_new, freed once per the contract.
            drop(unsafe { Box::from_raw(cfg) });
        }
    })
}

fn non_empty<'a>(text: &'a str, what: &str) -> FfiResult<&'a str> {
    if text.is_empty() {
        Err(Failure::invalid_argument(format!(
            "argument `{what}` is empty; give a host such as \"127.0.0.1\""
        )))
    } else {
        Ok(text)
    }
}
