//! `rs2p_mesh`: the opaque handle on a running mesh node — starting it, its ID and port,
//! dialling, broadcasting, whispering, receiving, the per-node error detail, and closing.
//! Not here: callbacks ([`super::events`]), messages ([`super::message`]), peer lists and
//! counters ([`super::peers`], [`super::stats`]), or any protocol logic (`crate::api`).
//!
//! Thread safety: every function taking an `rs2p_mesh *` may be called from any thread at the
//! same time, except rs2p_mesh_free, after which the pointer must not be used.

use super::boundary::{input_bytes, input_str, run, Out, OutBuf};
use super::error::{Failure, FfiResult};
use super::events::CallbackSlot;
use super::mesh_config::rs2p_mesh_config;
use super::message::rs2p_message;
use super::status::{
    rs2p_status, RS2P_ERR_CLOSED, RS2P_ERR_INVALID_MSGPACK_ARGUMENT, RS2P_ERR_TIMEOUT,
};
use crate::api::{MeshNode, SendMode, Value};
use crate::wire::Limits;
use parking_lot::Mutex;
use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

/// A running mesh node (opaque; start with rs2p_mesh_new, free with rs2p_mesh_free).
pub struct rs2p_mesh {
    pub(crate) node: MeshNode,
    pub(crate) errors: Arc<NodeErrors>,
    pub(crate) callback: CallbackSlot,
    /// Set for the handle another object owns (rs2p_sync_mesh): rs2p_mesh_free ignores it.
    pub(crate) borrowed: bool,
}

/// One byte string: `len` bytes at `ptr` (NULL is allowed when `len` is 0).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rs2p_bytes {
    pub ptr: *const u8,
    pub len: usize,
}

/// The detail of the last failed call on one node, readable from any thread.
#[derive(Default)]
pub(crate) struct NodeErrors {
    last: Mutex<String>,
}

impl NodeErrors {
    pub(crate) fn record(&self, function: &str, failure: &Failure) {
        *self.last.lock() = format!("{function}: {}", failure.detail);
    }
}

/// Runs an export on the node behind `mesh` (NULL is RS2P_ERR_NULL_ARGUMENT); a failure is
/// also recorded as the node's last error.
///
/// # Safety
/// A non-NULL `mesh` must come from rs2p_mesh_new and not be freed.
pub(crate) unsafe fn run_on_mesh(
    function: &str,
    mesh: *const rs2p_mesh,
    body: impl FnOnce(&rs2p_mesh) -> FfiResult<()>,
) -> rs2p_status {
    run(function, || {
        // SAFETY: the caller's promise above.
        let mesh = unsafe { mesh.as_ref() }.ok_or_else(|| Failure::null_argument("mesh"))?;
        body(mesh).inspect_err(|failure| mesh.errors.record(function, failure))
    })
}

impl rs2p_mesh {
    /// RS2P_ERR_CLOSED once rs2p_mesh_close ran.
    pub(crate) fn check_open(&self) -> FfiResult<()> {
        if self.node.is_closed() {
            Err(closed())
        } else {
            Ok(())
        }
    }
}

pub(crate) fn closed() -> Failure {
    Failure::new(
        RS2P_ERR_CLOSED,
        "the node is closed; start a new one with rs2p_mesh_new",
    )
}

/// "Wait as long as needed": long enough for any program, short enough to add to an Instant.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The wait a `timeout_ms` argument asks for: 0 none, > 0 that many ms, -1 without end.
pub(crate) fn wait_of(timeout_ms: i32) -> FfiResult<Duration> {
    match timeout_ms {
        -1 => Ok(FOREVER),
        0.. => Ok(Duration::from_millis(timeout_ms as u64)),
        _ => Err(Failure::invalid_argument(format!(
            "timeout_ms {timeout_ms} is invalid: use 0 (do not wait), a positive number of \
             milliseconds, or -1 (wait as long as needed)"
        ))),
    }
}

fn send_mode_of(timeout_ms: i32) -> FfiResult<SendMode> {
    match wait_of(timeout_ms)? {
        Duration::ZERO => Ok(SendMode::NoWait),
        wait => Ok(SendMode::Block(wait)),
    }
}

