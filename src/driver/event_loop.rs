//! The I/O thread of one node: a mio poll over the listener, every connection and a waker;
//! bytes read go to the mesh core, frames it emits go to per-connection write queues that are
//! flushed at the end of each turn. Commands from API threads are drained in bulk; the core
//! gets a tick at least twice a second. Not protocol logic, not user callbacks.
//!
//! Back-pressure. A connection whose write queue holds more than the soft limit is
//! *congested*. While any connection is congested, the loop stops reading every connection
//! that is not congested itself (it parks them in `read_paused`; edge-triggered readiness
//! would not report them again) and resumes them once flushing brings the count of congested
//! connections back down. Unread bytes then fill the kernel buffers and TCP pushes back on the
//! senders upstream, whose `send` waits on its own write pressure: a relay whose downstream
//! is slower than its upstream slows the upstream instead of buffering until it must cut the
//! downstream link. Two rules keep this from freezing a node:
//!
//! * A connection whose peer has not completed its handshake is not paused: a node joining
//!   while a link is congested still gets in (before its handshake it gets nothing relayed,
//!   so it cannot add to the congestion; what it sends is bounded by the hard limit).
//! * A congested connection is never paused itself. Its peer may be a relay in the same state
//!   (its queue towards us full, so it has stopped reading everything but us); reading what it
//!   sends is what lets it make progress and read our queue in turn. Pausing it would be a
//!   two-node deadlock.
//! * A peer that stops reading for good (or a longer cycle of relays each waiting on the next)
//!   still ends: a congested queue with no write progress for `write_stall_timeout` is closed
//!   as `SlowPeer`, which resumes the paused reads. The hard limit stays as the last bound for
//!   queues that grow while their own connection is read (frames relayed between two
//!   congested peers).
//!
//! Closing. A shutdown command stops reading for the core and taking commands, then writes
//! out what is queued until every queue is empty or `close_flush_timeout` has passed, so a
//! message sent just before `close()` still leaves.

use super::clock::now_ms;
use super::command::{self, Command, CommandReceiver, CommandSender};
use super::conn::{Conn, ConnMap, Phase};
use super::dispatch::EventPipe;
use super::pacing;
use super::shared::Shared;
use super::write_queue::FlushState;
use crate::proto::mesh::{
    ConnId, DropReason, Event, Mesh, MeshHandler, Millis, Output, UserMessage,
};
use crossbeam_channel::TryRecvError;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::HashMap;
use std::io::{self, Read};
use std::net::ToSocketAddrs;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Reads of one connection per turn before the others get theirs.
const READS_PER_TURN: usize = 16;
/// Commands handled per turn before sockets get their turn again.
const COMMANDS_PER_TURN: usize = 16_384;
/// Estimated bytes of sends handled per turn before queued frames are flushed: keeps one
/// turn from queueing more than the write limits allow.
const SEND_BYTES_PER_TURN: u64 = 1 << 20;
const READ_BUFFER: usize = 64 * 1024;
const TICK_EVERY: Duration = Duration::from_millis(500);
/// How long paced frames wait before the send queue is checked again.
const PACED_RECHECK: Duration = Duration::from_millis(1);
/// How long a connection the core closed may take to write out what is queued.
const CLOSING_GRACE: Duration = Duration::from_secs(10);

/// Settings of the I/O thread.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Thread name prefix.
    pub name: String,
    /// Above this many queued bytes on every connection, user sends are pushed back.
    pub write_soft_limit: usize,
    /// Above this many queued bytes a connection is closed as a slow peer.
    pub write_hard_limit: usize,
    /// A connection with bytes queued and no write progress for this long is closed as a slow
    /// peer (this frees senders held back by a peer that stopped reading).
    pub write_stall_timeout: Duration,
    /// On shutdown, how long queued frames may take to be written before the sockets close.
    pub close_flush_timeout: Duration,
}

fn token_of(conn: ConnId) -> Token {
    Token(conn as usize + 2)
}

