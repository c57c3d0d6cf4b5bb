//! Events for C callbacks: connects, disconnects and messages, handed to one registered
//! function per node on the node's dispatcher thread, with the C user data and its destructor.
//! Not here: the dispatcher thread itself (`crate::driver`, `crate::api`).

use super::error::Failure;
use super::mesh::{closed, rs2p_mesh, run_on_mesh, NodeErrors};
use super::message::rs2p_message;
use super::status::rs2p_status;
use crate::api::NodeEvent;
use parking_lot::Mutex;
use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What happened, in `rs2p_event.kind`.
/// cbindgen:prefix-with-name=false
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rs2p_event_kind {
    /// A peer completed its handshake (`peer_id` set, `message` NULL).
    RS2P_EVENT_CONNECT = 1,
    /// A handshaken peer went away (`peer_id` set, `message` NULL).
    RS2P_EVENT_DISCONNECT = 2,
    /// A broadcast or whisper arrived (`message` set, `peer_id` is its sender).
    RS2P_EVENT_MESSAGE = 3,
}

/// One event given to a callback. It and everything it points to (`peer_id`, `message` and
/// the message's data) are valid only during the callback call: copy what you need, or keep
/// the message with rs2p_message_clone.
#[repr(C)]
pub struct rs2p_event {
    /// What happened (an int32_t in C).
    pub kind: rs2p_event_kind,
    /// The peer's ID (base58 text, NUL-terminated): the one connected or disconnected, or the
    /// message's sender.
    pub peer_id: *const c_char,
    /// The message for RS2P_EVENT_MESSAGE, NULL otherwise.
    pub message: *const rs2p_message,
}

/// A callback: `userdata` is the pointer given to rs2p_mesh_set_callback; `ev` is valid only
/// during the call.
pub type rs2p_event_cb = Option<unsafe extern "C" fn(userdata: *mut c_void, ev: *const rs2p_event)>;

/// Frees the user data of a callback once it can no longer be called.
pub type rs2p_userdata_free = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// Flag of rs2p_mesh_set_callback: messages given to the callback are not also queued for
/// rs2p_mesh_recv.
pub const RS2P_CALLBACK_CONSUME_MESSAGES: u32 = 1;

/// A registered C callback; dropping the last reference runs `userdata_free`.
struct Registration {
    callback: unsafe extern "C" fn(*mut c_void, *const rs2p_event),
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
    consume: bool,
}

// SAFETY: the C caller hands `userdata` to rs2p to be used from the dispatcher thread (and
// freed from whichever thread drops the registration); that is the documented contract of
// rs2p_mesh_set_callback.
unsafe impl Send for Registration {}
// SAFETY: as above; rs2p never touches `userdata` itself, it only passes it back.
unsafe impl Sync for Registration {}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(free) = self.userdata_free {
            // SAFETY: the function the caller registered, called once with its own pointer.
            let _ = std::panic::catch_unwind(|| unsafe { free(self.userdata) });
        }
    }
}

/// The node's current C callback, if any.
#[derive(Default)]
pub(crate) struct CallbackSlot {
    current: Arc<Mutex<Option<Arc<Registration>>>>,
    installed: AtomicBool,
}

impl CallbackSlot {
    /// Removes the callback; its `userdata_free` runs when no call is in progress.
    pub(crate) fn clear(&self) {
        let old = self.current.lock().take();
        drop(old);
    }
}

