"""The chord distributed hash table, with py2p's names and behaviour (``py2p.chord.ChordSocket``),
on top of librs2p's chord node.

A chord network spreads its keys over the nodes that joined it: each key lives at five
positions of a ring and is read by majority (three equal answers of five). The ring, the
forwarding, the majority read and the hand-over on join/unjoin live inside the library; this
module converts keys and values (str keys become UTF-8 bytes, values go through ``msgpack``),
turns reads into futures (:class:`ChordFuture`) and the library's key events into py2p's
``'add'`` and ``'delete'`` events. It does not keep a copy of any data.

Reads block only the thread that waits for them, and ctypes releases the GIL while the library
waits, so any number of reads may be in flight from any number of threads. Nothing here polls:
a future's result is waited for inside the library, and ``then`` callbacks run on a helper
thread that blocks there.

A :class:`ChordSocket` is also a :class:`rs2p.mesh.MeshSocket` (sending, receiving, peers).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from . import _lib
from .base import Protocol
from .errors import Closed, InvalidMsgpackArgument, Timeout, error_for_status
from .mesh import MeshSocket, _dispatcher_threads, _log, _OwnedMeshHandle, _registry, _UsingOwner

__all__ = ["ChordSocket", "ChordFuture", "default_protocol", "Protocol"]

#: py2p's ``chord.default_protocol``: the subnet is used as it is (no suffix).
default_protocol = Protocol("chord", "Plaintext")

Key = Union[bytes, bytearray, str]

#: Read buffers start at this size and grow to what the library says it needs.
_FIRST_READ_SIZE = 256
#: Longest single wait inside the library when the caller waits without a bound (the read
#: itself always ends by its own timeout; this only bounds one C call).
_LONGEST_WAIT_MS = 60_000
#: py2p's read timeout, in seconds.
DEFAULT_TIMEOUT = 10

_STATUS_OK = 0
_STATUS_BUFFER_TOO_SMALL = 3
_STATUS_CLOSED = 32
_STATUS_WOULD_BLOCK = 33
_STATUS_TIMEOUT = 34
#: Outcomes py2p reports as "no value" (KeyError, or ``ifError`` for getSync/get).
_NO_VALUE = (_lib.STATUS_NOT_FOUND, _lib.STATUS_NO_MAJORITY)


def _key_bytes(key: Key) -> bytes:
    """py2p's ``sanitize_packet``: str keys are UTF-8, bytes-like keys are used as they are."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"chord keys are str or bytes, not {type(key).__name__}")