fn conn_of(token: Token) -> ConnId {
    (token.0 - 2) as ConnId
}

/// Starts the I/O thread for `mesh` (a plain mesh, or one with a protocol layered on it) on
/// `listener`; returns the command sender and the thread.
pub fn spawn_event_loop<H: MeshHandler + 'static>(
    config: DriverConfig,
    mesh: Mesh<H>,
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    pipe: Arc<EventPipe>,
) -> io::Result<(CommandSender, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let (sender, commands) = command::channel(waker);
    let event_loop = EventLoop {
        config: config.clone(),
        poll,
        listener,
        mesh,
        conns: ConnMap::default(),
        commands,
        shared: shared.clone(),
        pipe: pipe.clone(),
        now: now_ms(),
        read_buf: vec![0; READ_BUFFER],
        outbox: Vec::new(),
        direct_out: Vec::new(),
        dirty: Vec::new(),
        read_again: Vec::new(),
        read_paused: Vec::new(),
        congested: 0,
        resume_due: false,
        paced_waiting: Vec::new(),
        pending_dials: HashMap::new(),
        commands_left: false,
        peers_dirty: true,
        next_tick: Instant::now() + TICK_EVERY,
    };
    let thread = thread::Builder::new()
        .name(format!("{}-io", config.name))
        .spawn(move || {
            let stopped = StopGuard { shared, pipe };
            let mut event_loop = event_loop;
            event_loop.run();
            // Every socket, the listener included, is closed before the node counts as stopped.
            drop(event_loop);
            drop(stopped);
        })?;
    Ok((sender, thread))
}