/// Packets given as `count` byte strings, each becoming a msgpack bin.
///
/// # Safety
/// A non-NULL `packets` must address `count` `rs2p_bytes`, each valid as documented there.
pub(crate) unsafe fn packets_from_bytes(
    packets: *const rs2p_bytes,
    count: usize,
) -> FfiResult<Vec<Value>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if packets.is_null() {
        return Err(Failure::null_argument("packets"));
    }
    // SAFETY: non-NULL and `count` items long per the caller's promise.
    let list = unsafe { std::slice::from_raw_parts(packets, count) };
    list.iter()
        .enumerate()
        .map(|(index, bytes)| {
            // SAFETY: each item addresses `len` readable bytes per the caller's promise.
            let data = unsafe { input_bytes(bytes.ptr, bytes.len, "packets[i].ptr") }
                .map_err(|f| Failure::new(f.status, format!("packet {index}: {}", f.detail)))?;
            Ok(Value::Bin(data.to_vec()))
        })
        .collect()
}

/// Packets given as one msgpack array of any values.
///
/// # Safety
/// A non-NULL `packed` must address `len` readable bytes.
pub(crate) unsafe fn packets_from_msgpack(packed: *const u8, len: usize) -> FfiResult<Vec<Value>> {
    // SAFETY: the caller's promise.
    let bytes = unsafe { input_bytes(packed, len, "packets") }?;
    let invalid = |why: String| {
        Failure::new(
            RS2P_ERR_INVALID_MSGPACK_ARGUMENT,
            format!("argument `packets` {why}; pass one msgpack array of the packets"),
        )
    };
    match Value::decode(bytes, Limits::DEFAULT.max_depth) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(invalid("is msgpack but not an array".into())),
        Err(error) => Err(invalid(format!("is not valid msgpack ({error})"))),
    }
}

/// Starts a node: binds its listening socket, derives its ID and starts its I/O and
/// dispatcher threads. `cfg` may be NULL for the defaults (see rs2p_mesh_config_new); it is
/// not consumed and may be freed at once. On success `*out` is the node; free it with
/// rs2p_mesh_free. Errors: RS2P_ERR_NULL_ARGUMENT (`out`), RS2P_ERR_ADDR_IN_USE,
/// RS2P_ERR_UNSUPPORTED ("SSL"), RS2P_ERR_INVALID_ARGUMENT (unknown encryption, empty host),
/// RS2P_ERR_IO.
///
/// # Safety
/// `cfg` must be NULL or a live config; `out` must point to a writable `rs2p_mesh *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_new(
    cfg: *const rs2p_mesh_config,
    out: *mut *mut rs2p_mesh,
) -> rs2p_status {
    run("rs2p_mesh_new", || {
        // SAFETY (both): the pointer contracts documented above.
        let out = unsafe { Out::new(out, "out") }?;
        let config = match unsafe { cfg.as_ref() } {
            Some(cfg) => cfg.config.clone(),
            None => rs2p_mesh_config::defaults(),
        };
        let node = MeshNode::new(config)?;
        let mesh = rs2p_mesh {
            node,
            errors: Arc::default(),
            callback: CallbackSlot::default(),
            borrowed: false,
        };
        out.set(Box::into_raw(Box::new(mesh)));
        Ok(())
    })
}

/// Writes the node's ID (base58 text, as py2p shows it) into `out` with a terminating NUL, and
/// its length without the NUL into `*out_len`. Pass NULL and 0 to ask for the size:
/// RS2P_ERR_BUFFER_TOO_SMALL sets `*out_len` to the ID's length (`*out_len + 1` bytes are
/// needed) and leaves `out` untouched. Works on a closed node too.
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_BUFFER_TOO_SMALL.
///
/// # Safety
/// `mesh` must be a live node; `out` writable for `out_cap` bytes; `out_len` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_id(
    mesh: *const rs2p_mesh,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_id", mesh, |mesh| {
            write_text(mesh.node.id(), out, out_cap, out_len)
        })
    }
}

/// Copies `text` and a NUL into `(out, out_cap)`, its length into `*out_len`.
///
/// # Safety
/// `out` writable for `out_cap` bytes (or NULL with 0); `out_len` NULL or a writable size_t.
pub(crate) unsafe fn write_text(
    text: &str,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> FfiResult<()> {
    // SAFETY (both): the caller's promises.
    let out = unsafe { OutBuf::new(out.cast::<u8>(), out_cap, "out") }?;
    let out_len = unsafe { Out::new(out_len, "out_len") }?;
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    if let Err(failure) = out.check_fits(bytes.len()) {
        out_len.set(text.len());
        return Err(failure);
    }
    out.write(&bytes)?;
    out_len.set(text.len());
    Ok(())
}

/// Writes the port the node listens on (the one picked when configured with port 0) to
/// `*out`. Works on a closed node too. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `mesh` must be a live node; `out` a writable uint16_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_port(mesh: *const rs2p_mesh, out: *mut u16) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_port", mesh, |mesh| {
            let out = Out::new(out, "out")?;
            out.set(mesh.node.local_port());
            Ok(())
        })
    }
}

