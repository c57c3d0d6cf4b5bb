"""Exceptions raised by rs2p.

Every failing C call returns an ``rs2p_status`` code; the bindings turn it into
an instance of the class registered for that code below, carrying the
library's detail message (``rs2p_last_error``). Problems finding or loading
the shared library itself are :class:`LibraryLoadError` subclasses.

Hierarchy::

    Rs2pError                      any failing library call (.status, .message)
    ├── UsageError                 the caller passed something the library refuses
    │   ├── NullArgument
    │   ├── InvalidArgument        (also a ValueError)
    │   │   └── InvalidUtf8Argument
    │   └── BufferTooSmall         (handled inside the bindings; seen only on a bug)
    ├── Panic                      a bug inside the library, caught at the C boundary
    └── WireError                  bytes from the network are not valid protocol data
        ├── FrameTooLarge, DecompressedTooLarge, BadCompression, UnknownCompression
        ├── Truncated, TrailingBytes, BadChecksum, BadMessageShape, BadBase58
        └── BadMsgpack             the msgpack inside a frame is not acceptable
            └── InvalidUtf8, TooDeep, UnsupportedMsgpack, DuplicateMapKey, LengthOverflow

    Mesh node failures (also under Rs2pError):
    ├── IoError (OSError)          the operating system refused a socket operation
    │   └── AddrInUse              the bind address is taken (errno EADDRINUSE)
    ├── Closed (RuntimeError)      the node was closed
    ├── WouldBlock (BlockingIOError) the node is pushing back and the call asked not to wait
    ├── Timeout (TimeoutError)     nothing happened within the timeout
    ├── UnknownPeer (LookupError)  no connected peer has that ID
    ├── Unsupported                a configuration rs2p does not implement (e.g. 'SSL')
    ├── NotBytes (TypeError)       a packet asked for as bytes is another msgpack type
    └── InvalidMsgpackArgument     msgpack passed to the library is not a msgpack array
                                   (an InvalidArgument, so a ValueError)

    Sync table failures (also under Rs2pError):
    ├── Leased (KeyError)          another node holds the key's lease; the write was refused
    └── NotFound (KeyError)        the table has no such key

    LibraryLoadError (OSError)
    ├── LibraryNotFound
    └── LibraryVersionMismatch
"""

from __future__ import annotations

import errno as _errno
from typing import Dict, Optional, Type

__all__ = [
    "Rs2pError",
    "UsageError",
    "NullArgument",
    "InvalidArgument",
    "InvalidUtf8Argument",
    "BufferTooSmall",
    "Panic",
    "WireError",
    "FrameTooLarge",
    "DecompressedTooLarge",
    "BadCompression",
    "UnknownCompression",
    "Truncated",
    "TrailingBytes",
    "BadChecksum",
    "BadMessageShape",
    "BadBase58",
    "BadMsgpack",
    "InvalidUtf8",
    "TooDeep",
    "UnsupportedMsgpack",
    "DuplicateMapKey",
    "LengthOverflow",
    "IoError",
    "AddrInUse",
    "Closed",
    "WouldBlock",
    "Timeout",
    "UnknownPeer",
    "Unsupported",
    "NotBytes",
    "InvalidMsgpackArgument",
    "Leased",
    "NotFound",
    "LibraryLoadError",
    "LibraryNotFound",
    "LibraryVersionMismatch",
    "error_for_status",
]


class Rs2pError(Exception):
    """A library call failed. ``status`` is the C status code, ``message`` the detail."""

    #: The status code this class stands for (None for the base and family classes).
    STATUS: Optional[int] = None

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} (rs2p status {self.status})"


class UsageError(Rs2pError):
    """The arguments were refused before any work was done."""


class NullArgument(UsageError):
    STATUS = 1


class InvalidArgument(UsageError, ValueError):
    STATUS = 2


class InvalidUtf8Argument(InvalidArgument):
    STATUS = 5


class BufferTooSmall(UsageError):
    STATUS = 3


class Panic(Rs2pError):
    """The library hit a bug; please report it with the message."""

    STATUS = 4


class WireError(Rs2pError):
    """Input bytes are not valid protocol data (a peer would be disconnected for them)."""


class FrameTooLarge(WireError):
    STATUS = 10


class DecompressedTooLarge(WireError):
    STATUS = 11


class BadCompression(WireError):
    STATUS = 12


class Truncated(WireError):
    """The input ends before the frame (or value) does: read more bytes and try again."""

    STATUS = 13


class TrailingBytes(WireError):
    STATUS = 14


