"""Finding, loading and declaring the librs2p shared library (private).

This module is the only place that touches ctypes. Every C function is declared
once here with its argument and return types; functions returning an
``rs2p_status`` get an ``errcheck`` that raises the matching
:mod:`rs2p.errors` exception with the library's detail message. It does not
know what frames or messages mean: that is :mod:`rs2p.wire`.

Lookup order (first hit wins):

1. ``RS2P_LIBRARY`` — an explicit path; if it is set but wrong, loading fails
   rather than silently picking another copy.
2. beside the package — ``rs2p/librs2p.so`` (a wheel that bundles the library).
3. the cargo target directory of the checkout the package lives in:
   ``$CARGO_TARGET_DIR``, then ``target/release``, then ``target/debug``
   beside the first ``Cargo.toml`` found walking up from the package directory.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional, Tuple

from ._version import __version__
from .errors import (
    LibraryLoadError,
    LibraryNotFound,
    LibraryVersionMismatch,
    error_for_status,
)

ENV_VAR = "RS2P_LIBRARY"
PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_HINT = (
    "Build it with `cargo build --release` at the root of the rs2p repository, "
    f"or point {ENV_VAR} at an existing librs2p shared library."
)

u8_ptr = POINTER(c_uint8)
size_ptr = POINTER(c_size_t)
void_ptr_ptr = POINTER(c_void_p)  # ``T **out`` for the opaque handles (mesh, message, ...)


class Bytes(Structure):
    """``rs2p_bytes``: one borrowed byte string handed to the library."""

    _fields_ = [("ptr", u8_ptr), ("len", c_size_t)]


#: ``rs2p_event.kind`` values.
EVENT_CONNECT = 1
EVENT_DISCONNECT = 2
EVENT_MESSAGE = 3

#: ``rs2p_mesh_set_callback`` flag: messages given to the callback are not also queued.
CALLBACK_CONSUME_MESSAGES = 1

#: Timeout values of the blocking calls: 0 = do not wait, -1 = wait as long as needed.
NO_WAIT = 0
WAIT_FOREVER = -1

DROP_REASONS = 32


class Event(Structure):
    """``rs2p_event``: valid only during the callback it is passed to."""

    _fields_ = [("kind", c_int32), ("peer_id", c_char_p), ("message", c_void_p)]


class MeshStats(Structure):
    """``rs2p_mesh_stats``."""

    _fields_ = [
        ("frames_in", c_uint64),
        ("frames_out", c_uint64),
        ("bytes_in", c_uint64),
        ("bytes_out", c_uint64),
        ("relayed", c_uint64),
        ("delivered", c_uint64),
        ("queue_len", c_uint64),
        ("pending", c_uint64),
        ("dropped", c_uint64 * DROP_REASONS),
        ("redials", c_uint64),
        ("redials_given_up", c_uint64),
        ("reserved", c_uint64 * 6),
    ]


#: ``rs2p_sync_event.kind`` values.
SYNC_EVENT_UPDATE = 1
SYNC_EVENT_DELETE = 2


class SyncEvent(Structure):
    """``rs2p_sync_event``: one table change, valid only during the callback."""

    _fields_ = [
        ("kind", c_int32),
        ("key", u8_ptr),
        ("key_len", c_size_t),
        ("value", u8_ptr),
        ("value_len", c_size_t),
        ("owner", c_char_p),
        ("time", c_int64),
    ]


class SyncStats(Structure):
    """``rs2p_sync_stats``."""

    _fields_ = [
        ("accepted", c_uint64),
        ("refused_leased", c_uint64),
        ("refused_delta_on_non_map", c_uint64),
        ("ignored_dump_entries", c_uint64),
        ("dump_entries_passed_on", c_uint64),
        ("pass_on_skipped", c_uint64),
        ("reserved", c_uint64 * 6),
    ]


#: ``rs2p_sync_event_cb``: ``void (*)(void *userdata, const rs2p_sync_event *ev)``.
SYNC_EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, POINTER(SyncEvent))

#: ``rs2p_chord_event.kind`` values (py2p's 'add' and 'delete').
CHORD_EVENT_ADD = 1
CHORD_EVENT_DELETE = 2

#: Status codes the chord reads end with besides ``RS2P_OK``.
STATUS_NOT_FOUND = 40
STATUS_NO_MAJORITY = 41


class ChordEvent(Structure):
    """``rs2p_chord_event``: one key added to or deleted from the network's key set, valid
    only during the callback."""

    _fields_ = [("kind", c_int32), ("key", u8_ptr), ("key_len", c_size_t)]


class ChordStats(Structure):
    """``rs2p_chord_stats``."""

    _fields_ = [
        ("stores_forwarded", c_uint64),
        ("retrieves_forwarded", c_uint64),
        ("retrieves_answered", c_uint64),
        ("bad_messages", c_uint64),
        ("bad_deltas", c_uint64),
        ("replicas_sent", c_uint64),
        ("read_repairs", c_uint64),
        ("handed_over", c_uint64),
        ("restored", c_uint64),
        ("stored", c_uint64),
        ("gets_in_flight", c_uint64),
        ("storing_peers", c_uint64),
        ("reserved", c_uint64 * 8),
    ]


#: ``rs2p_chord_event_cb``: ``void (*)(void *userdata, const rs2p_chord_event *ev)``.
CHORD_EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, POINTER(ChordEvent))

#: ``rs2p_event_cb``: ``void (*)(void *userdata, const rs2p_event *ev)``.
EVENT_CALLBACK = CFUNCTYPE(None, c_void_p, POINTER(Event))
#: ``void (*userdata_free)(void *)``.
USERDATA_FREE = CFUNCTYPE(None, c_void_p)


def library_file_name(platform: str = sys.platform) -> str:
    """The file name cargo gives the cdylib on ``platform``."""
    if platform.startswith("win"):
        return "rs2p.dll"
    if platform == "darwin":
        return "librs2p.dylib"
    return "librs2p.so"


def candidate_paths(
    env: Optional[Mapping[str, str]] = None, package_dir: Path = PACKAGE_DIR
) -> List[Tuple[str, Path]]:
    """Where the library is looked for, in order, as ``(why, path)`` pairs."""
    env = os.environ if env is None else env
    name = library_file_name()
    found: List[Tuple[str, Path]] = []
    explicit = env.get(ENV_VAR)
    if explicit:
        found.append((f"${ENV_VAR}", Path(explicit)))
        return found
    found.append(("beside the package", package_dir / name))
    target_dir = env.get("CARGO_TARGET_DIR")
    if target_dir:
        found.append(("$CARGO_TARGET_DIR/release", Path(target_dir) / "release" / name))
    for parent in [package_dir, *package_dir.parents]:
        if (parent / "Cargo.toml").is_file():
            for profile in ("release", "debug"):
                found.append((f"cargo target/{profile}", parent / "target" / profile / name))
            break
    return found


def find_library(
    env: Optional[Mapping[str, str]] = None, package_dir: Path = PACKAGE_DIR
) -> Path:
    """The first existing candidate; :class:`LibraryNotFound` listing every place tried."""
    candidates = candidate_paths(env, package_dir)
    for _why, path in candidates:
        if path.is_file():
            return path
    tried = "\n".join(f"  {why}: {path}" for why, path in candidates)
    raise LibraryNotFound(f"librs2p was not found. Looked in:\n{tried}\n{BUILD_HINT}")


def major_minor(version: str) -> Tuple[str, str]:
    parts = version.split(".")
    return (parts[0], parts[1] if len(parts) > 1 else "")


def check_version(library_version: str, expected: str, path: Path) -> None:
    """Raises :class:`LibraryVersionMismatch` unless major.minor of both versions agree."""
    if major_minor(library_version) != major_minor(expected):
        raise LibraryVersionMismatch(
            f"librs2p at {path} is version {library_version}, but the rs2p Python package "
            f"{expected} needs {'.'.join(major_minor(expected))}.x. Rebuild the library from "
            f"the same checkout (`cargo build --release`) or set {ENV_VAR} to a matching build."
        )


class Library:
    """A loaded librs2p with every function declared. Obtain it through :func:`get`."""

    def __init__(self, path: Path, expected_version: str = __version__) -> None:
        self.path = path
        try:
            self._dll = ctypes.CDLL(str(path))
        except OSError as err:
            raise LibraryLoadError(f"cannot load librs2p from {path}: {err}\n{BUILD_HINT}") from err
        self._declare()
        self.version: str = self.rs2p_version().decode("utf-8")
        check_version(self.version, expected_version, path)

    def _function(self, name: str, restype: Any, argtypes: List[Any]) -> Callable[..., Any]:
        try:
            func = getattr(self._dll, name)
        except AttributeError as err:
            raise LibraryLoadError(
                f"librs2p at {self.path} has no function {name}: it is older or newer "
                f"than this package. {BUILD_HINT}"
            ) from err
        func.restype = restype
        func.argtypes = argtypes
        return func  # type: ignore[no-any-return]

    def _status_function(self, name: str, argtypes: List[Any]) -> Callable[..., Any]:
        func = self._function(name, c_int32, argtypes)
        func.errcheck = self._raise_on_failure  # type: ignore[attr-defined]
        return func

    def _raise_on_failure(self, status: int, _func: Any, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
        if status != 0:
            raise error_for_status(status, self.last_error(status))
        return args

    def last_error(self, status: int) -> str:
        """The detail of the last failure on this thread, else the status's generic text."""
        detail = self.rs2p_last_error()
        if detail:
            return bytes(detail).decode("utf-8", errors="replace")
        generic = self.rs2p_status_str(status)
        return generic.decode("utf-8", errors="replace") if generic else f"status {status}"

    def _declare(self) -> None:
        self.rs2p_version = self._function("rs2p_version", c_char_p, [])
        self.rs2p_status_str = self._function("rs2p_status_str", c_char_p, [c_int32])
        self.rs2p_last_error = self._function("rs2p_last_error", c_char_p, [])
        self.rs2p_protocol_id = self._status_function(
            "rs2p_protocol_id", [c_char_p, c_char_p, c_char_p, c_size_t, size_ptr]
        )
        self.rs2p_frame_encode = self._status_function(
            "rs2p_frame_encode", [u8_ptr, c_size_t, c_uint8, u8_ptr, c_size_t, size_ptr]
        )
        self.rs2p_frame_decode = self._status_function(
            "rs2p_frame_decode",
            [u8_ptr, c_size_t, u8_ptr, c_size_t, size_ptr, u8_ptr, size_ptr],
        )
        # A library built before the mesh layer still serves the codec functions; the mesh
        # classes call require_mesh() and report what is missing.
        self.mesh_missing: Optional[str] = None
        try:
            self._declare_mesh()
        except LibraryLoadError as err:
            self.mesh_missing = str(err)
        self.sync_missing: Optional[str] = self.mesh_missing
        if self.sync_missing is None:
            try:
                self._declare_sync()
            except LibraryLoadError as err:
                self.sync_missing = str(err)
        # The chord functions use the key lists declared with the sync functions.
        self.chord_missing: Optional[str] = self.sync_missing
        if self.chord_missing is None:
            try:
                self._declare_chord()
            except LibraryLoadError as err:
                self.chord_missing = str(err)

    def require_mesh(self) -> None:
        """Raises :class:`LibraryLoadError` if this library has no mesh functions."""
        if self.mesh_missing is not None:
            raise LibraryLoadError(self.mesh_missing)

    def require_sync(self) -> None:
        """Raises :class:`LibraryLoadError` if this library has no sync table functions."""
        if self.sync_missing is not None:
            raise LibraryLoadError(self.sync_missing)

    def require_chord(self) -> None:
        """Raises :class:`LibraryLoadError` if this library has no chord table functions."""
        if self.chord_missing is not None:
            raise LibraryLoadError(self.chord_missing)

    def _declare_chord(self) -> None:
        """The chord table functions (``rs2p_chord_*``). Reads (``rs2p_chord_get``,
        ``rs2p_chord_get_wait``) block; ctypes releases the GIL around them."""
        status = self._status_function
        plain = self._function
        self.rs2p_chord_new = status(
            "rs2p_chord_new", [c_void_p, c_char_p, c_uint32, void_ptr_ptr]
        )
        self.rs2p_chord_mesh = plain("rs2p_chord_mesh", c_void_p, [c_void_p])
        self.rs2p_chord_join = status("rs2p_chord_join", [c_void_p])
        self.rs2p_chord_unjoin = status("rs2p_chord_unjoin", [c_void_p])
        self.rs2p_chord_is_joined = status("rs2p_chord_is_joined", [c_void_p, POINTER(c_int32)])
        self.rs2p_chord_set = status(
            "rs2p_chord_set", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_chord_set_bytes = status(
            "rs2p_chord_set_bytes", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_chord_delete = status(
            "rs2p_chord_delete", [c_void_p, u8_ptr, c_size_t, POINTER(c_int32)]
        )
        self.rs2p_chord_apply_delta = status(
            "rs2p_chord_apply_delta", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_chord_get = status(
            "rs2p_chord_get",
            [c_void_p, u8_ptr, c_size_t, c_uint32, u8_ptr, c_size_t, size_ptr],
        )
        self.rs2p_chord_get_bytes = status(
            "rs2p_chord_get_bytes",
            [c_void_p, u8_ptr, c_size_t, c_uint32, u8_ptr, c_size_t, size_ptr],
        )
        self.rs2p_chord_get_start = status(
            "rs2p_chord_get_start", [c_void_p, u8_ptr, c_size_t, c_uint32, void_ptr_ptr]
        )
        # Not a status function: RS2P_ERR_WOULD_BLOCK is its "not yet", not a failure.
        self.rs2p_chord_get_wait = plain(
            "rs2p_chord_get_wait", c_int32, [c_void_p, c_uint32, u8_ptr, c_size_t, size_ptr]
        )
        self.rs2p_chord_get_free = plain("rs2p_chord_get_free", None, [c_void_p])
        self.rs2p_chord_len = status("rs2p_chord_len", [c_void_p, size_ptr])
        self.rs2p_chord_keys = status("rs2p_chord_keys", [c_void_p, void_ptr_ptr])
        self.rs2p_chord_set_callback = status(
            "rs2p_chord_set_callback", [c_void_p, CHORD_EVENT_CALLBACK, c_void_p, USERDATA_FREE]
        )
        self.rs2p_chord_stats_get = status(
            "rs2p_chord_stats_get", [c_void_p, POINTER(ChordStats)]
        )
        self.rs2p_chord_close = status("rs2p_chord_close", [c_void_p])
        self.rs2p_chord_free = plain("rs2p_chord_free", None, [c_void_p])

    def _declare_sync(self) -> None:
        """The sync table functions (``rs2p_sync_*``, ``rs2p_key_list_*``)."""
        status = self._status_function
        plain = self._function
        self.rs2p_sync_new = status(
            "rs2p_sync_new", [c_void_p, c_char_p, c_int32, void_ptr_ptr]
        )
        self.rs2p_sync_mesh = plain("rs2p_sync_mesh", c_void_p, [c_void_p])
        self.rs2p_sync_set = status(
            "rs2p_sync_set", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_sync_set_bytes = status(
            "rs2p_sync_set_bytes", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_sync_delete = status(
            "rs2p_sync_delete", [c_void_p, u8_ptr, c_size_t, POINTER(c_int32)]
        )
        self.rs2p_sync_apply_delta = status(
            "rs2p_sync_apply_delta", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t]
        )
        self.rs2p_sync_get = status(
            "rs2p_sync_get", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t, size_ptr]
        )
        self.rs2p_sync_get_bytes = status(
            "rs2p_sync_get_bytes", [c_void_p, u8_ptr, c_size_t, u8_ptr, c_size_t, size_ptr]
        )
        self.rs2p_sync_metadata = status(
            "rs2p_sync_metadata",
            [c_void_p, u8_ptr, c_size_t, c_char_p, c_size_t, size_ptr, POINTER(c_int64)],
        )
        self.rs2p_sync_len = status("rs2p_sync_len", [c_void_p, size_ptr])
        self.rs2p_sync_keys = status("rs2p_sync_keys", [c_void_p, void_ptr_ptr])
        self.rs2p_key_list_len = plain("rs2p_key_list_len", c_size_t, [c_void_p])
        self.rs2p_key_list_get = status(
            "rs2p_key_list_get", [c_void_p, c_size_t, POINTER(u8_ptr), size_ptr]
        )
        self.rs2p_key_list_free = plain("rs2p_key_list_free", None, [c_void_p])
        self.rs2p_sync_set_callback = status(
            "rs2p_sync_set_callback", [c_void_p, SYNC_EVENT_CALLBACK, c_void_p, USERDATA_FREE]
        )
        self.rs2p_sync_stats_get = status("rs2p_sync_stats_get", [c_void_p, POINTER(SyncStats)])
        self.rs2p_sync_close = status("rs2p_sync_close", [c_void_p])
        self.rs2p_sync_free = plain("rs2p_sync_free", None, [c_void_p])

    def _declare_mesh(self) -> None:
        """The mesh node functions (``rs2p_mesh_*``, ``rs2p_message_*``, ``rs2p_peer_list_*``).
        Opaque handles travel as ``c_void_p``."""
        status = self._status_function
        plain = self._function
        # Config builder.
        self.rs2p_mesh_config_new = status("rs2p_mesh_config_new", [void_ptr_ptr])
        self.rs2p_mesh_config_set_bind = status(
            "rs2p_mesh_config_set_bind", [c_void_p, c_char_p, c_uint16]
        )
        self.rs2p_mesh_config_set_out_addr = status(
            "rs2p_mesh_config_set_out_addr", [c_void_p, c_char_p, c_uint16]
        )
        self.rs2p_mesh_config_set_protocol = status(
            "rs2p_mesh_config_set_protocol", [c_void_p, c_char_p, c_char_p]
        )
        self.rs2p_mesh_config_set_max_outgoing = status(
            "rs2p_mesh_config_set_max_outgoing", [c_void_p, c_uint32]
        )
        self.rs2p_mesh_config_set_handshake_timeout = status(
            "rs2p_mesh_config_set_handshake_timeout", [c_void_p, c_uint32]
        )
        self.rs2p_mesh_config_set_limits = status(
            "rs2p_mesh_config_set_limits", [c_void_p, c_uint64, c_uint64]
        )
        self.rs2p_mesh_config_set_queue_capacity = status(
            "rs2p_mesh_config_set_queue_capacity", [c_void_p, c_uint64]
        )
        self.rs2p_mesh_config_free = plain("rs2p_mesh_config_free", None, [c_void_p])
        # Node.
        self.rs2p_mesh_new = status("rs2p_mesh_new", [c_void_p, void_ptr_ptr])
        self.rs2p_mesh_id = status("rs2p_mesh_id", [c_void_p, c_char_p, c_size_t, size_ptr])
        self.rs2p_mesh_port = status("rs2p_mesh_port", [c_void_p, POINTER(c_uint16)])
        self.rs2p_mesh_connect = status("rs2p_mesh_connect", [c_void_p, c_char_p, c_uint16])
        self.rs2p_mesh_send = status(
            "rs2p_mesh_send", [c_void_p, POINTER(Bytes), c_size_t, c_int32]
        )
        self.rs2p_mesh_send_msgpack = status(
            "rs2p_mesh_send_msgpack", [c_void_p, c_uint8, u8_ptr, c_size_t, c_int32]
        )
        self.rs2p_mesh_whisper = status(
            "rs2p_mesh_whisper", [c_void_p, c_char_p, POINTER(Bytes), c_size_t]
        )
        self.rs2p_mesh_whisper_msgpack = status(
            "rs2p_mesh_whisper_msgpack", [c_void_p, c_char_p, c_uint8, u8_ptr, c_size_t]
        )
        self.rs2p_mesh_recv = status("rs2p_mesh_recv", [c_void_p, c_int32, void_ptr_ptr])
        self.rs2p_mesh_set_callback = status(
            "rs2p_mesh_set_callback",
            [c_void_p, EVENT_CALLBACK, c_void_p, USERDATA_FREE, c_uint32],
        )
        self.rs2p_mesh_peers = status("rs2p_mesh_peers", [c_void_p, void_ptr_ptr])
        self.rs2p_mesh_stats_get = status("rs2p_mesh_stats_get", [c_void_p, POINTER(MeshStats)])
        self.rs2p_drop_reason_str = plain("rs2p_drop_reason_str", c_char_p, [c_uint32])
        self.rs2p_mesh_last_error = plain(
            "rs2p_mesh_last_error", c_int32, [c_void_p, c_char_p, c_size_t, size_ptr]
        )
        self.rs2p_mesh_close = status("rs2p_mesh_close", [c_void_p])
        self.rs2p_mesh_free = plain("rs2p_mesh_free", None, [c_void_p])
        # Messages.
        self.rs2p_message_sender = plain("rs2p_message_sender", c_char_p, [c_void_p])
        self.rs2p_message_time = plain("rs2p_message_time", c_int64, [c_void_p])
        self.rs2p_message_id = plain("rs2p_message_id", u8_ptr, [c_void_p])
        self.rs2p_message_type = plain("rs2p_message_type", c_uint8, [c_void_p])
        self.rs2p_message_subflag = plain("rs2p_message_subflag", c_uint8, [c_void_p])
        self.rs2p_message_packet_count = plain("rs2p_message_packet_count", c_size_t, [c_void_p])
        self.rs2p_message_packet = status(
            "rs2p_message_packet", [c_void_p, c_size_t, POINTER(u8_ptr), size_ptr]
        )
        self.rs2p_message_packets_msgpack = status(
            "rs2p_message_packets_msgpack", [c_void_p, POINTER(u8_ptr), size_ptr]
        )
        self.rs2p_message_reply = status(
            "rs2p_message_reply", [c_void_p, POINTER(Bytes), c_size_t]
        )
        self.rs2p_message_reply_msgpack = status(
            "rs2p_message_reply_msgpack", [c_void_p, u8_ptr, c_size_t]
        )
        self.rs2p_message_clone = status("rs2p_message_clone", [c_void_p, void_ptr_ptr])
        self.rs2p_message_free = plain("rs2p_message_free", None, [c_void_p])
        # Peer lists.
        self.rs2p_peer_list_len = plain("rs2p_peer_list_len", c_size_t, [c_void_p])
        self.rs2p_peer_list_id = plain("rs2p_peer_list_id", c_char_p, [c_void_p, c_size_t])
        self.rs2p_peer_list_host = plain("rs2p_peer_list_host", c_char_p, [c_void_p, c_size_t])
        self.rs2p_peer_list_port = plain("rs2p_peer_list_port", c_uint16, [c_void_p, c_size_t])
        self.rs2p_peer_list_outgoing = plain(
            "rs2p_peer_list_outgoing", c_int32, [c_void_p, c_size_t]
        )
        self.rs2p_peer_list_free = plain("rs2p_peer_list_free", None, [c_void_p])


_loaded: Optional[Library] = None
_load_lock = threading.Lock()


def get() -> Library:
    """The process-wide library, found and version-checked on first use."""
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = Library(find_library())
    return _loaded


def input_bytes(data: bytes) -> Any:
    """A ``uint8_t *`` to the bytes of ``data``, without copying them (never NULL, even for
    ``b""``). The pointer keeps ``data`` alive; the library only reads through it."""
    return ctypes.cast(c_char_p(data), u8_ptr)


def output_buffer(size: int) -> Any:
    return (c_uint8 * size)()
