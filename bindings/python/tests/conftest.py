"""Shared fixtures: the reference vectors from the repository's tests/data."""

import json
from pathlib import Path
from typing import Any, Dict

import pytest

# bindings/python/tests/conftest.py -> repository root is three levels up.
REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS_PATH = REPO_ROOT / "tests" / "data" / "py2p-0.7.json"


@pytest.fixture(scope="session")
def vectors() -> Dict[str, Any]:
    if not VECTORS_PATH.is_file():
        pytest.fail(f"reference vectors missing: {VECTORS_PATH} (they are part of the repository)")
    with VECTORS_PATH.open(encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


@pytest.fixture
def make_socket():
    """Factory for MeshSockets on 127.0.0.1 with an ephemeral port; all closed at teardown."""
    from rs2p.mesh import MeshSocket

    made = []

    def make(*args, **kwargs):
        kwargs.setdefault("addr", "127.0.0.1")
        kwargs.setdefault("port", 0)
        sock = MeshSocket(*args, **kwargs)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        if not sock.closed:
            sock.close()


@pytest.fixture
def make_sync():
    """Factory for rs2p.sync.SyncSockets on 127.0.0.1 with an ephemeral port; all closed at
    teardown."""
    from rs2p.sync import SyncSocket

    made = []

    def make(**kwargs):
        kwargs.setdefault("addr", "127.0.0.1")
        kwargs.setdefault("port", 0)
        sock = SyncSocket(**kwargs)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        if not sock.closed:
            sock.close()
