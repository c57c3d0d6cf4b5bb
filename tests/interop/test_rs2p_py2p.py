"""rs2p (rs2p.mesh.MeshSocket) against the reference py2p 0.7.878, live on
127.0.0.1: links both ways, broadcasts, whispers, relaying along a line,
refusing a wrong protocol, and a 2,000-message burst into py2p.

The py2p nodes run in their own processes (py2p_peer.py); every wait is
bounded. py2p is slow (a few hundred messages a second on this machine), so
the bounds are generous: they detect a failure, they do not measure speed.
"""

import pytest

import rs2p_helpers as h
from peer import B, unb

BROADCAST, WHISPER = 0x00, 0x02


def py2p_table_ids(py):
    return [unb(row["id"]) for row in py.call("routing_table")]


def wait_linked(rs, py, timeout=10.0):
    """Both ends list each other in their routing tables."""
    h.wait_until(lambda: h.has_peer(rs, py.id), timeout, "py2p %s in rs2p's routing table" % py.id)
    py.wait_until(lambda: rs.id in py2p_table_ids(py), timeout)


def py2p_message(py, payload, timeout=10.0):
    """The py2p node's message event whose packets after the sub-flag are `payload`."""
    return py.wait_event("message", timeout, where=lambda e: unb(e["packets"])[1:] == payload)


def test_the_default_protocol_is_py2p_meshs_default():
    """A py2p program that relies on MeshSocket's default protocol keeps its network."""
    import py2p.mesh
    from rs2p import base, mesh

    rs = mesh.MeshSocket("127.0.0.1", 0)
    try:
        assert rs.protocol.id == py2p.mesh.default_protocol.id
        assert tuple(rs.protocol[:2]) == ("mesh", "Plaintext")
    finally:
        rs.close()
    assert base.Protocol("mesh", "Plaintext").id == py2p.mesh.default_protocol.id


def test_rs2p_dials_py2p_and_broadcasts_go_both_ways(rs2p_node, py2p_node):
    rs, py = rs2p_node(), py2p_node()
    rs.connect("127.0.0.1", py.port)
    py.wait_event("connect")
    wait_linked(rs, py)
    assert rs.routing_table[py.id.encode()].outgoing

    rs.send(b"from rs2p", "text", 7)
    msg = py2p_message(py, [b"from rs2p", "text", 7])
    assert unb(msg["packets"])[0] == BROADCAST
    assert msg["sender_text"] == rs.id.decode()

    py.call("send", packets=[B(b"from py2p"), "x", {"k": [1, 2]}])
    got = h.recv_message(rs, 10)
    assert got.packets[0] == BROADCAST
    assert h.packets_of(got) == [b"from py2p", "x", {"k": [1, 2]}]
    assert got.sender == py.id.encode()


def test_py2p_dials_rs2p_and_broadcasts_go_both_ways(rs2p_node, py2p_node):
    rs, py = rs2p_node(), py2p_node()
    py.call("connect", host="127.0.0.1", port=h.port_of(rs))
    py.wait_event("connect")
    wait_linked(rs, py)
    assert not rs.routing_table[py.id.encode()].outgoing
    assert [row["outgoing"] for row in py.call("routing_table")] == [True]

    py.call("send", packets=[B(b"hello rs2p")])
    got = h.recv_message(rs, 10)
    assert (got.packets[0], h.packets_of(got), got.sender) == (BROADCAST, [b"hello rs2p"], py.id.encode())

    rs.send(b"hello py2p")
    assert py2p_message(py, [b"hello py2p"])["sender_text"] == rs.id.decode()


def test_whispers_go_both_ways_and_a_reply_reaches_py2p(rs2p_node, py2p_node):
    from rs2p import flags

    rs, py = rs2p_node(), py2p_node()
    rs.connect("127.0.0.1", py.port)
    wait_linked(rs, py)

    rs.routing_table[py.id.encode()].send(flags.whisper, flags.whisper, b"psst", "one")
    msg = py2p_message(py, [b"psst", "one"])
    assert unb(msg["packets"])[0] == WHISPER and msg["sender_text"] == rs.id.decode()

    rs.send(b"to every neighbour", flag=flags.whisper, type=flags.whisper)
    assert unb(py2p_message(py, [b"to every neighbour"])["packets"])[0] == WHISPER

    py.call("whisper", peer_id=B(rs.id), packets=[B(b"back at you")])
    got = h.recv_message(rs, 10)
    assert (got.packets[0], h.packets_of(got), got.sender) == (WHISPER, [b"back at you"], py.id.encode())

    got.reply(b"a reply")
    assert unb(py2p_message(py, [b"a reply"])["packets"])[0] == WHISPER


def test_rs2p_relays_along_a_line_of_py2p_nodes(rs2p_node, py2p_node):
    # py2p with max_outgoing 0 dials only when told to: A - R - B stays a line.
    rs = rs2p_node()
    a, b = py2p_node(max_outgoing=0), py2p_node(max_outgoing=0)
    a.call("connect", host="127.0.0.1", port=h.port_of(rs))
    wait_linked(rs, a)
    b.call("connect", host="127.0.0.1", port=h.port_of(rs))
    wait_linked(rs, b)

    a.call("send", packets=[B(b"a to all")])
    relayed = py2p_message(b, [b"a to all"], timeout=15)
    assert relayed["sender_text"] == a.id
    seen_by_rs = h.recv_message(rs, 10)
    assert (h.packets_of(seen_by_rs), seen_by_rs.sender) == ([b"a to all"], a.id.encode())

    b.call("send", packets=[B(b"b to all")])
    assert py2p_message(a, [b"b to all"], timeout=15)["sender_text"] == b.id

    # Still a line: the messages went through rs2p, not around it.
    assert py2p_table_ids(a) == [rs.id]
    assert py2p_table_ids(b) == [rs.id]
    assert h.peer_ids(rs) == {a.id.encode(), b.id.encode()}


@pytest.mark.parametrize("rs2p_dials", [True, False], ids=["rs2p-dials", "py2p-dials"])
def test_a_wrong_protocol_is_refused_by_both(rs2p_node, py2p_node, rs2p_dials):
    rs, py = rs2p_node(subnet="another-net"), py2p_node()
    before = h.drop_count(rs, "wrong_protocol")
    if rs2p_dials:
        rs.connect("127.0.0.1", py.port)
    else:
        py.call("connect", host="127.0.0.1", port=h.port_of(rs))
    h.wait_drop(rs, "wrong_protocol", before)
    assert h.peer_ids(rs) == set()
    py.wait_until(lambda: (lambda s: s["routing_table"] == [] and s["awaiting"] == 0)(py.call("status")))
    assert py.call("status")["status"] == "Nominal"


def test_a_burst_of_2000_broadcasts_reaches_py2p_and_the_link_holds(rs2p_node, py2p_node):
    count = 2000
    rs, py = rs2p_node(), py2p_node()
    rs.connect("127.0.0.1", py.port)
    wait_linked(rs, py)

    for i in range(count):
        rs.send(b"burst %d" % i)

    expected = {b"burst %d" % i for i in range(count)}
    got = set()
    import time

    deadline = time.monotonic() + 60
    while got != expected:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "py2p got %d of %d broadcasts within 60 s" % (len(got), count)
        event = py.wait_event("message", timeout=remaining)
        packets = unb(event["packets"])
        assert packets[0] == BROADCAST and event["sender_text"] == rs.id.decode()
        got.add(packets[1])

    status = py.call("status")
    assert status["status"] == "Nominal"
    assert [unb(row["id"]) for row in status["routing_table"]] == [rs.id]
    assert h.has_peer(rs, py.id)
