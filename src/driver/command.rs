//! Commands from API threads to a node's I/O thread, and the sender that delivers them with at
//! most one waker call per I/O-thread wakeup. Not the handling of commands (see `event_loop`).

use crate::proto::mesh::{ConnId, MeshError, Millis};
use crate::wire::Value;
use crossbeam_channel::{Receiver, Sender};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Where the I/O thread answers a command that waits for a result.
pub type Answer<T> = Sender<T>;

/// One request to the I/O thread.
#[derive(Debug)]
pub enum Command {
    /// Dial `host:port`; answered once the TCP connection is up or has failed.
    Connect {
        host: String,
        port: u16,
        done: Answer<io::Result<ConnId>>,
    },
    /// Broadcast each entry of `messages` as `[sub_flag, packets...]`.
    Broadcast {
        sub_flag: u8,
        messages: Vec<Vec<Value>>,
        /// Bytes counted in [`CommandSender::pending_bytes`] for this command.
        cost: u64,
    },
    /// Broadcast `[sub_flag, packets...]` stamped with `at_ms` (a time the caller already used,
    /// e.g. as a sync write's metadata) rather than the I/O thread's clock.
    BroadcastAt {
        sub_flag: u8,
        packets: Vec<Value>,
        at_ms: Millis,
        cost: u64,
    },
    /// Whisper `[sub_flag, packets...]` to a neighbour.
    Whisper {
        peer: Vec<u8>,
        sub_flag: u8,
        packets: Vec<Value>,
        cost: u64,
        done: Answer<Result<(), MeshError>>,
    },
    /// Reply to a message's sender, neighbour or not.
    Reply {
        sender: Vec<u8>,
        packets: Vec<Value>,
        cost: u64,
    },
    /// Run the protocol handler's `on_wake` (it has user commands queued in its own state).
    WakeHandler,
    /// Close every connection and stop the I/O thread.
    Shutdown,
}

/// The API side of the command channel.
#[derive(Clone)]
pub struct CommandSender {
    tx: Sender<Command>,
    waker: Arc<mio::Waker>,
    /// True from the first command after the I/O thread last looked until it looks again.
    wake_pending: Arc<AtomicBool>,
    /// Estimated bytes of queued, unprocessed commands (for back-pressure).
    pending_bytes: Arc<AtomicU64>,
}

/// The I/O-thread side.
pub struct CommandReceiver {
    pub rx: Receiver<Command>,
    wake_pending: Arc<AtomicBool>,
    pending_bytes: Arc<AtomicU64>,
}

/// A command channel for the I/O thread whose poll registered `waker`.
pub fn channel(waker: mio::Waker) -> (CommandSender, CommandReceiver) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let wake_pending = Arc::new(AtomicBool::new(false));
    let pending_bytes = Arc::new(AtomicU64::new(0));
    (
        CommandSender {
            tx,
            waker: Arc::new(waker),
            wake_pending: wake_pending.clone(),
            pending_bytes: pending_bytes.clone(),
        },
        CommandReceiver {
            rx,
            wake_pending,
            pending_bytes,
        },
    )
}

impl CommandSender {
    /// Queues `cmd` and wakes the I/O thread unless a wakeup is already pending.
    /// Fails only when the I/O thread has gone.
    pub fn send(&self, cmd: Command) -> Result<(), Command> {
        let cost = cmd.cost();
        self.pending_bytes.fetch_add(cost, Ordering::Relaxed);
        if let Err(e) = self.tx.send(cmd) {
            self.pending_bytes.fetch_sub(cost, Ordering::Relaxed);
            return Err(e.into_inner());
        }
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            // A failed wake means the poll is gone, i.e. the I/O thread stopped; the command
            // then simply is never read, which the caller learns from its answer channel.
            let _ = self.waker.wake();
        }
        Ok(())
    }

    /// Estimated bytes of commands the I/O thread has not processed yet.
    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes.load(Ordering::Relaxed)
    }
}

impl CommandReceiver {
    /// Called by the I/O thread before it drains the channel: later commands wake it again.
    pub fn begin_drain(&self) {
        self.wake_pending.store(false, Ordering::Release);
    }

    /// Marks a command's bytes as processed.
    pub fn processed(&self, cmd: &Command) {
        self.pending_bytes.fetch_sub(cmd.cost(), Ordering::Relaxed);
    }
}

impl Command {
    /// Estimated bytes of user data the command carries.
    pub fn cost(&self) -> u64 {
        match self {
            Command::Broadcast { cost, .. }
            | Command::BroadcastAt { cost, .. }
            | Command::Whisper { cost, .. }
            | Command::Reply { cost, .. } => *cost,
            Command::Connect { .. } | Command::WakeHandler | Command::Shutdown => 0,
        }
    }
}

/// A rough size in bytes of `packets` once encoded, for back-pressure accounting.
pub fn estimated_size(packets: &[Value]) -> u64 {
    packets.iter().map(value_size).sum::<u64>() + 64
}

fn value_size(value: &Value) -> u64 {
    match value {
        Value::Str(s) => s.len() as u64 + 5,
        Value::Bin(b) => b.len() as u64 + 5,
        Value::Array(items) => items.iter().map(value_size).sum::<u64>() + 5,
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| value_size(k) + value_size(v))
            .sum::<u64>()
            .saturating_add(5),
        _ => 9,
    }
}
