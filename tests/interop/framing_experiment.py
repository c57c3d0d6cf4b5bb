"""Measures how often py2p's framing bug drops a link, per write discipline.

Not a test (its outcome is a rate): run it by hand with a python that has
py2p, msgpack and the harness beside it:

    python tests/interop/framing_experiment.py MODE [N] [RUNS]

MODE: coalesced (all N frames in one sendall), separate (one send() per
frame, no wait), paced_plain / paced_zlib (one send() per frame, then wait
for the send queue to empty), padded (paced, zlib padded to 0 mod 8),
coalesced_padded, py2p_burst (a py2p node sends N broadcasts to another).
Prints, per run, (messages delivered, "ok" | "dropped" | "timeout").
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rawpeer as rp  # noqa: E402
from peer import RefPeer  # noqa: E402


def handshaken(node):
    client = rp.RawPeer.connect("127.0.0.1", node.port)
    while True:
        hs = client.handshake_frame(node.protocol_id.encode(), ("127.0.0.1", 1), [rp.ZLIB])
        if len(hs) % 8 != 4:
            break
        client.node_id = rp.random_node_id()
    client.send_paced(hs)
    client.read_until(lambda f: f.payload[0] == rp.PEERS)
    return client


def count(node, n, timeout=10.0):
    got = 0
    while got < n:
        try:
            e = node.wait_event(("message", "disconnect"), timeout=timeout)
        except TimeoutError:
            return got, "timeout"
        if e["event"] == "disconnect":
            return got, "dropped"
        got += 1
    return got, "ok"


def run(mode, n):
    with RefPeer.start("py2p") as node:
        if mode == "py2p_burst":
            with RefPeer.start("py2p") as sender:
                sender.call("connect", host="127.0.0.1", port=node.port)
                node.wait_event("connect")
                for i in range(n):
                    sender.send_command("send", packets=[i])
                return count(node, n)
        client = handshaken(node)
        frames = [
            client.frame(rp.WHISPER, [rp.WHISPER, os.urandom(i % 37), i],
                         compression=rp.ZLIB if mode == "paced_zlib" else None,
                         pad8=mode in ("padded", "coalesced_padded"))
            for i in range(n)
        ]
        try:
            if mode.startswith("coalesced"):
                client.send_bytes(b"".join(frames))
            elif mode == "separate":
                for f in frames:
                    client.send_bytes(f)
            else:
                for f in frames:
                    client.send_paced(f)
        except OSError:
            pass
        result = count(node, n)
        client.close()
        return result


if __name__ == "__main__":
    mode = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    print(mode, n, [run(mode, n) for _ in range(runs)])
