"""py2p's framing bug (base.py found_terminator: `len(buffer) > 4`) and the
write discipline that avoids it. See docs/reference-notes.md, (a)."""

import os

import rawpeer as rp


def handshaken_client(raw_client, node):
    """A raw client whose handshake frame's length is not 4 (mod 8)."""
    client = raw_client(node.port)
    while True:
        frame = client.handshake_frame(node.protocol_id.encode(), ("127.0.0.1", 1), [rp.ZLIB])
        if len(frame) % 8 != 4:
            break
        client.node_id = rp.random_node_id()
    client.send_paced(frame)
    hs, _ = client.read_until(lambda f: f.payload[0] == rp.PEERS, timeout=5)
    return client


def count_messages(node, n, timeout=10.0):
    """How many of n messages arrive before py2p drops a link, and whether it did."""
    got = 0
    while got < n:
        e = node.wait_event(("message", "disconnect"), timeout=timeout)
        if e["event"] == "disconnect":
            return got, True
        got += 1
    return got, False


def test_a_read_ending_four_bytes_into_the_next_frame_drops_the_link(py2p_node, raw_client):
    node = py2p_node()
    client = handshaken_client(raw_client, node)
    first = client.frame(rp.WHISPER, [rp.WHISPER, "one"])
    second = client.frame(rp.WHISPER, [rp.WHISPER, "two"])
    # One send() of < 1024 bytes: py2p's recv(1024) takes it whole and is left
    # with exactly the 4 length bytes of the second frame.
    client.send_paced(first + second[:4])
    assert unrolled_packets(node.wait_event("message")) == [2, "one"]
    node.wait_event("disconnect")
    assert client.wait_closed(5)
    assert any("Real message size 4" in tb for tb in node.call("status")["status"])


def unrolled_packets(event):
    return event["packets"]


def test_a_2000_frame_burst_of_padded_paced_frames_survives(py2p_node, raw_client):
    node = py2p_node()
    client = handshaken_client(raw_client, node)
    n = 2000
    for i in range(n):
        frame = client.frame(rp.WHISPER, [rp.WHISPER, os.urandom(i % 37), i], pad8=True)
        assert len(frame) % 8 == 0
        assert client.send_paced(frame)
    assert count_messages(node, n) == (n, False)
    assert node.call("status")["status"] == "Nominal"


def test_padded_frames_are_ordinary_zlib_streams():
    body = os.urandom(100)
    for size in range(0, 64):
        stream = rp.zlib_padded(body[:size])
        assert (len(stream) + 4) % 8 == 0
        import zlib

        assert zlib.decompress(stream) == body[:size]
        assert zlib.decompress(stream, zlib.MAX_WBITS | 32) == body[:size]
