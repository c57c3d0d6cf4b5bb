//! [`MeshNode`]: starting a node (ID, listener, threads), user commands, back-pressure, the
//! dispatcher's callback sink, and a clean, idempotent close. Not the I/O loop itself.

use super::message::text;
use super::packet::{collect_packets, IntoPacket};
use super::{Error, MeshNodeConfig, Message, NodeEvent, NodeStats, PeerInfo, Result};
use crate::driver::clock::now_ms;
use crate::driver::command::estimated_size;
use crate::driver::dispatch::DirectSink;
use crate::driver::{
    spawn_dispatcher, spawn_event_loop, Command, CommandSender, DriverConfig, EventPipe, RecvQueue,
    Shared,
};
use crate::proto::mesh::{
    DropReason, Event, Mesh, MeshConfig, MeshError, MeshHandler, NoopHandler, UserMessage,
};
use crate::wire::{flags, ids, Value};
use once_cell::sync::Lazy;
use parking_lot::{Mutex, RwLock};
use std::io;
use std::net::{TcpListener, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The node-ID salt, made once per process and shared by all its nodes (as py2p does).
static SALT: Lazy<String> = Lazy::new(ids::new_salt);

/// How a send waits when the node's write buffers are full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendMode {
    /// Wait up to this long for room, then fail with `Error::Timeout`.
    Block(Duration),
    /// Fail at once with `Error::WouldBlock`.
    NoWait,
}

/// A registered callback. A consuming one returns true for a message it takes: that message
/// is then not queued for `recv` (see [`MeshNode::on_event_consuming`]).
#[derive(Clone)]
enum Callback {
    Observe(Arc<ObserveFn>),
    Consume(Arc<ConsumeFn>),
}

/// Run by the dispatcher thread before each batch of mesh events: a layered protocol
/// delivers its own events there (see [`MeshNode::start`]).
pub(crate) type DispatchHook = Box<dyn FnMut(&MeshNode) + Send>;

type ObserveFn = dyn Fn(&MeshNode, &NodeEvent) + Send + Sync;
type ConsumeFn = dyn Fn(&MeshNode, &NodeEvent) -> bool + Send + Sync;

/// A running mesh node. Cheap to clone (all clones are the same node); `Send + Sync`; every
/// method may be called from any thread, callbacks included. The node closes on
/// [`MeshNode::close`] or when its last clone is dropped.
#[derive(Clone)]
pub struct MeshNode {
    inner: Arc<NodeInner>,
}

struct Threads {
    io: Option<JoinHandle<()>>,
    dispatcher: Option<JoinHandle<()>>,
}

pub(crate) struct NodeInner {
    id: String,
    protocol_id: String,
    out_addr: (String, u16),
    local_port: u16,
    config: MeshNodeConfig,
    commands: CommandSender,
    shared: Arc<Shared>,
    pipe: Arc<EventPipe>,
    queue: Arc<RecvQueue<Message>>,
    callbacks: Arc<RwLock<Vec<Callback>>>,
    threads: Mutex<Threads>,
    closed: AtomicBool,
}

impl MeshNode {
    /// Binds the listener, derives the node ID and starts the I/O and dispatcher threads.
    pub fn new(config: MeshNodeConfig) -> Result<MeshNode> {
        MeshNode::start(config, |_, _| (NoopHandler, None))
    }

