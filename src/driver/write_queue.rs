//! A connection's outgoing bytes: unpaced frames coalesced into large chunks written with few
//! calls; paced frames kept one per chunk, each written only once the kernel has sent the
//! previous one. Order between the two kinds is kept. Not socket readiness handling.

use std::collections::VecDeque;
use std::io::{self, Write};

/// Unpaced frames are appended to the last chunk while it is smaller than this.
const COALESCE_MAX: usize = 256 * 1024;

#[derive(Debug)]
struct Chunk {
    data: Vec<u8>,
    /// Bytes of `data` already written.
    written: usize,
    paced: bool,
}

/// What [`WriteQueue::flush`] stopped on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushState {
    /// Everything was written.
    Empty,
    /// The socket would block; wait for writable.
    Blocked,
    /// A paced frame waits for the send queue to drain; check again soon.
    PacedWait,
}

/// The queue of bytes waiting to be written on one connection.
#[derive(Debug, Default)]
pub struct WriteQueue {
    chunks: VecDeque<Chunk>,
    queued: usize,
}

impl WriteQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues one whole frame.
    pub fn push(&mut self, frame: Vec<u8>, paced: bool) {
        if frame.is_empty() {
            return;
        }
        self.queued += frame.len();
        if !paced {
            if let Some(last) = self.chunks.back_mut() {
                if !last.paced && last.data.len() < COALESCE_MAX {
                    last.data.extend_from_slice(&frame);
                    return;
                }
            }
        }
        self.chunks.push_back(Chunk {
            data: frame,
            written: 0,
            paced,
        });
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.queued
    }

    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Writes as much as the writer takes. `may_start_paced` is asked before the first byte of
    /// each paced frame.
    pub fn flush<W: Write>(
        &mut self,
        writer: &mut W,
        mut may_start_paced: impl FnMut() -> bool,
    ) -> io::Result<FlushState> {
        while let Some(front) = self.chunks.front_mut() {
            if front.paced && front.written == 0 && !may_start_paced() {
                return Ok(FlushState::PacedWait);
            }
            match writer.write(&front.data[front.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    front.written += n;
                    self.queued -= n;
                    if front.written == front.data.len() {
                        self.chunks.pop_front();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(FlushState::Blocked),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(FlushState::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `cap` bytes per call and records each call.
    struct Recorder {
        calls: Vec<Vec<u8>>,
        cap: usize,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.cap);
            self.calls.push(buf[..n].to_vec());
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn unpaced_frames_go_out_in_one_write() {
        let mut q = WriteQueue::new();
        for i in 0..10u8 {
            q.push(vec![i; 5], false);
        }
        let mut w = Recorder {
            calls: vec![],
            cap: usize::MAX,
        };
        assert_eq!(q.flush(&mut w, || true).ok(), Some(FlushState::Empty));
        assert_eq!(w.calls.len(), 1);
        assert_eq!(w.calls[0].len(), 50);
        assert!(q.is_empty());
    }

    #[test]
    fn paced_frames_get_their_own_writes_and_wait_for_the_gate() {
        let mut q = WriteQueue::new();
        q.push(vec![1; 3], true);
        q.push(vec![2; 3], true);
        q.push(vec![3; 3], false);
        let mut w = Recorder {
            calls: vec![],
            cap: usize::MAX,
        };
        let mut opened = 0;
        let state = q.flush(&mut w, || {
            opened += 1;
            opened == 1
        });
        assert_eq!(state.ok(), Some(FlushState::PacedWait));
        assert_eq!(w.calls, vec![vec![1; 3]]);
        assert_eq!(q.queued_bytes(), 6);
        assert_eq!(q.flush(&mut w, || true).ok(), Some(FlushState::Empty));
        assert_eq!(w.calls, vec![vec![1; 3], vec![2; 3], vec![3; 3]]);
    }

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        let mut q = WriteQueue::new();
        q.push((0..10).collect(), true);
        let mut w = Recorder {
            calls: vec![],
            cap: 4,
        };
        assert_eq!(q.flush(&mut w, || true).ok(), Some(FlushState::Empty));
        let all: Vec<u8> = w.calls.concat();
        assert_eq!(all, (0..10).collect::<Vec<u8>>());
    }
}
