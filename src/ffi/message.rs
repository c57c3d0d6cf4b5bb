//! `rs2p_message`: a received broadcast or whisper as C sees it — sender, time, ID, flags, its
//! packets as bytes or msgpack — and replying to it. Not here: receiving (see
//! [`super::mesh`]) or the message format on the wire (`crate::wire`).

use super::boundary::{run, run_value, Out};
use super::error::{Failure, FfiResult};
use super::mesh::{packets_from_bytes, packets_from_msgpack, rs2p_bytes, NodeErrors};
use super::status::{rs2p_status, RS2P_ERR_NOT_BYTES};
use crate::api::{Message, Value};
use std::ffi::{c_char, CString};
use std::sync::{Arc, OnceLock};

/// A received message (opaque). From rs2p_mesh_recv or rs2p_message_clone it belongs to the
/// caller (free it with rs2p_message_free); in a callback's event it belongs to rs2p and lives
/// only during the call. Read-only, so any number of threads may read it at once.
pub struct rs2p_message {
    message: Message,
    sender: CString,
    /// The packets as one msgpack array, made on first request.
    packed: OnceLock<Vec<u8>>,
    /// Where reply failures are also recorded (the node's last error).
    errors: Arc<NodeErrors>,
}

impl rs2p_message {
    pub(crate) fn new(message: Message, errors: Arc<NodeErrors>) -> rs2p_message {
        let sender = CString::new(message.sender.replace('\0', "\u{fffd}")).unwrap_or_default();
        rs2p_message {
            message,
            sender,
            packed: OnceLock::new(),
            errors,
        }
    }
}

/// The message behind `msg`, NULL being RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// A non-NULL `msg` must be a live message.
unsafe fn message_ref<'a>(msg: *const rs2p_message) -> FfiResult<&'a rs2p_message> {
    // SAFETY: the caller's promise.
    unsafe { msg.as_ref() }.ok_or_else(|| Failure::null_argument("msg"))
}

/// The sender's ID (base58 text, NUL-terminated); "" for NULL. Lives as long as the message.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_sender(msg: *const rs2p_message) -> *const c_char {
    let empty = c"".as_ptr();
    run_value("rs2p_message_sender", empty, || {
        // SAFETY: the pointer contract documented above.
        unsafe { msg.as_ref() }.map_or(empty, |m| m.sender.as_ptr())
    })
}

/// When the message was sent: seconds since the Unix epoch by the sender's clock; 0 for NULL.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_time(msg: *const rs2p_message) -> i64 {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_message_time", 0, || {
        unsafe { msg.as_ref() }.map_or(0, |m| m.message.time)
    })
}

/// The message ID: RS2P_MESSAGE_ID_LEN (32) bytes, the SHA-256 of the packed message; NULL
/// for NULL. Lives as long as the message.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_id(msg: *const rs2p_message) -> *const u8 {
    run_value("rs2p_message_id", std::ptr::null(), || {
        // SAFETY: the pointer contract documented above.
        unsafe { msg.as_ref() }.map_or(std::ptr::null(), |m| m.message.id.as_ptr())
    })
}

/// The main flag the message came with (0x00 broadcast, 0x02 whisper); 0 for NULL.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_type(msg: *const rs2p_message) -> u8 {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_message_type", 0, || {
        unsafe { msg.as_ref() }.map_or(0, |m| m.message.msg_type)
    })
}

/// The message's sub-flag (0x00 broadcast, 0x02 whisper); 0 for NULL.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_subflag(msg: *const rs2p_message) -> u8 {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_message_subflag", 0, || {
        unsafe { msg.as_ref() }.map_or(0, |m| m.message.sub_flag)
    })
}

/// How many packets the message carries (after its sub-flag); 0 for NULL.
///
/// # Safety
/// `msg` must be NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_packet_count(msg: *const rs2p_message) -> usize {
    // SAFETY: the pointer contract documented above.
    run_value("rs2p_message_packet_count", 0, || {
        unsafe { msg.as_ref() }.map_or(0, |m| m.message.packets.len())
    })
}

