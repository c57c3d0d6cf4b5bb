//! Table events for C: each update and delete of an `rs2p_sync` table handed to one
//! registered function on the node's dispatcher thread, with the C user data and its
//! destructor. Not here: mesh events (connects, messages: [`super::events`] on the borrowed
//! mesh handle) or the dispatcher itself (`crate::api::SyncTable::on_sync_event`).

use super::events::rs2p_userdata_free;
use super::status::rs2p_status;
use super::sync::{rs2p_sync, run_on_sync};
use crate::api::SyncEvent;
use parking_lot::Mutex;
use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What changed, in `rs2p_sync_event.kind`.
/// cbindgen:prefix-with-name=false
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rs2p_sync_event_kind {
    /// The key now holds a new value (`value`, `owner` and `time` set).
    RS2P_SYNC_EVENT_UPDATE = 1,
    /// The key and its metadata are gone (`value` NULL, `owner` "", `time` 0).
    RS2P_SYNC_EVENT_DELETE = 2,
}

/// One table change given to a sync callback. It and everything it points to are valid only
/// during the callback call: copy what you need.
#[repr(C)]
pub struct rs2p_sync_event {
    /// What changed (an int32_t in C).
    pub kind: rs2p_sync_event_kind,
    /// The key's bytes (not NUL-terminated; may be empty).
    pub key: *const u8,
    pub key_len: usize,
    /// The msgpack of the new value (after a delta, the merged map); NULL and 0 for a delete.
    pub value: *const u8,
    pub value_len: usize,
    /// The writer's node ID (base58 text, NUL-terminated); "" for a delete.
    pub owner: *const c_char,
    /// When the writer wrote (Unix seconds by its clock); 0 for a delete.
    pub time: i64,
}

/// A sync callback: `userdata` is the pointer given to rs2p_sync_set_callback; `ev` is valid
/// only during the call.
pub type rs2p_sync_event_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, ev: *const rs2p_sync_event)>;

/// A registered C sync callback; dropping the last reference runs `userdata_free`.
struct SyncRegistration {
    callback: unsafe extern "C" fn(*mut c_void, *const rs2p_sync_event),
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
}

// SAFETY: the C caller hands `userdata` to rs2p to be used from the dispatcher thread (and
// freed from whichever thread drops the registration), as rs2p_sync_set_callback documents.
unsafe impl Send for SyncRegistration {}
// SAFETY: as above; rs2p never touches `userdata` itself, it only passes it back.
unsafe impl Sync for SyncRegistration {}

impl Drop for SyncRegistration {
    fn drop(&mut self) {
        if let Some(free) = self.userdata_free {
            // SAFETY: the function the caller registered, called once with its own pointer.
            let _ = std::panic::catch_unwind(|| unsafe { free(self.userdata) });
        }
    }
}

/// The node's current C sync callback, if any.
#[derive(Default)]
pub(crate) struct SyncCallbackSlot {
    current: Arc<Mutex<Option<Arc<SyncRegistration>>>>,
    installed: AtomicBool,
}

impl SyncCallbackSlot {
    /// Removes the callback; its `userdata_free` runs when no call is in progress.
    pub(crate) fn clear(&self) {
        let old = self.current.lock().take();
        drop(old);
    }
}

/// Calls the registered C function, if any, with `event`.
fn deliver(slot: &Mutex<Option<Arc<SyncRegistration>>>, event: &SyncEvent) {
    // Cloned out, so the lock is not held while C code runs (it may replace the callback).
    let Some(registration) = slot.lock().clone() else {
        return;
    };
    let (kind, key, value, owner, time) = match event {
        SyncEvent::Update {
            key,
            value,
            owner,
            time,
        } => (
            rs2p_sync_event_kind::RS2P_SYNC_EVENT_UPDATE,
            key,
            Some(value.to_bytes()),
            owner.as_str(),
            *time,
        ),
        SyncEvent::Delete { key } => (
            rs2p_sync_event_kind::RS2P_SYNC_EVENT_DELETE,
            key,
            None,
            "",
            0,
        ),
    };
    let owner = CString::new(owner.replace('\0', "\u{fffd}")).unwrap_or_default();
    let event = rs2p_sync_event {
        kind,
        key: key.as_ptr(),
        key_len: key.len(),
        value: value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
        value_len: value.as_ref().map_or(0, Vec::len),
        owner: owner.as_ptr(),
        time,
    };
    // SAFETY: the registered C function, given its own user data and an event that lives
    // until it returns.
    unsafe { (registration.callback)(registration.userdata, &event) };
}

/// Sets the node's callback for table changes (local and remote writes, deletes, deltas,
/// handshake-dump entries), replacing any previous one (whose `userdata_free` then runs, once
/// no call of it is in progress). `cb` NULL removes it. Changes made before the first
/// callback is set are not reported. Mesh events go to rs2p_mesh_set_callback on
/// rs2p_sync_mesh's handle.
///
/// The callback runs on the node's dispatcher thread, one change at a time, in the order the
/// table changed. It may call any rs2p function, rs2p_sync_close included (not
/// rs2p_sync_free). `ev` and everything it points to are valid only during the call.
///
/// With a non-NULL `cb`, rs2p takes charge of `userdata`: `userdata_free` (may be NULL) runs
/// exactly once with it — when the callback is replaced or removed, at rs2p_sync_close or
/// rs2p_sync_free, or at once if this call fails — never while a call of `cb` is in progress;
/// it may run on any thread. With `cb` NULL, `userdata` and `userdata_free` are ignored.
/// Errors: RS2P_ERR_NULL_ARGUMENT (`sync`), RS2P_ERR_CLOSED.
///
/// # Safety
/// `sync` must be a live sync node; `cb` and `userdata_free` valid functions or NULL;
/// `userdata` usable from other threads as the callback needs.
#[no_mangle]
pub unsafe extern "C" fn rs2p_sync_set_callback(
    sync: *mut rs2p_sync,
    cb: rs2p_sync_event_cb,
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
) -> rs2p_status {
    // Taken in charge first, so `userdata_free` runs exactly once whatever happens below.
    let registration = cb.map(|callback| {
        Arc::new(SyncRegistration {
            callback,
            userdata,
            userdata_free,
        })
    });
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_sync("rs2p_sync_set_callback", sync, move |sync| {
            let Some(registration) = registration else {
                sync.callback.clear();
                return Ok(());
            };
            sync.check_open()?;
            let old = sync.callback.current.lock().replace(registration);
            drop(old);
            if !sync.callback.installed.swap(true, Ordering::AcqRel) {
                // Only the slot is captured: the table keeps its callbacks, so capturing the
                // table would keep it alive for ever.
                let slot = sync.callback.current.clone();
                sync.table
                    .on_sync_event(move |_, event| deliver(&slot, event));
            }
            // A close that raced with this call must not keep the new registration.
            if sync.table.is_closed() {
                sync.callback.clear();
                sync.check_open()?;
            }
            Ok(())
        })
    }
}
