"""Helpers for the sync table tests: sockets that are always closed, and bounded waits on what
a node's table holds."""

from __future__ import annotations

from typing import Any, Dict

from rs2p.sync import SyncSocket

from mesh_helpers import WAIT, connected, wait_until

_MISSING = object()


def link(a: SyncSocket, b: SyncSocket) -> None:
    """``a`` dials ``b``; returns once both list each other as peers."""
    a.connect("127.0.0.1", b.port)
    wait_until(lambda: connected(a, b), what=f"{a!r} and {b!r} to connect")


def wait_value(sock: SyncSocket, key: Any, value: Any, timeout: float = WAIT) -> None:
    """Waits until ``sock[key] == value``."""
    wait_until(
        lambda: sock.get(key, _MISSING) == value,
        timeout,
        what=f"{key!r} = {value!r} on {sock!r}",
    )


def wait_gone(sock: SyncSocket, key: Any, timeout: float = WAIT) -> None:
    wait_until(lambda: key not in sock, timeout, what=f"{key!r} to leave {sock!r}")


def wait_table(sock: SyncSocket, table: Dict[bytes, Any], timeout: float = WAIT) -> None:
    """Waits until the node's whole table equals ``table``."""
    wait_until(lambda: sock.copy() == table, timeout, what=f"{sock!r} to hold {table!r}")