/// Points `*ptr` and `*len` at the bytes of packet `index` (0-based): a msgpack bin's bytes or
/// a str's UTF-8 bytes (not NUL-terminated). They live as long as the message.
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_INVALID_ARGUMENT (index not below
/// rs2p_message_packet_count), RS2P_ERR_NOT_BYTES (another msgpack type: read it with
/// rs2p_message_packets_msgpack).
///
/// # Safety
/// `msg` must be a live message; `ptr` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_packet(
    msg: *const rs2p_message,
    index: usize,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rs2p_status {
    run("rs2p_message_packet", || {
        // SAFETY (all three): the pointer contracts documented above.
        let msg = unsafe { message_ref(msg) }?;
        let ptr = unsafe { Out::new(ptr, "ptr") }?;
        let len = unsafe { Out::new(len, "len") }?;
        let count = msg.message.packets.len();
        let bytes = match msg.message.packets.get(index) {
            Some(Value::Bin(bytes)) => bytes.as_slice(),
            Some(Value::Str(text)) => text.as_bytes(),
            Some(_) => {
                return Err(Failure::new(
                    RS2P_ERR_NOT_BYTES,
                    format!(
                        "packet {index} is not a byte string (bin or str); read it with \
                         rs2p_message_packets_msgpack"
                    ),
                ))
            }
            None => {
                return Err(Failure::invalid_argument(format!(
                    "packet index {index} is out of range: the message has {count} packets"
                )))
            }
        };
        ptr.set(bytes.as_ptr());
        len.set(bytes.len());
        Ok(())
    })
}

/// Points `*ptr` and `*len` at all the packets (after the sub-flag) as one msgpack array
/// (bin stays bin, str stays str). The bytes live as long as the message.
/// Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `msg` must be a live message; `ptr` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_packets_msgpack(
    msg: *const rs2p_message,
    ptr: *mut *const u8,
    len: *mut usize,
) -> rs2p_status {
    run("rs2p_message_packets_msgpack", || {
        // SAFETY (all three): the pointer contracts documented above.
        let msg = unsafe { message_ref(msg) }?;
        let ptr = unsafe { Out::new(ptr, "ptr") }?;
        let len = unsafe { Out::new(len, "len") }?;
        let packed = msg
            .packed
            .get_or_init(|| Value::Array(msg.message.packets.clone()).to_bytes());
        ptr.set(packed.as_ptr());
        len.set(packed.len());
        Ok(())
    })
}

/// Runs a reply export; a failure is also recorded as the node's last error.
fn run_reply(
    function: &str,
    msg: *const rs2p_message,
    body: impl FnOnce(&rs2p_message) -> FfiResult<()>,
) -> rs2p_status {
    run(function, || {
        // SAFETY: the exports below document that `msg` is NULL or live.
        let msg = unsafe { message_ref(msg) }?;
        body(msg).inspect_err(|failure| msg.errors.record(function, failure))
    })
}

/// Sends the byte-string packets back to the message's sender: a whisper if it is a
/// neighbour, else through the protocol's request/response flow. Works from a callback too.
/// Errors: RS2P_ERR_NULL_ARGUMENT, RS2P_ERR_TIMEOUT (the node pushed back for 10 s),
/// RS2P_ERR_CLOSED (the node is closed or freed).
///
/// # Safety
/// `msg` must be a live message; `packets` as for rs2p_mesh_send.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_reply(
    msg: *const rs2p_message,
    packets: *const rs2p_bytes,
    count: usize,
) -> rs2p_status {
    run_reply("rs2p_message_reply", msg, |msg| {
        // SAFETY: the pointer contract documented above.
        let packets = unsafe { packets_from_bytes(packets, count) }?;
        Ok(msg.message.reply(packets)?)
    })
}

/// As rs2p_message_reply, with the packets given as one msgpack array of any values.
/// Errors: those of rs2p_message_reply and RS2P_ERR_INVALID_MSGPACK_ARGUMENT.
///
/// # Safety
/// `msg` must be a live message; `packets` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_reply_msgpack(
    msg: *const rs2p_message,
    packets: *const u8,
    len: usize,
) -> rs2p_status {
    run_reply("rs2p_message_reply_msgpack", msg, |msg| {
        // SAFETY: the pointer contract documented above.
        let packets = unsafe { packets_from_msgpack(packets, len) }?;
        Ok(msg.message.reply(packets)?)
    })
}

/// Copies a message into `*out`, owned by the caller (free it with rs2p_message_free); the
/// way to keep a message given to a callback. Errors: RS2P_ERR_NULL_ARGUMENT.
///
/// # Safety
/// `msg` must be a live message; `out` must point to a writable `rs2p_message *`.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_clone(
    msg: *const rs2p_message,
    out: *mut *mut rs2p_message,
) -> rs2p_status {
    run("rs2p_message_clone", || {
        // SAFETY (both): the pointer contracts documented above.
        let msg = unsafe { message_ref(msg) }?;
        let out = unsafe { Out::new(out, "out") }?;
        let copy = rs2p_message::new(msg.message.clone(), msg.errors.clone());
        out.set(Box::into_raw(Box::new(copy)));
        Ok(())
    })
}

/// Frees a message from rs2p_mesh_recv or rs2p_message_clone. NULL is accepted and does
/// nothing. Never free the message of a callback's event.
///
/// # Safety
/// `msg` must be NULL or a caller-owned message not freed yet.
#[no_mangle]
pub unsafe extern "C" fn rs2p_message_free(msg: *mut rs2p_message) {
    run_value("rs2p_message_free", (), || {
        if !msg.is_null() {
            // SAFETY: from Box::into_raw in this module, freed once per the contract.
            drop(unsafe { Box::from_raw(msg) });
        }
    })
}
