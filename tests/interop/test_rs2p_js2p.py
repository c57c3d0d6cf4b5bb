"""rs2p (rs2p.mesh.MeshSocket) against the reference js2p 0.7.870, live on
127.0.0.1: links both ways, broadcasts and whispers each way, and rs2p
bridging js2p and py2p (which cannot link to each other directly).

What js2p cannot do (docs/reference-notes.md, section (f) and "rs2p and
js2p"): it breaks on any renegotiate frame, and it refuses to dial a peer
that shares the host or the port of one it already has, so js2p nodes on
127.0.0.1 form no mesh; these tests give each js2p node one link to rs2p.
Needs `npm install` in tests/interop (scripts/test-interop.sh does it).
"""

import rs2p_helpers as h
from peer import B, unb

BROADCAST, WHISPER = 0x00, 0x02


def js2p_table_ids(js):
    return [unb(row["id"]) for row in js.call("routing_table")]


def wait_linked(rs, js, timeout=10.0):
    h.wait_until(lambda: h.has_peer(rs, js.id), timeout, "js2p %s in rs2p's routing table" % js.id)
    js.wait_until(lambda: rs.id in js2p_table_ids(js), timeout)


def js2p_message(js, payload, timeout=10.0):
    return js.wait_event("message", timeout, where=lambda e: unb(e["packets"])[1:] == payload)


def exchange_broadcasts(rs, js):
    rs.send(b"from rs2p", "text")
    msg = js2p_message(js, [b"from rs2p", "text"])
    assert unb(msg["packets"])[0] == BROADCAST and msg["sender_text"] == rs.id.decode()

    js.call("send", packets=[B(b"from js2p"), "js text"])
    got = h.recv_message(rs, 10)
    assert got.packets[0] == BROADCAST
    assert h.packets_of(got) == [b"from js2p", "js text"]
    assert got.sender == js.id.encode()  # js2p sends its ID as str; rs2p hands out bytes


def test_rs2p_dials_js2p_and_broadcasts_go_both_ways(rs2p_node, js2p_node):
    rs, js = rs2p_node(), js2p_node()
    rs.connect("127.0.0.1", js.port)
    wait_linked(rs, js)
    assert rs.routing_table[js.id.encode()].outgoing
    exchange_broadcasts(rs, js)
    assert js.call("status")["status"] == "Nominal"


def test_js2p_dials_rs2p_and_broadcasts_go_both_ways(rs2p_node, js2p_node):
    rs, js = rs2p_node(), js2p_node()
    js.call("connect", host="127.0.0.1", port=h.port_of(rs))
    wait_linked(rs, js)
    assert not rs.routing_table[js.id.encode()].outgoing
    exchange_broadcasts(rs, js)


def test_whispers_go_both_ways_with_js2p(rs2p_node, js2p_node):
    from rs2p import flags

    rs, js = rs2p_node(), js2p_node()
    rs.connect("127.0.0.1", js.port)
    wait_linked(rs, js)

    rs.routing_table[js.id.encode()].send(flags.whisper, flags.whisper, b"psst")
    assert unb(js2p_message(js, [b"psst"])["packets"])[0] == WHISPER

    js.call("whisper", peer_id=B(rs.id), packets=[B(b"back")])
    got = h.recv_message(rs, 10)
    assert (got.packets[0], h.packets_of(got), got.sender) == (WHISPER, [b"back"], js.id.encode())


def test_rs2p_bridges_js2p_and_py2p(rs2p_node, js2p_node, py2p_node):
    # py2p refuses js2p's str protocol ID, so the two only meet through rs2p.
    rs, js = rs2p_node(), js2p_node()
    py = py2p_node(max_outgoing=0)
    js.call("connect", host="127.0.0.1", port=h.port_of(rs))
    wait_linked(rs, js)
    py.call("connect", host="127.0.0.1", port=h.port_of(rs))
    h.wait_until(lambda: h.has_peer(rs, py.id), 10, "py2p in rs2p's routing table")

    js.call("send", packets=[B(b"js to all")])
    at_py = py.wait_event("message", 15, where=lambda e: unb(e["packets"])[1:] == [b"js to all"])
    assert at_py["sender_text"] == js.id

    py.call("send", packets=[B(b"py to all")])
    at_js = js2p_message(js, [b"py to all"], timeout=15)
    assert at_js["sender_text"] == py.id

    assert [unb(r["id"]) for r in py.call("routing_table")] == [rs.id]
    assert py.call("status")["status"] == "Nominal"
