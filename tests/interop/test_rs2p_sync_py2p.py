"""rs2p sync tables (rs2p.sync.SyncSocket) against py2p 0.7.878 sync nodes, live on 127.0.0.1:
writes, deltas and deletes along a mixed line of nodes, leases refused both ways, the table a
node receives on its handshake (rs2p joining py2p and py2p joining rs2p), and handshake entries
that rs2p passes on (py2p applies them; py2p itself passes none on).

The py2p nodes run in their own processes (py2p_peer.py --kind sync, leasing on, subnet
'sync' + '1'). py2p nodes get max_outgoing 0 and rs2p nodes max_outgoing=0 so that a line of
nodes stays a line and writes have to be relayed. Every wait is bounded and polls a condition.

A refused write leaves no trace at the refusing node but its absence; to know it was processed,
the writer sends a marker key after it on the same link and the test waits for the marker
(py2p and rs2p both handle a link's messages in order).
"""

import pytest

import rs2p_helpers as h
from peer import B, PeerError, unb

MISSING = ("missing",)
WAIT = 20.0


@pytest.fixture
def rs2p_sync():
    """A factory of rs2p SyncSockets on 127.0.0.1 (a free port, max_outgoing=0 unless told
    otherwise), all closed after the test."""
    from rs2p.sync import SyncSocket

    started = []

    def start(**kw):
        kw.setdefault("max_outgoing", 0)
        node = SyncSocket("127.0.0.1", 0, **kw)
        started.append(node)
        return node

    yield start
    for node in started:
        if not node.closed:
            node.close()


def py_sync(py2p_node):
    return py2p_node(kind="sync", max_outgoing=0)


def py_value(py, key):
    reply = py.call("sync_get", key=B(key))
    return unb(reply["value"]) if reply["found"] else MISSING


def py_items(py):
    """{key: (value, owner bytes, time)} of the py2p node's table."""
    return {
        unb(key): (unb(value), unb(owner) if not isinstance(owner, str) else owner.encode(), when)
        for key, value, owner, when in py.call("sync_items")
    }


def wait_py(py, key, value, timeout=WAIT):
    h.wait_until(lambda: py_value(py, key) == value, timeout,
                 lambda: "py2p to hold %r = %r (holds %r)" % (key, value, py_value(py, key)))


def wait_py_gone(py, key, timeout=WAIT):
    wait_py(py, key, MISSING, timeout)


def wait_rs(rs, key, value, timeout=WAIT):
    h.wait_until(lambda: rs.get(key, MISSING) == value, timeout,
                 lambda: "rs2p to hold %r = %r (holds %r)" % (key, value, rs.get(key, MISSING)))


def wait_rs_gone(rs, key, timeout=WAIT):
    wait_rs(rs, key, MISSING, timeout)


def rs_meta(rs, key):
    owner, when = rs.metadata[key]
    return owner, when


def linked(rs, py):
    return h.has_peer(rs, py.id) and rs.id in [unb(r["id"]) for r in py.call("routing_table")]


def rs_dials_py(rs, py):
    rs.connect("127.0.0.1", py.port)
    h.wait_until(lambda: linked(rs, py), WAIT, "rs2p and py2p %s to link" % py.id)


def py_dials_rs(py, rs):
    py.call("connect", host="127.0.0.1", port=rs.port)
    h.wait_until(lambda: linked(rs, py), WAIT, "py2p %s and rs2p to link" % py.id)


def ordered_pair(py2p_node, rs2p_sync, rs_larger, leasing=None):
    """A py2p sync node and an rs2p sync node whose ID sorts after (rs_larger) or before the
    py2p node's. The lease check breaks a same-second tie in favour of the smaller owner, so a
    test that needs a write to be refused whatever the clock says picks the order that refuses it
    in a tie too. `leasing=False` starts both nodes with leasing off.

    IDs are random, and a py2p ID near either end of the order leaves almost no rs2p ID on the
    wanted side, so both nodes are drawn again until the pair is ordered: a few rs2p nodes per
    py2p node, and a fresh py2p node when none of them fits."""
    for _ in range(32):
        py = py2p_node(kind="sync", max_outgoing=0, leasing=leasing)
        py_id = py.id.encode()
        for _ in range(8):
            rs = rs2p_sync() if leasing is None else rs2p_sync(leasing=leasing)
            if (rs.id > py_id) == rs_larger:
                return py, rs
            rs.close()
        py.stop()
    raise AssertionError("32 py2p nodes each found no rs2p ID among 8 on the wanted side")


