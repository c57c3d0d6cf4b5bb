"""An rs2p node fed malformed input by a raw client (rawpeer.py).

For each bad input: the node closes that connection (or drops just the frame,
where the protocol says so) and counts the reason in its stats, keeps serving
a second, well-behaved peer (a broadcast still goes both ways afterwards), and
stays up. Python + rawpeer rather than a Rust test: the raw client already
speaks every frame form byte by byte, and the node is driven exactly as users
drive it (through the Python wrapper over the C API).
"""

import hashlib
import socket
import struct
import zlib

import pytest

import rawpeer as rp
import rs2p_helpers as h

MESH = rp.protocol_id("mesh")
MIB = 1 << 20


def handshaken(raw_client, rs, node_id=None, prot_id=MESH):
    """A raw client that read rs2p's handshake and sent its own (and is in the
    routing table). str IDs when node_id is str."""
    client = raw_client(h.port_of(rs), node_id=node_id)
    first = client.read_frame(timeout=5)
    assert first.msg_type == rp.WHISPER and first.payload[0] == rp.HANDSHAKE
    client.send_handshake(prot_id, ("127.0.0.1", 1), (rp.ZLIB,))
    peer_id = client.node_id
    h.wait_until(lambda: h.has_peer(rs, peer_id), 5, "raw client in rs2p's routing table")
    return client


@pytest.fixture
def node(rs2p_node, raw_client):
    """An rs2p node and a well-behaved raw peer already linked to it."""
    rs = rs2p_node()
    good = handshaken(raw_client, rs)
    return rs, good


def assert_still_serves(rs, good, bad_id=None):
    """A broadcast goes from rs2p to the good peer and back; nothing from the
    bad client reached the user meanwhile."""
    rs.send(b"still here")
    frame, _ = good.read_until(
        lambda f: f.msg_type == rp.BROADCAST and f.payload == [rp.BROADCAST, b"still here"], timeout=5)
    assert frame.sender == rs.id
    good.send_frame(rp.BROADCAST, [rp.BROADCAST, b"good peer"])
    seen = []
    msg = h.recv_message(rs, 5, where=lambda m: seen.append(m) or h.packets_of(m) == [b"good peer"])
    assert msg.sender == good.node_id
    if bad_id is not None:
        assert all(m.sender != bad_id for m in seen), "a message from the bad client was delivered"


def closes_with(rs, client, reason, before):
    """The node closed `client`'s connection and counted `reason`."""
    assert client.wait_closed(5), "rs2p kept a connection it should have closed for %s" % reason
    h.wait_drop(rs, reason, before)
    assert not h.has_peer(rs, client.node_id)


def frame_with_body(body):
    return struct.pack(">I", len(body)) + body


