//! `rs2p_chord_get_op`: a chord read in flight for C — started without waiting, then looked
//! at or waited for (up to a bound the caller picks) as often as needed; its result is kept
//! until the operation is freed, so a too-small buffer costs no second read. Not here: the
//! blocking reads ([`super::chord_table`]) or how reads travel (`crate::proto::chord`).
//!
//! Waiting blocks on the read's answer (`crate::api::PendingGet::wait_until`), never polls.

use super::boundary::{run, run_value, Out};
use super::chord::{rs2p_chord, run_on_chord};
use super::chord_table::{read_result, ReadOut};
use super::error::{Failure, FfiResult};
use super::status::{rs2p_status, RS2P_ERR_PANIC, RS2P_ERR_WOULD_BLOCK};
use super::table_args::key_arg;
use crate::api::{ChordTable, Error, PendingGet};
use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// One chord read in flight or ended (opaque; start with rs2p_chord_get_start, free with
/// rs2p_chord_get_free). Owned by the caller; it stays valid after its node is freed.
pub struct rs2p_chord_get_op {
    state: Mutex<ReadState>,
    /// The node, to see it close while the read waits.
    table: ChordTable,
}

enum ReadState {
    Pending {
        read: PendingGet,
    },
    /// The value's msgpack, or why the read ended without one.
    Ended(FfiResult<Vec<u8>>),
}

/// Starts a majority read of the key (timeout `timeout_ms`; 0: the node's default) and returns
/// at once with `*op`, the read in flight; collect it with rs2p_chord_get_wait and free it
/// with rs2p_chord_get_free. Any number of reads may be in flight. Errors:
/// RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `key` readable for `key_len` bytes; `op` must point to
/// a writable `rs2p_chord_get_op *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_get_start(
    chord: *mut rs2p_chord,
    key: *const u8,
    key_len: usize,
    timeout_ms: u32,
    op: *mut *mut rs2p_chord_get_op,
) -> rs2p_status {
    // SAFETY (all): the pointer contracts documented above.
    unsafe {
        run_on_chord("rs2p_chord_get_start", chord, |chord| {
            let key = key_arg(key, key_len)?;
            let op = Out::new(op, "op")?;
            chord.check_open()?;
            let timeout = chord.read_timeout(timeout_ms);
            let read = chord.table.get_async(key, timeout)?;
            op.set(Box::into_raw(Box::new(rs2p_chord_get_op {
                state: Mutex::new(ReadState::Pending { read }),
                table: chord.table.clone(),
            })));
            Ok(())
        })
    }
}

/// Waits up to `wait_ms` (0: just look) for the read to end. RS2P_ERR_WOULD_BLOCK: it has not
/// ended yet (call again). Otherwise the read's result as for rs2p_chord_get: RS2P_OK with the
/// value's msgpack in `(out, out_cap)` and its length in `*out_len`, RS2P_ERR_NOT_FOUND,
/// RS2P_ERR_NO_MAJORITY, RS2P_ERR_TIMEOUT, RS2P_ERR_CLOSED (the node closed first), or
/// RS2P_ERR_BUFFER_TOO_SMALL with the size needed in `*out_len`. The result stays in the
/// operation: after RS2P_ERR_BUFFER_TOO_SMALL call again with a bigger buffer (no new read).
/// Also RS2P_ERR_NULL_ARGUMENT. Safe to call from several threads (one waits at a time).
///
/// # Safety
/// `op` must be a live operation; `out` writable for `out_cap` bytes; `out_len` a writable
/// size_t.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_get_wait(
    op: *mut rs2p_chord_get_op,
    wait_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> rs2p_status {
    run("rs2p_chord_get_wait", || {
        // SAFETY (all): the pointer contracts documented above.
        let op = unsafe { op.as_ref() }.ok_or_else(|| Failure::null_argument("op"))?;
        let out = unsafe { ReadOut::new(out, out_cap, out_len) }?;
        let until = Instant::now() + Duration::from_millis(u64::from(wait_ms));
        let result = op.wait_for_end(until)?;
        out.write(&result?)
    })
}

/// Frees an operation, ended or not (a read still in flight is abandoned: its answer, when it
/// comes, is dropped). NULL is accepted and does nothing.
///
/// # Safety
/// `op` must be NULL or an operation from rs2p_chord_get_start not freed yet, that no other
/// thread is using.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_get_free(op: *mut rs2p_chord_get_op) {
    run_value("rs2p_chord_get_free", (), || {
        if !op.is_null() {
            // SAFETY: from Box::into_raw in rs2p_chord_get_start, freed once per the contract.
            drop(unsafe { Box::from_raw(op) });
        }
    })
}

fn not_ended() -> Failure {
    Failure::new(
        RS2P_ERR_WOULD_BLOCK,
        "the read has not ended yet; call rs2p_chord_get_wait again (or wait longer)",
    )
}

impl rs2p_chord_get_op {
    /// The read's result once it ended, or RS2P_ERR_WOULD_BLOCK if it has not by `until`.
    /// The outer error is "not ended"; the inner result is the read's.
    fn wait_for_end(&self, until: Instant) -> FfiResult<FfiResult<Vec<u8>>> {
        let left = until.saturating_duration_since(Instant::now());
        let mut state = self.state.try_lock_for(left).ok_or_else(not_ended)?;
        if let ReadState::Pending { read } = &*state {
            let result = if self.table.is_closed() {
                Some(Err(Error::Closed))
            } else {
                read.wait_until(until)
            };
            match result {
                Some(result) => {
                    let key = read.key().to_vec();
                    *state = ReadState::Ended(self.ended(&key, result));
                }
                None => return Err(not_ended()),
            }
        }
        match &*state {
            ReadState::Ended(result) => Ok(result.clone()),
            // Unreachable by construction; reported rather than panicking across the ABI.
            ReadState::Pending { .. } => Err(Failure::new(
                RS2P_ERR_PANIC,
                "internal error: the read operation lost its state; this is a bug in rs2p",
            )),
        }
    }

    /// The read's result as msgpack; a timeout on a node that closed meanwhile is reported as
    /// the close (the read never got its chance).
    fn ended(
        &self,
        key: &[u8],
        result: crate::api::Result<Option<crate::api::Value>>,
    ) -> FfiResult<Vec<u8>> {
        let result = match result {
            Err(Error::Timeout) if self.table.is_closed() => Err(Error::Closed),
            other => other,
        };
        read_result(key, result).map(|value| value.to_bytes())
    }
}