/// Starts dialling `host:port` and returns at once. The handshake follows in the background:
/// an RS2P_EVENT_CONNECT event or rs2p_mesh_peers shows the new peer; a dial that fails is
/// not reported. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_UTF8_ARGUMENT,
/// RS2P_ERR_INVALID_ARGUMENT (empty host, port 0), RS2P_ERR_CLOSED.
///
/// # Safety
/// `mesh` must be a live node; `host` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_connect(
    mesh: *mut rs2p_mesh,
    host: *const c_char,
    port: u16,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_connect", mesh, |mesh| {
            let host = input_str(host, "host")?;
            mesh.check_open()?;
            Ok(mesh.node.connect_in_background(host, port)?)
        })
    }
}

/// Broadcasts one message to the whole network; its packets are the `count` byte strings of
/// `packets` (each sent as msgpack bin; NULL is allowed when `count` is 0). `timeout_ms` says
/// what to do while the node pushes back (its write buffers are full): 0 fail at once with
/// RS2P_ERR_WOULD_BLOCK, > 0 wait up to that many milliseconds then RS2P_ERR_TIMEOUT, -1 wait
/// as long as needed. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT (timeout below
/// -1), RS2P_ERR_WOULD_BLOCK, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `mesh` must be a live node; `packets` readable for `count` items, each `ptr` readable for
/// its `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_send(
    mesh: *mut rs2p_mesh,
    packets: *const rs2p_bytes,
    count: usize,
    timeout_ms: i32,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_send", mesh, |mesh| {
            let packets = packets_from_bytes(packets, count)?;
            let mode = send_mode_of(timeout_ms)?;
            mesh.check_open()?;
            Ok(mesh.node.send_with(packets, mode)?)
        })
    }
}

/// Broadcasts one message with an explicit sub-flag (0x00, broadcast, is the usual one; py2p
/// lets users pick others) and packets given as one msgpack array of any values (`len` bytes
/// at `packets`). `timeout_ms` as for rs2p_mesh_send. Note that rs2p and py2p receivers hand
/// their users sub-flags 0x00 and 0x02 only. Errors: those of rs2p_mesh_send and
/// RS2P_ERR_INVALID_MSGPACK_ARGUMENT.
///
/// # Safety
/// `mesh` must be a live node; `packets` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_send_msgpack(
    mesh: *mut rs2p_mesh,
    sub_flag: u8,
    packets: *const u8,
    len: usize,
    timeout_ms: i32,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_send_msgpack", mesh, |mesh| {
            let packets = packets_from_msgpack(packets, len)?;
            let mode = send_mode_of(timeout_ms)?;
            mesh.check_open()?;
            Ok(mesh.node.send_sub_flag(sub_flag, packets, mode)?)
        })
    }
}

/// Sends one message to a connected peer only (`peer_id`: its ID as base58 text); packets as
/// for rs2p_mesh_send. Waits while the node pushes back (up to 10 s, then RS2P_ERR_TIMEOUT).
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_UTF8_ARGUMENT, RS2P_ERR_UNKNOWN_PEER (not
/// a handshaken neighbour), RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `mesh` must be a live node; `peer_id` a NUL-terminated string; `packets` as for
/// rs2p_mesh_send.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_whisper(
    mesh: *mut rs2p_mesh,
    peer_id: *const c_char,
    packets: *const rs2p_bytes,
    count: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_whisper", mesh, |mesh| {
            let peer = input_str(peer_id, "peer_id")?;
            let packets = packets_from_bytes(packets, count)?;
            mesh.check_open()?;
            Ok(mesh.node.whisper(peer, packets)?)
        })
    }
}

/// Whispers with an explicit sub-flag (0x02, whisper, is the usual one), packets given as one
/// msgpack array of any values. Errors: those of rs2p_mesh_whisper and
/// RS2P_ERR_INVALID_MSGPACK_ARGUMENT.
///
/// # Safety
/// `mesh` must be a live node; `peer_id` a NUL-terminated string; `packets` readable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_whisper_msgpack(
    mesh: *mut rs2p_mesh,
    peer_id: *const c_char,
    sub_flag: u8,
    packets: *const u8,
    len: usize,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_whisper_msgpack", mesh, |mesh| {
            let peer = input_str(peer_id, "peer_id")?;
            let packets = packets_from_msgpack(packets, len)?;
            mesh.check_open()?;
            Ok(mesh.node.whisper_sub_flag(peer, sub_flag, packets)?)
        })
    }
}

