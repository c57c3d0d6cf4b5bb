//! The hand-over of core events from the I/O thread to the node's dispatcher thread, which
//! runs user code (callbacks, the receive queue) so that it never runs on the I/O thread.
//! The pipe holds a bounded number of messages; beyond it new messages are shed and counted
//! (connect and disconnect events are never shed). Not the callbacks themselves (`crate::api`).
//!
//! The direct path: while nothing needs messages on the dispatcher (no callback, no layered
//! protocol), the I/O thread hands them straight to a [`DirectSink`] (the receive queue) and
//! skips one thread wake-up per message. It is switched on before the I/O thread starts and
//! only ever switched off (when a callback is registered), so every message that went the
//! direct way was queued before any that goes through the pipe: order is kept.

use crate::proto::mesh::{Event, UserMessage};
use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};

struct PipeState {
    events: Vec<Event>,
    messages: usize,
    /// Set by [`EventPipe::wake`]: the dispatcher runs once even without events.
    woken: bool,
    closed: bool,
}

/// Events on their way from the I/O thread to the dispatcher.
pub struct EventPipe {
    state: Mutex<PipeState>,
    ready: Condvar,
    message_capacity: usize,
    shed: AtomicU64,
    direct: OnceLock<Box<DirectSink>>,
    direct_on: AtomicBool,
}

/// Takes messages on the I/O thread (it must be quick and never wait on user code); what it
/// leaves in the vector is dropped.
pub type DirectSink = dyn Fn(&mut Vec<UserMessage>) + Send + Sync;

impl EventPipe {
    /// A pipe holding at most `message_capacity` undispatched messages.
    pub fn new(message_capacity: usize) -> Self {
        EventPipe {
            state: Mutex::new(PipeState {
                events: Vec::new(),
                messages: 0,
                woken: false,
                closed: false,
            }),
            ready: Condvar::new(),
            message_capacity: message_capacity.max(1),
            shed: AtomicU64::new(0),
            direct: OnceLock::new(),
            direct_on: AtomicBool::new(false),
        }
    }

    /// Moves `batch` into the pipe (I/O thread), shedding messages beyond the capacity.
    pub fn publish(&self, batch: &mut Vec<Event>) {
        if batch.is_empty() {
            return;
        }
        let mut shed = 0;
        let mut state = self.state.lock();
        for event in batch.drain(..) {
            if matches!(event, Event::Message(_)) {
                if state.messages >= self.message_capacity {
                    shed += 1;
                    continue;
                }
                state.messages += 1;
            }
            state.events.push(event);
        }
        drop(state);
        if shed > 0 {
            self.shed.fetch_add(shed, Ordering::Relaxed);
        }
        self.ready.notify_one();
    }

    /// Waits for events (or a [`EventPipe::wake`]) and swaps them into `out` (which must be
    /// empty; it may stay empty after a wake); false once closed.
    pub fn take(&self, out: &mut Vec<Event>) -> bool {
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return false;
            }
            if !state.events.is_empty() || state.woken {
                state.woken = false;
                std::mem::swap(&mut state.events, out);
                state.messages = 0;
                return true;
            }
            self.ready.wait(&mut state);
        }
    }

    /// Makes the dispatcher run its sink once, with or without events (a layered protocol
    /// queues its own events elsewhere and calls this; any thread).
    pub fn wake(&self) {
        let mut state = self.state.lock();
        if state.woken || state.closed {
            return;
        }
        state.woken = true;
        drop(state);
        self.ready.notify_one();
    }

    /// Stops the dispatcher; undispatched events are dropped.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.events.clear();
        drop(state);
        self.ready.notify_all();
    }

    /// Switches the direct path on with `sink` (once, before the I/O thread starts).
    pub fn set_direct(&self, sink: Box<DirectSink>) {
        if self.direct.set(sink).is_ok() {
            self.direct_on.store(true, Ordering::SeqCst);
        }
    }

    /// Switches the direct path off for good: later messages go through the dispatcher.
    pub fn end_direct(&self) {
        self.direct_on.store(false, Ordering::SeqCst);
    }

    /// True while messages should go the direct path (I/O thread, per message).
    pub fn is_direct(&self) -> bool {
        self.direct_on.load(Ordering::Relaxed)
    }

    /// Hands `messages` to the direct sink (I/O thread); leaves `messages` empty.
    pub fn deliver_direct(&self, messages: &mut Vec<UserMessage>) {
        if messages.is_empty() {
            return;
        }
        if let Some(sink) = self.direct.get() {
            sink(messages);
        }
        messages.clear();
    }

    /// Messages shed because the dispatcher fell behind.
    pub fn shed_count(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Undispatched events.
    pub fn len(&self) -> usize {
        self.state.lock().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Starts the dispatcher thread: it hands each batch of events, in order, to `sink`, which
/// must drain it, until the pipe is closed.
pub fn spawn_dispatcher(
    name: String,
    pipe: Arc<EventPipe>,
    mut sink: impl FnMut(&mut Vec<Event>) + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name).spawn(move || {
        let mut batch = Vec::new();
        while pipe.take(&mut batch) {
            sink(&mut batch);
            batch.clear();
        }
    })
}
