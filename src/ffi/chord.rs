//! `rs2p_chord`: the opaque handle on a running chord node — starting it, its borrowed mesh
//! handle (so every rs2p_mesh_* function works on it), joining and leaving the ring, its
//! counters, closing and freeing. Not here: writes and blocking reads
//! ([`super::chord_table`]), reads in flight ([`super::chord_get`]), key callbacks
//! ([`super::chord_events`]), or the chord rules (`crate::proto::chord`, `crate::api`).
//!
//! Thread safety: every function taking an `rs2p_chord *` may be called from any thread at
//! the same time, except rs2p_chord_free, after which the pointer (and its mesh handle) must
//! not be used.

use super::boundary::{input_str, run, run_value, Out};
use super::chord_events::ChordCallbackSlot;
use super::error::{Failure, FfiResult};
use super::events::CallbackSlot;
use super::mesh::{closed, rs2p_mesh};
use super::mesh_config::rs2p_mesh_config;
use super::status::rs2p_status;
use crate::api::{ChordTable, ChordTableConfig};
use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

/// The read timeout a `get_timeout_ms` of 0 stands for (py2p's 10 s).
const DEFAULT_GET_TIMEOUT: Duration = Duration::from_secs(10);

/// A running chord node (opaque; start with rs2p_chord_new, free with rs2p_chord_free).
pub struct rs2p_chord {
    pub(crate) table: ChordTable,
    /// The mesh handle lent out by rs2p_chord_mesh (marked borrowed); its error record is the
    /// node's last error for chord calls too.
    pub(crate) mesh: Box<rs2p_mesh>,
    pub(crate) callback: ChordCallbackSlot,
    /// What a `timeout_ms` of 0 means for this node's reads.
    pub(crate) get_timeout: Duration,
}

impl rs2p_chord {
    /// RS2P_ERR_CLOSED once the node is closed (by rs2p_chord_close or rs2p_mesh_close).
    pub(crate) fn check_open(&self) -> FfiResult<()> {
        if self.table.is_closed() {
            Err(closed())
        } else {
            Ok(())
        }
    }

    /// The timeout a read's `timeout_ms` argument asks for (0: the node's default).
    pub(crate) fn read_timeout(&self, timeout_ms: u32) -> Duration {
        match timeout_ms {
            0 => self.get_timeout,
            ms => Duration::from_millis(u64::from(ms)),
        }
    }
}

/// Runs an export on the node behind `chord` (NULL is RS2P_ERR_NULL_ARGUMENT); a failure is
/// also recorded as the node's last error (rs2p_mesh_last_error on rs2p_chord_mesh's handle).
///
/// # Safety
/// A non-NULL `chord` must come from rs2p_chord_new and not be freed.
pub(crate) unsafe fn run_on_chord(
    function: &str,
    chord: *const rs2p_chord,
    body: impl FnOnce(&rs2p_chord) -> FfiResult<()>,
) -> rs2p_status {
    run(function, || {
        // SAFETY: the caller's promise above.
        let chord = unsafe { chord.as_ref() }.ok_or_else(|| Failure::null_argument("chord"))?;
        body(chord).inspect_err(|failure| chord.mesh.errors.record(function, failure))
    })
}

/// Starts a chord node: a mesh node on the protocol subnet `subnet` (NULL means "chord",
/// py2p's default; used as is, with no suffix) with the chord layer on it. It starts leeching
/// (reading and writing through storing peers); rs2p_chord_join makes it store data too.
/// `cfg` (may be NULL for the defaults) gives the network settings as for rs2p_mesh_new; its
/// subnet is ignored. `get_timeout_ms` is the default timeout of reads (0 means 10,000).
/// `cfg` is not consumed. On success `*out` is the node; free it with rs2p_chord_free.
/// Errors: those of rs2p_mesh_new, RS2P_ERR_INVALID_UTF8_ARGUMENT (`subnet`).
///
/// # Safety
/// `cfg` NULL or a live config; `subnet` NULL or a NUL-terminated string; `out` must point to
/// a writable `rs2p_chord *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_new(
    cfg: *const rs2p_mesh_config,
    subnet: *const c_char,
    get_timeout_ms: u32,
    out: *mut *mut rs2p_chord,
) -> rs2p_status {
    run("rs2p_chord_new", || {
        // SAFETY (all): the pointer contracts documented above.
        let out = unsafe { Out::new(out, "out") }?;
        let subnet = if subnet.is_null() {
            "chord"
        } else {
            unsafe { input_str(subnet, "subnet") }?
        };
        let node = match unsafe { cfg.as_ref() } {
            Some(cfg) => cfg.config.clone(),
            None => rs2p_mesh_config::defaults(),
        };
        let get_timeout = match get_timeout_ms {
            0 => DEFAULT_GET_TIMEOUT,
            ms => Duration::from_millis(u64::from(ms)),
        };
        let table = ChordTableConfig::new()
            .node(node)
            .subnet(subnet)
            .get_timeout(get_timeout)
            .build()?;
        let mesh = Box::new(rs2p_mesh {
            node: table.node().clone(),
            errors: Arc::default(),
            callback: CallbackSlot::default(),
            borrowed: true,
        });
        let chord = rs2p_chord {
            table,
            mesh,
            callback: ChordCallbackSlot::default(),
            get_timeout,
        };
        out.set(Box::into_raw(Box::new(chord)));
        Ok(())
    })
}

