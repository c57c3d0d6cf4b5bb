"""The flooding mesh socket, with py2p's names and behaviour (``py2p.mesh.MeshSocket``), on
top of librs2p's mesh node.

The node (sockets, handshakes, relaying, de-duplication) runs inside the library on its own
threads. This module turns the node's events into py2p's Python surface: it owns the receive
queue that :meth:`MeshSocket.recv` reads, runs the handlers given to
:meth:`MeshSocket.register_handler`, and emits the ``'connect'`` and ``'message'`` events.
It does not implement any of the protocol itself.

Threads: events arrive on the node's dispatcher thread, one at a time and in order (ctypes
takes the GIL for the call). Handlers and listeners run there and may call any method of any
socket, ``close()`` included. Nothing here polls: waiting (``recv(timeout=...)``, ``close``
waiting for calls in flight) is done on condition variables, and blocking library calls
release the GIL.
"""

from __future__ import annotations

import atexit
import ctypes
import inspect
import itertools
import logging
import queue
import threading
import traceback
import weakref
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Set, Tuple, Union

from . import _lib, flags
from .base import Connection, EventEmitter, Message, Protocol, default_protocol, pack_packets
from .errors import Closed, Rs2pError, UnknownPeer

__all__ = ["MeshSocket", "default_protocol", "Protocol", "Message", "Connection"]

_log = logging.getLogger("rs2p.mesh")

#: How many messages :meth:`MeshSocket.recv` can have waiting before new ones are shed.
DEFAULT_QUEUE_CAPACITY = 65536
#: How many handler/listener failures ``status`` remembers.
_MAX_REMEMBERED_FAILURES = 100

Handler = Callable[[Message, Optional[Connection]], Any]


# --- the one callback the library calls -------------------------------------------------

# userdata (a small integer) -> the socket, weakly: a collected socket gets no calls.
_registry: Dict[int, "weakref.ReferenceType[MeshSocket]"] = {}
_registry_lock = threading.Lock()
_next_key = itertools.count(1)
# Threads the library has called us on (the nodes' dispatchers). A node is never freed from
# one of them: the last reference to a socket may well be dropped inside a callback. An ident
# reused later by another thread only makes that thread's frees go through the reaper.
_dispatcher_threads: Set[int] = set()


def _on_event(userdata: Optional[int], event_ptr: Any) -> None:
    try:
        _dispatcher_threads.add(threading.get_ident())
        ref = _registry.get(userdata or 0)
        sock = ref() if ref is not None else None
        if sock is None:
            return
        event = event_ptr.contents
        sock._handle_event(event.kind, event.peer_id, event.message)
    except BaseException:  # never let an exception unwind into the library
        _log.exception("rs2p: error while handling a mesh event")


# Kept for the life of the process: the library may call it until a node is freed.
_TRAMPOLINE = _lib.EVENT_CALLBACK(_on_event)
# The userdata is a plain integer key: nothing to free (a NULL function pointer).
_NO_USERDATA_FREE = _lib.USERDATA_FREE()


def _in_dispatcher_thread() -> bool:
    return threading.get_ident() in _dispatcher_threads


# --- freeing nodes ----------------------------------------------------------------------

_reap_queue: "queue.Queue[_NodeHandle]" = queue.Queue()
_reaper_started = False
_reaper_lock = threading.Lock()


def _reaper() -> None:
    while True:
        handle = _reap_queue.get()  # blocks; no polling
        handle.free()


def _free_later(handle: "_NodeHandle") -> None:
    """Frees ``handle`` on a helper thread: a node is not freed from its own dispatcher."""
    global _reaper_started
    with _reaper_lock:
        if not _reaper_started:
            threading.Thread(target=_reaper, name="rs2p-mesh-reaper", daemon=True).start()
            _reaper_started = True
    _reap_queue.put(handle)


