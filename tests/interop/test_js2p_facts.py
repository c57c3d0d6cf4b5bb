"""What js2p 0.7.870 does on the wire, checked with the raw client.
Backs finding (f) in docs/reference-notes.md. Needs `npm install` here."""

import pytest

import rawpeer as rp
from peer import B, unb


def connect_and_handshake(raw_client, node, methods=(rp.ZLIB,)):
    client = raw_client(node.port)
    first = client.read_frame(timeout=5)
    client.send_handshake(node.protocol_id.encode(), ("127.0.0.1", 1), methods)
    return client, first


def test_f_js2p_sends_str_ids_and_a_second_handshake_then_peers(js2p_node, raw_client):
    node = js2p_node()
    client, first = connect_and_handshake(raw_client, node)
    again = client.read_frame(timeout=5)
    peers = client.read_frame(timeout=5)
    for hs in (first, again):
        assert hs.compressed is None and hs.payload[0] == rp.HANDSHAKE
        assert hs.sender == node.id and hs.payload[1] == node.id  # str, not bin
        assert hs.payload[2] == node.protocol_id  # str protocol ID
        assert hs.payload[4] == [rp.ZLIB, rp.GZIP]
    assert peers.payload == [rp.PEERS, []] and peers.compressed == "zlib/gzip"
    assert [unb(r["id"]) for r in node.call("routing_table")] == [client.node_id]  # our bin ID kept


@pytest.mark.parametrize("compression,pad8", [(None, False), (rp.ZLIB, False), (rp.ZLIB, True), (rp.GZIP, False)])
def test_f_js2p_accepts_plain_zlib_padded_and_gzip_frames(js2p_node, raw_client, compression, pad8):
    node = js2p_node()
    client, _ = connect_and_handshake(raw_client, node, methods=(0x1F, rp.ZLIB, rp.GZIP))
    client.send_frame(rp.WHISPER, [rp.WHISPER, "payload", b"\x00"], compression=compression, pad8=pad8)
    msg = node.wait_event("message")
    assert unb(msg["packets"]) == [2, "payload", b"\x00"]
    assert unb(msg["sender"]) == client.node_id


def test_f_js2p_answers_bin_star_and_sends_str_sender(js2p_node, raw_client):
    node = js2p_node()
    client, _ = connect_and_handshake(raw_client, node)
    client.send_frame(rp.WHISPER, [rp.REQUEST, b"*"])
    peers, _ = client.read_until(lambda f: f.payload[0] == rp.PEERS and f.payload[1])
    assert peers.payload[1] == [[["127.0.0.1", 1], client.node_id]]
    node.call("send", packets=["hello"])
    b, _ = client.read_until(lambda f: f.msg_type == rp.BROADCAST)
    assert b.payload == [rp.BROADCAST, "hello"] and b.sender == node.id


def test_f_renegotiate_resend_drops_the_link(js2p_node, raw_client):
    node = js2p_node()
    client, _ = connect_and_handshake(raw_client, node)
    client.send_frame(rp.RENEGOTIATE, [rp.RESEND])
    assert client.wait_closed(5)


def test_f_sync_delete_drops_the_link(js2p_node, raw_client):
    node = js2p_node("sync")
    client, _ = connect_and_handshake(raw_client, node)
    client.send_frame(rp.BROADCAST, [rp.STORE, b"k", "v"])
    assert node.wait_event("update")["value"] == "v"
    client.send_frame(rp.BROADCAST, [rp.STORE, b"k", None])
    assert client.wait_closed(5)


def test_f_py2p_and_js2p_do_not_form_a_link(py2p_node, js2p_node):
    py, js = py2p_node(), js2p_node()
    js.call("connect", host="127.0.0.1", port=py.port)
    # py2p closes on js2p's str protocol ID; js2p then forgets the link.
    js.wait_until(lambda: js.call("routing_table") == [], timeout=5)
    assert py.call("routing_table") == []