class BadChecksum(WireError):
    STATUS = 15


class BadMsgpack(WireError):
    """The msgpack inside a frame is malformed or uses something the protocol forbids."""


class InvalidUtf8(BadMsgpack):
    STATUS = 16


class TooDeep(BadMsgpack):
    STATUS = 17


class UnsupportedMsgpack(BadMsgpack):
    STATUS = 18


class DuplicateMapKey(BadMsgpack):
    STATUS = 19


class LengthOverflow(BadMsgpack):
    STATUS = 20


class BadMessageShape(WireError):
    STATUS = 21


class BadBase58(WireError):
    STATUS = 22


class UnknownCompression(WireError):
    STATUS = 23


class _OSErrorFlavour(Rs2pError):
    """Mixin base for the classes that are also an OSError subclass: keeps ``errno`` meaningful
    (the POSIX code named by ``ERRNO``, not the rs2p status) and ``strerror`` the detail."""

    ERRNO: Optional[int] = None

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        # setattr: the attributes belong to OSError, which this mixin does not derive from.
        setattr(self, "errno", self.ERRNO)
        setattr(self, "strerror", message)


class IoError(_OSErrorFlavour, OSError):
    """The operating system refused a socket operation (bind, listen, accept...)."""

    STATUS = 30


class AddrInUse(IoError):
    """The address and port to bind are already in use: pick another port, or 0 for any."""

    STATUS = 31
    ERRNO = _errno.EADDRINUSE


class Closed(Rs2pError, RuntimeError):
    """The node was closed; nothing more can be done with it."""

    STATUS = 32


class WouldBlock(_OSErrorFlavour, BlockingIOError):
    """The node is pushing back (its send queues are full) and the call was told not to wait."""

    STATUS = 33
    ERRNO = _errno.EAGAIN


class Timeout(_OSErrorFlavour, TimeoutError):
    """Nothing arrived, or the node kept pushing back, for the whole timeout."""

    STATUS = 34
    ERRNO = _errno.ETIMEDOUT


class UnknownPeer(Rs2pError, LookupError):
    """No connected peer has that ID (it may have disconnected)."""

    STATUS = 35


class Unsupported(UsageError):
    """A configuration rs2p does not implement, such as the 'SSL' encryption."""

    STATUS = 36


class NotBytes(UsageError, TypeError):
    """A packet asked for as bytes holds another msgpack type (use the msgpack accessors)."""

    STATUS = 37


class InvalidMsgpackArgument(InvalidArgument):
    """msgpack bytes handed to the library do not decode, or are not an array."""

    STATUS = 38


class Leased(Rs2pError, KeyError):
    """Another node holds the lease on the key (it wrote it within the last hour, on a network
    with leasing on): the write was refused and nothing was sent. A KeyError, as py2p raises."""

    STATUS = 39


class NotFound(Rs2pError, KeyError):
    """The sync table has no such key."""

    STATUS = 40


class NoMajority(Rs2pError, KeyError):
    """A chord read: all five positions of the key answered and no value is held by three of
    them (writes may still be on their way; read again). A KeyError, as py2p raises."""

    STATUS = 41


_BY_STATUS: Dict[int, Type[Rs2pError]] = {
    cls.STATUS: cls
    for cls in (
        NullArgument,
        InvalidArgument,
        BufferTooSmall,
        Panic,
        InvalidUtf8Argument,
        FrameTooLarge,
        DecompressedTooLarge,
        BadCompression,
        Truncated,
        TrailingBytes,
        BadChecksum,
        InvalidUtf8,
        TooDeep,
        UnsupportedMsgpack,
        DuplicateMapKey,
        LengthOverflow,
        BadMessageShape,
        BadBase58,
        UnknownCompression,
        IoError,
        AddrInUse,
        Closed,
        WouldBlock,
        Timeout,
        UnknownPeer,
        Unsupported,
        NotBytes,
        InvalidMsgpackArgument,
        Leased,
        NotFound,
        NoMajority,
    )
    if cls.STATUS is not None
}


def error_for_status(status: int, message: str) -> Rs2pError:
    """The exception for a non-zero status; unknown codes (a newer library) give the base class."""
    cls = _BY_STATUS.get(status, Rs2pError)
    return cls(status, message)


class LibraryLoadError(OSError):
    """The shared library could not be found or used."""


class LibraryNotFound(LibraryLoadError):
    """No librs2p was found in any of the places searched."""


class LibraryVersionMismatch(LibraryLoadError):
    """The loaded librs2p has a different major.minor version than this package expects."""
