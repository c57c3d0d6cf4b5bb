"""SyncSocket between real nodes on 127.0.0.1: the shared dictionary as a py2p user sees it."""

import time
from collections.abc import MutableMapping

import pytest

from rs2p import errors
from rs2p.mesh import MeshSocket
from rs2p.sync import SyncSocket, metatuple

from mesh_helpers import Collector, wait_until
from sync_helpers import link, wait_gone, wait_table, wait_value

VALUES = {
    b"bytes": b"\x00\xffraw",
    "text": "héllo",
    b"int": -(2**40),
    b"float": 2.5,
    b"bool": True,
    b"list": [1, "two", b"three", [4]],
    b"map": {"a": 1, "b": [2, 3]},
    b"empty": b"",
}


def test_a_sync_socket_is_a_mesh_socket_and_a_mutable_mapping(make_sync):
    sock = make_sync()
    assert isinstance(sock, MeshSocket) and isinstance(sock, MutableMapping)
    assert sock.protocol.subnet == "sync1" and sock.protocol.encryption == "Plaintext"
    assert sock.leasing is True
    assert make_sync(leasing=False).protocol.subnet == "sync0"
    assert len(sock) == 0 and list(sock.keys()) == [] and sock.copy() == {}
    assert sock.get(b"absent") is None and sock.get("absent", 7) == 7
    with pytest.raises(KeyError):
        sock[b"absent"]
    with pytest.raises(TypeError):
        sock[5] = b"an int is not a key"


