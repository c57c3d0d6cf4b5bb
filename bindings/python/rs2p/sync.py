"""The synchronised dictionary, with py2p's names and behaviour (``py2p.sync.SyncSocket``), on
top of librs2p's sync node.

Every node of a sync network holds the same table of byte-string keys. The table, its lease
rules and the protocol (stores, deltas, the table sent to each new peer) live inside the
library; this module converts keys and values (str keys become UTF-8 bytes, values go through
``msgpack``) and turns the library's table changes into py2p's ``'update'`` and ``'delete'``
events. It does not keep a copy of the table: every read asks the library.

A :class:`SyncSocket` is also a :class:`rs2p.mesh.MeshSocket` (sending, receiving, peers) and a
:class:`collections.abc.MutableMapping`.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any, Dict, Iterable, Iterator, NamedTuple, Optional, Tuple, Union

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from . import _lib
from .base import Protocol
from .errors import BufferTooSmall, InvalidArgument, InvalidMsgpackArgument, NotFound
from .mesh import MeshSocket, _dispatcher_threads, _log, _OwnedMeshHandle, _registry, _UsingOwner

__all__ = ["SyncSocket", "metatuple", "default_protocol", "Protocol"]

#: py2p's ``sync.default_protocol``: the base subnet, to which the leasing flag ('1'/'0') is added.
default_protocol = Protocol("sync", "Plaintext")

Key = Union[bytes, bytearray, str]

#: Read buffers start at this size and grow to what the library says it needs.
_FIRST_READ_SIZE = 256


class metatuple(NamedTuple):
    """Who last wrote a key and when, as py2p's ``sync.metatuple``: ``owner`` is the writer's
    node ID (bytes, base58 text), ``timestamp`` Unix seconds by the writer's clock."""

    owner: bytes
    timestamp: int