/// The node's mesh handle: every rs2p_mesh_* function works on it (connect, send, recv,
/// peers, stats, set_callback, id, port, last_error, close...). It is borrowed: valid until
/// rs2p_chord_free. rs2p_mesh_free on it does nothing. rs2p_mesh_close on it closes the chord
/// node too (the chord callback's `userdata_free` then runs at rs2p_chord_close or
/// rs2p_chord_free). NULL for NULL.
///
/// # Safety
/// `chord` must be NULL or a live chord node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_mesh(chord: *mut rs2p_chord) -> *mut rs2p_mesh {
    run_value("rs2p_chord_mesh", std::ptr::null_mut(), || {
        // SAFETY: the pointer contract documented above.
        match unsafe { chord.as_ref() } {
            // The mesh functions only read through the pointer (shared access).
            Some(chord) => &*chord.mesh as *const rs2p_mesh as *mut rs2p_mesh,
            None => std::ptr::null_mut(),
        }
    })
}

/// Starts storing data: this node takes its share of the ring from now on (py2p `join`).
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_join(chord: *mut rs2p_chord) -> rs2p_status {
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_chord("rs2p_chord_join", chord, |chord| {
            chord.check_open()?;
            Ok(chord.table.join()?)
        })
    }
}

/// Stops storing (py2p `unjoin`): what this node holds is handed to the storing peers now
/// responsible (kept here when there is none). Errors: RS2P_ERR_NULL_ARGUMENT,
/// RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_unjoin(chord: *mut rs2p_chord) -> rs2p_status {
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_chord("rs2p_chord_unjoin", chord, |chord| {
            chord.check_open()?;
            Ok(chord.table.unjoin()?)
        })
    }
}

/// Writes 1 to `*out` when this node stores data (after rs2p_chord_join, until
/// rs2p_chord_unjoin), 0 otherwise. Works on a closed node too. Errors:
/// RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `chord` must be a live chord node; `out` a writable int32_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_is_joined(
    chord: *const rs2p_chord,
    out: *mut i32,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_is_joined", chord, |chord| {
            let out = Out::new(out, "out")?;
            out.set(i32::from(chord.table.is_joined()));
            Ok(())
        })
    }
}

/// Counters and state of the chord layer, filled in by rs2p_chord_stats_get (the mesh's are
/// in rs2p_mesh_stats_get on rs2p_chord_mesh), as of the node's last input.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rs2p_chord_stats {
    /// Stores sent on towards a key's position.
    pub stores_forwarded: u64,
    /// Retrieves sent on towards a key's position.
    pub retrieves_forwarded: u64,
    /// Retrieves this node answered from what it holds.
    pub retrieves_answered: u64,
    /// Chord messages of the wrong shape (ignored).
    pub bad_messages: u64,
    /// Deltas onto an entry that is not a map (ignored).
    pub bad_deltas: u64,
    /// Copies of writes sent to the ring predecessor.
    pub replicas_sent: u64,
    /// Agreed values written back where a read found other answers.
    pub read_repairs: u64,
    /// Entries handed to a storing peer that is closer to them.
    pub handed_over: u64,
    /// Entries routed again after a storing peer vanished.
    pub restored: u64,
    /// Entries (method, position) held at this node.
    pub stored: u64,
    /// Reads started here that have not ended.
    pub gets_in_flight: u64,
    /// Links to storing nodes.
    pub storing_peers: u64,
    /// Room for counters added later (0 today).
    pub reserved: [u64; 8],
}

/// Writes the chord layer's counters to `*out`. Works on a closed node too. Errors:
/// RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `chord` must be a live chord node; `out` must point to a writable rs2p_chord_stats.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_stats_get(
    chord: *const rs2p_chord,
    out: *mut rs2p_chord_stats,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_stats_get", chord, |chord| {
            let out = Out::new(out, "out")?;
            let snapshot = chord.table.chord_stats();
            let stats = &snapshot.stats;
            let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            out.set(rs2p_chord_stats {
                stores_forwarded: stats.stores_forwarded,
                retrieves_forwarded: stats.retrieves_forwarded,
                retrieves_answered: stats.retrieves_answered,
                bad_messages: stats.bad_messages,
                bad_deltas: stats.bad_deltas,
                replicas_sent: stats.replicas_sent,
                read_repairs: stats.read_repairs,
                handed_over: stats.handed_over,
                restored: stats.restored,
                stored: count(snapshot.stored),
                gets_in_flight: count(snapshot.gets_in_flight),
                storing_peers: count(snapshot.storing_peers),
                reserved: [0; 8],
            });
            Ok(())
        })
    }
}

/// Stops the node (as rs2p_mesh_close does) and removes the chord callback, whose
/// `userdata_free` runs once no call of it is in progress; reads in flight end with
/// RS2P_ERR_CLOSED. Idempotent; safe from inside a callback. Afterwards the node's calls
/// return RS2P_ERR_CLOSED, except rs2p_chord_is_joined, rs2p_chord_stats_get and
/// rs2p_chord_free. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `chord` must be a live chord node.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_close(chord: *mut rs2p_chord) -> rs2p_status {
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_chord("rs2p_chord_close", chord, |chord| {
            close(chord);
            Ok(())
        })
    }
}

fn close(chord: &rs2p_chord) {
    chord.table.close();
    chord.mesh.callback.clear();
    chord.callback.clear();
}

/// Closes the node if needed (see rs2p_chord_close) and frees it with its mesh handle. NULL
/// is accepted and does nothing. Read operations (rs2p_chord_get_op) started on it stay
/// valid and end with RS2P_ERR_CLOSED; free them with rs2p_chord_get_free. Do not call it
/// while another thread still uses `chord` or its mesh handle, nor from a callback.
///
/// # Safety
/// `chord` must be NULL or a node from rs2p_chord_new not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_free(chord: *mut rs2p_chord) {
    run_value("rs2p_chord_free", (), || {
        if !chord.is_null() {
            // SAFETY: from Box::into_raw in rs2p_chord_new, freed once per the contract.
            let chord = unsafe { Box::from_raw(chord) };
            close(&chord);
        }
    })
}
