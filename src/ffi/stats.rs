//! `rs2p_mesh_stats`: a node's counters (traffic, drops by reason, redials of lost peers)
//! copied into a plain C struct, and the names of the drop reasons that index its `dropped`
//! array. Not here: the counting (`crate::proto::mesh`,
//! `crate::driver`).

use super::boundary::{run_value, Out};
use super::mesh::{rs2p_mesh, run_on_mesh};
use super::status::rs2p_status;
use crate::api::DropReason;
use crate::proto::mesh::DROP_REASONS;
use std::ffi::{c_char, CStr};

/// Size of `rs2p_mesh_stats.dropped`: room for drop reasons added later (unused entries are 0).
pub const RS2P_DROP_REASONS: usize = 32;

const _: () = assert!(DROP_REASONS <= RS2P_DROP_REASONS);
// The C layout: 8 counters, the drop array, 2 redial counters and 6 reserved ones.
const _: () = assert!(size_of::<rs2p_mesh_stats>() == (8 + RS2P_DROP_REASONS + 2 + 6) * 8);

/// A node's counters, filled in by rs2p_mesh_stats_get.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rs2p_mesh_stats {
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Broadcast frames forwarded to other peers (one per peer it went to).
    pub relayed: u64,
    /// Messages handed to the user (queue or callback).
    pub delivered: u64,
    /// Messages waiting for rs2p_mesh_recv.
    pub queue_len: u64,
    /// Open connections still waiting for their handshake.
    pub pending: u64,
    /// Frames, messages and connections dropped, indexed by drop reason (see
    /// rs2p_drop_reason_str).
    pub dropped: [u64; RS2P_DROP_REASONS],
    /// Redial attempts: dials made to reach again a peer this node had dialled whose
    /// connection was lost (closed by the peer or the network, not by this node), after 1, 2,
    /// 4, 8 and 16 s.
    pub redials: u64,
    /// Lost peers given up on: the last redial attempt failed too.
    pub redials_given_up: u64,
    /// Room for counters added later (0 today), so adding one keeps the struct's size.
    pub reserved: [u64; 6],
}

/// Writes the node's counters to `*out`. Works on a closed node too (the final counts).
/// Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `mesh` must be a live node; `out` must point to a writable rs2p_mesh_stats.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_stats_get(
    mesh: *const rs2p_mesh,
    out: *mut rs2p_mesh_stats,
) -> rs2p_status {
    // SAFETY (both): the pointer contracts documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_stats_get", mesh, |mesh| {
            let out = Out::new(out, "out")?;
            let stats = mesh.node.stats();
            let mut dropped = [0u64; RS2P_DROP_REASONS];
            dropped[..DROP_REASONS].copy_from_slice(&stats.mesh.dropped);
            out.set(rs2p_mesh_stats {
                frames_in: stats.mesh.frames_in,
                frames_out: stats.mesh.frames_out,
                bytes_in: stats.mesh.bytes_in,
                bytes_out: stats.mesh.bytes_out,
                relayed: stats.mesh.relayed,
                delivered: stats.mesh.delivered,
                queue_len: stats.recv_queue_len as u64,
                pending: stats.pending_handshakes as u64,
                dropped,
                redials: stats.mesh.redials,
                redials_given_up: stats.mesh.redials_given_up,
                reserved: [0; 6],
            });
            Ok(())
        })
    }
}

/// The name of a drop reason, in snake case.
fn reason_name(reason: u32) -> &'static CStr {
    const NAMES: [(DropReason, &CStr); DROP_REASONS] = [
        (DropReason::FrameTooLarge, c"frame_too_large"),
        (DropReason::DecompressedTooLarge, c"decompressed_too_large"),
        (DropReason::BadChecksum, c"bad_checksum"),
        (DropReason::BadMsgpack, c"bad_msgpack"),
        (DropReason::BadMessageShape, c"bad_message_shape"),
        (DropReason::WrongProtocol, c"wrong_protocol"),
        (DropReason::HandshakeTimeout, c"handshake_timeout"),
        (DropReason::StalePartialFrame, c"stale_partial_frame"),
        (DropReason::DuplicateConnection, c"duplicate_connection"),
        (DropReason::Expired, c"expired"),
        (DropReason::Duplicate, c"duplicate"),
        (DropReason::UnknownFlag, c"unknown_flag"),
        (DropReason::SlowPeer, c"slow_peer"),
        (DropReason::PeerClosed, c"peer_closed"),
        (DropReason::QueueFull, c"queue_full"),
        (DropReason::TooManyPending, c"too_many_pending"),
    ];
    NAMES
        .iter()
        .find(|(r, _)| *r as u32 == reason)
        .map_or(c"", |(_, name)| name)
}

/// The name of drop reason `reason` (an index of rs2p_mesh_stats.dropped): "frame_too_large",
/// "decompressed_too_large", "bad_checksum", "bad_msgpack", "bad_message_shape",
/// "wrong_protocol", "handshake_timeout", "stale_partial_frame", "duplicate_connection",
/// "expired", "duplicate", "unknown_flag", "slow_peer", "peer_closed", "queue_full",
/// "too_many_pending"; "" for a number with no reason. Static text; never NULL, never freed.
#[no_mangle]
pub extern "C" fn rs2p_drop_reason_str(reason: u32) -> *const c_char {
    run_value("rs2p_drop_reason_str", c"".as_ptr(), || {
        reason_name(reason).as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drop_reason_has_its_own_name_and_unknown_ones_are_empty() {
        let names: std::collections::HashSet<&CStr> =
            (0..DROP_REASONS as u32).map(reason_name).collect();
        assert_eq!(names.len(), DROP_REASONS);
        assert!(!names.contains(c""));
        assert_eq!(reason_name(DropReason::QueueFull as u32), c"queue_full");
        assert_eq!(reason_name(DROP_REASONS as u32), c"");
        assert_eq!(reason_name(u32::MAX), c"");
    }
}
