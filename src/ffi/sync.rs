//! `rs2p_sync`: the opaque handle on a running sync-table node — starting it, its borrowed
//! mesh handle (so every rs2p_mesh_* function works on it), its counters, closing and freeing.
//! Not here: reading and writing the table ([`super::sync_table`]), table callbacks
//! ([`super::sync_events`]), or the table's rules (`crate::proto::sync`, `crate::api`).
//!
//! Thread safety: every function taking an `rs2p_sync *` may be called from any thread at the
//! same time, except rs2p_sync_free, after which the pointer (and its mesh handle) must not be
//! used.

use super::boundary::{input_str, run, run_value, Out};
use super::error::{Failure, FfiResult};
use super::events::CallbackSlot;
use super::mesh::{closed, rs2p_mesh};
use super::mesh_config::rs2p_mesh_config;
use super::status::rs2p_status;
use super::sync_events::SyncCallbackSlot;
use crate::api::{SyncTable, SyncTableConfig};
use crate::proto::sync::Refusal;
use std::ffi::c_char;
use std::sync::Arc;

/// A running sync-table node (opaque; start with rs2p_sync_new, free with rs2p_sync_free).
pub struct rs2p_sync {
    pub(crate) table: SyncTable,
    /// The mesh handle lent out by rs2p_sync_mesh (marked borrowed); its error record is the
    /// node's last error for sync calls too.
    pub(crate) mesh: Box<rs2p_mesh>,
    pub(crate) callback: SyncCallbackSlot,
}

impl rs2p_sync {
    /// RS2P_ERR_CLOSED once the node is closed (by rs2p_sync_close or rs2p_mesh_close).
    pub(crate) fn check_open(&self) -> FfiResult<()> {
        if self.table.is_closed() {
            Err(closed())
        } else {
            Ok(())
        }
    }
}

/// Runs an export on the node behind `sync` (NULL is RS2P_ERR_NULL_ARGUMENT); a failure is
/// also recorded as the node's last error (rs2p_mesh_last_error on rs2p_sync_mesh's handle).
///
/// # Safety
/// A non-NULL `sync` must come from rs2p_sync_new and not be freed.
pub(crate) unsafe fn run_on_sync(
    function: &str,
    sync: *const rs2p_sync,
    body: impl FnOnce(&rs2p_sync) -> FfiResult<()>,
) -> rs2p_status {
    run(function, || {
        // SAFETY: the caller's promise above.
        let sync = unsafe { sync.as_ref() }.ok_or_else(|| Failure::null_argument("sync"))?;
        body(sync).inspect_err(|failure| sync.mesh.errors.record(function, failure))
    })
}

/// Starts a sync-table node: a mesh node whose protocol subnet is `subnet` plus "1" when
/// `leasing` is non-zero (py2p's default: a key's writer holds it for an hour) or "0" when it
/// is 0. `cfg` (may be NULL for the defaults) gives the network settings as for rs2p_mesh_new;
/// its subnet is ignored. `subnet` NULL means "sync". `cfg` is not consumed. On success `*out`
/// is the node; free it with rs2p_sync_free. Errors: those of rs2p_mesh_new,
/// RS2P_ERR_INVALID_UTF8_ARGUMENT (`subnet`).
///
/// # Safety
/// `cfg` NULL or a live config; `subnet` NULL or a NUL-terminated string; `out` must point to
/// a writable `rs2p_sync *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_new(
    cfg: *const rs2p_mesh_config,
    subnet: *const c_char,
    leasing: i32,
    out: *mut *mut rs2p_sync,
) -> rs2p_status {
    run("rs2p_sync_new", || {
        // SAFETY (all): the pointer contracts documented above.
        let out = unsafe { Out::new(out, "out") }?;
        let subnet = if subnet.is_null() {
            "sync"
        } else {
            unsafe { input_str(subnet, "subnet") }?
        };
        let node = match unsafe { cfg.as_ref() } {
            Some(cfg) => cfg.config.clone(),
            None => rs2p_mesh_config::defaults(),
        };
        let table = SyncTableConfig::new()
            .node(node)
            .subnet(subnet)
            .leasing(leasing != 0)
            .build()?;
        let mesh = Box::new(rs2p_mesh {
            node: table.node().clone(),
            errors: Arc::default(),
            callback: CallbackSlot::default(),
            borrowed: true,
        });
        let sync = rs2p_sync {
            table,
            mesh,
            callback: SyncCallbackSlot::default(),
        };
        out.set(Box::into_raw(Box::new(sync)));
        Ok(())
    })
}

