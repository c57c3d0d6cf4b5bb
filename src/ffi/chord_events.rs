//! Key events for C: each key added to or deleted from a chord network's key set (py2p's
//! `add` and `delete` events) handed to one registered function on the node's dispatcher
//! thread, with the C user data and its destructor. Not here: mesh events (connects,
//! messages: [`super::events`] on the borrowed mesh handle) or the dispatcher itself
//! (`crate::api::ChordTable::on_chord_event`).

use super::chord::{rs2p_chord, run_on_chord};
use super::events::rs2p_userdata_free;
use super::status::rs2p_status;
use crate::api::KeyChange;
use parking_lot::Mutex;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What happened to a key, in `rs2p_chord_event.kind`.
/// cbindgen:prefix-with-name=false
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rs2p_chord_event_kind {
    /// A key was announced to the network (py2p `add`).
    RS2P_CHORD_EVENT_ADD = 1,
    /// A key was deleted on the network (py2p `delete`).
    RS2P_CHORD_EVENT_DELETE = 2,
}

/// One key event given to a chord callback. It and the key it points to are valid only
/// during the callback call: copy what you need. Read the key's value with rs2p_chord_get.
#[repr(C)]
pub struct rs2p_chord_event {
    /// What happened (an int32_t in C).
    pub kind: rs2p_chord_event_kind,
    /// The key's bytes (not NUL-terminated; may be empty).
    pub key: *const u8,
    pub key_len: usize,
}

/// A chord callback: `userdata` is the pointer given to rs2p_chord_set_callback; `ev` is
/// valid only during the call.
pub type rs2p_chord_event_cb =
    Option<unsafe extern "C" fn(userdata: *mut c_void, ev: *const rs2p_chord_event)>;

/// A registered C chord callback; dropping the last reference runs `userdata_free`.
struct ChordRegistration {
    callback: unsafe extern "C" fn(*mut c_void, *const rs2p_chord_event),
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
}

// SAFETY: the C caller hands `userdata` to rs2p to be used from the dispatcher thread (and
// freed from whichever thread drops the registration), as rs2p_chord_set_callback documents.
unsafe impl Send for ChordRegistration {}
// SAFETY: as above; rs2p never touches `userdata` itself, it only passes it back.
unsafe impl Sync for ChordRegistration {}

impl Drop for ChordRegistration {
    fn drop(&mut self) {
        if let Some(free) = self.userdata_free {
            // SAFETY: the function the caller registered, called once with its own pointer.
            let _ = std::panic::catch_unwind(|| unsafe { free(self.userdata) });
        }
    }
}

/// The node's current C chord callback, if any.
#[derive(Default)]
pub(crate) struct ChordCallbackSlot {
    current: Arc<Mutex<Option<Arc<ChordRegistration>>>>,
    installed: AtomicBool,
}

impl ChordCallbackSlot {
    /// Removes the callback; its `userdata_free` runs when no call is in progress.
    pub(crate) fn clear(&self) {
        let old = self.current.lock().take();
        drop(old);
    }
}

/// Calls the registered C function, if any, with `change`.
fn deliver(slot: &Mutex<Option<Arc<ChordRegistration>>>, change: &KeyChange) {
    // Cloned out, so the lock is not held while C code runs (it may replace the callback).
    let Some(registration) = slot.lock().clone() else {
        return;
    };
    let (kind, key) = match change {
        KeyChange::Added(key) => (rs2p_chord_event_kind::RS2P_CHORD_EVENT_ADD, key),
        KeyChange::Deleted(key) => (rs2p_chord_event_kind::RS2P_CHORD_EVENT_DELETE, key),
    };
    let event = rs2p_chord_event {
        kind,
        key: key.as_ptr(),
        key_len: key.len(),
    };
    // SAFETY: the registered C function, given its own user data and an event that lives
    // until it returns.
    unsafe { (registration.callback)(registration.userdata, &event) };
}

/// Sets the node's callback for keys added to or deleted from the network's key set (keys
/// announced by other nodes; this node's own writes are not reported), replacing any previous
/// one (whose `userdata_free` then runs, once no call of it is in progress). `cb` NULL removes
/// it. Changes before the first callback is set are not reported. Mesh events go to
/// rs2p_mesh_set_callback on rs2p_chord_mesh's handle.
///
/// The callback runs on the node's dispatcher thread, one change at a time, in order. It may
/// call any rs2p function, rs2p_chord_close included (not rs2p_chord_free); a blocking
/// rs2p_chord_get in it holds up later events until it ends. `ev` and the key it points to
/// are valid only during the call.
///
/// With a non-NULL `cb`, rs2p takes charge of `userdata`: `userdata_free` (may be NULL) runs
/// exactly once with it — when the callback is replaced or removed, at rs2p_chord_close or
/// rs2p_chord_free, or at once if this call fails — never while a call of `cb` is in
/// progress; it may run on any thread. With `cb` NULL, `userdata` and `userdata_free` are
/// ignored. Errors: RS2P_ERR_NULL_ARGUMENT (`chord`), RS2P_ERR_CLOSED.
///
/// # Safety
/// `chord` must be a live chord node; `cb` and `userdata_free` valid functions or NULL;
/// `userdata` usable from other threads as the callback needs.
#[no_mangle]
pub unsafe extern "C" fn rs2p_chord_set_callback(
    chord: *mut rs2p_chord,
    cb: rs2p_chord_event_cb,
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
) -> rs2p_status {
    // Taken in charge first, so `userdata_free` runs exactly once whatever happens below.
    let registration = cb.map(|callback| {
        Arc::new(ChordRegistration {
            callback,
            userdata,
            userdata_free,
        })
    });
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_chord("rs2p_chord_set_callback", chord, move |chord| {
            let Some(registration) = registration else {
                chord.callback.clear();
                return Ok(());
            };
            chord.check_open()?;
            let old = chord.callback.current.lock().replace(registration);
            drop(old);
            if !chord.callback.installed.swap(true, Ordering::AcqRel) {
                // Only the slot is captured: the table keeps its callbacks, so capturing the
                // table would keep it alive for ever.
                let slot = chord.callback.current.clone();
                chord
                    .table
                    .on_chord_event(move |_, change| deliver(&slot, change));
            }
            // A close that raced with this call must not keep the new registration.
            if chord.table.is_closed() {
                chord.callback.clear();
                chord.check_open()?;
            }
            Ok(())
        })
    }
}