def test_writes_deltas_and_deletes_cross_a_mixed_line(py2p_node, rs2p_sync):
    """py2p A - rs2p B - py2p C - rs2p D, each dialling the one before it."""
    a = py_sync(py2p_node)
    b = rs2p_sync()
    c = py_sync(py2p_node)
    d = rs2p_sync()
    rs_dials_py(b, a)
    py_dials_rs(c, b)
    rs_dials_py(d, c)

    values = {b"bytes": b"\x00\xff", b"text": "h\u00e9llo", b"int": -5, b"list": [1, "x", b"y"],
              b"map": {"k": [1, 2]}}
    for key, value in values.items():
        a.call("sync_set", key=B(b"A " + key), value=_enc(value))
        d[b"D " + key] = value

    for key, value in values.items():
        wait_rs(d, b"A " + key, value)
        wait_py(a, b"D " + key, value)
    # The middle nodes too, before reading their tables: py2p relays a broadcast before it
    # applies it (mesh.py: waterfall, then handle_msg), so the node past C may hold a write
    # that C has not stored yet.
    for key, value in values.items():
        for name in (b"A ", b"D "):
            wait_rs(b, name + key, value)
            wait_py(c, name + key, value)
    a_items = py_items(a)
    c_items = py_items(c)
    for key, value in values.items():
        # rs2p's writes: the same (owner, time) on every node, py2p ends included.
        assert rs_meta(b, b"D " + key) == rs_meta(d, b"D " + key) == (d.id, d.metadata[b"D " + key][1])
        assert a_items[b"D " + key] == (value, d.id, d.metadata[b"D " + key][1])
        assert c_items[b"D " + key][1:] == a_items[b"D " + key][1:]
        # py2p's writes: every receiver holds the frame's (sender, time). py2p's own copy reads
        # the clock a second time (PROTOCOL.md §7), so it may be one second apart.
        owner, when = rs_meta(d, b"A " + key)
        assert owner == a.id.encode() and rs_meta(b, b"A " + key) == (owner, when)
        assert c_items[b"A " + key] == (value, owner, when)
        assert a_items[b"A " + key][1] == owner and abs(a_items[b"A " + key][2] - when) <= 1

    # Deltas, both ways: the merged map everywhere, ownership with the delta's author.
    a.call("sync_delta", key=B(b"A map"), delta={"added by A": 1})
    wait_rs(d, b"A map", {"k": [1, 2], "added by A": 1})
    d.apply_delta(b"D map", {"added by D": True})
    wait_py(a, b"D map", {"k": [1, 2], "added by D": True})
    d.apply_delta(b"new map", {"x": 1})
    wait_py(a, b"new map", {"x": 1})
    assert py_items(a)[b"new map"][1] == d.id

    # Deletes, both ways.
    a.call("sync_delete", key=B(b"A text"))
    del d[b"D int"]
    wait_rs_gone(d, b"A text")
    wait_py_gone(a, b"D int")
    wait_py_gone(c, b"A text")
    assert b"A text" not in b and b"D int" not in b

    # Still a line: nothing was delivered around it, and no py2p node saw an error.
    assert not h.has_peer(d, a.id) and not h.has_peer(b, d.id)
    assert [unb(r["id"]) for r in a.call("routing_table")] == [b.id]
    for py in (a, c):
        assert py.call("status")["status"] == "Nominal"


