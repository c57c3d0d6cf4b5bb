//! `rs2p_peer_list`: a snapshot of a node's handshaken peers (ID, advertised address,
//! direction) for C. Not here: choosing or dialling peers (`crate::proto::mesh`).

use super::boundary::{run_value, Out};
use super::mesh::{rs2p_mesh, run_on_mesh};
use super::status::rs2p_status;
use crate::api::Direction;
use std::ffi::{c_char, CString};

/// The handshaken peers of a node at one moment (opaque; free with rs2p_peer_list_free).
/// Read-only, so any number of threads may read it at once.
pub struct rs2p_peer_list {
    peers: Vec<PeerEntry>,
}

struct PeerEntry {
    id: CString,
    host: CString,
    port: u16,
    outgoing: bool,
}

fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// Writes a snapshot of the node's handshaken peers to `*out`; free it with
/// rs2p_peer_list_free. Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `mesh` must be a live node; `out` must point to a writable `rs2p_peer_list *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_peers(
    mesh: *const rs2p_mesh,
    out: *mut *mut rs2p_peer_list,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_peers", mesh, |mesh| {
            let out = Out::new(out, "out")?;
            mesh.check_open()?;
            let peers = mesh
                .node
                .peers()
                .into_iter()
                .map(|p| PeerEntry {
                    id: c_text(&p.id),
                    host: c_text(&p.host),
                    port: p.port,
                    outgoing: p.direction == Direction::Outgoing,
                })
                .collect();
            out.set(Box::into_raw(Box::new(rs2p_peer_list { peers })));
            Ok(())
        })
    }
}

/// The entry `index` of `list`, if both exist.
///
/// # Safety
/// `list` must be NULL or a live peer list.
unsafe fn entry<'a>(list: *const rs2p_peer_list, index: usize) -> Option<&'a PeerEntry> {
    // SAFETY: the caller's promise.
    unsafe { list.as_ref() }.and_then(|l| l.peers.get(index))
}

/// How many peers the list holds; 0 for NULL.
///
/// # Safety
/// `list` must be NULL or a live peer list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_len(list: *const rs2p_peer_list) -> usize {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_peer_list_len", 0, || {
        unsafe { list.as_ref() }.map_or(0, |l| l.peers.len())
    })
}

/// Peer `index`'s ID (base58 text, NUL-terminated), living as long as the list; NULL if
/// `list` is NULL or `index` is out of range.
///
/// # Safety
/// `list` must be NULL or a live peer list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_id(
    list: *const rs2p_peer_list,
    index: usize,
) -> *const c_char {
    run_value("rs2p_peer_list_id", std::ptr::null(), || {
        // SAFETY: the pointer contract documented above.
        unsafe { entry(list, index) }.map_or(std::ptr::null(), |p| p.id.as_ptr())
    })
}

/// The host peer `index` advertised (where it accepts connections), living as long as the
/// list; NULL if `list` is NULL or `index` is out of range.
///
/// # Safety
/// `list` must be NULL or a live peer list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_host(
    list: *const rs2p_peer_list,
    index: usize,
) -> *const c_char {
    run_value("rs2p_peer_list_host", std::ptr::null(), || {
        // SAFETY: the pointer contract documented above.
        unsafe { entry(list, index) }.map_or(std::ptr::null(), |p| p.host.as_ptr())
    })
}

/// The port peer `index` advertised; 0 if `list` is NULL or `index` is out of range.
///
/// # Safety
/// `list` must be NULL or a live peer list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_port(list: *const rs2p_peer_list, index: usize) -> u16 {
    run_value("rs2p_peer_list_port", 0, || {
        // SAFETY: the pointer contract documented above.
        unsafe { entry(list, index) }.map_or(0, |p| p.port)
    })
}

/// 1 if this node dialled peer `index`, 0 if the peer dialled it; -1 if `list` is NULL or
/// `index` is out of range.
///
/// # Safety
/// `list` must be NULL or a live peer list.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_outgoing(list: *const rs2p_peer_list, index: usize) -> i32 {
    run_value("rs2p_peer_list_outgoing", -1, || {
        // SAFETY: the pointer contract documented above.
        unsafe { entry(list, index) }.map_or(-1, |p| i32::from(p.outgoing))
    })
}

/// Frees a peer list. NULL is accepted and does nothing.
///
/// # Safety
/// `list` must be NULL or a list from rs2p_mesh_peers not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_peer_list_free(list: *mut rs2p_peer_list) {
    run_value("rs2p_peer_list_free", (), || {
        if !list.is_null() {
            // SAFETY: from Box::into_raw in rs2p_mesh_peers, freed once per the contract.
            drop(unsafe { Box::from_raw(list) });
        }
    })
}
