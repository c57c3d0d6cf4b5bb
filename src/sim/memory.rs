//! Memory measurement for the simulator's reports: the process's resident set size from
//! `/proc/self/statm` (Linux only; `None` elsewhere), and the bytes the allocator has handed out
//! and not yet got back (glibc only; `None` elsewhere). RSS is coarse by nature — the allocator
//! keeps freed pages — so reports use deltas over many nodes and show both.

/// Resident set size of this process in bytes, if the platform tells.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// Heap bytes currently allocated (not counting pages the allocator keeps free), if the C
/// library tells (glibc's `mallinfo2`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn heap_in_use_bytes() -> Option<u64> {
    // SAFETY: mallinfo2 has no preconditions and returns a plain struct.
    let info = unsafe { libc::mallinfo2() };
    Some((info.uordblks + info.hblkhd) as u64)
}

/// Heap bytes currently allocated: unknown on this platform.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap_in_use_bytes() -> Option<u64> {
    None
}