    /// [`MeshNode::new`] with a protocol layered on the mesh: `layer` gets the node's event
    /// pipe (to wake the dispatcher) and its ID, and returns the handler the I/O thread runs and a hook
    /// the dispatcher calls before each batch of mesh events.
    pub(crate) fn start<H: MeshHandler + 'static>(
        config: MeshNodeConfig,
        layer: impl FnOnce(&Arc<EventPipe>, &str) -> (H, Option<DispatchHook>),
    ) -> Result<MeshNode> {
        check_config(&config)?;
        let listener = bind(&config.bind_host, config.port)?;
        let local_port = listener.local_addr()?.port();
        let out_addr = config
            .out_addr
            .clone()
            .unwrap_or_else(|| (advertised_host(&config.bind_host), local_port));
        let protocol_id = ids::protocol_id(&config.subnet, &config.encryption);
        let id = ids::node_id(
            &ids::out_addr_repr(&out_addr.0, out_addr.1),
            &protocol_id,
            &SALT,
        );
        let mut mesh_config = MeshConfig::new(protocol_id.clone(), id.clone(), out_addr.clone());
        mesh_config.max_outgoing = config.max_outgoing;
        mesh_config.redial_lost_peers = config.redial_lost_peers;
        mesh_config.limits = config.limits;
        mesh_config.seen_capacity = config.seen_capacity;
        mesh_config.handshake_timeout_s = config.handshake_timeout_s;
        let shared = Arc::new(Shared::new());
        let pipe = Arc::new(EventPipe::new(config.dispatch_capacity));
        let (handler, hook) = layer(&pipe, &id);
        let queue = Arc::new(RecvQueue::new(config.recv_queue_capacity));
        // Filled once the node exists; messages carry it so that `reply` reaches the node.
        let node_slot: Arc<OnceLock<Weak<NodeInner>>> = Arc::new(OnceLock::new());
        if hook.is_none() {
            pipe.set_direct(direct_sink(queue.clone(), node_slot.clone()));
        }
        let mesh = Mesh::with_handler(mesh_config, handler, now_ms());
        let name = format!("rs2p-{local_port}");
        let driver_config = DriverConfig {
            name: name.clone(),
            write_soft_limit: config.write_soft_limit,
            write_hard_limit: config.write_hard_limit,
            write_stall_timeout: config.write_stall_timeout,
            close_flush_timeout: config.close_flush_timeout,
        };
        let (commands, io_thread) =
            spawn_event_loop(driver_config, mesh, listener, shared.clone(), pipe.clone())?;
        let inner = Arc::new(NodeInner {
            id,
            protocol_id,
            out_addr,
            local_port,
            queue,
            config,
            commands,
            shared,
            pipe: pipe.clone(),
            callbacks: Arc::new(RwLock::new(Vec::new())),
            threads: Mutex::new(Threads {
                io: Some(io_thread),
                dispatcher: None,
            }),
            closed: AtomicBool::new(false),
        });
        let _ = node_slot.set(Arc::downgrade(&inner));
        let sink = dispatch_sink(
            Arc::downgrade(&inner),
            inner.queue.clone(),
            inner.callbacks.clone(),
            hook,
        );
        match spawn_dispatcher(format!("{name}-events"), pipe, sink) {
            Ok(handle) => inner.threads.lock().dispatcher = Some(handle),
            Err(e) => {
                inner.close();
                return Err(e.into());
            }
        }
        Ok(MeshNode { inner })
    }

    pub(crate) fn from_inner(inner: Arc<NodeInner>) -> Self {
        MeshNode { inner }
    }

    /// This node's ID (base58 text).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The protocol ID this node speaks.
    pub fn protocol_id(&self) -> &str {
        &self.inner.protocol_id
    }

    /// The port the listener is bound to (the chosen one when configured with port 0).
    pub fn local_port(&self) -> u16 {
        self.inner.local_port
    }

    /// The address this node advertises to peers.
    pub fn out_addr(&self) -> (&str, u16) {
        (&self.inner.out_addr.0, self.inner.out_addr.1)
    }

    /// Dials `host:port` and waits until the TCP connection is up (the handshake follows;
    /// wait for a `Connected` event or `peers()` to see the peer).
    pub fn connect(&self, host: &str, port: u16) -> Result<()> {
        if host.is_empty() || port == 0 {
            return Err(Error::InvalidArgument(format!(
                "cannot connect to {host:?} port {port}: give a host and a non-zero port"
            )));
        }
        self.check_open()?;
        let (done, answer) = crossbeam_channel::bounded(1);
        self.submit(Command::Connect {
            host: host.to_owned(),
            port,
            done,
        })?;
        match answer.recv_timeout(self.inner.config.connect_timeout) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(Error::ConnectFailed {
                addr: format!("{host}:{port}"),
                source,
            }),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(Error::Closed),
        }
    }

    /// Starts dialling `host:port` and returns at once, without waiting for the TCP connection
    /// (a failed dial is not reported; a `Connected` event or `peers()` shows success).
    pub fn connect_in_background(&self, host: &str, port: u16) -> Result<()> {
        if host.is_empty() || port == 0 {
            return Err(Error::InvalidArgument(format!(
                "cannot connect to {host:?} port {port}: give a host and a non-zero port"
            )));
        }
        // The answer's receiver is dropped: the I/O thread ignores a failed answer.
        let (done, _ignored) = crossbeam_channel::bounded(1);
        self.submit(Command::Connect {
            host: host.to_owned(),
            port,
            done,
        })
    }

    /// Broadcasts one message to the whole network, waiting up to the configured send
    /// timeout for room.
    pub fn send<P: IntoPacket>(&self, packets: impl IntoIterator<Item = P>) -> Result<()> {
        self.send_with(packets, SendMode::Block(self.inner.config.send_timeout))
    }

    /// Broadcasts one message; `mode` says what to do while the write buffers are full.
    pub fn send_with<P: IntoPacket>(
        &self,
        packets: impl IntoIterator<Item = P>,
        mode: SendMode,
    ) -> Result<()> {
        self.broadcast_many(flags::sub::BROADCAST, vec![collect_packets(packets)], mode)
    }

    /// Broadcasts one message `[sub_flag, packets...]` with a sub-flag of the caller's choice
    /// (`send_with` uses `flags::sub::BROADCAST`; py2p lets users pick others).
    pub fn send_sub_flag(&self, sub_flag: u8, packets: Vec<Value>, mode: SendMode) -> Result<()> {
        self.broadcast_many(sub_flag, vec![packets], mode)
    }

    /// Broadcasts many messages with one hand-over to the I/O thread (the fast path for bulk
    /// sends): each item is the packets of one message.
    pub fn send_many(&self, messages: Vec<Vec<Value>>, mode: SendMode) -> Result<()> {
        self.broadcast_many(flags::sub::BROADCAST, messages, mode)
    }

    fn broadcast_many(
        &self,
        sub_flag: u8,
        messages: Vec<Vec<Value>>,
        mode: SendMode,
    ) -> Result<()> {
        let cost = messages.iter().map(|m| estimated_size(m)).sum();
        self.wait_for_room(mode)?;
        self.submit(Command::Broadcast {
            sub_flag,
            messages,
            cost,
        })
    }

    /// Sends one message to a connected peer only.
    pub fn whisper<P: IntoPacket>(
        &self,
        peer_id: &str,
        packets: impl IntoIterator<Item = P>,
    ) -> Result<()> {
        self.whisper_sub_flag(peer_id, flags::sub::WHISPER, collect_packets(packets))
    }

    /// Whispers `[sub_flag, packets...]` to a connected peer, with a sub-flag of the caller's
    /// choice (`whisper` uses `flags::sub::WHISPER`).
    pub fn whisper_sub_flag(&self, peer_id: &str, sub_flag: u8, packets: Vec<Value>) -> Result<()> {
        let cost = estimated_size(&packets);
        self.wait_for_room(SendMode::Block(self.inner.config.send_timeout))?;
        let (done, answer) = crossbeam_channel::bounded(1);
        self.submit(Command::Whisper {
            peer: peer_id.as_bytes().to_vec(),
            sub_flag,
            packets,
            cost,
            done,
        })?;
        match answer.recv_timeout(self.inner.config.send_timeout) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(MeshError::UnknownPeer)) => Err(Error::UnknownPeer {
                peer: peer_id.to_owned(),
            }),
            Ok(Err(MeshError::InvalidMessage(why))) => Err(Error::InvalidArgument(why.into())),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(Error::Timeout),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(Error::Closed),
        }
    }

    pub(crate) fn reply_to(&self, sender: &[u8], packets: Vec<Value>) -> Result<()> {
        let cost = estimated_size(&packets);
        self.wait_for_room(SendMode::Block(self.inner.config.send_timeout))?;
        self.submit(Command::Reply {
            sender: sender.to_vec(),
            packets,
            cost,
        })
    }

    /// The oldest received message, waiting up to `timeout`; `None` on timeout, or at once
    /// when the node is closed and nothing is left.
    pub fn recv(&self, timeout: Duration) -> Option<Message> {
        self.inner.queue.pop(Instant::now() + timeout)
    }

    /// Handshaken peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.inner
            .shared
            .peers
            .read()
            .iter()
            .map(|p| PeerInfo {
                id: String::from_utf8_lossy(&p.id).into_owned(),
                host: p.addr.0.clone(),
                port: p.addr.1,
                direction: p.direction,
            })
            .collect()
    }

    /// Counters of the core and of the driver.
    pub fn stats(&self) -> NodeStats {
        let inner = &self.inner;
        let mut mesh = inner.shared.stats.lock().clone();
        let handshaken = inner.shared.peers.read().len();
        let connections = inner.shared.connections.load(Ordering::Relaxed);
        let recv_queue_shed = inner.queue.shed_count();
        let dispatch_shed = inner.pipe.shed_count();
        mesh.dropped[DropReason::QueueFull as usize] += recv_queue_shed + dispatch_shed;
        NodeStats {
            mesh,
            recv_queue_len: inner.queue.len(),
            recv_queue_shed,
            dispatch_shed,
            write_buffered: inner.shared.write_buffered.load(Ordering::Relaxed),
            pending_send_bytes: inner.commands.pending_bytes(),
            connections,
            pending_handshakes: connections.saturating_sub(handshaken),
        }
    }

    /// Registers a callback for connects, disconnects and messages. Callbacks run on the
    /// node's dispatcher thread, in event order, and may call any method of the node,
    /// `close()` included. A panicking callback is caught and does not stop the others.
    pub fn on_event(&self, callback: impl Fn(&MeshNode, &NodeEvent) + Send + Sync + 'static) {
        let callback = Callback::Observe(Arc::new(callback));
        self.inner.pipe.end_direct();
        self.inner.callbacks.write().push(callback);
    }

    /// Registers a callback that may consume messages: for a `NodeEvent::Message` it returns
    /// true to take the message, which is then not queued for `recv` (its return value is
    /// ignored for other events). Consuming callbacks see a message before it is queued and
    /// before the `on_event` callbacks, so a `recv()` inside one does not find that message.
    /// Otherwise as [`MeshNode::on_event`].
    pub fn on_event_consuming(
        &self,
        callback: impl Fn(&MeshNode, &NodeEvent) -> bool + Send + Sync + 'static,
    ) {
        let callback = Callback::Consume(Arc::new(callback));
        self.inner.pipe.end_direct();
        self.inner.callbacks.write().push(callback);
    }

    /// Stops the node: writes out frames still queued (sends made just before; at most
    /// `close_flush_timeout`, default 2 s), closes every connection and the listener, stops
    /// both threads and returns once the port is free. Idempotent. From inside a callback it does not wait for
    /// the dispatcher thread (that thread ends when the callback returns).
    pub fn close(&self) {
        self.inner.close();
    }

    /// True once `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() || self.inner.shared.stopped.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    pub(crate) fn submit(&self, command: Command) -> Result<()> {
        self.check_open()?;
        self.inner.commands.send(command).map_err(|_| Error::Closed)
    }

    /// Waits (or not) while every connection's write buffer, or the queue of sends the I/O
    /// thread has not taken yet, is above the soft limit.
    pub(crate) fn wait_for_room(&self, mode: SendMode) -> Result<()> {
        self.check_open()?;
        let inner = &self.inner;
        let soft = inner.config.write_soft_limit as u64;
        let pressed = || {
            inner.shared.write_pressure.load(Ordering::Relaxed)
                || inner.commands.pending_bytes() > soft
        };
        match mode {
            SendMode::NoWait if pressed() => Err(Error::WouldBlock),
            SendMode::NoWait => Ok(()),
            SendMode::Block(timeout) => {
                if inner
                    .shared
                    .wait_for_room(Instant::now() + timeout, pressed)
                {
                    self.check_open()
                } else {
                    Err(Error::Timeout)
                }
            }
        }
    }
}