/// Takes the oldest received message (broadcast or whisper) into `*out`; free it with
/// rs2p_message_free. `timeout_ms`: 0 do not wait, > 0 wait up to that many milliseconds, -1
/// wait as long as needed. Errors: RS2P_ERR_TIMEOUT (nothing arrived in time),
/// RS2P_ERR_CLOSED (the node is closed, also when that happens during the wait),
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT (timeout below -1).
///
/// # Safety
/// `mesh` must be a live node; `out` must point to a writable `rs2p_message *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_recv(
    mesh: *mut rs2p_mesh,
    timeout_ms: i32,
    out: *mut *mut rs2p_message,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_recv", mesh, |mesh| {
            let out = Out::new(out, "out")?;
            let wait = wait_of(timeout_ms)?;
            mesh.check_open()?;
            match mesh.node.recv(wait) {
                Some(message) if !mesh.node.is_closed() => {
                    let message = rs2p_message::new(message, mesh.errors.clone());
                    out.set(Box::into_raw(Box::new(message)));
                    Ok(())
                }
                Some(_) => Err(closed()),
                None if mesh.node.is_closed() => Err(closed()),
                None => Err(Failure::new(
                    RS2P_ERR_TIMEOUT,
                    format!("no message arrived within {timeout_ms} ms"),
                )),
            }
        })
    }
}

/// Writes the detail of the last failed call on this node (any thread's call, so it works
/// where the thread-local rs2p_last_error is out of reach, such as worker threads) into `out`
/// with a NUL, and its length into `*out_len`; "" if no call on the node failed yet. Pass NULL
/// and 0 to ask for the size (RS2P_ERR_BUFFER_TOO_SMALL sets `*out_len`). Works on a closed
/// node too. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_BUFFER_TOO_SMALL (not recorded as the
/// node's last error, so a size query keeps the detail).
///
/// # Safety
/// `mesh` must be a live node; `out` writable for `out_cap` bytes; `out_len` a writable size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_last_error(
    mesh: *const rs2p_mesh,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    run("rs2p_mesh_last_error", || {
        // SAFETY (all): the pointer contracts documented above.
        let mesh = unsafe { mesh.as_ref() }.ok_or_else(|| Failure::null_argument("mesh"))?;
        let detail = mesh.errors.last.lock().clone();
        unsafe { write_text(&detail, out, out_cap, out_len) }
    })
}

/// Stops the node: closes every connection and the listening socket and stops its threads;
/// when it returns the port is free. Idempotent (a second call returns RS2P_OK). Safe from
/// inside a callback (the dispatcher thread then ends when the callback returns). The
/// callback's `userdata_free` runs once no callback call is in progress. Afterwards the node's
/// calls return RS2P_ERR_CLOSED, except rs2p_mesh_id, rs2p_mesh_port, rs2p_mesh_stats_get,
/// rs2p_mesh_last_error and rs2p_mesh_free. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `mesh` must be a live node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_close(mesh: *mut rs2p_mesh) -> rs2p_status {
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_close", mesh, |mesh| {
            mesh.node.close();
            mesh.callback.clear();
            Ok(())
        })
    }
}

/// Closes the node if needed (see rs2p_mesh_close) and frees it. NULL is accepted and does
/// nothing. Messages received from the node stay valid (replying to them then fails with
/// RS2P_ERR_CLOSED). Do not call it while another thread still uses `mesh`. A borrowed
/// handle (from rs2p_sync_mesh) is left alone: its owner frees it.
///
/// # Safety
/// `mesh` must be NULL, a node from rs2p_mesh_new not freed yet, or a borrowed handle whose
/// owner is alive.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_free(mesh: *mut rs2p_mesh) {
    super::boundary::run_value("rs2p_mesh_free", (), || {
        // SAFETY: NULL or a live handle per the contract; only a field is read.
        if !mesh.is_null() && !unsafe { (*mesh).borrowed } {
            // SAFETY: from Box::into_raw in rs2p_mesh_new, freed once per the contract.
            let mesh = unsafe { Box::from_raw(mesh) };
            mesh.node.close();
            mesh.callback.clear();
        }
    })
}
