"""Helpers for the mesh tests: bounded waits and sockets that are always closed."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List, Optional

from rs2p.base import Message
from rs2p.mesh import MeshSocket

#: Upper bound for anything a test waits for; generous so a loaded machine does not fail it.
WAIT = 20.0


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "") -> Any:
    """Re-checks ``predicate`` until it is truthy (returns its value) or ``timeout`` passes
    (AssertionError). The pause between checks only spaces them out; it orders nothing."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what or predicate}")
        pause.wait(0.01)


def recv_one(sock: MeshSocket, timeout: float = WAIT) -> Message:
    msg = sock.recv(timeout=timeout)
    assert msg is not None, f"no message reached {sock!r} within {timeout} s"
    assert isinstance(msg, Message)
    return msg


def connected(a: MeshSocket, b: MeshSocket) -> bool:
    return b.id in a.routing_table and a.id in b.routing_table


def link(a: MeshSocket, b: MeshSocket) -> None:
    """``a`` dials ``b``; returns once both list each other as peers."""
    a.connect("127.0.0.1", b.port)
    wait_until(lambda: connected(a, b), what=f"{a!r} and {b!r} to connect")


class Collector:
    """A thread-safe list that tests can wait on (filled from listeners and handlers)."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> List[Any]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.items) >= count, timeout)
            assert ok, f"expected {count} items within {timeout} s, got {self.items!r}"
            return list(self.items)

    def snapshot(self) -> List[Any]:
        with self._cond:
            return list(self.items)


def close_quietly(sock: Optional[MeshSocket]) -> None:
    if sock is not None and not sock.closed:
        sock.close()
