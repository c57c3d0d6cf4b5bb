//! Memory measurement for the simulator's reports: the process's resident set size from
//! `/proc/self/statm` (Linux only; `None` elsewhere). Coarse by nature — the allocator keeps
//! freed pages — so reports use deltas over many nodes.

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