def test_a_truncated_frame_then_eof_closes_as_peer_closed(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "peer_closed")
    whole = bad.frame(rp.WHISPER, [rp.WHISPER, b"x" * 200])
    bad.send_bytes(whole[: len(whole) // 2])
    bad.sock.shutdown(socket.SHUT_WR)
    h.wait_drop(rs, "peer_closed", before)
    h.wait_until(lambda: not h.has_peer(rs, bad.node_id), 5, "the truncating client gone")
    assert_still_serves(rs, good, bad.node_id)


def test_a_wrong_checksum_closes_the_connection(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "bad_checksum")
    packed = rp.packed_message(rp.WHISPER, bad.node_id, 0, [rp.WHISPER, b"tampered"])
    checksum = bytearray(hashlib.sha256(packed).digest())
    checksum[0] ^= 0xFF
    bad.send_bytes(frame_with_body(bytes(checksum) + packed))
    closes_with(rs, bad, "bad_checksum", before)
    assert_still_serves(rs, good, bad.node_id)


def test_a_length_prefix_over_16_mib_closes_before_buffering(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "frame_too_large")
    # Only the prefix and a few bytes: the node must not wait for 16 MiB to decide.
    bad.send_bytes(struct.pack(">I", 16 * MIB + 1) + b"\x00" * 64)
    closes_with(rs, bad, "frame_too_large", before)
    assert_still_serves(rs, good, bad.node_id)


def test_a_decompression_bomb_closes_the_connection(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "decompressed_too_large")
    packed = rp.packed_message(rp.WHISPER, bad.node_id, 0, [rp.WHISPER, bytes(17 * MIB)])
    body = zlib.compress(hashlib.sha256(packed).digest() + packed, 9)
    assert len(body) < 64 * 1024  # a small frame that expands past the 16 MiB limit
    bad.send_bytes(frame_with_body(body))
    closes_with(rs, bad, "decompressed_too_large", before)
    assert_still_serves(rs, good, bad.node_id)


def test_bad_msgpack_closes_the_connection(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "bad_msgpack")
    packed = b"\x93\x02\xc1\x00"  # an array of 3 whose second item is the never-used byte 0xc1
    bad.send_bytes(frame_with_body(hashlib.sha256(packed).digest() + packed))
    closes_with(rs, bad, "bad_msgpack", before)
    assert_still_serves(rs, good, bad.node_id)


def test_str_where_bin_is_due_is_accepted(node, raw_client):
    rs, good = node
    before = h.dropped(rs)
    text_id = rp.random_node_id().decode()
    bad = handshaken(raw_client, rs, node_id=text_id, prot_id=MESH.decode())  # str ID, str protocol ID
    bad.send_frame(rp.BROADCAST, [rp.BROADCAST, b"from a str sender"])  # sender field is str too
    msg = h.recv_message(rs, 5, where=lambda m: h.packets_of(m) == [b"from a str sender"])
    assert msg.sender == text_id.encode()
    rs.routing_table[text_id.encode()].send(rp.WHISPER, rp.WHISPER, b"answer")
    frame, _ = bad.read_until(lambda f: f.msg_type == rp.WHISPER and f.payload == [rp.WHISPER, b"answer"])
    assert h.dropped(rs) == before
    assert_still_serves(rs, good)


def test_an_unknown_main_flag_drops_the_frame_and_keeps_the_link(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "unknown_flag")
    bad.send_frame(0x7F, [rp.BROADCAST, b"unknown main flag"])
    h.wait_drop(rs, "unknown_flag", before)
    bad.send_frame(rp.WHISPER, [rp.WHISPER, b"after the unknown flag"])
    msg = h.recv_message(rs, 5)
    assert (h.packets_of(msg), msg.sender) == ([b"after the unknown flag"], bad.node_id)
    assert h.has_peer(rs, bad.node_id)
    assert_still_serves(rs, good)


def test_a_wrong_protocol_id_closes_the_connection(node, raw_client):
    rs, good = node
    before = h.drop_count(rs, "wrong_protocol")
    bad = raw_client(h.port_of(rs))
    bad.read_frame(timeout=5)
    bad.send_handshake(rp.protocol_id("another-net"), ("127.0.0.1", 1), (rp.ZLIB,))
    closes_with(rs, bad, "wrong_protocol", before)
    assert_still_serves(rs, good, bad.node_id)


def test_a_flood_of_handshakes_on_one_connection_changes_nothing(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.dropped(rs)
    flood = b"".join(bad.handshake_frame(MESH, ("127.0.0.1", 1), (rp.ZLIB,)) for _ in range(1000))
    bad.send_bytes(flood)
    bad.send_frame(rp.WHISPER, [rp.WHISPER, b"after the flood"])
    msg = h.recv_message(rs, 10)  # frames on one link are handled in order
    assert (h.packets_of(msg), msg.sender) == ([b"after the flood"], bad.node_id)
    assert h.peer_ids(rs) == {good.node_id, bad.node_id}
    assert h.dropped(rs) == before
    assert_still_serves(rs, good)


def test_garbage_before_a_handshake_closes_the_connection(node, raw_client):
    rs, good = node
    before = h.drop_count(rs, "frame_too_large")
    bad = raw_client(h.port_of(rs))
    bad.send_bytes(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # "GET " read as a 1.2 GB length
    closes_with(rs, bad, "frame_too_large", before)
    assert_still_serves(rs, good)


def test_garbage_after_a_handshake_closes_the_connection(node, raw_client):
    rs, good = node
    bad = handshaken(raw_client, rs)
    before = h.drop_count(rs, "bad_checksum")
    bad.send_bytes(frame_with_body(b"\xde\xad\xbe\xef" * 10))  # neither a checksum nor a zlib stream
    closes_with(rs, bad, "bad_checksum", before)
    assert_still_serves(rs, good, bad.node_id)


def test_a_connection_that_never_handshakes_is_closed_after_the_timeout(rs2p_node, raw_client):
    rs = rs2p_node(handshake_timeout=2)  # seconds (the default is 30)
    good = handshaken(raw_client, rs)
    before = h.drop_count(rs, "handshake_timeout")
    silent = raw_client(h.port_of(rs))
    silent.read_frame(timeout=5)  # rs2p's handshake; we never answer
    h.wait_until(lambda: h.stat(rs, "pending") == 1, 5, "the silent connection counted as pending")
    assert silent.wait_closed(20), "rs2p kept a connection that never handshook"
    h.wait_drop(rs, "handshake_timeout", before)
    assert h.stat(rs, "pending") == 0
    assert_still_serves(rs, good)