impl NodeInner {
    fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.commands.send(Command::Shutdown);
            self.queue.close();
        }
        // Held while joining the I/O thread (which never waits on user code), so a concurrent
        // close() also returns only once the port is free.
        let mut threads = self.threads.lock();
        if let Some(io) = threads.io.take() {
            let _ = io.join();
        }
        let dispatcher = threads.dispatcher.take();
        drop(threads);
        self.pipe.close();
        if let Some(dispatcher) = dispatcher {
            if dispatcher.thread().id() != thread::current().id() {
                let _ = dispatcher.join();
            }
        }
        self.callbacks.write().clear();
    }
}

impl Drop for NodeInner {
    fn drop(&mut self) {
        self.close();
    }
}

/// Where the I/O thread puts messages while no callback is registered: straight into the
/// receive queue (see `driver::dispatch`). A message that arrives in the moment between
/// the listener opening and the node existing gets no node to reply through (its `reply`
/// says `Closed`); nothing can reach that moment but a peer that guessed the port.
fn direct_sink(
    queue: Arc<RecvQueue<Message>>,
    node_slot: Arc<OnceLock<Weak<NodeInner>>>,
) -> Box<DirectSink> {
    Box::new(move |messages: &mut Vec<UserMessage>| {
        if queue.capacity() == 0 {
            return;
        }
        let node = node_slot.get().cloned().unwrap_or_default();
        queue.push_all(
            messages
                .drain(..)
                .map(|m| Message::from_core(m, node.clone())),
        );
    })
}

