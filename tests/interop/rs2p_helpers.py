"""The interop tests' handle on rs2p nodes (rs2p.mesh.MeshSocket, py2p names).

What it is: the one place where the tests touch the rs2p Python wrapper, so
that the tests read as "start a node, wait for a message, read a counter".
Every wait is bounded and polls a condition; nothing sleeps to synchronise.

What it is not: a second wrapper. Only what the spec of MeshSocket offers is
used, plus the rs2p extensions the spec names (`recv(timeout=)`) and the
node's counters (see `dropped`), which the Python spec does not name yet:
`dropped` looks for a `stats` attribute or method and fails with a clear
message when there is none.
"""

import time

# The order of the drop reasons (rs2p_drop_reason_str / the mesh core's DropReason).
DROP_REASONS = (
    "frame_too_large",
    "decompressed_too_large",
    "bad_checksum",
    "bad_msgpack",
    "bad_message_shape",
    "wrong_protocol",
    "handshake_timeout",
    "stale_partial_frame",
    "duplicate_connection",
    "expired",
    "duplicate",
    "unknown_flag",
    "slow_peer",
    "peer_closed",
    "queue_full",
    "too_many_pending",
)


def wait_until(probe, timeout=10.0, what="condition", interval=0.02):
    """Poll probe() until it returns a truthy value (returned); TimeoutError
    naming `what` when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("%s not reached within %.1fs" % (what() if callable(what) else what, timeout))
        time.sleep(interval)


def protocol(subnet="mesh", encryption="Plaintext"):
    from rs2p import base

    return base.Protocol(subnet, encryption)


def start_node(subnet="mesh", **kw):
    """An rs2p MeshSocket on 127.0.0.1, a free port, protocol (subnet, Plaintext)."""
    from rs2p import mesh

    prot = kw.pop("prot", None) or protocol(subnet)
    return mesh.MeshSocket("127.0.0.1", 0, prot=prot, **kw)


def port_of(sock):
    """The port the node listens on."""
    port = getattr(sock, "port", None) or sock.out_addr[1]
    assert port, "the node reports no bound port (out_addr %r)" % (sock.out_addr,)
    return port


def peer_ids(sock):
    """IDs (bytes) in the node's routing table."""
    return set(sock.routing_table)


def has_peer(sock, peer_id):
    if isinstance(peer_id, str):
        peer_id = peer_id.encode()
    return peer_id in peer_ids(sock)


def recv_message(sock, timeout=10.0, where=None):
    """The next message (matching `where`) the node delivers within `timeout`
    seconds; messages passed over are dropped."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no matching message within %.1fs" % timeout)
        msg = sock.recv(timeout=min(remaining, 0.5))
        if msg is not None and (where is None or where(msg)):
            return msg


def recv_messages(sock, count, timeout=60.0, where=None):
    """`count` messages (matching `where`) within `timeout` seconds."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("%d of %d messages within %.1fs" % (len(got), count, timeout))
        msgs = sock.recv(count - len(got), timeout=min(remaining, 0.5))
        got.extend(m for m in msgs if where is None or where(m))
    return got


def _stats(sock):
    stats = getattr(sock, "stats", None)
    if stats is None:
        raise AssertionError(
            "rs2p.mesh.MeshSocket has no `stats` (the node's counters, rs2p_mesh_stats_get); "
            "the bad-input and wrong-protocol tests need it"
        )
    return stats() if callable(stats) else stats


def _get(obj, name):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def dropped(sock):
    """{reason name: count} from the node's counters."""
    raw = _get(_stats(sock), "dropped")
    if raw is None:
        raise AssertionError("the node's stats carry no `dropped` counters")
    if isinstance(raw, dict):
        return {str(getattr(k, "name", k)).lower(): int(v) for k, v in raw.items()}
    return {name: int(raw[i]) for i, name in enumerate(DROP_REASONS) if i < len(raw)}


def stat(sock, name):
    """One of the node's plain counters (frames_in, relayed, delivered, pending, …)."""
    value = _get(_stats(sock), name)
    if value is None:
        raise AssertionError("the node's stats carry no %r counter" % (name,))
    return int(value)


def drop_count(sock, reason):
    assert reason in DROP_REASONS, reason
    return dropped(sock).get(reason, 0)


def wait_drop(sock, reason, above, timeout=10.0):
    """Wait until the node has counted more than `above` drops for `reason`."""
    return wait_until(lambda: drop_count(sock, reason) > above, timeout,
                      lambda: "a counted %s drop (was %d; counters now %r)" % (reason, above, dropped_or_none(sock)))


def dropped_or_none(sock):
    try:
        return {k: v for k, v in dropped(sock).items() if v}
    except AssertionError:
        return None


def packets_of(msg):
    """The user's packets (without the sub-flag) of an rs2p Message."""
    return list(msg.packets[1:])