def test_rs2p_refuses_writes_to_keys_py2p_leases_and_py2p_applies_none_of_ours(py2p_node, rs2p_sync):
    # py2p must refuse rs2p's write even in a same-second tie: rs2p's ID sorts after py2p's.
    py, rs = ordered_pair(py2p_node, rs2p_sync, rs_larger=True)
    rs_dials_py(rs, py)

    py.call("sync_set", key=B("py2p's"), value="py2p's value")
    wait_rs(rs, b"py2p's", "py2p's value")
    # Locally: KeyError, nothing sent, nothing changed.
    from rs2p import errors

    with pytest.raises(KeyError) as refused:
        rs["py2p's"] = "rs2p's value"
    assert isinstance(refused.value, errors.Leased)
    with pytest.raises(KeyError):
        del rs["py2p's"]
    rs["marker 1"] = 1
    wait_py(py, b"marker 1", 1)
    assert py_value(py, b"py2p's") == "py2p's value" == rs["py2p's"]

    # Both hold a value at the same key before they meet: each keeps its own (a handshake entry
    # never replaces a truthy value), and then each owns its copy.
    rs.close()
    py2, rs2 = ordered_pair(py2p_node, rs2p_sync, rs_larger=True)
    py2.call("sync_set", key=B("both"), value="py2p's")
    rs2["both"] = "rs2p's"
    rs_dials_py(rs2, py2)
    h.wait_until(lambda: rs2.sync_stats["ignored_dump_entries"] >= 1, WAIT, "py2p's entry to be ignored")
    # rs2p's write goes out (it owns its copy) and py2p refuses it by its lease.
    rs2["both"] = "rs2p again"
    rs2["marker 2"] = 2
    wait_py(py2, b"marker 2", 2)
    assert py_value(py2, b"both") == "py2p's"
    assert py_items(py2)[b"both"][1] == py2.id.encode()
    assert py2.call("status")["status"] == "Nominal"


def test_py2p_writes_to_keys_rs2p_leases_are_dropped_and_counted(py2p_node, rs2p_sync):
    # rs2p must refuse py2p's write even in a same-second tie: rs2p's ID sorts first.
    py, rs = ordered_pair(py2p_node, rs2p_sync, rs_larger=False)
    py.call("sync_set", key=B("both"), value="py2p's")
    rs["both"] = "rs2p's"
    py_dials_rs(py, rs)
    h.wait_until(lambda: rs.sync_stats["ignored_dump_entries"] >= 1, WAIT, "py2p's entry to be ignored")

    refused_before = rs.sync_stats["refused_leased"]
    py.call("sync_set", key=B("both"), value="py2p again")
    py.call("sync_set", key=B("marker"), value=1)
    wait_rs(rs, b"marker", 1)
    assert rs["both"] == "rs2p's" and rs.metadata["both"].owner == rs.id
    assert rs.sync_stats["refused_leased"] == refused_before + 1
    assert py_value(py, b"both") == "py2p again"  # py2p's own copy, as it chose

    # py2p cannot write to keys rs2p wrote: its own write raises, and nothing reaches rs2p.
    rs["rs2p's"] = "mine"
    wait_py(py, b"rs2p's", "mine")
    with pytest.raises(PeerError, match="KeyError"):
        py.call("sync_set", key=B("rs2p's"), value="py2p's")
    assert py_value(py, b"rs2p's") == "mine" == rs["rs2p's"]


def test_rs2p_joining_py2p_receives_its_table(py2p_node, rs2p_sync):
    py = py_sync(py2p_node)
    table = {b"one": 1, b"bytes": b"\x01\x02", b"map": {"a": [1]}, b"falsy": 0}
    for key, value in table.items():
        py.call("sync_set", key=B(key), value=_enc(value))
    items = py_items(py)

    rs = rs2p_sync()
    rs.connect("127.0.0.1", py.port)
    h.wait_until(lambda: rs.copy() == table, WAIT, lambda: "rs2p to hold %r (holds %r)" % (table, rs.copy()))
    for key in table:
        # A handshake entry carries the writer's own (owner, time).
        assert rs_meta(rs, key) == items[key][1:]