/// The node's mesh handle: every rs2p_mesh_* function works on it (connect, send, recv,
/// peers, stats, set_callback, id, port, last_error, close...). It is borrowed: valid until
/// rs2p_sync_free. rs2p_mesh_free on it does nothing. rs2p_mesh_close on it closes the sync
/// node too (the sync callback's `userdata_free` then runs at rs2p_sync_close or
/// rs2p_sync_free). NULL for NULL.
///
/// # Safety
/// `sync` must be NULL or a live sync node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_mesh(sync: *mut rs2p_sync) -> *mut rs2p_mesh {
    run_value("rs2p_sync_mesh", std::ptr::null_mut(), || {
        // SAFETY: the pointer contract documented above.
        match unsafe { sync.as_ref() } {
            // The mesh functions only read through the pointer (shared access).
            Some(sync) => &*sync.mesh as *const rs2p_mesh as *mut rs2p_mesh,
            None => std::ptr::null_mut(),
        }
    })
}

/// Counters of the sync layer, filled in by rs2p_sync_stats_get. Remote writes only: local
/// writes are refused at once with a status code instead.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rs2p_sync_stats {
    /// Remote stores, deletes, deltas and handshake-dump entries applied to the table.
    pub accepted: u64,
    /// Remote writes refused because another node holds the key's lease.
    pub refused_leased: u64,
    /// Remote deltas ignored because the key holds something other than a map.
    pub refused_delta_on_non_map: u64,
    /// Handshake-dump entries ignored because the key already holds a value.
    pub ignored_dump_entries: u64,
    /// Handshake-dump entries that changed our table and were passed on (whispered) to our
    /// other neighbours.
    pub dump_entries_passed_on: u64,
    /// (neighbour, entry) pairs not passed on because that neighbour already holds the key
    /// (it listed the key to us, or it received our own dump after the entry arrived).
    pub pass_on_skipped: u64,
    /// Room for counters added later (0 today).
    pub reserved: [u64; 6],
}

// The size C callers were built with: 12 counters (6 of them reserved).
const _: () = assert!(size_of::<rs2p_sync_stats>() == 12 * 8);

/// Writes the sync layer's counters to `*out` (the mesh's are in rs2p_mesh_stats_get on
/// rs2p_sync_mesh). Works on a closed node too. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `sync` must be a live sync node; `out` must point to a writable rs2p_sync_stats.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_stats_get(
    sync: *const rs2p_sync,
    out: *mut rs2p_sync_stats,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_sync("rs2p_sync_stats_get", sync, |sync| {
            let out = Out::new(out, "out")?;
            let stats = sync.table.sync_stats();
            out.set(rs2p_sync_stats {
                accepted: stats.accepted,
                refused_leased: stats.refused(Refusal::Leased),
                refused_delta_on_non_map: stats.refused(Refusal::NotAMap),
                ignored_dump_entries: stats.refused(Refusal::HoldingValue),
                dump_entries_passed_on: stats.dump_entries_passed_on,
                pass_on_skipped: stats.pass_on_skipped,
                reserved: [0; 6],
            });
            Ok(())
        })
    }
}

/// Stops the node (as rs2p_mesh_close does) and removes the sync callback, whose
/// `userdata_free` runs once no call of it is in progress. Idempotent; safe from inside a
/// callback. Afterwards the table's calls return RS2P_ERR_CLOSED, except rs2p_sync_stats_get
/// and rs2p_sync_free. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `sync` must be a live sync node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_close(sync: *mut rs2p_sync) -> rs2p_status {
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_sync("rs2p_sync_close", sync, |sync| {
            close(sync);
            Ok(())
        })
    }
}

fn close(sync: &rs2p_sync) {
    sync.table.close();
    sync.mesh.callback.clear();
    sync.callback.clear();
}

/// Closes the node if needed (see rs2p_sync_close) and frees it with its mesh handle. NULL is
/// accepted and does nothing. Do not call it while another thread still uses `sync` or its
/// mesh handle, nor from a callback.
///
/// # Safety
/// `sync` must be NULL or a node from rs2p_sync_new not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_free(sync: *mut rs2p_sync) {
    run_value("rs2p_sync_free", (), || {
        if !sync.is_null() {
            // SAFETY: from Box::into_raw in rs2p_sync_new, freed once per the contract.
            let sync = unsafe { Box::from_raw(sync) };
            close(&sync);
        }
    })
}
