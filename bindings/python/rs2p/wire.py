"""Protocol IDs and frames: the codec calls of librs2p, in Python terms.

A frame is ``u32 length ‖ maybe_compress(sha256(packed) ‖ packed)`` where
``packed`` is the msgpack array ``[msg_type, sender, time, payload...]``.
These functions build and check frames and compute protocol IDs; they open no
sockets and know nothing of what a message means (that is the mesh layer).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, List, Union

import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from . import _lib
from . import flags
from .errors import BadMessageShape, BadMsgpack, BufferTooSmall

__all__ = [
    "Compression",
    "Frame",
    "Message",
    "protocol_id",
    "encode_frame",
    "decode_frame",
    "decode_message",
    "library_version",
]

#: ``None`` (no compression), ``'zlib'``, ``'gzip'``, or a raw method code from :mod:`rs2p.flags`.
Compression = Union[None, str, int]

_COMPRESSION_CODES = {"zlib": flags.zlib, "gzip": flags.gzip}
# Status codes for problems found by the Python-side unpacking (the C call only checks the
# checksum): the same numbers the library uses for the same kind of problem.
_UNSUPPORTED_MSGPACK = 18
_BAD_MESSAGE_SHAPE = 21

BytesLike = Union[bytes, bytearray, memoryview]


@dataclass(frozen=True)
class Frame:
    """The first frame of a buffer: its ``packed`` msgpack, message ``id`` (SHA-256 of
    ``packed``) and how many bytes of the buffer it ``consumed``."""

    packed: bytes
    id: bytes
    consumed: int


@dataclass(frozen=True)
class Message:
    """A decoded message. ``payload[0]`` is the sub-flag; bin fields stay ``bytes``,
    str fields become ``str``. ``sender`` is always bytes (the base58 ID as ASCII)."""

    msg_type: int
    sender: bytes
    time: int
    payload: List[Any]
    id: bytes


def library_version() -> str:
    """The version string of the loaded librs2p (``rs2p_version()``)."""
    return _lib.get().version


def protocol_id(subnet: str, encryption: str = "Plaintext") -> str:
    """The base58 protocol ID of ``subnet`` with ``encryption`` ('Plaintext' or 'SSL')."""
    lib = _lib.get()
    subnet_c = subnet.encode("utf-8")
    encryption_c = encryption.encode("utf-8")
    capacity = 64
    needed = ctypes.c_size_t(0)
    for _attempt in range(2):
        out = ctypes.create_string_buffer(capacity)
        try:
            lib.rs2p_protocol_id(subnet_c, encryption_c, out, capacity, ctypes.byref(needed))
        except BufferTooSmall:
            capacity = needed.value + 1
            continue
        return out.raw[: needed.value].decode("ascii")
    raise BufferTooSmall(3, f"protocol ID still does not fit in {capacity} bytes")


def _compression_code(compression: Compression) -> int:
    if compression is None:
        return 0
    if isinstance(compression, str):
        try:
            return _COMPRESSION_CODES[compression]
        except KeyError:
            raise ValueError(
                f"unknown compression {compression!r}: use None, 'zlib' or 'gzip'"
            ) from None
    if isinstance(compression, int) and 0 <= compression <= 0xFF:
        return compression
    raise ValueError(f"compression must be None, 'zlib', 'gzip' or a method code, not {compression!r}")


def encode_frame(packed: BytesLike, compression: Compression = None) -> bytes:
    """The whole frame (length prefix included) carrying ``packed``, the msgpack array
    ``[msg_type, sender, time, payload...]``, optionally compressed."""
    lib = _lib.get()
    data = bytes(packed)
    code = _compression_code(compression)
    capacity = len(data) + 32 + 4 + 64 + len(data) // 100
    needed = ctypes.c_size_t(0)
    for _attempt in range(3):
        out = _lib.output_buffer(capacity)
        try:
            lib.rs2p_frame_encode(
                _lib.input_bytes(data), len(data), code, out, capacity, ctypes.byref(needed)
            )
        except BufferTooSmall:
            capacity = max(needed.value, capacity * 2)
            continue
        return bytes(memoryview(out)[: needed.value])
    raise BufferTooSmall(3, f"frame still does not fit in {capacity} bytes")


def decode_frame(frame: BytesLike) -> Frame:
    """Checks and opens the first frame in ``frame``. Raises :class:`rs2p.errors.Truncated`
    when the buffer holds only part of a frame, other :class:`rs2p.errors.WireError`\\ s when
    the frame is invalid."""
    lib = _lib.get()
    data = bytes(frame)
    # An uncompressed body holds the packed message plus its 32-byte checksum, so the body
    # length (when the prefix has arrived) is enough unless the frame is compressed.
    body_len = int.from_bytes(data[:4], "big") if len(data) >= 4 else 0
    capacity = max(min(len(data), body_len), 64)
    packed_len = ctypes.c_size_t(0)
    consumed = ctypes.c_size_t(0)
    message_id = _lib.output_buffer(32)
    for _attempt in range(3):
        out = _lib.output_buffer(capacity)
        try:
            lib.rs2p_frame_decode(
                _lib.input_bytes(data),
                len(data),
                out,
                capacity,
                ctypes.byref(packed_len),
                message_id,
                ctypes.byref(consumed),
            )
        except BufferTooSmall:
            capacity = max(packed_len.value, capacity * 2)
            continue
        return Frame(
            packed=bytes(memoryview(out)[: packed_len.value]),
            id=bytes(message_id),
            consumed=consumed.value,
        )
    raise BufferTooSmall(3, f"decoded frame still does not fit in {capacity} bytes")


def unpack_message(packed: bytes, message_id: bytes) -> Message:
    """Unpacks checked ``packed`` bytes with the ``msgpack`` package into a :class:`Message`."""
    try:
        items = msgpack.unpackb(packed, raw=False, strict_map_key=False)
    except (ValueError, TypeError) as err:
        # ValueError covers msgpack's ExtraData, FormatError and StackError; TypeError an
        # unhashable map key such as an array.
        raise BadMsgpack(
            _UNSUPPORTED_MSGPACK, f"frame body is not acceptable msgpack: {err}"
        ) from err
    if not isinstance(items, list) or len(items) < 3:
        raise BadMessageShape(
            _BAD_MESSAGE_SHAPE, "malformed message: not an array [msg_type, sender, time, ...]"
        )
    msg_type, sender, time = items[0], items[1], items[2]
    if isinstance(sender, str):
        sender = sender.encode("utf-8")
    if (
        not isinstance(msg_type, int)
        or isinstance(msg_type, bool)
        or not 0 <= msg_type <= 0xFF
        or not isinstance(sender, bytes)
        or not isinstance(time, int)
        or isinstance(time, bool)
    ):
        raise BadMessageShape(
            _BAD_MESSAGE_SHAPE,
            "malformed message: expected msg_type 0..255, sender bin or str, integer time",
        )
    return Message(msg_type=msg_type, sender=sender, time=time, payload=items[3:], id=message_id)


def decode_message(frame: BytesLike) -> Message:
    """:func:`decode_frame` then unpack the message it carries."""
    opened = decode_frame(frame)
    return unpack_message(opened.packed, opened.id)