class _NodeHandle:
    """The ``rs2p_mesh *`` of one socket, and the count of library calls using it, so that
    it is freed only once no call is in flight. Subclasses whose mesh pointer is borrowed
    from another object (a sync node's) override :meth:`_close_library_node` and
    :meth:`_free_library_node`."""

    def __init__(self, lib: _lib.Library, pointer: int) -> None:
        self.lib = lib
        self._pointer: Optional[int] = pointer
        self._in_flight = 0
        self._closing = False
        self._idle = threading.Condition(threading.Lock())

    def acquire(self) -> int:
        with self._idle:
            if self._closing or self._pointer is None:
                raise Closed(32, "this MeshSocket is closed")
            self._in_flight += 1
            return self._pointer

    def release(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def close(self) -> bool:
        """Stops the node (calls in flight return ``Closed``); False if already closing."""
        with self._idle:
            if self._closing or self._pointer is None:
                return False
            self._closing = True
            pointer = self._pointer
        try:
            self._close_library_node(pointer)
        except Rs2pError as err:  # freeing still closes; say why stopping went wrong
            _log.warning("rs2p: closing a mesh node failed: %s", err)
        return True

    def free(self) -> None:
        """Waits for the calls in flight (they end promptly on a closed node), then frees."""
        with self._idle:
            while self._in_flight:
                self._idle.wait()
            pointer, self._pointer = self._pointer, None
        if pointer is not None:
            self._free_library_node(pointer)

    def _close_library_node(self, pointer: int) -> None:
        self.lib.rs2p_mesh_close(pointer)

    def _free_library_node(self, pointer: int) -> None:
        self.lib.rs2p_mesh_free(pointer)


class _OwnedMeshHandle(_NodeHandle):
    """The borrowed ``rs2p_mesh *`` of a library object that owns its mesh (an ``rs2p_sync *``
    or ``rs2p_chord *``, kept in :attr:`owner`): closing and freeing go to the owner, through
    the library functions given."""

    def __init__(
        self,
        lib: _lib.Library,
        mesh: int,
        owner: int,
        close: Callable[[int], Any],
        free: Callable[[int], Any],
    ) -> None:
        super().__init__(lib, mesh)
        #: The owner pointer; use it only between ``acquire()`` and ``release()``.
        self.owner = owner
        self._close_owner = close
        self._free_owner = free

    def _close_library_node(self, pointer: int) -> None:
        self._close_owner(self.owner)

    def _free_library_node(self, pointer: int) -> None:
        self._free_owner(self.owner)


class _UsingOwner:
    """``with sock._sync() as sync:`` (or ``_chord()``) — the owner pointer of an
    :class:`_OwnedMeshHandle`, valid (not freed) inside the block."""

    __slots__ = ("_handle",)

    def __init__(self, handle: _NodeHandle) -> None:
        assert isinstance(handle, _OwnedMeshHandle)
        self._handle = handle

    def __enter__(self) -> int:
        self._handle.acquire()
        return self._handle.owner

    def __exit__(self, *_exc: Any) -> None:
        self._handle.release()


class _Using:
    """``with sock._node() as mesh:`` — a node pointer that stays valid inside the block."""

    __slots__ = ("_handle", "pointer")

    def __init__(self, handle: _NodeHandle) -> None:
        self._handle = handle

    def __enter__(self) -> int:
        self.pointer = self._handle.acquire()
        return self.pointer

    def __exit__(self, *_exc: Any) -> None:
        self._handle.release()


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return _lib.WAIT_FOREVER
    if timeout < 0:
        raise ValueError(f"timeout must be None or >= 0 seconds, not {timeout}")
    return min(int(timeout * 1000), 2**31 - 1)


class PendingConnection:
    """A connection still waiting for its handshake (see ``awaiting_ids``); no ID yet."""

    __slots__ = ()
    id = None

    def __repr__(self) -> str:
        return "PendingConnection()"


class MeshSocket(EventEmitter):
    """A node of a flooding mesh network, like ``py2p.mesh.MeshSocket``.

    ``MeshSocket(addr, port)`` binds ``addr:port`` (port 0 picks a free one; :attr:`port` is
    the port actually bound) and starts the node. Messages sent with :meth:`send` reach every
    node of the network; received ones wait in a queue for :meth:`recv`, unless a handler
    registered with :meth:`register_handler` consumes them.

    Events (``on``/``once``): ``'connect'`` (fn(socket)) when the socket goes from no peer to
    one, as py2p emits it; ``'message'`` (fn(socket)) after a message was queued. rs2p adds
    ``'peer_connect'`` and ``'peer_disconnect'`` (fn(socket, peer_id)) for every peer.

    Differences from py2p: :meth:`connect` starts the dial and returns at once (failures are
    not raised; check ``routing_table``); ``recv`` accepts a ``timeout``; the receive queue is
    bounded (``queue_capacity``; when full, new messages are shed and counted in
    ``dropped_messages``, as the library's own queue does); ``'SSL'`` is not supported.

    rs2p keywords: ``max_outgoing`` (peers dialled from peer lists, default 4),
    ``queue_capacity`` (default 65,536 messages) and ``handshake_timeout`` (whole seconds a
    new connection may take to send a valid handshake, default 30).
    """

    def __init__(
        self,
        addr: str,
        port: int,
        prot: Protocol = default_protocol,
        out_addr: Optional[Tuple[str, int]] = None,
        debug_level: int = 0,
        *,
        max_outgoing: Optional[int] = None,
        queue_capacity: int = DEFAULT_QUEUE_CAPACITY,
        handshake_timeout: Optional[int] = None,
    ) -> None:
        super().__init__()
        self._closed = True  # until the node exists, so that __del__ has nothing to do
        lib = _lib.get()
        lib.require_mesh()
        if queue_capacity < 0:
            raise ValueError(f"queue_capacity must be >= 0, not {queue_capacity}")
        self.protocol = Protocol(*prot)
        self.debug_level = debug_level
        self._lib = lib
        self._node_handle = self._open_node(
            lib, addr, port, self.protocol, out_addr, max_outgoing, handshake_timeout
        )
        pointer = self._node_handle.acquire()
        self._node_handle.release()
        self._closed = False
        try:
            self.id: bytes = self._read_id(lib, pointer)
            bound = ctypes.c_uint16(0)
            lib.rs2p_mesh_port(pointer, ctypes.byref(bound))
            self._port = bound.value
        except BaseException:
            self._close_node()
            raise
        self.out_addr: Tuple[str, int] = (
            (out_addr[0], int(out_addr[1])) if out_addr else (addr, self._port)
        )
        self.queue: Deque[Message] = deque()
        self._queue_capacity = queue_capacity
        self._queue_ready = threading.Condition(threading.Lock())
        self.dropped_messages = 0
        self._handlers: List[Handler] = []
        self._failures: List[str] = []
        self._peers: Set[bytes] = set()
        # The routing table handlers get their Connection from; rebuilt after peer events.
        self._handler_table: Optional[Dict[bytes, Connection]] = None
        self._key = next(_next_key)
        with _registry_lock:
            _registry[self._key] = weakref.ref(self)
        try:
            lib.rs2p_mesh_set_callback(
                pointer, _TRAMPOLINE, self._key, _NO_USERDATA_FREE, _lib.CALLBACK_CONSUME_MESSAGES
            )
        except BaseException:
            self._close_node()
            raise

    # --- construction helpers -----------------------------------------------------------

    def _open_node(
        self,
        lib: _lib.Library,
        addr: str,
        port: int,
        prot: Protocol,
        out_addr: Optional[Tuple[str, int]],
        max_outgoing: Optional[int],
        handshake_timeout: Optional[int],
    ) -> _NodeHandle:
        """Starts the library node this socket drives. Subclasses that start another kind of
        node (and borrow its mesh) override this."""
        return _NodeHandle(
            lib,
            self._start_node(lib, addr, port, prot, out_addr, max_outgoing, handshake_timeout),
        )

    @staticmethod
    def _new_config(
        lib: _lib.Library,
        addr: str,
        port: int,
        prot: Protocol,
        out_addr: Optional[Tuple[str, int]],
        max_outgoing: Optional[int],
        handshake_timeout: Optional[int] = None,
    ) -> ctypes.c_void_p:
        """A ``rs2p_mesh_config`` with these settings; the caller frees it."""
        config = ctypes.c_void_p()
        lib.rs2p_mesh_config_new(ctypes.byref(config))
        try:
            lib.rs2p_mesh_config_set_bind(config, addr.encode("utf-8"), int(port))
            if out_addr:
                lib.rs2p_mesh_config_set_out_addr(
                    config, str(out_addr[0]).encode("utf-8"), int(out_addr[1])
                )
            lib.rs2p_mesh_config_set_protocol(
                config, prot.subnet.encode("utf-8"), prot.encryption.encode("utf-8")
            )
            if max_outgoing is not None:
                lib.rs2p_mesh_config_set_max_outgoing(config, int(max_outgoing))
            if handshake_timeout is not None:
                lib.rs2p_mesh_config_set_handshake_timeout(config, int(handshake_timeout))
        except BaseException:
            lib.rs2p_mesh_config_free(config)
            raise
        return config

    @classmethod
    def _start_node(
        cls,
        lib: _lib.Library,
        addr: str,
        port: int,
        prot: Protocol,
        out_addr: Optional[Tuple[str, int]],
        max_outgoing: Optional[int],
        handshake_timeout: Optional[int] = None,
    ) -> int:
        config = cls._new_config(lib, addr, port, prot, out_addr, max_outgoing, handshake_timeout)
        try:
            mesh = ctypes.c_void_p()
            lib.rs2p_mesh_new(config, ctypes.byref(mesh))
        finally:
            lib.rs2p_mesh_config_free(config)
        if not mesh.value:
            raise RuntimeError("rs2p_mesh_new reported success but returned no node")
        return mesh.value

    @staticmethod
    def _read_id(lib: _lib.Library, pointer: int) -> bytes:
        capacity = 128
        needed = ctypes.c_size_t(0)
        out = ctypes.create_string_buffer(capacity)
        try:
            lib.rs2p_mesh_id(pointer, out, capacity, ctypes.byref(needed))
        except Exception:
            if needed.value < capacity:
                raise
            out = ctypes.create_string_buffer(needed.value + 1)
            lib.rs2p_mesh_id(pointer, out, needed.value + 1, ctypes.byref(needed))
        return out.value

    def _node(self) -> _Using:
        return _Using(self._node_handle)

    # --- events from the library (dispatcher thread) ------------------------------------

    def _handle_event(self, kind: int, peer_id: Optional[bytes], message: Optional[int]) -> None:
        if kind == _lib.EVENT_MESSAGE and message:
            self._handle_message(message)
        elif kind == _lib.EVENT_CONNECT:
            peer = peer_id or b""
            self._handler_table = None
            was_alone = not self._peers
            self._peers.add(peer)
            self._emit_safely("peer_connect", self, peer)
            if was_alone:
                self._emit_safely("connect", self)
        elif kind == _lib.EVENT_DISCONNECT:
            peer = peer_id or b""
            self._handler_table = None
            self._peers.discard(peer)
            self._emit_safely("peer_disconnect", self, peer)

    def _handle_message(self, borrowed: int) -> None:
        lib = self._lib
        owned = ctypes.c_void_p()
        lib.rs2p_message_clone(borrowed, ctypes.byref(owned))
        msg = Message._from_library(lib, owned.value or 0, self)
        if self._handlers and self._run_handlers(msg):
            return
        if msg.packets[0] not in (flags.broadcast, flags.whisper):
            return  # py2p ignores other sub-flags that no handler took
        with self._queue_ready:
            if len(self.queue) >= self._queue_capacity:
                self.dropped_messages += 1
                return
            self.queue.append(msg)
            self._queue_ready.notify()
        self._emit_safely("message", self)

    def _run_handlers(self, msg: Message) -> bool:
        if self._handler_table is None:
            self._handler_table = self.routing_table
        conn = self._handler_table.get(msg.sender)
        for handler in list(self._handlers):
            try:
                if handler(msg, conn):
                    return True
            except Exception:
                self._remember_failure(f"handler {handler!r}")
        return False

    def _emit_safely(self, event: str, *args: Any) -> None:
        try:
            self.emit(event, *args)
        except Exception:
            self._remember_failure(f"listener of {event!r}")

    def _remember_failure(self, where: str) -> None:
        text = f"{where} raised:\n{traceback.format_exc()}"
        _log.error("rs2p.mesh: %s", text)
        if len(self._failures) < _MAX_REMEMBERED_FAILURES:
            self._failures.append(text)

    # --- py2p's API ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the node is bound to (the real one when 0 was asked for)."""
        return self._port

    @property
    def status(self) -> Union[str, List[str]]:
        """``"Nominal"``, or the tracebacks of handlers and listeners that raised."""
        return list(self._failures) or "Nominal"

    @property
    def closed(self) -> bool:
        return self._closed

    def register_handler(self, method: Handler) -> None:
        """Adds ``method(msg, conn)``, called for each received message before it is queued;
        a truthy return consumes the message. ``conn`` is the sender's :class:`Connection`
        if it is a neighbour, else None. :class:`ValueError` unless it takes two arguments
        (py2p's rule)."""
        params = inspect.signature(method).parameters
        if len(params) != (3 if "self" in params else 2):
            raise ValueError(
                "This method must contain exactly two arguments (or three if first is self)"
            )
        self._handlers.append(method)

    def send(
        self,
        *packets: Any,
        flag: int = flags.broadcast,
        type: int = flags.broadcast,
        timeout: Optional[float] = None,
    ) -> None:
        """Sends ``packets`` to the network. ``flag=flags.broadcast`` (the default) floods
        ``[type, *packets]`` to every node; ``flag=flags.whisper`` whispers it to each
        neighbour (py2p's behaviour). ``timeout`` (rs2p extension, broadcasts only): how long
        to wait while the node pushes back — None waits as long as needed, 0 raises
        :class:`rs2p.errors.WouldBlock` at once, else :class:`rs2p.errors.Timeout`."""
        data = pack_packets(packets)
        if flag == flags.broadcast:
            with self._node() as mesh:
                self._lib.rs2p_mesh_send_msgpack(
                    mesh, int(type), _lib.input_bytes(data), len(data), _timeout_ms(timeout)
                )
        elif flag == flags.whisper:
            for peer_id in self._peer_ids():
                try:
                    self._whisper_packed(peer_id, type, data)
                except UnknownPeer:
                    pass  # it left since the snapshot
        else:
            raise ValueError(
                f"flag must be flags.broadcast ({flags.broadcast}) or flags.whisper "
                f"({flags.whisper}), not {flag!r}"
            )

    def _whisper(self, peer_id: bytes, type: int, packets: Tuple[Any, ...]) -> None:
        self._whisper_packed(peer_id, type, pack_packets(packets))

    def _whisper_packed(self, peer_id: bytes, type: int, data: bytes) -> None:
        with self._node() as mesh:
            self._lib.rs2p_mesh_whisper_msgpack(
                mesh, peer_id, int(type), _lib.input_bytes(data), len(data)
            )

    def recv(
        self, quantity: int = 1, timeout: Optional[float] = None
    ) -> Union[None, Message, List[Message]]:
        """The oldest received message, or None if there is none — or, when ``quantity`` is
        not 1, a list of up to ``quantity`` messages (py2p's behaviour). ``timeout`` (rs2p
        extension): wait up to that many seconds for at least one message; None does not wait."""
        with self._queue_ready:
            if timeout is not None and not self.queue and not self._closed:
                self._queue_ready.wait_for(lambda: self.queue or self._closed, timeout)
            if quantity != 1:
                taken = []
                while self.queue and quantity > 0:
                    taken.append(self.queue.popleft())
                    quantity -= 1
                return taken
            return self.queue.popleft() if self.queue else None

    def connect(self, addr: str, port: int, id: Optional[bytes] = None) -> Optional[bool]:
        """Starts connecting to ``addr:port``. False (as py2p) if that is this socket itself
        or ``id`` is already connected; None otherwise. The handshake completes in the
        background: ``'connect'`` fires and ``routing_table`` grows when it does, and a peer
        of another protocol is dropped silently (as in py2p)."""
        if (addr, int(port)) == tuple(self.out_addr) or (id is not None and id in self._peer_ids()):
            return False
        with self._node() as mesh:
            self._lib.rs2p_mesh_connect(mesh, addr.encode("utf-8"), int(port))
        return None

    def request_peers(self) -> None:
        """Asks the neighbours for their peers (the node connects to them as it sees fit)."""
        self.send("*", type=flags.request, flag=flags.whisper)

    def _peer_list(self) -> List[Tuple[bytes, str, int, bool]]:
        lib = self._lib
        with self._node() as mesh:
            listing = ctypes.c_void_p()
            lib.rs2p_mesh_peers(mesh, ctypes.byref(listing))
        try:
            peers = []
            for index in range(lib.rs2p_peer_list_len(listing)):
                peer_id = lib.rs2p_peer_list_id(listing, index)
                if peer_id is None:
                    continue
                host = (lib.rs2p_peer_list_host(listing, index) or b"").decode("utf-8", "replace")
                port = lib.rs2p_peer_list_port(listing, index)
                outgoing = lib.rs2p_peer_list_outgoing(listing, index) == 1
                peers.append((peer_id, host, port, outgoing))
            return peers
        finally:
            lib.rs2p_peer_list_free(listing)

    def _peer_ids(self) -> List[bytes]:
        return [peer_id for peer_id, _h, _p, _o in self._peer_list()]

    @property
    def routing_table(self) -> Dict[bytes, Connection]:
        """The connected peers, by ID: a fresh snapshot at each access."""
        return {
            peer_id: Connection(self, peer_id, (host, port), outgoing)
            for peer_id, host, port, outgoing in self._peer_list()
        }

    @property
    def outgoing(self) -> Iterator[bytes]:
        """IDs of the peers this socket dialled."""
        return (peer_id for peer_id, _h, _p, outgoing in self._peer_list() if outgoing)

    @property
    def incoming(self) -> Iterator[bytes]:
        """IDs of the peers that dialled this socket."""
        return (peer_id for peer_id, _h, _p, outgoing in self._peer_list() if not outgoing)

    @property
    def stats(self) -> Dict[str, Any]:
        """The node's counters (frames, bytes, relayed, delivered, pending, drops by reason,
        ``redials`` of lost peers this node had dialled and ``redials_given_up``) and
        ``dropped_messages``, the messages this socket's queue shed."""
        lib = self._lib
        raw = _lib.MeshStats()
        with self._node() as mesh:
            lib.rs2p_mesh_stats_get(mesh, ctypes.byref(raw))
        names = [field[0] for field in _lib.MeshStats._fields_]
        result: Dict[str, Any] = {
            name: getattr(raw, name) for name in names if name not in ("dropped", "reserved")
        }
        dropped = {}
        for reason, count in enumerate(raw.dropped):
            if count:
                name = (lib.rs2p_drop_reason_str(reason) or b"").decode() or f"reason_{reason}"
                dropped[name] = count
        result["dropped"] = dropped
        result["dropped_messages"] = self.dropped_messages
        return result

    @property
    def awaiting_ids(self) -> List[PendingConnection]:
        """Connections still waiting for their handshake (placeholders: they have no ID yet)."""
        return [PendingConnection() for _ in range(int(self.stats["pending"]))]

    # --- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Stops the node: connections closed, port free, threads stopped. Messages already
        queued can still be read with :meth:`recv`. A second call raises
        :class:`rs2p.errors.Closed` (a RuntimeError, as py2p raises)."""
        if self._closed:
            raise Closed(32, "Already closed")
        self._close_node()

    def _close_node(self) -> None:
        self._closed = True
        handle = self.__dict__.get("_node_handle")
        key = self.__dict__.get("_key")
        if key is not None:
            with _registry_lock:
                _registry.pop(key, None)
        ready = self.__dict__.get("_queue_ready")
        if ready is not None:
            with ready:
                ready.notify_all()
        if handle is None:
            return
        handle.close()
        if _in_dispatcher_thread():
            _free_later(handle)
        else:
            handle.free()

    def __enter__(self) -> "MeshSocket":
        return self

    def __exit__(self, *_exc: Any) -> None:
        if not self._closed:
            self._close_node()

    def __del__(self) -> None:
        try:
            if not self.__dict__.get("_closed", True):
                self._close_node()
        except Exception:  # pragma: no cover - nothing to report to at collection time
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._peers)} peers"
        return f"{type(self).__name__}(id={self.id!r}, port={self._port}, {state})"


def _close_all_at_exit() -> None:
    """Stops the nodes still open when the interpreter exits, so that no library thread calls
    into Python while it shuts down."""
    with _registry_lock:
        refs = list(_registry.values())
    for ref in refs:
        sock = ref()
        if sock is not None and not sock._closed:
            try:
                sock._close_node()
            except Exception:  # pragma: no cover
                pass


atexit.register(_close_all_at_exit)
