//! How many bytes of a socket's send queue the kernel has not yet sent (Linux
//! `SIOCOUTQNSD`). Paced frames wait for this to reach zero. Not a scheduler.

use std::os::fd::RawFd;

/// `SIOCOUTQNSD` from linux/sockios.h: bytes in the send queue not yet sent.
#[cfg(target_os = "linux")]
const SIOCOUTQNSD: libc::c_ulong = 0x894B;

/// Unsent bytes in `fd`'s send queue. `None` when the platform cannot tell, in which case
/// callers treat the queue as empty.
#[cfg(target_os = "linux")]
pub fn unsent_bytes(fd: RawFd) -> Option<u32> {
    let mut unsent: libc::c_int = 0;
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call, and
    // SIOCOUTQNSD writes exactly one `int` through the pointer, which points at a live local.
    let rc = unsafe { libc::ioctl(fd, SIOCOUTQNSD as _, &mut unsent as *mut libc::c_int) };
    if rc == 0 && unsent >= 0 {
        Some(unsent as u32)
    } else {
        None
    }
}

#[cfg(not(target_os = "linux"))]
pub fn unsent_bytes(_fd: RawFd) -> Option<u32> {
    None
}

/// True when a paced frame may be written now: nothing of the previous one is left unsent.
pub fn send_queue_drained(fd: RawFd) -> bool {
    !matches!(unsent_bytes(fd), Some(n) if n > 0)
}
