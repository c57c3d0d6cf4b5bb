//! Helpers shared by the real-socket integration tests. Not a test itself.

use std::time::{Duration, Instant};

/// Polls `cond` every few milliseconds until it holds or `limit` has passed; true if it
/// held. This is the bounded wait the tests use for conditions no event reports.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    cond()
}