/// Calls the registered C function with `event`; returns whether it consumed a message.
fn deliver(
    slot: &Mutex<Option<Arc<Registration>>>,
    errors: &Arc<NodeErrors>,
    event: &NodeEvent,
) -> bool {
    // Cloned out, so the lock is not held while C code runs (it may replace the callback).
    let Some(registration) = slot.lock().clone() else {
        return false;
    };
    let (kind, peer, message) = match event {
        NodeEvent::Connected { peer } => (rs2p_event_kind::RS2P_EVENT_CONNECT, peer, None),
        NodeEvent::Disconnected { peer } => (rs2p_event_kind::RS2P_EVENT_DISCONNECT, peer, None),
        NodeEvent::Message(message) => (
            rs2p_event_kind::RS2P_EVENT_MESSAGE,
            &message.sender,
            Some(rs2p_message::new(message.clone(), errors.clone())),
        ),
    };
    let peer = CString::new(peer.replace('\0', "\u{fffd}")).unwrap_or_default();
    let event = rs2p_event {
        kind,
        peer_id: peer.as_ptr(),
        message: message
            .as_ref()
            .map_or(std::ptr::null(), |m| m as *const rs2p_message),
    };
    // SAFETY: the registered C function, given its own user data and an event that lives
    // until it returns.
    unsafe { (registration.callback)(registration.userdata, &event) };
    message.is_some() && registration.consume
}

/// Sets the node's callback for connects, disconnects and messages, replacing any previous one
/// (whose `userdata_free` then runs, once no call of it is in progress). `cb` NULL removes the
/// callback. `flags`: 0, or RS2P_CALLBACK_CONSUME_MESSAGES to keep the messages given to the
/// callback out of the rs2p_mesh_recv queue.
///
/// The callback runs on the node's dispatcher thread (never the I/O thread), one event at a
/// time, in the order they happened. It may call any rs2p function, blocking ones and
/// rs2p_mesh_close included (not rs2p_mesh_free). `ev` and everything it points to are valid
/// only during the call.
///
/// With a non-NULL `cb`, rs2p takes charge of `userdata`: `userdata_free` (may be NULL) runs
/// exactly once with it — when the callback is replaced or removed, when the node is closed,
/// or at once if this call fails — and never while a call of `cb` is in progress; it may run
/// on any thread. With `cb` NULL, `userdata` and `userdata_free` are ignored.
/// Errors: RS2P_ERR_NULL_ARGUMENT (`mesh`), RS2P_ERR_INVALID_ARGUMENT (unknown flag bits),
/// RS2P_ERR_CLOSED.
///
/// # Safety
/// `mesh` must be a live node; `cb` and `userdata_free` valid functions or NULL; `userdata`
/// usable from other threads as the callback needs.
#[no_mangle]
pub unsafe extern "C" fn rs2p_mesh_set_callback(
    mesh: *mut rs2p_mesh,
    cb: rs2p_event_cb,
    userdata: *mut c_void,
    userdata_free: rs2p_userdata_free,
    flags: u32,
) -> rs2p_status {
    // Taken in charge first, so `userdata_free` runs exactly once whatever happens below.
    let registration = cb.map(|callback| {
        Arc::new(Registration {
            callback,
            userdata,
            userdata_free,
            consume: flags & RS2P_CALLBACK_CONSUME_MESSAGES != 0,
        })
    });
    // SAFETY: the pointer contract documented above.
    unsafe {
        run_on_mesh("rs2p_mesh_set_callback", mesh, move |mesh| {
            if flags & !RS2P_CALLBACK_CONSUME_MESSAGES != 0 {
                return Err(Failure::invalid_argument(format!(
                    "flags {flags:#x} has unknown bits; use 0 or RS2P_CALLBACK_CONSUME_MESSAGES"
                )));
            }
            let Some(registration) = registration else {
                mesh.callback.clear();
                return Ok(());
            };
            if mesh.node.is_closed() {
                return Err(closed());
            }
            let old = mesh.callback.current.lock().replace(registration);
            drop(old);
            if !mesh.callback.installed.swap(true, Ordering::AcqRel) {
                let slot = mesh.callback.current.clone();
                let errors = mesh.errors.clone();
                mesh.node
                    .on_event_consuming(move |_, event| deliver(&slot, &errors, event));
            }
            // A close that raced with this call must not keep the new registration.
            if mesh.node.is_closed() {
                mesh.callback.clear();
                return Err(closed());
            }
            Ok(())
        })
    }
}
