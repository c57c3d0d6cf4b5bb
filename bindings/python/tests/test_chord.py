"""rs2p.ChordSocket over loopback: the dictionary operations on one joined node, reads as
futures from many threads, three joined nodes reading each other's keys, 'add'/'delete' events,
closing. Every wait is bounded (futures' own timeouts, or a polled condition with a deadline).
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any, Iterator, List

import pytest

import rs2p
from rs2p import errors
from rs2p.chord import ChordFuture, ChordSocket

from mesh_helpers import WAIT, Collector, close_quietly, link, wait_until

MISSING = ("missing",)
#: A read timeout far beyond WAIT: a read that ends within WAIT did not wait for its timeout.
LONG_READ = 120


@pytest.fixture
def make_chord() -> Iterator[Any]:
    """Factory for ChordSockets on 127.0.0.1 with an ephemeral port; all closed at teardown."""
    made: List[ChordSocket] = []

    def make(**kwargs: Any) -> ChordSocket:
        kwargs.setdefault("addr", "127.0.0.1")
        kwargs.setdefault("port", 0)
        sock = ChordSocket(**kwargs)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        close_quietly(sock)


@pytest.fixture
def joined(make_chord: Any) -> ChordSocket:
    """One joined node, alone: it is responsible for every position."""
    sock = make_chord(get_timeout=LONG_READ)
    sock.join()
    assert not sock.leeching
    return sock


def test_exported_with_py2p_defaults(make_chord: Any) -> None:
    assert rs2p.ChordSocket is ChordSocket
    sock = make_chord()
    assert sock.protocol.subnet == "chord" and sock.protocol.encryption == "Plaintext"
    assert sock.leeching
    assert list(sock.keys()) == [] and len(sock) == 0 and sock  # truthy though empty
    assert sock.port > 0


def test_set_get_delete_on_one_joined_node(joined: ChordSocket) -> None:
    values = {b"bytes": b"\x00\xff", "text": "h\u00e9llo", b"int": -5, b"list": [1, "x", b"y"],
              b"map": {"k": [1, 2]}, b"zero": 0, b"float": 1.5, b"true": True}
    for key, value in values.items():
        joined[key] = value
    for key, value in values.items():
        assert joined[key] == value
        assert joined.getSync(key) == value
    joined.set("via set", 7)
    assert joined["via set"] == 7 == joined[b"via set"]  # str keys are UTF-8 bytes
    assert set(joined.keys()) == {k if isinstance(k, bytes) else k.encode() for k in values} | {b"via set"}
    assert len(joined) == len(values) + 1 and b"text" in joined and "text" in joined

    del joined[b"int"]
    with pytest.raises(KeyError):
        joined[b"int"]
    assert b"int" not in joined
    with pytest.raises(KeyError):
        del joined[b"never written"]

    joined[b"to nil"] = 1
    joined[b"to nil"] = None  # py2p: None deletes
    assert joined.getSync(b"to nil", MISSING) == MISSING


def test_missing_key_is_a_key_error_at_once_not_after_the_timeout(joined: ChordSocket) -> None:
    # The node's read timeout is LONG_READ; the answer must come within WAIT (a bound, not a
    # threshold: a read that waited for its timeout could not end in time).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(lambda: joined[b"no such key"])
        with pytest.raises(KeyError):
            attempt.result(timeout=WAIT)
    assert joined.get(b"no such key", MISSING, timeout=LONG_READ).get(timeout=WAIT) == MISSING
    assert joined.getSync(b"no such key", ifError="fallback", timeout=LONG_READ) == "fallback"
    assert joined.getSync(b"no such key") is None


def test_update_pop_items_values(joined: ChordSocket) -> None:
    joined.update({"a": 1, b"b": [2]}, c="three")
    joined.update([(b"d", {"four": 4})])
    expected = {b"a": 1, b"b": [2], b"c": "three", b"d": {"four": 4}}
    assert dict(joined.items()) == expected == joined.copy()
    assert sorted(joined.values(), key=repr) == sorted(expected.values(), key=repr)

    assert joined.pop("a") == 1
    assert joined.getSync("a", MISSING) == MISSING and b"a" not in joined
    assert joined.pop("a", "default") == "default"
    with pytest.raises(KeyError):
        joined.pop("a")
    key, value = joined.popitem()
    assert expected[key] == value and key not in joined
    assert len(dict(joined.items())) == 2


def test_apply_delta_merges_and_refuses_non_maps(joined: ChordSocket) -> None:
    assert joined.apply_delta("m", {"a": 1}).get(timeout=WAIT) == {"a": 1}
    assert joined.apply_delta("m", {"b": [2]}).get(timeout=WAIT) == {"a": 1, "b": [2]}
    assert joined["m"] == {"a": 1, "b": [2]}
    joined["scalar"] = 5
    with pytest.raises(TypeError):
        joined.apply_delta("scalar", {"x": 1}).get(timeout=WAIT)
    assert joined["scalar"] == 5
    with pytest.raises(TypeError):
        joined.apply_delta("m", [("not", "a mapping")])  # type: ignore[arg-type]


def test_get_returns_a_future(joined: ChordSocket) -> None:
    joined["k"] = {"v": 1}
    future = joined.get("k")
    assert isinstance(future, ChordFuture)
    assert future.get(timeout=WAIT) == {"v": 1}
    assert future.done() and future.is_fulfilled and future.value == {"v": 1}
    assert future.result() == {"v": 1} and future.exception() is None

    seen = Collector()
    chained = joined.get("k").then(lambda value: seen.add(value) or value["v"] + 1)
    assert chained.get(timeout=WAIT) == 2
    assert seen.wait_for(1) == [{"v": 1}]
    # A callback that raises rejects the follower; on_rejected turns it back into a value.
    failing = joined.get("k").then(lambda value: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.get(timeout=WAIT)
    assert failing.is_rejected and failing.value is None
    assert failing.then(None, lambda err: type(err).__name__).get(timeout=WAIT) == "ZeroDivisionError"
    # add_done_callback on a read nobody waits for: it ends by itself.
    done = Collector()
    joined.get("k").add_done_callback(done.add)
    assert done.wait_for(1)[0].value == {"v": 1}


def test_many_reads_in_flight_from_many_threads(joined: ChordSocket) -> None:
    joined.update({f"key {i}": i for i in range(50)})
    futures = [joined.get(f"key {i}") for i in range(50)]  # all started before any is waited on
    assert [f.get(timeout=WAIT) for f in futures] == list(range(50))

    errors_seen: List[BaseException] = []

    def reader(offset: int) -> None:
        try:
            for i in range(50):
                key = (i + offset) % 50
                assert joined[f"key {key}"] == key
        except BaseException as err:  # noqa: BLE001 - reported below
            errors_seen.append(err)

    threads = [threading.Thread(target=reader, args=(n * 7,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "readers still running"
    assert errors_seen == []


def _storing_peers(sock: ChordSocket) -> int:
    return sock.chord_stats["storing_peers"]


def test_three_joined_nodes_read_each_others_keys(make_chord: Any) -> None:
    a, b, c = (make_chord() for _ in range(3))
    for sock in (a, b, c):
        sock.join()
    link(a, b)
    link(c, b)
    for sock in (a, b, c):
        wait_until(lambda s=sock: _storing_peers(s) >= 1, what=f"{sock!r} to see a storing peer")

    written = {}
    for name, sock in (("a", a), ("b", b), ("c", c)):
        for i in range(20):
            written[f"{name} {i}".encode()] = [name, i, b"\x01" * i]
            sock[f"{name} {i}"] = [name, i, b"\x01" * i]
    for reader in (a, b, c):
        for key, value in written.items():
            wait_until(lambda r=reader, k=key, v=value: r.getSync(k, MISSING) == v,
                       what=f"{key!r} readable at {reader!r}")
    # The data is spread: more than one node stores entries.
    assert sum(1 for sock in (a, b, c) if sock.chord_stats["stored"] > 0) >= 2
    # Every node heard of every key (notify).
    for sock in (a, b, c):
        wait_until(lambda s=sock: set(s.keys()) == set(written), what=f"{sock!r} to list every key")


def test_add_and_delete_events(make_chord: Any) -> None:
    writer, watcher = make_chord(), make_chord()
    writer.join()
    watcher.join()
    added, deleted = Collector(), Collector()
    watcher.on("add", lambda sock, key: added.add((sock, key)))
    watcher.on("delete", lambda sock, key: deleted.add((sock, key)))
    own = Collector()
    writer.on("add", lambda sock, key: own.add(key))
    link(writer, watcher)

    writer["fresh"] = 1
    assert added.wait_for(1) == [(watcher, b"fresh")]
    wait_until(lambda: b"fresh" in watcher, what="the watcher to list the key")
    del writer["fresh"]
    assert deleted.wait_for(1) == [(watcher, b"fresh")]
    wait_until(lambda: b"fresh" not in watcher, what="the watcher to forget the key")
    assert own.snapshot() == []  # a node's own writes raise no event, as in py2p


def test_a_leeching_node_reads_and_writes_through_a_storing_one(make_chord: Any) -> None:
    storing, leech = make_chord(), make_chord()
    storing.join()
    link(leech, storing)
    wait_until(lambda: _storing_peers(leech) >= 1, what="the leech to see the storing node")
    leech["from leech"] = "v"
    wait_until(lambda: storing.getSync("from leech", MISSING) == "v", what="the write to arrive")
    assert leech["from leech"] == "v"
    assert leech.chord_stats["stored"] == 0 and storing.chord_stats["stored"] > 0


def test_close(make_chord: Any) -> None:
    sock = make_chord()
    sock.join()
    sock["k"] = 1
    sock.close()
    assert sock.closed
    with pytest.raises(RuntimeError):
        sock.close()
    for action in (lambda: sock["k"], lambda: sock.set("k", 2), lambda: sock.get("k"),
                   lambda: list(sock.keys()), sock.join):
        with pytest.raises(errors.Closed):
            action()
    # The port is free again: a new node can bind it.
    again = make_chord(port=sock.port)
    assert again.port == sock.port


def test_unjoin_hands_data_to_the_remaining_storing_node(make_chord: Any) -> None:
    a, b = make_chord(), make_chord()
    a.join()
    b.join()
    link(a, b)
    wait_until(lambda: _storing_peers(a) >= 1 and _storing_peers(b) >= 1, what="both to store")
    for i in range(20):
        a[f"k{i}"] = i
    for i in range(20):
        wait_until(lambda i=i: b.getSync(f"k{i}", MISSING) == i, what=f"k{i} readable at b")
    a.unjoin()
    assert a.leeching
    wait_until(lambda: a.chord_stats["stored"] == 0, what="a to hand its entries over")
    for i in range(20):
        assert b[f"k{i}"] == i and a[f"k{i}"] == i


def test_the_sockets_are_reachable_from_the_package_and_no_majority_is_a_key_error():
    import rs2p
    from rs2p import errors
    from rs2p.chord import ChordSocket
    from rs2p.mesh import MeshSocket
    from rs2p.sync import SyncSocket

    assert (rs2p.ChordSocket, rs2p.SyncSocket, rs2p.MeshSocket) == (
        ChordSocket,
        SyncSocket,
        MeshSocket,
    )
    error = errors.error_for_status(41, "no agreed value")
    assert isinstance(error, errors.NoMajority) and isinstance(error, KeyError)