/// What the dispatcher thread does with each batch of core events.
fn dispatch_sink(
    node: Weak<NodeInner>,
    queue: Arc<RecvQueue<Message>>,
    callbacks: Arc<RwLock<Vec<Callback>>>,
    mut hook: Option<DispatchHook>,
) -> impl FnMut(&mut Vec<Event>) + Send + 'static {
    move |batch: &mut Vec<Event>| {
        if let Some(hook) = hook.as_mut() {
            if let Some(handle) = node.upgrade().map(MeshNode::from_inner) {
                hook(&handle);
            }
        }
        let registered: Vec<Callback> = callbacks.read().clone();
        if registered.is_empty() {
            let messages = batch.drain(..).filter_map(|event| match event {
                Event::Message(m) => Some(Message::from_core(m, node.clone())),
                _ => None,
            });
            queue.push_all(messages);
            return;
        }
        let Some(handle) = node.upgrade().map(MeshNode::from_inner) else {
            batch.clear();
            return;
        };
        for event in batch.drain(..) {
            let event = match event {
                Event::Connected { peer } => NodeEvent::Connected { peer: text(peer) },
                Event::Disconnected { peer } => NodeEvent::Disconnected { peer: text(peer) },
                Event::Message(m) => NodeEvent::Message(Message::from_core(m, node.clone())),
            };
            let mut consumed = false;
            for callback in &registered {
                if let Callback::Consume(consume) = callback {
                    let took = catch_unwind(AssertUnwindSafe(|| consume(&handle, &event)));
                    consumed |= took.unwrap_or(false);
                }
            }
            if let (NodeEvent::Message(message), false) = (&event, consumed) {
                // Queued before the observing callbacks, so one that calls recv() finds it.
                queue.push_all(std::iter::once(message.clone()));
            }
            for callback in &registered {
                if let Callback::Observe(observe) = callback {
                    let _ = catch_unwind(AssertUnwindSafe(|| observe(&handle, &event)));
                }
            }
        }
    }
}

