"""The harness itself, py2p <-> py2p: processes start, connect, carry
messages, sync writes and chord lookups, and stop within a bound."""

import time

from peer import B, unb


def wait_linked(a, b, bound=10.0):
    """py2p fires 'connect' before both ends have finished the handshake exchange: poll,
    within a bound, until each routing table holds the other."""
    deadline = time.monotonic() + bound
    while not (a.call("routing_table") and b.call("routing_table")):
        assert time.monotonic() < deadline, "py2p nodes never listed each other"
        time.sleep(0.05)


def wait_storing(a, b, bound=10.0):
    """Chord nodes: poll, within a bound, until each lists the other as storing (not
    leeching), i.e. each has handled the other's chord state."""
    deadline = time.monotonic() + bound
    while not all(row.get("leeching") is False for node in (a, b) for row in node.call("routing_table")):
        assert time.monotonic() < deadline, "py2p chord nodes never saw each other store"
        time.sleep(0.05)


def test_two_py2p_mesh_nodes_connect_and_exchange_messages(py2p_node):
    a, b = py2p_node(), py2p_node()
    b.call("connect", host="127.0.0.1", port=a.port)
    a.wait_event("connect")
    b.wait_event("connect")
    wait_linked(a, b)
    b.call("send", packets=["hi", B(b"\x00\xff"), 7])
    msg = a.wait_event("message")
    assert unb(msg["packets"]) == [0, "hi", b"\x00\xff", 7]
    assert msg["sender_text"] == b.id
    a.call("whisper", peer_id=B(b.id), packets=[{"k": [1, 2]}])
    assert unb(b.wait_event("message")["packets"]) == [2, {"k": [1, 2]}]
    rows = a.call("routing_table")
    assert [unb(r["id"]) for r in rows] == [b.id.encode()]


def test_py2p_sync_write_reaches_the_other_node(py2p_node):
    a, b = py2p_node("sync"), py2p_node("sync")
    a.call("sync_set", key=B("before"), value="x")
    b.call("connect", host="127.0.0.1", port=a.port)
    upd = b.wait_event("update", where=lambda e: unb(e["key"]) == b"before")
    assert upd["value"] == "x" and unb(upd["owner"]) == a.id.encode()
    b.call("sync_set", key=B("k"), value={"m": [[B("bin"), 1]]})
    assert unb(a.wait_event("update", where=lambda e: unb(e["key"]) == b"k")["value"]) == {b"bin": 1}
    assert unb(a.call("sync_get", key=B("k"))) == {"found": True, "value": {b"bin": 1}}
    b.call("sync_delete", key=B("k"))
    a.wait_event("delete", where=lambda e: unb(e["key"]) == b"k")
    assert a.call("sync_get", key=B("k"))["found"] is False


def test_py2p_chord_pair_stores_and_reads_back(py2p_node):
    a, b = py2p_node("chord"), py2p_node("chord")
    a.call("chord_join")
    b.call("chord_join")
    b.call("connect", host="127.0.0.1", port=a.port)
    a.wait_event("connect")
    wait_linked(a, b)
    # Each must have heard that the other stores before the write: until then b stores every
    # position itself and hands a's share over only later, after the 'add' a waits for.
    wait_storing(a, b)
    b.call("chord_set", key=B("key"), value="value")
    a.wait_event("add", where=lambda e: unb(e["key"]) == b"key")
    got = a.call("chord_get", key=B("key"), timeout=5, reply_timeout=10)
    assert got == {"found": True, "value": "value"}


def test_an_unknown_command_is_an_error_reply_not_a_crash(py2p_node):
    a = py2p_node()
    import pytest
    from peer import PeerError

    with pytest.raises(PeerError):
        a.call("no_such_command")
    assert a.call("status")["status"] == "Nominal"


def test_the_process_exits_by_itself_when_stdin_closes(py2p_node):
    a = py2p_node()
    a.proc.stdin.close()
    assert a.proc.wait(5) == 0