def test_py2p_joining_rs2p_receives_its_table(py2p_node, rs2p_sync):
    rs, other = rs2p_sync(), rs2p_sync()
    other.connect("127.0.0.1", rs.port)
    h.wait_until(lambda: h.has_peer(rs, other.id), WAIT, "two rs2p nodes to link")
    rs.update({"one": 1, "bytes": b"\x01\x02", "text": "t"})
    other.apply_delta("map", {"a": [1]})
    table = {b"one": 1, b"bytes": b"\x01\x02", b"text": "t", b"map": {"a": [1]}}
    h.wait_until(lambda: rs.copy() == table, WAIT, "rs2p to hold the other node's key")

    py = py_sync(py2p_node)
    py.call("connect", host="127.0.0.1", port=rs.port)
    h.wait_until(lambda: {k: v[0] for k, v in py_items(py).items()} == table, WAIT,
                 lambda: "py2p to hold %r (holds %r)" % (table, py_items(py)))
    items = py_items(py)
    for key in table:
        assert items[key][1:] == rs_meta(rs, key)
    assert items[b"map"][1] == other.id
    assert py.call("status")["status"] == "Nominal"


def py_peer_ids(py):
    """The py2p node's routing table IDs as bytes (py2p keeps them as bytes or str)."""
    return [i if isinstance(i, bytes) else i.encode() for i in (unb(r["id"]) for r in py.call("routing_table"))]


def py_dials_py(py, other):
    py.call("connect", host="127.0.0.1", port=other.port)
    h.wait_until(lambda: other.id.encode() in py_peer_ids(py) and py.id.encode() in py_peer_ids(other), WAIT,
                 "py2p %s and py2p %s to link" % (py.id, other.id))


def test_rs2p_passes_handshake_entries_on_and_py2p_applies_but_does_not_pass_them(
        py2p_node, rs2p_sync):
    """Line py2p Q2 - py2p Q - rs2p R - rs2p S, all empty; then py2p P, holding a key, dials R.
    R takes P's entry from P's handshake dump and passes it on to Q and S with P's owner and
    time; Q, a py2p node, applies it although it arrives long after Q's handshake with R, and
    does not pass it on to Q2 (py2p never does)."""
    q2, q = py_sync(py2p_node), py_sync(py2p_node)
    r, s = rs2p_sync(), rs2p_sync()
    py_dials_py(q2, q)
    py_dials_rs(q, r)
    s.connect("127.0.0.1", r.port)
    h.wait_until(lambda: h.has_peer(r, s.id) and h.has_peer(s, r.id), WAIT, "two rs2p nodes to link")

    p = py_sync(py2p_node)
    p.call("sync_set", key=B(b"from P"), value="P's value")
    owner_time = py_items(p)[b"from P"][1:]
    py_dials_rs(p, r)

    wait_rs(s, b"from P", "P's value")
    assert rs_meta(s, b"from P") == rs_meta(r, b"from P") == owner_time
    wait_py(q, b"from P", "P's value")
    assert py_items(q)[b"from P"][1:] == owner_time

    # A marker written after Q took the entry reaches Q2 through Q: had Q passed the entry on,
    # it would have done so before relaying the marker.
    r["marker"] = 1
    wait_py(q2, b"marker", 1)
    assert py_value(q2, b"from P") == MISSING
    for py in (p, q, q2):
        assert py.call("status")["status"] == "Nominal"


def _enc(value):
    """A value in the harness's JSON form (bytes as {"b": hex})."""
    if isinstance(value, bytes):
        return B(value)
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    return value


def test_without_leasing_py2p_and_rs2p_agree_the_newer_write_wins(py2p_node, rs2p_sync):
    # The second writer is rs2p with the smaller ID, so a same-second tie goes to it too.
    py, rs = ordered_pair(py2p_node, rs2p_sync, rs_larger=False, leasing=False)
    py_id = py.id.encode()
    assert rs.protocol.subnet == "sync0"
    rs_dials_py(rs, py)

    py.call("sync_set", key=B("k"), value="py2p first")
    wait_rs(rs, b"k", "py2p first")
    rs["k"] = "rs2p second"
    wait_py(py, b"k", "rs2p second")
    assert py_items(py)[b"k"][1] == rs.id
    # Deltas pass whoever owns the key; ownership moves with them.
    rs.apply_delta("m", {"a": 1})
    wait_py(py, b"m", {"a": 1})
    py.call("sync_delta", key=B("m"), delta={"b": 2})
    wait_rs(rs, b"m", {"a": 1, "b": 2})
    assert rs.metadata["m"].owner == py_id
    assert py.call("status")["status"] == "Nominal"