def test_values_written_on_one_node_read_the_same_on_the_other(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    before = int(time.time())
    for key, value in VALUES.items():
        a[key] = value
    expected = {(k.encode() if isinstance(k, str) else k): v for k, v in VALUES.items()}
    wait_table(b, expected)
    assert a.copy() == expected
    assert b["text"] == b[b"text"] == "héllo"  # str keys are their UTF-8 bytes
    for key in expected:
        assert b.metadata[key] == a.metadata[key]
        owner, when = b.metadata[key]
        assert owner == a.id
        assert before - 1 <= when <= int(time.time()) + 1
    assert isinstance(b.metadata["text"], metatuple)
    assert sorted(b.metadata) == sorted(expected) and len(b.metadata) == len(expected)


def test_keys_values_items_update_and_len_match_across_nodes(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    a.update({"one": 1, b"two": 2})
    b.update([("three", 3)], four=4)
    table = {b"one": 1, b"two": 2, b"three": 3, b"four": 4}
    wait_table(a, table)
    wait_table(b, table)
    for sock in (a, b):
        assert len(sock) == 4
        assert sorted(sock.keys()) == sorted(table)
        assert sorted(sock.values()) == [1, 2, 3, 4]
        assert dict(sock.items()) == table
        assert b"one" in sock and "four" in sock and b"five" not in sock
    assert a.metadata[b"three"].owner == b.id and b.metadata[b"one"].owner == a.id


def test_delete_pop_and_popitem_reach_the_other_node(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    a.update({"x": 1, "y": 2, "z": 3})
    wait_table(b, {b"x": 1, b"y": 2, b"z": 3})

    del a["x"]
    wait_gone(b, b"x")
    assert b"x" not in b.metadata

    assert a.pop("y") == 2
    assert a.pop("y", "fallback") == "fallback"
    with pytest.raises(KeyError):
        a.pop("y")
    wait_gone(b, b"y")

    key, value = a.popitem()
    assert (key, value) == (b"z", 3)
    wait_table(b, {})
    with pytest.raises(KeyError):
        a.popitem()
    with pytest.raises(KeyError):
        del a["never there"]


def test_setting_none_deletes_as_in_py2p(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    a["k"] = "v"
    wait_value(b, "k", "v")
    a["k"] = None
    wait_gone(b, b"k")
    assert "k" not in a


def test_a_key_leased_by_another_node_refuses_writes_with_key_error(make_sync):
    # A same-second write goes to the smaller owner ID even against a lease, so the owner here
    # is the node with the smaller ID: then b is refused whether or not the clock ticked.
    a, b = sorted((make_sync(), make_sync()), key=lambda s: s.id)
    link(a, b)
    a["mine"] = "a's value"
    wait_value(b, "mine", "a's value")

    with pytest.raises(KeyError) as refused:
        b["mine"] = "b's value"
    assert isinstance(refused.value, errors.Leased)
    with pytest.raises(errors.Leased):
        del b["mine"]
    with pytest.raises(errors.Leased):
        b.apply_delta("mine", {"x": 1})
    with pytest.raises(KeyError):
        b.update({"free": 1, "mine": 2})

    # Nothing of the refused writes was applied or sent; the free key before it was.
    wait_value(a, "free", 1)
    assert b["mine"] == a["mine"] == "a's value"
    assert b.metadata["mine"].owner == a.id
    # The owner may still write and delete it.
    a["mine"] = "again"
    wait_value(b, "mine", "again")
    del a["mine"]
    wait_gone(b, b"mine")
    b["mine"] = "now b's"  # a deleted key is free for anyone
    wait_value(a, "mine", "now b's")
    assert a.metadata["mine"].owner == b.id


def test_apply_delta_merges_maps_everywhere(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    a.apply_delta("profile", {"name": "ada"})
    wait_value(b, "profile", {"name": "ada"})
    a.apply_delta("profile", {"age": 36, "name": "Ada"})
    wait_value(b, "profile", {"name": "Ada", "age": 36})
    assert b.metadata["profile"].owner == a.id

    a["scalar"] = 5
    with pytest.raises(TypeError):
        a.apply_delta("scalar", {"x": 1})
    with pytest.raises(TypeError):
        a.apply_delta("profile", [1, 2])
    assert a["scalar"] == 5 and a["profile"] == {"name": "Ada", "age": 36}


def test_update_and_delete_events_fire_on_both_nodes(make_sync):
    a, b = make_sync(), make_sync()
    updates = {a.id: Collector(), b.id: Collector()}
    deletes = {a.id: Collector(), b.id: Collector()}
    for sock in (a, b):
        sock.on("update", lambda s, key, value, meta: updates[s.id].add((key, value, meta)))
        sock.on("delete", lambda s, key: deletes[s.id].add(key))
    link(a, b)

    a["k"] = [1, 2]
    a.apply_delta("m", {"f": 1})
    for sock in (a, b):
        seen = updates[sock.id].wait_for(2)
        assert [(key, value) for key, value, _meta in seen] == [(b"k", [1, 2]), (b"m", {"f": 1})]
        assert all(meta == metatuple(a.id, a.metadata[key].timestamp) for key, _v, meta in seen)
    del a["k"]
    assert deletes[a.id].wait_for(1) == [b"k"]
    assert deletes[b.id].wait_for(1) == [b"k"]


def test_a_late_joiner_receives_the_whole_table_with_its_metadata(make_sync):
    a, b = make_sync(), make_sync()
    link(a, b)
    a.update({"from a": 1, "map": {"x": 1}})
    b["from b"] = b"two"
    table = {b"from a": 1, b"map": {"x": 1}, b"from b": b"two"}
    wait_table(a, table)
    wait_table(b, table)

    late = make_sync()
    late.connect("127.0.0.1", a.port)
    wait_table(late, table)
    for key in table:
        assert late.metadata[key] == a.metadata[key]
    # ...and writes from the late joiner go the other way as usual.
    late["from late"] = 3
    wait_value(b, "from late", 3)


def test_three_nodes_in_a_line_relay_writes_end_to_end(make_sync):
    a, b, c = make_sync(max_outgoing=0), make_sync(max_outgoing=0), make_sync(max_outgoing=0)
    link(a, b)
    link(b, c)
    a["left"] = "from a"
    c["right"] = "from c"
    table = {b"left": "from a", b"right": "from c"}
    for sock in (a, b, c):
        wait_table(sock, table)
    assert c.metadata["left"].owner == a.id and a.metadata["right"].owner == c.id
    del c["right"]
    wait_gone(a, b"right")
    assert a.id not in c.routing_table  # still a line: the writes were relayed by b


def test_without_leasing_the_newer_write_wins(make_sync):
    # A same-second tie goes to the smaller owner ID, so the second writer is the node with the
    # smaller ID: then its write wins whether or not the clock ticked in between.
    first, second = sorted(
        (make_sync(leasing=False), make_sync(leasing=False)), key=lambda s: s.id, reverse=True
    )
    link(first, second)
    first["k"] = "first"
    wait_value(second, "k", "first")
    second["k"] = "second"
    wait_value(first, "k", "second")
    assert first.metadata["k"].owner == second.id
    # Deltas always pass without leasing, whoever owns the key.
    first.apply_delta("m", {"a": 1})
    wait_value(second, "m", {"a": 1})
    second.apply_delta("m", {"b": 2})
    wait_value(first, "m", {"a": 1, "b": 2})
    assert first.metadata["m"].owner == second.id


def test_leasing_and_non_leasing_nodes_are_different_networks(make_sync):
    leased, free = make_sync(), make_sync(leasing=False)
    leased.connect("127.0.0.1", free.port)
    # The handshake is refused (another protocol); the dial is counted, never a peer.
    wait_until(
        lambda: leased.stats["dropped"] or free.stats["dropped"],
        what="the wrong protocol to be refused",
    )
    assert free.id not in leased.routing_table


def test_a_table_entry_sent_on_handshake_never_replaces_a_value_already_held(make_sync):
    a, b = make_sync(), make_sync()
    a["k"] = "a's"
    b["k"] = "b's"
    link(a, b)
    wait_until(
        lambda: a.sync_stats["ignored_dump_entries"] >= 1
        and b.sync_stats["ignored_dump_entries"] >= 1,
        what="both handshake dumps to be ignored",
    )
    assert a["k"] == "a's" and b["k"] == "b's"
    assert a.metadata["k"].owner == a.id and b.metadata["k"].owner == b.id


def test_a_table_entry_received_on_handshake_is_passed_on_to_other_neighbours(make_sync):
    x, y, z = (make_sync(max_outgoing=0) for _ in range(3))
    fresh = y.sync_stats
    assert fresh["dump_entries_passed_on"] == 0 and fresh["pass_on_skipped"] == 0
    assert "reserved" not in fresh
    link(x, y)
    z["k"] = "z's"
    link(y, z)
    # x never meets z: the key reaches it only because y passes z's dump entry on.
    wait_value(x, "k", "z's")
    assert x.metadata["k"].owner == z.id
    assert y.sync_stats["dump_entries_passed_on"] >= 1


def test_close_stops_the_node_and_a_second_close_raises(make_sync):
    sock = make_sync()
    sock["k"] = 1
    sock.close()
    assert sock.closed
    with pytest.raises(RuntimeError):
        sock.close()
    with pytest.raises(errors.Closed):
        sock["k"] = 2
    with pytest.raises(errors.Closed):
        len(sock)


def test_errors_for_the_sync_status_codes():
    assert issubclass(errors.Leased, KeyError) and issubclass(errors.Leased, errors.Rs2pError)
    assert issubclass(errors.NotFound, KeyError)
    assert isinstance(errors.error_for_status(39, "held by X"), errors.Leased)
    assert isinstance(errors.error_for_status(40, "no such key"), errors.NotFound)


def test_a_listener_may_close_its_socket_and_dropped_sockets_are_freed():
    import gc
    import threading

    for number in range(5):
        dropped = SyncSocket("127.0.0.1", 0)
        dropped["k"] = number
        del dropped
        gc.collect()

    closed = threading.Event()
    sock = SyncSocket("127.0.0.1", 0)
    try:
        sock.on("update", lambda s, _k, _v, _m: (s.close(), closed.set()))
        sock["x"] = 1
        assert closed.wait(20), "the 'update' listener did not run"
        assert sock.closed
    finally:
        if not sock.closed:
            sock.close()