def _key_bytes(key: Key) -> bytes:
    """py2p's ``sanitize_packet``: str keys are UTF-8, bytes-like keys are used as they are."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"sync keys are str or bytes, not {type(key).__name__}")


def _pack_value(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _unpack_value(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except TypeError:  # a map keyed by arrays: keys must be hashable, so arrays become tuples
        return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=False)


# --- the sync callback the library calls -------------------------------------------------


def _on_sync_event(userdata: Optional[int], event_ptr: Any) -> None:
    try:
        _dispatcher_threads.add(threading.get_ident())
        ref = _registry.get(userdata or 0)
        sock = ref() if ref is not None else None
        if not isinstance(sock, SyncSocket):
            return
        sock._handle_sync_event(event_ptr.contents)
    except BaseException:  # never let an exception unwind into the library
        _log.exception("rs2p: error while handling a sync table event")


# Kept for the life of the process: the library may call it until a node is freed.
_SYNC_TRAMPOLINE = _lib.SYNC_EVENT_CALLBACK(_on_sync_event)
_NO_USERDATA_FREE = _lib.USERDATA_FREE()


def _borrowed_bytes(pointer: Any, length: int) -> bytes:
    return ctypes.string_at(pointer, length) if length else b""


class _Metadata(Mapping):  # type: ignore[type-arg]
    """``sock.metadata``: key → :class:`metatuple`, read live from the table (py2p keeps a dict
    under the same name). str keys are looked up as UTF-8 bytes."""

    def __init__(self, sock: "SyncSocket") -> None:
        self._sock = sock

    def __getitem__(self, key: Key) -> metatuple:
        found = self._sock._metadata_of(_key_bytes(key))
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._sock._key_list())

    def __len__(self) -> int:
        return len(self._sock)

    def __repr__(self) -> str:
        return f"{dict(self.items())!r}"


class SyncSocket(MeshSocket, MutableMapping):  # type: ignore[type-arg]
    """A dictionary shared by every node of a network, like ``py2p.sync.SyncSocket``.

    ``SyncSocket(addr, port)`` starts a node of the subnet ``prot.subnet`` + ``'1'`` (or ``'0'``
    with ``leasing=False``; py2p's naming, so py2p and rs2p sync nodes meet). ``sock[key] =
    value`` stores and broadcasts a value; every node's ``sock[key]`` then returns it. Keys are
    bytes (str keys become UTF-8); values are anything msgpack encodes, None meaning delete.

    Leasing (the default): the node that writes a key holds it for an hour; a write by another
    node raises :class:`KeyError` (:class:`rs2p.errors.Leased`) and sends nothing. Without
    leasing the newer write wins everywhere (the same second: the smaller owner ID).

    Events: ``'update'`` fn(socket, key, value, metatuple) after a key changed (after a delta:
    the merged map), ``'delete'`` fn(socket, key) after a key went; both for local and remote
    changes, on the node's dispatcher thread. Differences from py2p: the events of a local write
    run shortly after the write returns, not inside it; ``keys()``, ``values()`` and ``items()``
    iterate over a snapshot (py2p iterates its dict); ``popitem()`` on an empty table raises
    KeyError (py2p lets StopIteration out); ``metadata`` is a read-only live view.
    """

    def __init__(
        self,
        addr: str,
        port: int,
        prot: Protocol = default_protocol,
        out_addr: Optional[Tuple[str, int]] = None,
        debug_level: int = 0,
        leasing: bool = True,
        **mesh_options: Any,
    ) -> None:
        self._closed = True  # until the node exists, so that __del__ has nothing to do
        base = Protocol(*prot)
        self._leasing = bool(leasing)
        self._base_subnet = base.subnet
        _lib.get().require_sync()
        used = Protocol(base.subnet + str(int(self._leasing)), base.encryption)
        super().__init__(addr, port, used, out_addr, debug_level, **mesh_options)
        self.metadata = _Metadata(self)
        try:
            with self._sync() as sync:
                self._lib.rs2p_sync_set_callback(
                    sync, _SYNC_TRAMPOLINE, self._key, _NO_USERDATA_FREE
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
            sync = ctypes.c_void_p()
            lib.rs2p_sync_new(
                config, self._base_subnet.encode("utf-8"), int(self._leasing), ctypes.byref(sync)
            )
        finally:
            lib.rs2p_mesh_config_free(config)
        if not sync.value:
            raise RuntimeError("rs2p_sync_new reported success but returned no node")
        mesh = lib.rs2p_sync_mesh(sync.value)
        if not mesh:
            lib.rs2p_sync_free(sync.value)
            raise RuntimeError("rs2p_sync_mesh returned no mesh for a live sync node")
        return _OwnedMeshHandle(
            lib, mesh, sync.value, lib.rs2p_sync_close, lib.rs2p_sync_free
        )

    def _sync(self) -> _UsingOwner:
        return _UsingOwner(self._node_handle)

    @property
    def leasing(self) -> bool:
        """Whether writers hold their keys for an hour (the subnet ends in '1')."""
        return self._leasing

    # --- events from the library (dispatcher thread) ------------------------------------

    def _handle_sync_event(self, event: Any) -> None:
        key = _borrowed_bytes(event.key, event.key_len)
        if event.kind == _lib.SYNC_EVENT_UPDATE:
            value = _unpack_value(_borrowed_bytes(event.value, event.value_len))
            meta = metatuple(bytes(event.owner or b""), int(event.time))
            self._emit_safely("update", self, key, value, meta)
        elif event.kind == _lib.SYNC_EVENT_DELETE:
            self._emit_safely("delete", self, key)

    # --- reading ------------------------------------------------------------------------

    def _read(self, function: Any, key: bytes) -> Optional[bytes]:
        """Calls a ``rs2p_sync_get``-shaped function, growing the buffer as the library says;
        None when the key is absent."""
        size = _FIRST_READ_SIZE
        needed = ctypes.c_size_t(0)
        with self._sync() as sync:
            while True:
                out = _lib.output_buffer(size)
                try:
                    function(sync, _lib.input_bytes(key), len(key), out, size, ctypes.byref(needed))
                except NotFound:
                    return None
                except BufferTooSmall:
                    if needed.value <= size:
                        raise
                    size = needed.value  # the value grew since the last try: ask again
                    continue
                return bytes(out[: needed.value])

    def _metadata_of(self, key: bytes) -> Optional[metatuple]:
        capacity = 128
        needed = ctypes.c_size_t(0)
        when = ctypes.c_int64(0)
        with self._sync() as sync:
            while True:
                owner = ctypes.create_string_buffer(capacity)
                try:
                    self._lib.rs2p_sync_metadata(
                        sync,
                        _lib.input_bytes(key),
                        len(key),
                        owner,
                        capacity,
                        ctypes.byref(needed),
                        ctypes.byref(when),
                    )
                except NotFound:
                    return None
                except BufferTooSmall:
                    if needed.value < capacity:
                        raise
                    capacity = needed.value + 1
                    continue
                return metatuple(owner.value, when.value)

    def _key_list(self) -> list:  # type: ignore[type-arg]
        lib = self._lib
        listing = ctypes.c_void_p()
        with self._sync() as sync:
            lib.rs2p_sync_keys(sync, ctypes.byref(listing))
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

    def __getitem__(self, key: Key) -> Any:
        """The value at ``key``; :class:`KeyError` if the table has none."""
        data = self._read(self._lib.rs2p_sync_get, _key_bytes(key))
        if data is None:
            raise KeyError(key)
        return _unpack_value(data)

    def get(self, key: Key, ifError: Any = None) -> Any:  # noqa: N803 - py2p's name
        """The value at ``key``, or ``ifError`` if there is none (py2p's signature)."""
        data = self._read(self._lib.rs2p_sync_get, _key_bytes(key))
        return ifError if data is None else _unpack_value(data)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (str, bytes, bytearray, memoryview)):
            return False
        return self._metadata_of(_key_bytes(key)) is not None

    def __len__(self) -> int:
        count = ctypes.c_size_t(0)
        with self._sync() as sync:
            self._lib.rs2p_sync_len(sync, ctypes.byref(count))
        return count.value

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._key_list())

    def keys(self) -> Iterator[bytes]:  # type: ignore[override]
        """An iterator over the keys (a snapshot taken now), as py2p returns."""
        return iter(self._key_list())

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """An iterator over the values of the keys present now (keys deleted meanwhile are
        skipped)."""
        return (value for _key, value in self.items())

    def items(self) -> Iterator[Tuple[bytes, Any]]:  # type: ignore[override]
        """An iterator of ``(key, value)`` for the keys present now."""
        missing = object()
        for key in self._key_list():
            value = self.get(key, missing)
            if value is not missing:
                yield key, value

    def copy(self) -> Dict[bytes, Any]:
        """The table as a plain :class:`dict` (py2p's ``copy``)."""
        return dict(self.items())

    @property
    def data(self) -> Dict[bytes, Any]:
        """A copy of the table (py2p exposes its dict under this name)."""
        return self.copy()

    # --- writing ------------------------------------------------------------------------

    def __setitem__(self, key: Key, value: Any) -> None:
        """Stores ``value`` at ``key`` here and on every node. None deletes (as in py2p).
        :class:`KeyError` (:class:`rs2p.errors.Leased`) if another node holds the key;
        :class:`TypeError` if msgpack cannot encode the value."""
        raw_key = _key_bytes(key)
        if value is None:
            self.__delitem__(raw_key)
            return
        data = _pack_value(value)
        with self._sync() as sync:
            self._lib.rs2p_sync_set(
                sync, _lib.input_bytes(raw_key), len(raw_key), _lib.input_bytes(data), len(data)
            )

    def set(self, key: Key, data: Any) -> None:
        """Same as ``sock[key] = data``."""
        self.__setitem__(key, data)

    def update(self, update_dict: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Stores each pair of ``update_dict`` (a mapping or pairs) and ``kwargs``, in order;
        stops at the first refused key (:class:`KeyError`) as py2p does."""
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
        """Deletes ``key`` (value and metadata) here and on every node. :class:`KeyError` if
        this node has no such key (nothing is sent) or another node holds its lease."""
        raw_key = _key_bytes(key)
        existed = ctypes.c_int32(0)
        with self._sync() as sync:
            self._lib.rs2p_sync_delete(
                sync, _lib.input_bytes(raw_key), len(raw_key), ctypes.byref(existed)
            )
        if not existed.value:
            raise KeyError(key)

    def pop(self, key: Key, *default: Any) -> Any:
        """Removes ``key`` and returns its value; ``default`` (if given) when it is absent,
        else :class:`KeyError`."""
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        try:
            value = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return value

    def popitem(self) -> Tuple[bytes, Any]:
        """Removes some key and returns ``(key, value)``; :class:`KeyError` if the table is
        empty."""
        for key in self._key_list():
            try:
                return key, self.pop(key)
            except NotFound:
                continue  # gone meanwhile; try another
        raise KeyError("popitem(): the sync table is empty")

    def clear(self) -> None:
        """Deletes every key this node may delete (:class:`KeyError` at the first refused one)."""
        for key in self._key_list():
            try:
                del self[key]
            except NotFound:
                pass

    def apply_delta(self, key: Key, delta: Mapping) -> None:  # type: ignore[type-arg]
        """Merges the mapping ``delta`` into the map at ``key`` (an absent key starts as
        ``{}``), here and on every node; this node becomes the key's owner.
        :class:`TypeError` if ``key`` holds something other than a map or ``delta`` is not a
        mapping; :class:`KeyError` (:class:`rs2p.errors.Leased`) if another node holds the key
        with leasing on."""
        if not isinstance(delta, Mapping):
            raise TypeError(f"a delta is a mapping, not {type(delta).__name__}")
        raw_key = _key_bytes(key)
        data = _pack_value(dict(delta))
        try:
            with self._sync() as sync:
                self._lib.rs2p_sync_apply_delta(
                    sync, _lib.input_bytes(raw_key), len(raw_key), _lib.input_bytes(data), len(data)
                )
        except InvalidMsgpackArgument as err:
            raise TypeError(f"the delta is not a msgpack map: {err}") from err
        except InvalidArgument as err:
            raise TypeError(f"Cannot apply delta to a non-mapping: {err}") from err

    # --- counters -----------------------------------------------------------------------

    @property
    def sync_stats(self) -> Dict[str, int]:
        """Counters of the sync layer: ``accepted`` writes, and remote writes refused because
        of a lease (``refused_leased``) or a delta onto a non-map, table entries received
        on a handshake that were ignored (``ignored_dump_entries``), handshake entries that
        changed the table and were passed on to other neighbours (``dump_entries_passed_on``)
        and (neighbour, entry) pairs not passed on because the neighbour holds the key
        (``pass_on_skipped``)."""
        raw = _lib.SyncStats()
        with self._sync() as sync:
            self._lib.rs2p_sync_stats_get(sync, ctypes.byref(raw))
        return {
            name: int(getattr(raw, name))
            for name, _type in _lib.SyncStats._fields_
            if name != "reserved"
        }

    def __repr__(self) -> str:
        if self._closed:
            return f"SyncSocket(id={self.id!r}, port={self._port}, closed)"
        return (
            f"SyncSocket(id={self.id!r}, port={self._port}, {len(self._peers)} peers, "
            f"{len(self)} keys)"
        )

    # MutableMapping defines __eq__ (and so drops __hash__); sockets compare by identity.
    __eq__ = object.__eq__  # type: ignore[assignment]
    __hash__ = object.__hash__  # type: ignore[assignment]

