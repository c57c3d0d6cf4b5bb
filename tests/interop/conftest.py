"""pytest setup for the interop tests: puts this folder on sys.path and
offers fixtures that start reference nodes and raw clients."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peer import RefPeer  # noqa: E402
import rawpeer  # noqa: E402


@pytest.fixture
def py2p_node():
    """A factory of py2p reference nodes, all stopped after the test."""
    started = []

    def start(kind="mesh", **kw):
        node = RefPeer.start("py2p", kind=kind, **kw)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def js2p_node():
    started = []

    def start(kind="mesh", **kw):
        node = RefPeer.start("js2p", kind=kind, **kw)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def raw_client():
    """A factory of raw clients connected to a port, all closed after the test."""
    opened = []

    def connect(port, **kw):
        client = rawpeer.RawPeer.connect("127.0.0.1", port, **kw)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def rs2p_node():
    """A factory of rs2p nodes (rs2p.mesh.MeshSocket on 127.0.0.1, a free port,
    protocol ("mesh", "Plaintext") unless told otherwise), all closed after the
    test. Needs RS2P_LIBRARY (scripts/test-interop.sh sets it)."""
    import rs2p_helpers

    started = []

    def start(subnet="mesh", **kw):
        node = rs2p_helpers.start_node(subnet, **kw)
        started.append(node)
        return node

    yield start
    for node in started:
        try:
            node.close()
        except RuntimeError:  # closed by the test already (py2p's second-close error)
            pass
