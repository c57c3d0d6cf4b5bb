//! The bounded queue of received messages that `recv(timeout)` reads. When it is full the
//! newest message is shed (the queue keeps the older ones in order) and counted. Not the
//! dispatcher.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// A bounded multi-producer, multi-consumer queue that sheds the newest item when full.
pub struct RecvQueue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    capacity: usize,
    shed: AtomicU64,
}

impl<T> RecvQueue<T> {
    /// A queue holding at most `capacity` items; 0 keeps nothing (and counts nothing).
    pub fn new(capacity: usize) -> Self {
        RecvQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
            }),
            not_empty: Condvar::new(),
            capacity,
            shed: AtomicU64::new(0),
        }
    }

    /// Adds items; those that do not fit are shed and counted.
    pub fn push_all(&self, items: impl IntoIterator<Item = T>) {
        if self.capacity == 0 {
            return;
        }
        let mut shed = 0;
        let mut state = self.state.lock();
        for item in items {
            if state.items.len() < self.capacity {
                state.items.push_back(item);
            } else {
                shed += 1;
            }
        }
        drop(state);
        if shed > 0 {
            self.shed.fetch_add(shed, Ordering::Relaxed);
        }
        self.not_empty.notify_all();
    }

    /// The oldest item, waiting until `deadline`; `None` on timeout or when closed and empty.
    pub fn pop(&self, deadline: Instant) -> Option<T> {
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Some(item);
            }
            if state.closed || self.not_empty.wait_until(&mut state, deadline).timed_out() {
                return state.items.pop_front();
            }
        }
    }

    /// Wakes every waiter; later pops return what is left, then `None` at once.
    pub fn close(&self) {
        self.state.lock().closed = true;
        self.not_empty.notify_all();
    }

    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Items shed because the queue was full.
    pub fn shed_count(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_full_queue_sheds_the_newest_and_counts_it() {
        let q = RecvQueue::new(2);
        q.push_all([1, 2, 3]);
        assert_eq!(q.shed_count(), 1);
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(q.pop(soon), Some(1));
        assert_eq!(q.pop(soon), Some(2));
        assert_eq!(q.pop(soon), None);
    }

    #[test]
    fn a_closed_queue_returns_at_once() {
        let q: RecvQueue<u8> = RecvQueue::new(2);
        q.close();
        assert_eq!(q.pop(Instant::now() + Duration::from_secs(3600)), None);
    }
}
