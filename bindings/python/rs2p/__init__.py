"""rs2p: the p2p protocol 0.7 (py2p / js2p compatible), implemented in Rust, for Python.

The wire codec (protocol IDs and frames) is here; the networking classes live in modules
named like py2p's: :mod:`rs2p.mesh` (``MeshSocket``) and :mod:`rs2p.base` (``Protocol``,
``Message``); flag values are in :mod:`rs2p.flags`. ``rs2p.Message`` is the codec's decoded
message; a socket's received messages are :class:`rs2p.base.Message`.

The shared library is loaded on first use (see :mod:`rs2p._lib` for where it is looked
for); :func:`load_library` loads it up front so that a missing or mismatched library is
reported at start-up.
"""

from . import errors, flags
from ._version import __version__
from .wire import (
    Compression,
    Frame,
    Message,
    decode_frame,
    decode_message,
    encode_frame,
    library_version,
    protocol_id,
)


def load_library() -> str:
    """Finds, loads and version-checks librs2p now; returns the path it was loaded from."""
    from . import _lib

    return str(_lib.get().path)


__all__ = [
    "__version__",
    "errors",
    "flags",
    "Compression",
    "Frame",
    "Message",
    "decode_frame",
    "decode_message",
    "encode_frame",
    "library_version",
    "load_library",
    "protocol_id",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``rs2p.ChordSocket``, ``rs2p.ChordFuture``, ``rs2p.SyncSocket`` and
    ``rs2p.MeshSocket``: imported on first use, so that ``import rs2p`` does not load the
    library."""
    if name in ("ChordSocket", "ChordFuture"):
        from . import chord

        return getattr(chord, name)
    if name == "SyncSocket":
        from . import sync

        return sync.SyncSocket
    if name == "MeshSocket":
        from . import mesh

        return mesh.MeshSocket
    raise AttributeError(f"module 'rs2p' has no attribute {name!r}")


__all__ += ["ChordSocket", "ChordFuture", "SyncSocket", "MeshSocket"]
