"""What py2p 0.7.878 does on the wire, checked with the raw client.
Each test backs a finding in docs/reference-notes.md (letters match)."""

import pytest

import rawpeer as rp
from peer import B, unb


def connect_and_handshake(raw_client, node, methods=(rp.ZLIB,)):
    client = raw_client(node.port)
    before = client.read_until(lambda f: f.payload[0] == rp.HANDSHAKE, timeout=5)[0]
    client.send_handshake(node.protocol_id.encode(), ("127.0.0.1", 1), methods)
    peers, _ = client.read_until(lambda f: f.payload[0] == rp.PEERS, timeout=5)
    return client, before, peers


def test_b_unknown_method_code_is_accepted_and_never_used(py2p_node, raw_client):
    node = py2p_node()
    client, _, peers = connect_and_handshake(raw_client, node, methods=(0x1F, rp.ZLIB, rp.GZIP))
    assert peers.compressed == "zlib/gzip" and peers.body[:1] == b"\x78"  # zlib container
    node.call("whisper", peer_id=B(client.node_id), packets=["x"])
    w, _ = client.read_until(lambda f: f.payload[0] == rp.WHISPER)
    assert w.body[:1] == b"\x78"
    row = node.call("routing_table")[0]
    assert row["compression"] == [0x1F, rp.ZLIB, rp.GZIP]


def test_b_only_unknown_codes_means_py2p_sends_plain(py2p_node, raw_client):
    node = py2p_node()
    client, _, peers = connect_and_handshake(raw_client, node, methods=(0x1F,))
    assert peers.compressed is None


@pytest.mark.parametrize("compression", [None, rp.ZLIB, rp.GZIP])
def test_c_plain_and_other_container_frames_accepted_after_negotiation(py2p_node, raw_client, compression):
    node = py2p_node()
    client, _, _ = connect_and_handshake(raw_client, node, methods=(rp.ZLIB,))
    client.send_frame(rp.WHISPER, [rp.WHISPER, "payload"], compression=compression)
    assert node.wait_event("message")["packets"] == [2, "payload"]


def test_d_mesh_sends_plain_handshake_on_accept_then_zlib_peers(py2p_node, raw_client):
    node = py2p_node()
    client, before, peers = connect_and_handshake(raw_client, node)
    assert before.compressed is None and before.msg_type == rp.WHISPER
    _, node_id, prot, addr, methods = before.payload
    assert node_id == node.id.encode() and prot == node.protocol_id.encode()
    assert addr == ["127.0.0.1", node.port] and methods == [rp.ZLIB, rp.GZIP, rp.BZ2, rp.LZMA]
    assert before.sender == node.id.encode()
    # The peer list names the recipient itself, bin ID and str host.
    assert peers.compressed == "zlib/gzip"
    assert peers.payload[1] == [[["127.0.0.1", 1], client.node_id]]


def test_d_sync_follows_peers_with_one_store_whisper_per_key(py2p_node, raw_client):
    node = py2p_node("sync")
    node.call("sync_set", key=B("k"), value="v")
    client, _, _ = connect_and_handshake(raw_client, node)
    store = client.read_frame(timeout=5)
    assert store.msg_type == rp.WHISPER and store.compressed == "zlib/gzip"
    assert store.payload[:4] == [rp.STORE, b"k", "v", node.id.encode()]
    assert isinstance(store.payload[4], int)


def test_d_chord_accepting_side_sends_its_state_right_after_its_handshake(py2p_node, raw_client):
    node = py2p_node("chord")
    client = raw_client(node.port)
    hs = client.read_frame(timeout=5)
    state = client.read_frame(timeout=5)
    assert hs.payload[0] == rp.HANDSHAKE and len(hs.payload) == 5
    assert state.payload == [rp.HANDSHAKE, "1"] and state.compressed is None


def test_e_str_protocol_id_closes_the_connection(py2p_node, raw_client):
    node = py2p_node()
    client = raw_client(node.port)
    client.send_handshake(node.protocol_id, ("127.0.0.1", 1), [rp.ZLIB])  # str, not bin
    assert client.wait_closed(5)


def test_e_compressed_handshake_closes_the_connection(py2p_node, raw_client):
    node = py2p_node()
    client = raw_client(node.port)
    client.send_frame(rp.WHISPER, [rp.HANDSHAKE, client.node_id, node.protocol_id.encode(),
                                   ["127.0.0.1", 1], [rp.ZLIB]], compression=rp.ZLIB)
    assert client.wait_closed(5)


def test_e_str_star_request_gets_the_renegotiate_pair(py2p_node, raw_client):
    node = py2p_node()
    client, _, _ = connect_and_handshake(raw_client, node)
    client.send_frame(rp.WHISPER, [rp.REQUEST, "*"])
    first = client.read_frame(timeout=5)
    second = client.read_frame(timeout=5)
    assert (first.msg_type, first.payload) == (rp.RENEGOTIATE, [rp.COMPRESSION, []])
    assert (second.msg_type, second.payload) == (rp.RENEGOTIATE, [rp.RESEND])
    assert first.compressed == second.compressed == "zlib/gzip"  # old list, as the spec says


def test_e_str_node_id_is_accepted_and_kept_as_str(py2p_node, raw_client):
    node = py2p_node()
    client = raw_client(node.port)
    client.send_frame(rp.WHISPER, [rp.HANDSHAKE, client.node_id.decode(), node.protocol_id.encode(),
                                   ["127.0.0.1", 1], [rp.ZLIB]])
    peers, _ = client.read_until(lambda f: f.payload[0] == rp.PEERS)
    assert peers.payload[1] == [[["127.0.0.1", 1], client.node_id.decode()]]


def test_g_bin_star_request_is_answered_with_the_peer_list(py2p_node, raw_client):
    node, other = py2p_node(), py2p_node()
    other.call("connect", host="127.0.0.1", port=node.port)
    node.wait_event("connect")
    client, _, _ = connect_and_handshake(raw_client, node)
    client.send_frame(rp.WHISPER, [rp.REQUEST, b"*"])
    peers, _ = client.read_until(lambda f: f.payload[0] == rp.PEERS)
    assert peers.msg_type == rp.WHISPER
    listed = sorted(peers.payload[1], key=lambda e: e[1])
    expected = sorted([[["127.0.0.1", other.port], other.id.encode()],
                       [["127.0.0.1", 1], client.node_id]], key=lambda e: e[1])
    assert listed == expected