/// Marks the node stopped and releases the dispatcher however the I/O thread ends.
struct StopGuard {
    shared: Arc<Shared>,
    pipe: Arc<EventPipe>,
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.connections.store(0, Ordering::Relaxed);
        self.shared.write_buffered.store(0, Ordering::Relaxed);
        self.pipe.close();
        self.shared.notify_room();
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

struct EventLoop<H: MeshHandler> {
    config: DriverConfig,
    poll: Poll,
    listener: TcpListener,
    mesh: Mesh<H>,
    conns: ConnMap<Conn>,
    commands: CommandReceiver,
    shared: Arc<Shared>,
    pipe: Arc<EventPipe>,
    /// The core's clock for this turn.
    now: Millis,
    read_buf: Vec<u8>,
    /// Events for the dispatcher, published at the end of the turn.
    outbox: Vec<Event>,
    /// Messages for the pipe's direct sink, delivered at the end of the turn.
    direct_out: Vec<UserMessage>,
    /// Connections with bytes to flush this turn.
    dirty: Vec<ConnId>,
    /// Connections that used their read budget and may have more to read.
    read_again: Vec<ConnId>,
    /// Connections not read while another connection is congested.
    read_paused: Vec<ConnId>,
    /// Open connections with more than the soft limit queued.
    congested: usize,
    /// The set of congested connections changed: paused reads get another look.
    resume_due: bool,
    /// Connections whose next frame is paced and waits for the send queue to drain.
    paced_waiting: Vec<ConnId>,
    pending_dials: HashMap<ConnId, command::Answer<io::Result<ConnId>>>,
    commands_left: bool,
    peers_dirty: bool,
    next_tick: Instant,
}

impl<H: MeshHandler> EventLoop<H> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break;
            }
            self.now = now_ms();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => {}
                    token => {
                        let readable =
                            event.is_readable() || event.is_read_closed() || event.is_error();
                        let writable =
                            event.is_writable() || event.is_write_closed() || event.is_error();
                        self.on_socket_event(conn_of(token), readable, writable);
                    }
                }
            }
            if self.run_commands() == Flow::Stop {
                self.flush_before_close(&mut events);
                break;
            }
            self.continue_reads();
            self.tick_if_due();
            self.flush_dirty();
            self.resume_paused_reads();
            self.publish();
        }
        self.shutdown();
    }

    /// After a shutdown command: no more reading for the core and no more commands; writes out
    /// what is queued until every queue is empty or `close_flush_timeout` has passed. Bytes
    /// peers send meanwhile are read and discarded, so closing does not reset connections
    /// (a reset may destroy what the peer has not read yet).
    fn flush_before_close(&mut self, events: &mut Events) {
        let deadline = Instant::now() + self.config.close_flush_timeout;
        loop {
            self.flush_dirty();
            let queued = self
                .conns
                .values()
                .any(|c| c.phase != Phase::Dialing && !c.queue.is_empty());
            let now = Instant::now();
            if !queued || now >= deadline {
                break;
            }
            let mut timeout = deadline - now;
            if !self.paced_waiting.is_empty() {
                timeout = timeout.min(PACED_RECHECK);
            }
            if let Err(e) = self.poll.poll(events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break;
            }
            for event in events.iter() {
                let token = event.token();
                if token == LISTENER || token == WAKER {
                    continue;
                }
                let conn = conn_of(token);
                if event.is_writable() || event.is_write_closed() || event.is_error() {
                    self.mark_dirty(conn);
                }
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.discard_input(conn);
                }
            }
        }
        let open: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in open {
            self.discard_input(conn);
        }
    }

    /// Reads and drops whatever `conn` has sent (closing only).
    fn discard_input(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.phase == Phase::Dialing {
            return;
        }
        for _ in 0..READS_PER_TURN {
            match (&c.stream).read(&mut self.read_buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    fn poll_timeout(&self) -> Duration {
        if self.commands_left || !self.read_again.is_empty() {
            Duration::ZERO
        } else if !self.paced_waiting.is_empty() {
            PACED_RECHECK
        } else {
            self.next_tick.saturating_duration_since(Instant::now())
        }
    }

    // ---- sockets ----

    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = self
                        .mesh
                        .on_accepted((addr.ip().to_string(), addr.port()), self.now);
                    let registered = self.poll.registry().register(
                        &mut stream,
                        token_of(conn),
                        Interest::READABLE | Interest::WRITABLE,
                    );
                    if registered.is_err() {
                        self.mesh.on_closed(conn, DropReason::PeerClosed, self.now);
                    } else {
                        self.conns.insert(conn, Conn::new(stream, Phase::Open));
                    }
                    self.drain_outputs();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // WouldBlock: all taken. Anything else (e.g. out of fds): retried on the tick.
                Err(_) => return,
            }
        }
    }

    fn on_socket_event(&mut self, conn: ConnId, readable: bool, writable: bool) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        match c.phase {
            Phase::Dialing => self.finish_dial(conn),
            Phase::Open => {
                if writable {
                    self.mark_dirty(conn);
                }
                if readable {
                    self.read_conn(conn);
                }
            }
            Phase::Closing { .. } => {
                if writable {
                    self.mark_dirty(conn);
                }
            }
        }
    }

    fn read_conn(&mut self, conn: ConnId) {
        for _ in 0..READS_PER_TURN {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.phase != Phase::Open {
                return;
            }
            if self.congested > 0 && !c.congested && c.handshaken {
                if !c.read_paused {
                    c.read_paused = true;
                    self.read_paused.push(conn);
                }
                return;
            }
            match (&c.stream).read(&mut self.read_buf) {
                Ok(0) => {
                    self.drop_conn(conn, Some(DropReason::PeerClosed));
                    self.drain_outputs();
                    return;
                }
                Ok(n) => {
                    self.mesh.on_data(conn, &self.read_buf[..n], self.now);
                    self.drain_outputs();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.drop_conn(conn, Some(DropReason::PeerClosed));
                    self.drain_outputs();
                    return;
                }
            }
        }
        self.read_again.push(conn);
    }

    fn continue_reads(&mut self) {
        let mut again = std::mem::take(&mut self.read_again);
        for conn in again.drain(..) {
            self.read_conn(conn);
        }
        if self.read_again.is_empty() {
            self.read_again = again;
        }
    }

    /// After a change in congestion, gives every paused connection another read (which pauses
    /// it again if it still must wait).
    fn resume_paused_reads(&mut self) {
        if !self.resume_due {
            return;
        }
        self.resume_due = false;
        for conn in std::mem::take(&mut self.read_paused) {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.read_paused = false;
                self.read_again.push(conn);
            }
        }
    }

    /// Re-derives whether `conn` is congested after its queue or phase changed.
    fn update_congestion(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let congested =
            c.phase == Phase::Open && c.queue.queued_bytes() > self.config.write_soft_limit;
        if congested != c.congested {
            c.congested = congested;
            if congested {
                self.congested += 1;
            } else {
                self.congested -= 1;
            }
            self.resume_due = true;
        }
    }

    fn start_dial(&mut self, conn: ConnId, host: &str, port: u16) {
        let dialled = (host, port)
            .to_socket_addrs()
            .and_then(|mut addrs| {
                addrs.next().ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "the host name has no address")
                })
            })
            .and_then(TcpStream::connect)
            .and_then(|mut stream| {
                self.poll.registry().register(
                    &mut stream,
                    token_of(conn),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(stream)
            });
        match dialled {
            Ok(stream) => {
                self.conns.insert(conn, Conn::new(stream, Phase::Dialing));
            }
            Err(e) => self.fail_dial(conn, e),
        }
    }

    fn finish_dial(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let outcome = match c.stream.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => match c.stream.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(()) => {
                let _ = c.stream.set_nodelay(true);
                c.phase = Phase::Open;
                if let Some(done) = self.pending_dials.remove(&conn) {
                    let _ = done.send(Ok(conn));
                }
                self.mesh.on_connected(conn, self.now);
                self.drain_outputs();
                self.mark_dirty(conn);
                // Bytes may already wait; edge-triggered readiness will not say so again.
                self.read_conn(conn);
            }
            Err(e) => {
                if let Some(mut c) = self.conns.remove(&conn) {
                    let _ = self.poll.registry().deregister(&mut c.stream);
                }
                self.fail_dial(conn, e);
            }
        }
    }

    fn fail_dial(&mut self, conn: ConnId, error: io::Error) {
        if let Some(done) = self.pending_dials.remove(&conn) {
            let _ = done.send(Err(error));
        }
        self.mesh.on_closed(conn, DropReason::PeerClosed, self.now);
        self.drain_outputs();
    }

    /// Closes a socket now. With `reason` the core is told (it counts the reason); without,
    /// the core asked for the close itself. The caller drains the core's outputs.
    fn drop_conn(&mut self, conn: ConnId, reason: Option<DropReason>) {
        let Some(mut c) = self.conns.remove(&conn) else {
            return;
        };
        if c.congested {
            self.congested -= 1;
            self.resume_due = true;
        }
        let _ = self.poll.registry().deregister(&mut c.stream);
        drop(c);
        if let Some(done) = self.pending_dials.remove(&conn) {
            let _ = done.send(Err(io::ErrorKind::ConnectionAborted.into()));
        }
        if let Some(reason) = reason {
            self.mesh.on_closed(conn, reason, self.now);
        }
        self.peers_dirty = true;
    }

    fn mark_dirty(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if !c.dirty {
                c.dirty = true;
                self.dirty.push(conn);
            }
        }
    }

    fn flush_dirty(&mut self) {
        let waiting = std::mem::take(&mut self.paced_waiting);
        for conn in waiting {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.paced_waiting = false;
            }
            self.mark_dirty(conn);
        }
        while !self.dirty.is_empty() {
            let mut dirty = std::mem::take(&mut self.dirty);
            for conn in dirty.drain(..) {
                self.flush_conn(conn);
            }
            // Failed flushes told the core, which may have queued frames elsewhere.
            self.drain_outputs();
            if self.dirty.is_empty() {
                self.dirty = dirty;
                break;
            }
        }
    }

    fn flush_conn(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.dirty = false;
        if c.phase == Phase::Dialing {
            return;
        }
        let fd = c.stream.as_raw_fd();
        let before = c.queue.queued_bytes();
        let flushed = c
            .queue
            .flush(&mut &c.stream, || pacing::send_queue_drained(fd));
        if c.queue.queued_bytes() < before {
            c.last_progress = Instant::now();
        }
        let closing = matches!(c.phase, Phase::Closing { .. });
        self.update_congestion(conn);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match flushed {
            Ok(FlushState::Empty) => {
                if closing {
                    self.drop_conn(conn, None);
                }
            }
            Ok(FlushState::Blocked) => {}
            Ok(FlushState::PacedWait) => {
                if !c.paced_waiting {
                    c.paced_waiting = true;
                    self.paced_waiting.push(conn);
                }
            }
            Err(_) => {
                let tell_core = c.phase == Phase::Open;
                self.drop_conn(conn, tell_core.then_some(DropReason::PeerClosed));
            }
        }
    }

    // ---- the core ----

    fn drain_outputs(&mut self) {
        while let Some(output) = self.mesh.poll_output() {
            match output {
                Output::Transmit { conn, frame, paced } => self.queue_frame(conn, frame, paced),
                Output::Dial { conn, host, port } => self.start_dial(conn, &host, port),
                Output::Close { conn, flush, .. } => self.close_for_core(conn, flush),
                Output::Event(Event::Message(message)) if self.pipe.is_direct() => {
                    self.direct_out.push(message);
                }
                Output::Event(event) => {
                    if !matches!(event, Event::Message(_)) {
                        self.peers_dirty = true;
                    }
                    self.outbox.push(event);
                }
            }
        }
    }

    fn queue_frame(&mut self, conn: ConnId, frame: Vec<u8>, paced: bool) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.queue.is_empty() {
            c.last_progress = Instant::now();
        }
        c.queue.push(frame, paced);
        if c.queue.queued_bytes() > self.config.write_hard_limit {
            self.drop_conn(conn, Some(DropReason::SlowPeer));
        } else {
            self.update_congestion(conn);
            self.mark_dirty(conn);
        }
    }

    fn close_for_core(&mut self, conn: ConnId, flush: bool) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if flush && c.phase == Phase::Open && !c.queue.is_empty() {
            c.phase = Phase::Closing {
                since: Instant::now(),
            };
            self.update_congestion(conn);
            self.mark_dirty(conn);
        } else {
            self.drop_conn(conn, None);
        }
        self.peers_dirty = true;
    }

    fn run_commands(&mut self) -> Flow {
        self.commands.begin_drain();
        let mut send_bytes = 0;
        for _ in 0..COMMANDS_PER_TURN {
            if send_bytes > SEND_BYTES_PER_TURN {
                break;
            }
            match self.commands.rx.try_recv() {
                Ok(cmd) => {
                    send_bytes += cmd.cost();
                    self.commands.processed(&cmd);
                    if self.handle(cmd) == Flow::Stop {
                        return Flow::Stop;
                    }
                }
                Err(TryRecvError::Empty) => {
                    self.commands_left = false;
                    return Flow::Continue;
                }
                Err(TryRecvError::Disconnected) => return Flow::Stop,
            }
        }
        self.commands_left = true;
        Flow::Continue
    }

    fn handle(&mut self, cmd: Command) -> Flow {
        match cmd {
            Command::Connect { host, port, done } => {
                let conn = self.mesh.connect(&host, port, self.now);
                self.pending_dials.insert(conn, done);
                self.drain_outputs();
                if !self.conns.contains_key(&conn) {
                    if let Some(done) = self.pending_dials.remove(&conn) {
                        let _ = done.send(Err(io::Error::other(
                            "the mesh core did not dial (already connected or being dialled?)",
                        )));
                    }
                }
            }
            Command::Broadcast {
                sub_flag, messages, ..
            } => {
                for packets in messages {
                    self.mesh.broadcast(sub_flag, packets, self.now);
                    self.drain_outputs();
                }
            }
            Command::BroadcastAt {
                sub_flag,
                packets,
                at_ms,
                ..
            } => {
                self.mesh.broadcast(sub_flag, packets, at_ms);
                self.drain_outputs();
            }
            Command::Whisper {
                peer,
                sub_flag,
                packets,
                done,
                ..
            } => {
                let sent = self.mesh.whisper(&peer, sub_flag, packets, self.now);
                self.drain_outputs();
                let _ = done.send(sent.map(|_| ()));
            }
            Command::Reply {
                sender, packets, ..
            } => {
                self.mesh.reply(&sender, packets, self.now);
                self.drain_outputs();
            }
            Command::WakeHandler => {
                self.mesh.wake_handler(self.now);
                self.drain_outputs();
            }
            Command::Shutdown => return Flow::Stop,
        }
        Flow::Continue
    }

    fn tick_if_due(&mut self) {
        let now = Instant::now();
        if now < self.next_tick {
            return;
        }
        self.next_tick = now + TICK_EVERY;
        self.mesh.on_tick(self.now);
        self.drain_outputs();
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(
                |(_, c)| matches!(c.phase, Phase::Closing { since } if now - since > CLOSING_GRACE),
            )
            .map(|(id, _)| *id)
            .collect();
        for conn in expired {
            self.drop_conn(conn, None);
        }
        let stall = self.config.write_stall_timeout;
        let stalled: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.phase == Phase::Open
                    && !c.queue.is_empty()
                    && now.saturating_duration_since(c.last_progress) > stall
            })
            .map(|(id, _)| *id)
            .collect();
        for conn in stalled {
            self.drop_conn(conn, Some(DropReason::SlowPeer));
        }
        self.drain_outputs();
        self.accept_all();
        self.peers_dirty = true;
    }

    /// Publishes events, counters and buffer levels for the other threads.
    fn publish(&mut self) {
        // Counters and peers first, events and messages last: a user who has seen a message
        // or a Connected event reads counters and a peer list that include it.
        *self.shared.stats.lock() = self.mesh.stats().clone();
        if self.peers_dirty {
            self.peers_dirty = false;
            let peers = self.mesh.peers();
            for c in self.conns.values_mut() {
                c.handshaken = false;
            }
            for peer in &peers {
                if let Some(c) = self.conns.get_mut(&peer.conn) {
                    c.handshaken = true;
                }
            }
            *self.shared.peers.write() = peers;
        }
        let mut total = 0usize;
        let mut least: Option<usize> = None;
        for c in self.conns.values() {
            let queued = c.queue.queued_bytes();
            total += queued;
            if c.phase == Phase::Open {
                least = Some(least.map_or(queued, |l| l.min(queued)));
            }
        }
        let pressed = least.is_some_and(|l| l > self.config.write_soft_limit);
        self.shared
            .write_buffered
            .store(total as u64, Ordering::Relaxed);
        self.shared
            .connections
            .store(self.conns.len(), Ordering::Relaxed);
        self.shared.write_pressure.store(pressed, Ordering::Relaxed);
        self.shared.notify_room();
        // Direct messages first: they all came before any message in the pipe this turn.
        self.pipe.deliver_direct(&mut self.direct_out);
        self.pipe.publish(&mut self.outbox);
    }

    fn shutdown(&mut self) {
        for (_, mut c) in self.conns.drain() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        let _ = self.poll.registry().deregister(&mut self.listener);
        for (_, done) in self.pending_dials.drain() {
            let _ = done.send(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the node was closed",
            )));
        }
        *self.shared.peers.write() = Vec::new();
        *self.shared.stats.lock() = self.mesh.stats().clone();
    }
}
