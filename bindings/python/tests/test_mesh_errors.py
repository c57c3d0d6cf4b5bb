"""Failures of mesh calls reach the rs2p.errors classes a Python user would catch."""

import errno

import pytest

from rs2p import errors, flags
from rs2p.base import Connection, Protocol
from rs2p.mesh import MeshSocket

from mesh_helpers import link


def test_mesh_status_codes_map_to_their_classes():
    expected = {
        30: errors.IoError,
        31: errors.AddrInUse,
        32: errors.Closed,
        33: errors.WouldBlock,
        34: errors.Timeout,
        35: errors.UnknownPeer,
        36: errors.Unsupported,
        37: errors.NotBytes,
        38: errors.InvalidMsgpackArgument,
    }
    for status, cls in expected.items():
        err = errors.error_for_status(status, "detail")
        assert type(err) is cls and err.status == status and err.message == "detail"
    assert issubclass(errors.IoError, OSError)
    assert issubclass(errors.AddrInUse, errors.IoError)
    assert issubclass(errors.Timeout, TimeoutError)
    assert issubclass(errors.WouldBlock, BlockingIOError)
    assert issubclass(errors.Closed, RuntimeError)
    assert issubclass(errors.UnknownPeer, LookupError)
    assert issubclass(errors.NotBytes, TypeError)
    assert issubclass(errors.InvalidMsgpackArgument, ValueError)
    assert errors.error_for_status(31, "x").errno == errno.EADDRINUSE
    assert errors.error_for_status(34, "x").errno == errno.ETIMEDOUT


def test_binding_a_port_in_use_is_addr_in_use(make_socket):
    taken = make_socket()
    with pytest.raises(errors.AddrInUse) as caught:
        MeshSocket("127.0.0.1", taken.port)
    assert isinstance(caught.value, OSError)
    assert caught.value.message


def test_ssl_is_unsupported():
    with pytest.raises(errors.Unsupported):
        MeshSocket("127.0.0.1", 0, prot=Protocol("", "SSL"))


def test_calls_after_close_raise_closed(make_socket):
    sock = make_socket()
    sock.close()
    with pytest.raises(errors.Closed):
        sock.send(b"late")
    with pytest.raises(errors.Closed):
        sock.connect("127.0.0.1", 1)
    with pytest.raises(errors.Closed):
        sock.routing_table


def test_whisper_to_a_peer_that_is_not_connected_is_unknown_peer(make_socket):
    sock = make_socket()
    ghost = Connection(sock, b"1111111111111111111111111111111111111111", ("127.0.0.1", 1), True)
    with pytest.raises(errors.UnknownPeer):
        ghost.send(flags.whisper, flags.whisper, b"anyone?")


def test_unserialisable_packets_are_a_type_error_like_py2p(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    with pytest.raises(TypeError):
        a.send(object())
    a.send(b"fine")
    assert b.recv(timeout=20).packets[1] == b"fine"


def test_unknown_main_flag_is_refused(make_socket):
    sock = make_socket()
    with pytest.raises(ValueError):
        sock.send(b"x", flag=flags.renegotiate)


def test_negative_timeouts_are_refused(make_socket):
    sock = make_socket()
    with pytest.raises(ValueError):
        sock.send(b"x", timeout=-1)