def _pack_value(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _unpack_value(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except TypeError:  # a map keyed by arrays: keys must be hashable, so arrays become tuples
        return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=False)


def _read_timeout_ms(timeout: Optional[float]) -> int:
    """A read's timeout for the library (0 there means the node's default, so a zero or
    negative timeout becomes 1 ms: the read ends at once with what it has)."""
    if timeout is None:
        return 0
    return max(1, min(int(timeout * 1000), 2**32 - 1))


def _borrowed_bytes(pointer: Any, length: int) -> bytes:
    return ctypes.string_at(pointer, length) if length else b""


# --- futures ------------------------------------------------------------------------------


class ChordFuture:
    """The result of something that ends later: a read (:meth:`ChordSocket.get`) or what a
    :meth:`then` callback returned. Offers py2p's Promise names and concurrent.futures' ones:

    - ``get(timeout=None)`` / ``result(timeout=None)``: waits for the result and returns it
      (raises what the operation raised). ``timeout`` bounds this wait only;
      :class:`rs2p.errors.Timeout` (a :class:`TimeoutError`, which is ``socket.timeout``)
      if it passes first. A read always ends by its own timeout.
    - ``value``: the result if it is there, else None (as a Promise's ``value``).
    - ``done()`` / ``is_fulfilled`` / ``is_rejected``; ``exception(timeout=None)``.
    - ``then(on_fulfilled=None, on_rejected=None)``: a new ChordFuture of what the callback
      returns; callbacks run on a helper thread (or at once if the result is there).
    - ``add_done_callback(fn)``: ``fn(future)`` once it ended.
    """

    def __init__(self) -> None:
        self._ended = threading.Event()
        self._ok = False
        self._value: Any = None
        self._error: Optional[BaseException] = None
        self._callbacks: List[Callable[["ChordFuture"], None]] = []
        self._callbacks_lock = threading.Lock()

    # --- settling (subclasses and then()) ---

    def _settle(self, ok: bool, value: Any = None, error: Optional[BaseException] = None) -> None:
        with self._callbacks_lock:
            if self._ended.is_set():
                return
            self._ok, self._value, self._error = ok, value, error
            self._ended.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._run_callback(callback)

    def _run_callback(self, callback: Callable[["ChordFuture"], None]) -> None:
        try:
            callback(self)
        except Exception:  # a callback's failure is its own; the future stays settled
            _log.exception("rs2p: a chord future callback raised")

    def _wait(self, timeout: Optional[float]) -> bool:
        """Waits until the future ended; False if ``timeout`` passed first."""
        return self._ended.wait(timeout)

    def _wait_in_background(self) -> None:
        """Makes sure the future ends even if nobody calls ``get``: nothing to do for a
        future that something else settles."""

    # --- the public surface ---

    def done(self) -> bool:
        """Whether the result is there (never waits)."""
        return self._ended.is_set() or self._wait(0)

    @property
    def is_fulfilled(self) -> bool:
        return self.done() and self._ok

    @property
    def is_rejected(self) -> bool:
        return self.done() and not self._ok

    @property
    def is_pending(self) -> bool:
        return not self.done()

    @property
    def value(self) -> Any:
        """The result if it is there and the operation succeeded, else None."""
        return self._value if self.done() and self._ok else None

    def get(self, timeout: Optional[float] = None) -> Any:
        """The result, waiting up to ``timeout`` seconds (None: until it ends)."""
        if not self._wait(timeout):
            raise Timeout(_STATUS_TIMEOUT, f"the result did not arrive within {timeout} s")
        if not self._ok:
            assert self._error is not None
            raise self._error
        return self._value

    result = get

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        """What the operation raised (None if it succeeded), waiting as :meth:`get` does."""
        if not self._wait(timeout):
            raise Timeout(_STATUS_TIMEOUT, f"the result did not arrive within {timeout} s")
        return None if self._ok else self._error

    def add_done_callback(self, fn: Callable[["ChordFuture"], None]) -> None:
        """Calls ``fn(self)`` once the future ended (at once if it has)."""
        with self._callbacks_lock:
            if not self._ended.is_set():
                self._callbacks.append(fn)
                fn = None  # type: ignore[assignment]
        if fn is None:
            self._wait_in_background()
        else:
            self._run_callback(fn)

    def then(
        self,
        on_fulfilled: Optional[Callable[[Any], Any]] = None,
        on_rejected: Optional[Callable[[BaseException], Any]] = None,
    ) -> "ChordFuture":
        """A new future of ``on_fulfilled(value)`` (or ``on_rejected(error)``); without the
        matching callback it ends as this one did. A callback that raises rejects it."""
        follower = ChordFuture()

        def chain(ended: ChordFuture) -> None:
            try:
                if ended._ok:
                    if on_fulfilled is None:
                        follower._settle(True, ended._value)
                    else:
                        follower._settle(True, on_fulfilled(ended._value))
                elif on_rejected is None:
                    follower._settle(False, error=ended._error)
                else:
                    follower._settle(True, on_rejected(ended._error))  # type: ignore[arg-type]
            except Exception as err:  # noqa: BLE001 - the follower carries it
                follower._settle(False, error=err)

        self.add_done_callback(chain)
        return follower

    def __repr__(self) -> str:
        if not self._ended.is_set():
            return f"<{type(self).__name__} pending>"
        if self._ok:
            return f"<{type(self).__name__} {self._value!r}>"
        return f"<{type(self).__name__} failed: {self._error!r}>"


class _ReadFuture(ChordFuture):
    """A read in flight in the library (``rs2p_chord_get_op``). Whoever waits first calls
    ``rs2p_chord_get_wait`` (GIL released); others wait for it. The op is freed as soon as the
    result is taken."""

    def __init__(
        self, lib: _lib.Library, op: int, key: bytes, if_error: Any, missing_raises: bool
    ) -> None:
        super().__init__()
        self._lib = lib
        self._op: Optional[int] = op
        self._key = key
        self._if_error = if_error
        self._missing_raises = missing_raises
        self._collecting = threading.Lock()  # one thread inside rs2p_chord_get_wait
        self._background: Optional[threading.Thread] = None

    def _wait(self, timeout: Optional[float]) -> bool:
        if self._ended.is_set():
            return True
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        while not self._ended.is_set():
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not self._collecting.acquire(timeout=-1 if left is None else left):
                return self._ended.is_set()
            try:
                if self._ended.is_set():
                    break
                wait_ms = _LONGEST_WAIT_MS if left is None else min(int(left * 1000), _LONGEST_WAIT_MS)
                self._collect(wait_ms)
            finally:
                self._collecting.release()
            if deadline is not None and time.monotonic() >= deadline:
                break
        return self._ended.is_set()

    def _collect(self, wait_ms: int) -> None:
        """One ``rs2p_chord_get_wait``; settles the future if the read ended."""
        op = self._op
        if op is None:  # freed by __del__ racing shutdown; nothing to wait for
            self._settle(False, error=Closed(_STATUS_CLOSED, "the read was abandoned"))
            return
        lib = self._lib
        size = _FIRST_READ_SIZE
        needed = ctypes.c_size_t(0)
        while True:
            out = _lib.output_buffer(size)
            status = lib.rs2p_chord_get_wait(op, wait_ms, out, size, ctypes.byref(needed))
            if status == _STATUS_BUFFER_TOO_SMALL and needed.value > size:
                size, wait_ms = needed.value, 0  # the result is kept in the op: ask again
                continue
            break
        if status == _STATUS_WOULD_BLOCK:
            return
        self._op = None
        lib.rs2p_chord_get_free(op)
        if status == _STATUS_OK:
            try:
                value = _unpack_value(bytes(out[: needed.value]))
            except Exception as err:  # noqa: BLE001 - handed to the waiter
                self._settle(False, error=err)
                return
            self._settle(True, value)
        elif status in _NO_VALUE or status == _STATUS_TIMEOUT:
            if not self._missing_raises:
                self._settle(True, self._if_error)
            elif status == _STATUS_TIMEOUT:
                self._settle(False, error=error_for_status(status, lib.last_error(status)))
            else:
                # A missing key raises KeyError(key) as in py2p; no majority raises
                # rs2p.errors.NoMajority (a KeyError too) with the library's detail.
                error = (KeyError(self._key) if status == _lib.STATUS_NOT_FOUND
                         else error_for_status(status, lib.last_error(status)))
                self._settle(False, error=error)
        else:
            self._settle(False, error=error_for_status(status, lib.last_error(status)))

    def _wait_in_background(self) -> None:
        with self._callbacks_lock:
            if self._background is not None or self._ended.is_set():
                return
            self._background = threading.Thread(
                target=self._wait, args=(None,), name="rs2p-chord-read", daemon=True
            )
        self._background.start()

    def __del__(self) -> None:
        op, self._op = self.__dict__.get("_op"), None
        if op is not None:
            try:
                self._lib.rs2p_chord_get_free(op)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass


# --- the node -----------------------------------------------------------------------------


def _on_chord_event(userdata: Optional[int], event_ptr: Any) -> None:
    try:
        _dispatcher_threads.add(threading.get_ident())
        ref = _registry.get(userdata or 0)
        sock = ref() if ref is not None else None
        if not isinstance(sock, ChordSocket):
            return
        event = event_ptr.contents
        key = _borrowed_bytes(event.key, event.key_len)
        if event.kind == _lib.CHORD_EVENT_ADD:
            sock._emit_safely("add", sock, key)
        elif event.kind == _lib.CHORD_EVENT_DELETE:
            sock._emit_safely("delete", sock, key)
    except BaseException:  # never let an exception unwind into the library
        _log.exception("rs2p: error while handling a chord key event")


# Kept for the life of the process: the library may call it until a node is freed.
_CHORD_TRAMPOLINE = _lib.CHORD_EVENT_CALLBACK(_on_chord_event)
_NO_USERDATA_FREE = _lib.USERDATA_FREE()


class ChordSocket(MeshSocket):
    """A node of a chord distributed hash table, like ``py2p.chord.ChordSocket``.

    ``ChordSocket(addr, port)`` starts a node of the subnet ``prot.subnet`` (default
    ``'chord'``, py2p's). It starts leeching: it reads and writes through the storing nodes it
    is linked to. :meth:`join` makes it store its share of the ring; :meth:`unjoin` hands its
    data to the storing nodes now responsible. Unlike py2p, nodes may connect and join in
    any order; py2p nodes themselves must join before they connect.

    Keys are bytes (str keys become UTF-8); values are anything msgpack encodes. Writes go out
    at once and return; ``sock[key]`` reads by majority (:class:`KeyError` when no storing
    node holds the key — at once, not after the timeout — or the five answers do not agree;
    :class:`rs2p.errors.Timeout`, a ``socket.timeout``, when too few answered in time).
    :meth:`get` starts a read and returns a :class:`ChordFuture`.

    Events: ``'add'`` fn(socket, key) and ``'delete'`` fn(socket, key) when another node
    announces a new or deleted key (this node's own writes are not reported, as in py2p),
    on the node's dispatcher thread.

    Differences from py2p: :meth:`get` returns a :class:`ChordFuture` that really runs in the
    background (py2p's Promise reads before it returns); ``keys()``, ``values()`` and
    ``items()`` iterate over a snapshot of the keys; ``values()``/``items()`` read the keys in
    parallel and skip keys without an agreed value (py2p also skips falsy values);
    :meth:`apply_delta` sends the delta at once and returns a future of the value read after it.

    rs2p keywords: ``get_timeout`` (seconds; the timeout of reads that name none, default
    10) and the :class:`MeshSocket` ones (``max_outgoing``, ``queue_capacity``,
    ``handshake_timeout``).
    """

    def __init__(
        self,
        addr: str,
        port: int,
        prot: Protocol = default_protocol,
        out_addr: Optional[Tuple[str, int]] = None,
        debug_level: int = 0,
        *,
        get_timeout: float = DEFAULT_TIMEOUT,
        **mesh_options: Any,
    ) -> None:
        self._closed = True  # until the node exists, so that __del__ has nothing to do
        if get_timeout <= 0:
            raise ValueError(f"get_timeout must be > 0 seconds, not {get_timeout}")
        self._get_timeout_ms = _read_timeout_ms(get_timeout)
        _lib.get().require_chord()
        super().__init__(addr, port, Protocol(*prot), out_addr, debug_level, **mesh_options)
        try:
            with self._chord() as chord:
                self._lib.rs2p_chord_set_callback(
                    chord, _CHORD_TRAMPOLINE, self._key, _NO_USERDATA_FREE
                )
        except BaseException:
            self._close_node()
            raise

    def _open_node(
        self,
        lib: _lib.Library,
        addr: str,
        port: int,
        prot: Protocol,
        out_addr: Optional[Tuple[str, int]],
        max_outgoing: Optional[int],
        handshake_timeout: Optional[int],
    ) -> _OwnedMeshHandle:
        config = self._new_config(lib, addr, port, prot, out_addr, max_outgoing, handshake_timeout)
        try:
            chord = ctypes.c_void_p()
            lib.rs2p_chord_new(
                config, prot.subnet.encode("utf-8"), self._get_timeout_ms, ctypes.byref(chord)
            )
        finally:
            lib.rs2p_mesh_config_free(config)
        if not chord.value:
            raise RuntimeError("rs2p_chord_new reported success but returned no node")
        mesh = lib.rs2p_chord_mesh(chord.value)
        if not mesh:
            lib.rs2p_chord_free(chord.value)
            raise RuntimeError("rs2p_chord_mesh returned no mesh for a live chord node")
        return _OwnedMeshHandle(
            lib, mesh, chord.value, lib.rs2p_chord_close, lib.rs2p_chord_free
        )

    def _chord(self) -> _UsingOwner:
        return _UsingOwner(self._node_handle)

    # --- joining ------------------------------------------------------------------------

    def join(self) -> None:
        """Starts storing: this node takes its share of the ring (py2p's ``join``)."""
        with self._chord() as chord:
            self._lib.rs2p_chord_join(chord)

    def unjoin(self) -> None:
        """Stops storing: what this node holds goes to the storing nodes now responsible
        (kept here when there is none, so nothing is lost)."""
        with self._chord() as chord:
            self._lib.rs2p_chord_unjoin(chord)

    @property
    def leeching(self) -> bool:
        """True until :meth:`join`, and again after :meth:`unjoin` (py2p's attribute)."""
        joined = ctypes.c_int32(0)
        with self._chord() as chord:
            self._lib.rs2p_chord_is_joined(chord, ctypes.byref(joined))
        return not joined.value

    # --- reading ------------------------------------------------------------------------

    def _start_read(
        self, key: Key, timeout: Optional[float], if_error: Any, missing_raises: bool
    ) -> _ReadFuture:
        raw_key = _key_bytes(key)
        op = ctypes.c_void_p()
        with self._chord() as chord:
            self._lib.rs2p_chord_get_start(
                chord,
                _lib.input_bytes(raw_key),
                len(raw_key),
                _read_timeout_ms(timeout),
                ctypes.byref(op),
            )
        if not op.value:
            raise RuntimeError("rs2p_chord_get_start reported success but returned no read")
        return _ReadFuture(self._lib, op.value, raw_key, if_error, missing_raises)

    def __getitem__(self, key: Key) -> Any:
        """The value three of the key's five positions agree on. :class:`KeyError` when no
        storing node holds it or they disagree; :class:`rs2p.errors.Timeout` (a
        ``socket.timeout``) when too few answered within the node's read timeout."""
        return self._start_read(key, None, None, missing_raises=True).get()

    def getSync(  # noqa: N802 - py2p's name
        self, key: Key, ifError: Any = None, timeout: Optional[float] = DEFAULT_TIMEOUT  # noqa: N803
    ) -> Any:
        """The value at ``key``, or ``ifError`` if there is no agreed value or the read timed
        out (py2p's signature; ``timeout`` in seconds, None: the node's ``get_timeout``)."""
        return self._start_read(key, timeout, ifError, missing_raises=False).get()

    def get(
        self, key: Key, ifError: Any = None, timeout: Optional[float] = DEFAULT_TIMEOUT  # noqa: N803
    ) -> ChordFuture:
        """Starts a read and returns at once: a :class:`ChordFuture` of the value, or of
        ``ifError`` if there is no agreed value or the read timed out (as py2p's Promise)."""
        return self._start_read(key, timeout, ifError, missing_raises=False)

    def _key_list(self) -> List[bytes]:
        lib = self._lib
        listing = ctypes.c_void_p()
        with self._chord() as chord:
            lib.rs2p_chord_keys(chord, ctypes.byref(listing))
        try:
            keys = []
            pointer = _lib.u8_ptr()
            length = ctypes.c_size_t(0)
            for index in range(lib.rs2p_key_list_len(listing)):
                lib.rs2p_key_list_get(listing, index, ctypes.byref(pointer), ctypes.byref(length))
                keys.append(_borrowed_bytes(pointer, length.value))
            return keys
        finally:
            lib.rs2p_key_list_free(listing)

    def keys(self) -> Iterator[bytes]:
        """The keys this node knows of (its own writes and every key announced since it
        joined the mesh), as a snapshot taken now."""
        return iter(self._key_list())

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()

    def __len__(self) -> int:
        """How many keys :meth:`keys` lists."""
        count = ctypes.c_size_t(0)
        with self._chord() as chord:
            self._lib.rs2p_chord_len(chord, ctypes.byref(count))
        return count.value

    def __bool__(self) -> bool:  # a socket is truthy even when it knows no key
        return True

    def __contains__(self, key: object) -> bool:
        """Whether this node knows of the key (no read is made)."""
        if not isinstance(key, (str, bytes, bytearray, memoryview)):
            return False
        return _key_bytes(key) in set(self._key_list())

    def items(self) -> Iterator[Tuple[bytes, Any]]:
        """``(key, value)`` for the known keys that have an agreed value; the reads run in
        parallel, results come in key order."""
        missing = object()
        reads = [(key, self.get(key, missing)) for key in self._key_list()]
        for key, read in reads:
            value = read.get()
            if value is not missing:
                yield key, value

    def values(self) -> Iterator[Any]:
        """The values of :meth:`items`."""
        return (value for _key, value in self.items())

    def copy(self) -> Dict[bytes, Any]:
        """The table as a plain :class:`dict` (every known key read, in parallel)."""
        return dict(self.items())

    # --- writing ------------------------------------------------------------------------

    def __setitem__(self, key: Key, value: Any) -> None:
        """Writes ``value`` at the key's five positions and announces the key. None deletes
        (as in py2p). :class:`TypeError` if msgpack cannot encode the value."""
        raw_key = _key_bytes(key)
        data = _pack_value(value)
        with self._chord() as chord:
            self._lib.rs2p_chord_set(
                chord, _lib.input_bytes(raw_key), len(raw_key), _lib.input_bytes(data), len(data)
            )

    def set(self, key: Key, value: Any) -> None:
        """Same as ``sock[key] = value``."""
        self.__setitem__(key, value)

    def update(self, update_dict: Any = (), /, **kwargs: Any) -> None:
        """Writes each pair of ``update_dict`` (a mapping or pairs) and ``kwargs``."""
        pairs: Iterable[Tuple[Any, Any]]
        if isinstance(update_dict, Mapping):
            pairs = update_dict.items()
        elif hasattr(update_dict, "keys"):
            pairs = ((k, update_dict[k]) for k in update_dict.keys())
        else:
            pairs = update_dict
        for key, value in pairs:
            self.__setitem__(key, value)
        for key, value in kwargs.items():
            self.__setitem__(key, value)

    def __delitem__(self, key: Key) -> None:
        """Deletes ``key`` at its five positions and announces it. :class:`KeyError` if this
        node never heard of the key (nothing is sent), as in py2p."""
        raw_key = _key_bytes(key)
        existed = ctypes.c_int32(0)
        with self._chord() as chord:
            self._lib.rs2p_chord_delete(
                chord, _lib.input_bytes(raw_key), len(raw_key), ctypes.byref(existed)
            )
        if not existed.value:
            raise KeyError(raw_key)

    def pop(self, key: Key, *default: Any) -> Any:
        """Reads ``key``, deletes it and returns the value. With ``default``: returned when
        there is no agreed value (nothing deleted); without: :class:`KeyError`."""
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        if default:
            missing = object()
            value = self.getSync(key, missing)
            if value is missing:
                return default[0]
        else:
            value = self[key]
        try:
            del self[key]
        except KeyError:
            # Read but never announced to this node: delete it anyway (a nil write).
            self.__setitem__(key, None)
        return value

    def popitem(self) -> Tuple[bytes, Any]:
        """Removes some known key and returns ``(key, value)``; :class:`KeyError` when this
        node knows no key with an agreed value."""
        for key in self._key_list():
            missing = object()
            value = self.pop(key, missing)
            if value is not missing:
                return key, value
        raise KeyError("popitem(): no known key has a value")

    def apply_delta(self, key: Key, delta: Mapping) -> ChordFuture:  # type: ignore[type-arg]
        """Merges the mapping ``delta`` into the map at ``key`` at its five positions (an
        absent entry starts as ``{}``). Returns a :class:`ChordFuture` of the value read after
        the delta (the merged map); it raises :class:`TypeError` if the key holds something
        other than a map (the storing nodes leave such an entry alone). :class:`TypeError` at
        once if ``delta`` is not a mapping (py2p's rule)."""
        if not isinstance(delta, Mapping):
            raise TypeError("Cannot apply delta if you feed a non-mapping")
        raw_key = _key_bytes(key)
        data = _pack_value(dict(delta))
        try:
            with self._chord() as chord:
                self._lib.rs2p_chord_apply_delta(
                    chord, _lib.input_bytes(raw_key), len(raw_key), _lib.input_bytes(data), len(data)
                )
        except InvalidMsgpackArgument as err:
            raise TypeError(f"the delta is not a msgpack map: {err}") from err

        def merged(value: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError(f"Cannot apply delta to a non-mapping: {value!r}")
            return value

        return self.get(raw_key, None).then(merged)

    # --- counters -----------------------------------------------------------------------

    @property
    def chord_stats(self) -> Dict[str, int]:
        """Counters and state of the chord layer: messages forwarded and answered, malformed
        ones ignored, replicas and read repairs sent, entries handed over or restored,
        entries ``stored`` here, ``gets_in_flight`` and ``storing_peers``."""
        raw = _lib.ChordStats()
        with self._chord() as chord:
            self._lib.rs2p_chord_stats_get(chord, ctypes.byref(raw))
        return {
            name: int(getattr(raw, name))
            for name, _type in _lib.ChordStats._fields_
            if name != "reserved"
        }

    def __repr__(self) -> str:
        if self._closed:
            return f"ChordSocket(id={self.id!r}, port={self._port}, closed)"
        return (
            f"ChordSocket(id={self.id!r}, port={self._port}, {len(self._peers)} peers, "
            f"{len(self)} keys)"
        )
