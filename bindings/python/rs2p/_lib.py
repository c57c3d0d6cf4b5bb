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
from ctypes import POINTER, c_char_p, c_int32, c_size_t, c_uint8
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
