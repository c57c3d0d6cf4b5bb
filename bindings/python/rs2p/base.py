"""What every rs2p socket shares, under py2p's names (``py2p.base``): :class:`Protocol`,
:class:`Message`, :class:`Connection` and a small :class:`EventEmitter`.

This module does not open sockets or run threads; :mod:`rs2p.mesh` does, and builds the
objects defined here from what the library hands it. Messages keep a library handle so that
:meth:`Message.reply` works after the callback that delivered them has returned; the handle
is released when the message is garbage collected.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    NamedTuple,
    Optional,
    Tuple,
)

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from . import _lib, flags
from .wire import protocol_id

if TYPE_CHECKING:  # pragma: no cover - imports for type hints only
    from .mesh import MeshSocket

__all__ = [
    "Protocol",
    "default_protocol",
    "Message",
    "Connection",
    "EventEmitter",
    "b58encode_int",
    "pack_packets",
]

_B58_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode_int(value: int) -> bytes:
    """``value`` in base58 (Bitcoin alphabet), as py2p writes times and IDs; 0 is ``b'1'``."""
    if value < 0:
        raise ValueError(f"base58 encodes non-negative integers, not {value}")
    if value == 0:
        return _B58_ALPHABET[0:1]
    digits = bytearray()
    while value:
        value, digit = divmod(value, 58)
        digits.append(_B58_ALPHABET[digit])
    digits.reverse()
    return bytes(digits)


def pack_packets(packets: Tuple[Any, ...]) -> bytes:
    """``packets`` as one msgpack array (bytes → bin, str → str). Raises :class:`TypeError`
    for values msgpack cannot encode, as py2p does."""
    return msgpack.packb(list(packets), use_bin_type=True)  # type: ignore[no-any-return]


def unpack_packets(data: bytes) -> Tuple[Any, ...]:
    """The inverse of :func:`pack_packets`: bin stays ``bytes``, str stays ``str``."""
    return tuple(msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False))


class Protocol(NamedTuple):
    """Which network a socket belongs to: nodes only connect when subnet and encryption agree.
    ``id`` is the base58 protocol ID (bytes, as py2p gives it)."""

    subnet: str
    encryption: str

    @property
    def id(self) -> bytes:
        return protocol_id(self.subnet, self.encryption).encode("ascii")


#: The default of py2p's and js2p's mesh sockets: subnet "mesh", no encryption. (Their base
#: modules' ``Protocol("", "Plaintext")`` is used by no socket.)
default_protocol = Protocol("mesh", "Plaintext")


Listener = Callable[..., Any]


class EventEmitter:
    """Named events with listeners, in the spirit of pyee's (``on``/``once``/``emit``/
    ``remove_listener``), without the dependency. Safe to use from several threads: ``emit``
    calls a snapshot of the listeners, outside the lock, in the order they were added.
    An exception raised by a listener propagates out of ``emit``."""

    def __init__(self) -> None:
        self._listeners_lock = threading.Lock()
        # Each entry: (the function to call, the function the user registered, once?).
        self._listeners: Dict[str, List[Tuple[Listener, Listener, bool]]] = {}

    def on(self, event: str, fn: Optional[Listener] = None) -> Any:
        """Calls ``fn`` on every ``event``. Without ``fn``, returns a decorator."""
        if fn is None:
            return lambda f: self._add(event, f, once=False)
        return self._add(event, fn, once=False)

    def once(self, event: str, fn: Optional[Listener] = None) -> Any:
        """Calls ``fn`` on the next ``event`` only. Without ``fn``, returns a decorator."""
        if fn is None:
            return lambda f: self._add(event, f, once=True)
        return self._add(event, fn, once=True)

    def _add(self, event: str, fn: Listener, once: bool) -> Listener:
        if not callable(fn):
            raise TypeError(f"a listener must be callable, not {type(fn).__name__}")
        with self._listeners_lock:
            self._listeners.setdefault(event, []).append((fn, fn, once))
        return fn

    def remove_listener(self, event: str, fn: Listener) -> None:
        """Removes the first registration of ``fn`` for ``event``; :class:`KeyError` if none."""
        with self._listeners_lock:
            entries = self._listeners.get(event, [])
            for index, (_call, registered, _once) in enumerate(entries):
                if registered == fn:  # == : bound methods are new objects each time
                    del entries[index]
                    return
        raise KeyError(f"{fn!r} is not listening to {event!r}")

    def remove_all_listeners(self, event: Optional[str] = None) -> None:
        with self._listeners_lock:
            if event is None:
                self._listeners.clear()
            else:
                self._listeners.pop(event, None)

    def listeners(self, event: str) -> List[Listener]:
        with self._listeners_lock:
            return [registered for _call, registered, _once in self._listeners.get(event, [])]

    def emit(self, event: str, *args: Any, **kwargs: Any) -> bool:
        """Calls the listeners of ``event``; True if there was at least one."""
        with self._listeners_lock:
            entries = self._listeners.get(event)
            if not entries:
                return False
            snapshot = list(entries)
            if any(once for _c, _r, once in snapshot):
                entries[:] = [entry for entry in entries if not entry[2]]
        for call, _registered, _once in snapshot:
            call(*args, **kwargs)
        return True


class Message:
    """A message a socket received. ``packets[0]`` is the sub-flag (``flags.broadcast`` or
    ``flags.whisper`` for user messages), ``packets[1:]`` the sender's packets, as py2p gives
    them. ``sender`` is the sender's base58 ID (bytes), ``time`` its UTC timestamp (seconds),
    ``id`` the 32-byte SHA-256 that identifies the message on the network."""

    __slots__ = ("_handle", "_lib", "_server", "_sender", "_time", "_id", "_packets", "_msg_type")

    def __init__(
        self,
        handle: int,
        server: Optional["MeshSocket"],
        sender: Optional[bytes] = None,
        time: Optional[int] = None,
        id: Optional[bytes] = None,
        packets: Tuple[Any, ...] = (),
        msg_type: Optional[int] = None,
    ) -> None:
        """Built by the sockets. ``handle`` is an owned ``rs2p_message *`` (freed with the
        Message) or 0 for a message that cannot be replied to. Fields left None are read
        from the handle when first asked for (most messages never need all of them)."""
        self._handle = handle
        self._lib = _lib.get() if handle else None
        self._server = weakref.ref(server) if server is not None else None
        self._sender = sender
        self._time = time
        self._id = id
        self._packets = packets
        self._msg_type = msg_type

    def _library(self) -> _lib.Library:
        if self._lib is None or not self._handle:
            raise ValueError("this message has no library handle")
        return self._lib

    def __del__(self) -> None:
        handle = getattr(self, "_handle", 0)
        self._handle = 0
        lib = getattr(self, "_lib", None)
        if handle and lib is not None:
            try:
                lib.rs2p_message_free(handle)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    @classmethod
    def _from_library(cls, lib: _lib.Library, owned: int, server: Optional["MeshSocket"]) -> "Message":
        """Reads everything out of the owned message handle ``owned`` (which the Message then
        owns and frees)."""
        try:
            data_ptr = _lib.u8_ptr()
            data_len = ctypes.c_size_t(0)
            lib.rs2p_message_packets_msgpack(owned, ctypes.byref(data_ptr), ctypes.byref(data_len))
            user_packets = unpack_packets(ctypes.string_at(data_ptr, data_len.value))
            sub_flag = lib.rs2p_message_subflag(owned)
            return cls(owned, server, packets=(sub_flag, *user_packets))
        except BaseException:
            lib.rs2p_message_free(owned)
            raise

    @property
    def server(self) -> Optional["MeshSocket"]:
        """The socket that received this message (None once it has been collected)."""
        return self._server() if self._server is not None else None

    @property
    def sender(self) -> bytes:
        if self._sender is None:
            self._sender = self._library().rs2p_message_sender(self._handle) or b""
        return self._sender

    @property
    def time(self) -> int:
        if self._time is None:
            self._time = int(self._library().rs2p_message_time(self._handle))
        return self._time

    @property
    def time_58(self) -> bytes:
        """``time`` in base58, as py2p gives it."""
        return b58encode_int(self.time)

    @property
    def id(self) -> bytes:
        if self._id is None:
            id_ptr = self._library().rs2p_message_id(self._handle)
            self._id = ctypes.string_at(id_ptr, 32) if id_ptr else b""
        return self._id

    @property
    def packets(self) -> Tuple[Any, ...]:
        return self._packets

    @property
    def msg_type(self) -> int:
        """The main flag the message travelled with (``flags.broadcast`` or ``flags.whisper``)."""
        if self._msg_type is None:
            self._msg_type = int(self._library().rs2p_message_type(self._handle))
        return self._msg_type

    def __len__(self) -> int:
        """The length of the message's frame before compression (as py2p's ``len(msg)`` for an
        uncompressed link): 4-byte length, 32-byte checksum, msgpack of the message."""
        packed = msgpack.packb(
            [self.msg_type, self.sender, self.time, *self._packets], use_bin_type=True
        )
        return 4 + 32 + len(packed)

    def __repr__(self) -> str:
        packets = self._packets
        return f"Message(type={packets[0]!r}, packets={packets[1:]!r}, sender={self.sender!r})"

    def reply(self, *packets: Any) -> None:
        """Answers the sender with ``[flags.whisper, *packets]``: directly if it is a neighbour,
        otherwise through the network's request/response flow (as py2p does)."""
        if not self._handle:
            raise ValueError("this message was not received by a socket; it cannot be replied to")
        data = pack_packets(packets)
        assert self._lib is not None
        self._lib.rs2p_message_reply_msgpack(self._handle, _lib.input_bytes(data), len(data))


