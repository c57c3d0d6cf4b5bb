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
        }
    }
}
