//! One connection as the I/O thread sees it: the socket, its phase and its write queue.
//! Not protocol state (the core keeps that under the same `ConnId`).

use super::write_queue::WriteQueue;
use mio::net::TcpStream;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A non-blocking dial in progress.
    Dialing,
    /// Connected; bytes flow both ways.
    Open,
    /// The core closed it; the driver writes what is queued, then drops it.
    Closing { since: Instant },
}

pub(crate) struct Conn {
    pub stream: TcpStream,
    pub phase: Phase,
    pub queue: WriteQueue,
    /// Already listed for a flush this turn.
    pub dirty: bool,
    /// Listed as waiting for its paced frame's turn.
    pub paced_waiting: bool,
    /// When the queue last became non-empty or a write last made progress.
    pub last_progress: Instant,
    /// Open with more than the soft limit queued: other connections' reads pause.
    pub congested: bool,
    /// Listed as waiting to read until no other connection is congested.
    pub read_paused: bool,
    /// In the core's routing table (refreshed with the published peer list).
    pub handshaken: bool,
}

impl Conn {
    pub fn new(stream: TcpStream, phase: Phase) -> Self {
        Conn {
            stream,
            phase,
            queue: WriteQueue::new(),
            dirty: false,
            paced_waiting: false,
            last_progress: Instant::now(),
            congested: false,
            read_paused: false,
            handshaken: false,
        }
    }
}

/// Hashes connection ids (small, sequential integers) with one multiplication instead of
/// SipHash: the map is only ever keyed by ids the core allocated, never by peer input.
#[derive(Default)]
pub(crate) struct ConnIdHasher(u64);

impl std::hash::Hasher for ConnIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by connection id.
pub(crate) type ConnMap<V> =
    std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<ConnIdHasher>>;