fn check_config(config: &MeshNodeConfig) -> Result<()> {
    match config.encryption.as_str() {
        "Plaintext" => {}
        "SSL" => {
            return Err(Error::Unsupported(
                "SSL encryption is not implemented yet; use \"Plaintext\"".into(),
            ))
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "encryption {other:?} is unknown; use \"Plaintext\""
            )))
        }
    }
    if config.write_soft_limit == 0 || config.write_hard_limit < config.write_soft_limit {
        return Err(Error::InvalidArgument(format!(
            "write limits soft {} / hard {}: need 0 < soft <= hard",
            config.write_soft_limit, config.write_hard_limit
        )));
    }
    if config.bind_host.is_empty() {
        return Err(Error::InvalidArgument(
            "bind host is empty; use e.g. \"127.0.0.1\" or \"0.0.0.0\"".into(),
        ));
    }
    Ok(())
}

fn bind(host: &str, port: u16) -> Result<TcpListener> {
    TcpListener::bind((host, port)).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => Error::AddrInUse {
            addr: format!("{host}:{port}"),
        },
        _ => Error::Io(e),
    })
}

/// The host other nodes should dial: the bind host, or this machine's LAN address when bound
/// to every interface (127.0.0.1 when there is no route out).
fn advertised_host(bind_host: &str) -> String {
    if bind_host != "0.0.0.0" {
        return bind_host.to_owned();
    }
    // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
    UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("10.255.255.255:1").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".to_owned())
}