class Connection:
    """A peer in a socket's ``routing_table``: its ``id`` (bytes), the ``addr`` (host, port)
    it is reached at, and whether we dialled it (``outgoing``). A snapshot: it does not change
    when the link does, and :meth:`send` raises :class:`rs2p.errors.UnknownPeer` once the
    peer is gone."""

    __slots__ = ("id", "addr", "outgoing", "_server")

    def __init__(
        self, server: "MeshSocket", id: bytes, addr: Tuple[str, int], outgoing: bool
    ) -> None:
        self._server = weakref.ref(server)
        self.id = id
        self.addr = addr
        self.outgoing = outgoing

    def send(self, flag: int, type: int, *packets: Any) -> None:
        """Whispers ``[type, *packets]`` to this peer. ``flag`` must be ``flags.whisper``
        (py2p's ``conn.send(flags.whisper, flags.whisper, ...)``); rs2p sends nothing else
        on a single link."""
        if flag != flags.whisper:
            raise ValueError(
                f"Connection.send sends whispers only: flag must be flags.whisper "
                f"({flags.whisper}), not {flag!r}; use MeshSocket.send to broadcast"
            )
        server = self._server()
        if server is None:
            raise RuntimeError("the socket this connection belonged to no longer exists")
        server._whisper(self.id, type, packets)

    def __repr__(self) -> str:
        way = "outgoing" if self.outgoing else "incoming"
        return f"Connection(id={self.id!r}, addr={self.addr!r}, {way})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Connection) and (self.id, self.addr, self.outgoing) == (
            other.id,
            other.addr,
            other.outgoing,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.addr, self.outgoing))
