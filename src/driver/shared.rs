//! State the I/O thread publishes for API threads: snapshots of peers and counters, write
//! buffer levels, and the condition senders wait on while the node pushes back. Cheap to read;
//! written only by the I/O thread. Not the I/O thread's own working state.

use crate::proto::mesh::{MeshStats, PeerInfo};
use parking_lot::{Condvar, Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MAX_WAIT_SLICE: Duration = Duration::from_millis(10);

/// Shared between one node's I/O thread, its dispatcher and its API handles.
#[derive(Default)]
pub struct Shared {
    pub peers: RwLock<Vec<PeerInfo>>,
    pub stats: Mutex<MeshStats>,
    /// Bytes queued for writing over all connections.
    pub write_buffered: AtomicU64,
    /// Open connections (handshaken or not).
    pub connections: AtomicUsize,
    /// Set by the I/O thread while every open connection holds more than the soft limit.
    pub write_pressure: AtomicBool,
    /// Set once the I/O thread has stopped.
    pub stopped: AtomicBool,
    /// Senders waiting for the pressure to ease.
    pressure_waiters: AtomicUsize,
    pressure_lock: Mutex<()>,
    pressure_eased: Condvar,
}

impl Shared {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until `is_pressed()` turns false or the I/O thread stops; false on timeout.
    pub fn wait_for_room(&self, deadline: Instant, is_pressed: impl Fn() -> bool) -> bool {
        if !is_pressed() {
            return true;
        }
        self.pressure_waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.pressure_lock.lock();
        let room = loop {
            if !is_pressed() || self.stopped.load(Ordering::Acquire) {
                break true;
            }
            // Waits in short slices so a notification missed between the check and the wait
            // costs a few milliseconds, not the whole timeout.
            let slice = (Instant::now() + MAX_WAIT_SLICE).min(deadline);
            self.pressure_eased.wait_until(&mut guard, slice);
            if Instant::now() >= deadline {
                break !is_pressed();
            }
        };
        drop(guard);
        self.pressure_waiters.fetch_sub(1, Ordering::SeqCst);
        room
    }

    /// Called by the I/O thread after each round: wakes waiting senders so they re-check.
    pub fn notify_room(&self) {
        if self.pressure_waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.pressure_lock.lock();
            self.pressure_eased.notify_all();
        }
    }
}
