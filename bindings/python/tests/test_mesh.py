"""MeshSocket between real nodes on 127.0.0.1: what a py2p user would do with it."""

import time

import pytest

from rs2p import flags
from rs2p.base import Connection, Message
from rs2p.mesh import MeshSocket

from mesh_helpers import Collector, connected, link, recv_one, wait_until


def test_port_zero_binds_a_real_port_and_the_id_is_base58(make_socket):
    sock = make_socket()
    assert 0 < sock.port < 65536
    assert sock.out_addr == ("127.0.0.1", sock.port)
    assert isinstance(sock.id, bytes) and len(sock.id) > 20
    assert set(sock.id) <= set(b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
    assert sock.status == "Nominal"
    assert sock.protocol.subnet == "mesh" and sock.protocol.encryption == "Plaintext"
    assert sock.routing_table == {}
    assert sock.recv() is None and sock.recv(3) == []


def test_two_sockets_exchange_broadcasts_both_ways(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)

    a.send(b"hello", "text", 7)
    msg = recv_one(b)
    assert msg.packets == (flags.broadcast, b"hello", "text", 7)
    assert msg.sender == a.id

    b.send(b"back")
    reply = recv_one(a)
    assert reply.packets == (flags.broadcast, b"back")
    assert reply.sender == b.id


def test_message_attributes_look_like_py2p(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    before = int(time.time())
    a.send(b"x" * 100)
    msg = recv_one(b)
    assert isinstance(msg, Message)
    assert len(msg.id) == 32
    assert before - 5 <= msg.time <= int(time.time()) + 5
    assert isinstance(msg.time_58, bytes) and msg.time_58
    assert len(msg) > 100 + 32 + 4
    assert "sender=" in repr(msg) and repr(msg.packets[1:]) in repr(msg)


def test_recv_quantity_follows_py2p(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    for number in range(3):
        a.send(number)
    wait_until(lambda: len(b.queue) == 3, what="three messages queued")

    first_two = b.recv(quantity=2)
    assert isinstance(first_two, list)
    assert [m.packets[1] for m in first_two] == [0, 1]
    rest = b.recv(quantity=5)
    assert [m.packets[1] for m in rest] == [2]
    assert b.recv() is None
    assert b.recv(quantity=3) == []
    assert b.recv(quantity=0) == []


def test_recv_timeout_waits_for_a_message(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    assert b.recv(timeout=0) is None
    a.send(b"late")
    msg = b.recv(timeout=20)
    assert msg is not None and msg.packets[1] == b"late"
    a.send(b"one")
    batch = b.recv(quantity=10, timeout=20)
    assert [m.packets[1] for m in batch] == [b"one"]


def test_routing_table_and_connection_send_whispers(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)

    a_view = a.routing_table[b.id]
    b_view = b.routing_table[a.id]
    assert isinstance(a_view, Connection)
    assert a_view.id == b.id and a_view.outgoing is True
    assert b_view.id == a.id and b_view.outgoing is False
    assert a_view.addr[1] == b.port
    assert list(a.outgoing) == [b.id] and list(a.incoming) == []
    assert list(b.incoming) == [a.id] and list(b.outgoing) == []

    a_view.send(flags.whisper, flags.whisper, b"psst", "secret")
    msg = recv_one(b)
    assert msg.packets == (flags.whisper, b"psst", "secret")
    assert msg.sender == a.id

    with pytest.raises(ValueError):
        a_view.send(flags.broadcast, flags.broadcast, b"no")


def test_reply_reaches_the_sender(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    a.send(b"ping")
    msg = recv_one(b)
    msg.reply(b"pong", 1)
    answer = recv_one(a)
    assert answer.packets == (flags.whisper, b"pong", 1)
    assert answer.sender == b.id


def test_reply_from_inside_a_handler(make_socket):
    a, b = make_socket(), make_socket()

    def echo(msg, conn):
        if msg.packets[1:2] == (b"echo",):
            msg.reply(b"echoed", conn.id if conn else None)
            return True
        return None

    b.register_handler(echo)
    link(a, b)
    a.send(b"echo")
    answer = recv_one(a)
    assert answer.packets == (flags.whisper, b"echoed", a.id)
    assert b.recv() is None, "the handler consumed the message"


def test_register_handler_consumes_truthy_and_passes_on_the_rest(make_socket):
    a, b = make_socket(), make_socket()
    eaten = Collector()

    def eat(msg, conn):
        if msg.packets[1] == b"eat":
            eaten.add(msg)
            return True
        return False

    b.register_handler(eat)
    link(a, b)
    a.send(b"eat")
    a.send(b"keep")
    kept = recv_one(b)
    assert kept.packets[1] == b"keep"
    assert [m.packets[1] for m in eaten.wait_for(1)] == [b"eat"]
    assert b.recv() is None


def test_register_handler_refuses_the_wrong_signature(make_socket):
    sock = make_socket()
    with pytest.raises(ValueError):
        sock.register_handler(lambda msg: True)

    class Owner:
        def handler(self, msg, conn):
            return None

    sock.register_handler(Owner().handler)


def test_handler_failure_shows_in_status_and_the_message_is_still_queued(make_socket):
    a, b = make_socket(), make_socket()

    def broken(msg, conn):
        raise KeyError("deliberate")

    b.register_handler(broken)
    link(a, b)
    a.send(b"still here")
    assert recv_one(b).packets[1] == b"still here"
    assert isinstance(b.status, list) and "deliberate" in b.status[0]


def test_connect_and_message_events(make_socket):
    a, b = make_socket(), make_socket()
    connects, messages, once_messages, peer_events = (Collector() for _ in range(4))
    b.on("connect", connects.add)
    b.on("message", messages.add)
    b.once("message", once_messages.add)
    b.on("peer_connect", lambda sock, peer: peer_events.add(peer))

    link(a, b)
    assert connects.wait_for(1) == [b]
    assert peer_events.wait_for(1) == [a.id]

    a.send(b"1")
    a.send(b"2")
    assert messages.wait_for(2) == [b, b]
    assert once_messages.snapshot() == [b]
    assert [m.packets[1] for m in b.recv(2)] == [b"1", b"2"]

    b.remove_listener("message", messages.add)
    with pytest.raises(KeyError):
        b.remove_listener("message", messages.add)


def test_connect_event_fires_when_the_first_peer_arrives_only(make_socket):
    hub, first, second = make_socket(), make_socket(), make_socket()
    connects, peers = Collector(), Collector()
    hub.on("connect", connects.add)
    hub.on("peer_connect", lambda sock, peer: peers.add(peer))
    link(first, hub)
    link(second, hub)
    assert sorted(peers.wait_for(2)) == sorted([first.id, second.id])
    assert connects.snapshot() == [hub]


def test_a_line_of_three_relays(make_socket):
    # max_outgoing=1: the ends do not dial each other when they learn of each other.
    a, b, c = (make_socket(max_outgoing=1) for _ in range(3))
    link(a, b)
    link(c, b)

    a.send(b"from a")
    assert recv_one(c).packets == (flags.broadcast, b"from a")
    assert recv_one(b).packets == (flags.broadcast, b"from a")
    c.send(b"from c")
    msg = recv_one(a)
    assert msg.packets == (flags.broadcast, b"from c") and msg.sender == c.id
    assert recv_one(b).packets[1] == b"from c"
    if not connected(a, c):
        assert b.stats["relayed"] >= 2
    # Nobody gets its own broadcast back, and nothing arrives twice.
    b.send(b"marker")
    assert recv_one(a).packets[1] == b"marker"
    assert recv_one(c).packets[1] == b"marker"
    assert a.recv() is None and c.recv() is None


def test_send_with_flag_whisper_reaches_neighbours_only(make_socket):
    a, b, c = (make_socket(max_outgoing=1) for _ in range(3))
    link(a, b)
    link(c, b)
    wait_until(lambda: b.id in c.routing_table)
    b.send(b"to neighbours", flag=flags.whisper, type=flags.whisper)
    assert recv_one(a).packets == (flags.whisper, b"to neighbours")
    assert recv_one(c).packets == (flags.whisper, b"to neighbours")

    if not connected(a, c):
        a.send(b"whisper", flag=flags.whisper)  # type defaults to broadcast, like py2p
        assert recv_one(b).packets == (flags.broadcast, b"whisper")
        a.send(b"flood")  # a later broadcast overtakes nothing: c saw no whisper from a
        first_at_c = recv_one(c)
        assert first_at_c.packets[1] == b"flood"


def test_wrong_protocol_peers_never_connect(make_socket):
    from rs2p.base import Protocol

    ours = make_socket()
    other = make_socket(prot=Protocol("another subnet", "Plaintext"))
    connects = Collector()
    ours.on("connect", connects.add)
    other.on("connect", connects.add)

    other.connect("127.0.0.1", ours.port)
    # The attempt is over once both sides have counted the connection as dropped (one for
    # the wrong protocol, the other for the peer closing, or both for the wrong protocol).
    wait_until(
        lambda: ours.stats["dropped"] and other.stats["dropped"],
        what="both sides to drop the connection",
    )
    dropped = {**ours.stats["dropped"], **other.stats["dropped"]}
    assert any("protocol" in reason for reason in dropped), dropped
    assert ours.routing_table == {} and other.routing_table == {}
    # A right-protocol peer still gets in, and is the only one that does.
    friend = make_socket()
    link(friend, ours)
    assert list(ours.routing_table) == [friend.id]
    # link() waits on the routing tables; the 'connect' event comes on the dispatcher thread,
    # possibly later: wait for it rather than reading the events at once.
    assert connects.wait_for(1) == [ours]


def test_request_peers_is_accepted(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    a.request_peers()
    a.send(b"after")
    assert recv_one(b).packets[1] == b"after"


def test_a_lost_peer_this_socket_dialled_is_redialled_and_counted(make_socket):
    a, b = make_socket(max_outgoing=0), make_socket(max_outgoing=0)
    fresh = a.stats
    assert fresh["redials"] == 0 and fresh["redials_given_up"] == 0
    assert "reserved" not in fresh
    link(a, b)
    b.close()
    # The first redial is due 1 s after the loss.
    wait_until(lambda: a.stats["redials"] >= 1, what="a to redial the lost peer")


def test_connect_to_self_is_refused_like_py2p(make_socket):
    sock = make_socket()
    assert sock.connect("127.0.0.1", sock.port) is False


def test_close_twice_raises_runtime_error_and_frees_the_port(make_socket):
    sock = make_socket()
    port = sock.port
    sock.close()
    assert sock.closed
    with pytest.raises(RuntimeError):
        sock.close()
    again = make_socket(port=port)
    assert again.port == port


def test_context_manager_closes(make_socket):
    with MeshSocket("127.0.0.1", 0) as sock:
        port = sock.port
        assert not sock.closed
    assert sock.closed
    reuse = make_socket(port=port)
    assert reuse.port == port


def test_queued_messages_stay_readable_after_close(make_socket):
    a, b = make_socket(), make_socket()
    link(a, b)
    a.send(b"kept")
    wait_until(lambda: len(b.queue) == 1)
    b.close()
    assert b.recv().packets[1] == b"kept"
    assert b.recv(timeout=5) is None  # does not wait on a closed socket


def test_a_listener_may_close_the_socket(make_socket):
    a, b = make_socket(), make_socket()
    b.on("message", lambda sock: sock.close())
    link(a, b)
    port = b.port
    a.send(b"stop")
    wait_until(lambda: b.closed, what="the listener to close the socket")
    wait_until(lambda: b.id not in a.routing_table, what="a to see b leave")
    reuse = make_socket(port=port)
    assert reuse.port == port


def test_a_collected_socket_closes(make_socket):
    import gc
    import weakref

    sock = MeshSocket("127.0.0.1", 0)
    port = sock.port
    ref = weakref.ref(sock)
    del sock
    gc.collect()
    assert ref() is None
    reuse = make_socket(port=port)
    assert reuse.port == port


def test_bounded_queue_sheds_new_messages_and_counts_them(make_socket):
    a, b = make_socket(), make_socket(queue_capacity=2)
    link(a, b)
    for number in range(5):
        a.send(number)
    wait_until(lambda: b.dropped_messages == 3, what="three messages shed")
    assert [m.packets[1] for m in b.recv(10)] == [0, 1]
    assert b.stats["dropped_messages"] == 3
