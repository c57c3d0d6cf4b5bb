#!/usr/bin/env python3
"""One node of the demo network, on rs2p's Python bindings (``rs2p.mesh.MeshSocket``, or
``rs2p.sync.SyncSocket`` with --sync).

The same command line and stdout protocol as examples/demo_node.c, so that scripts/demo.py
drives a C, a Python, a Node and a py2p node alike:

    demo_node.py --name NAME --port P [--connect HOST:PORT] [--expect N] [--timeout S] [--stay]
                 [--sync]

stdout, one line per event:
    ready <port> <id>                 the node listens (port 0 on the command line: a free one)
    connected <n> <peer id>           a peer finished its handshake; n peers now
    disconnected <n> <peer id>        a peer left; n peers now
    NAME got: <text> from <short id>  a broadcast arrived (short id: first 8 characters)

stdin: the line ``go`` broadcasts ``hello from NAME``. The node exits once it has sent and
received N messages (with --stay: and stdin has closed, so that it keeps relaying for the
others until the driver is done), or when the timeout (counted from start) passes: status 0
if it received N messages, 1 if not.

--sync: the node is a sync table node (subnet 'sync', leasing on). ``go`` sets the key NAME to
``hello from NAME``; once the table holds N keys the node prints, on one line with the keys
sorted, ``NAME table: {KEY: VALUE, ...}`` and exits 0 (with --stay: when stdin closes); 1 if
the table does not hold N keys before the timeout. The connected/disconnected lines are the
same; no "got" lines.

Run it with build/venv/bin/python (rs2p installed there in editable mode; the library is
target/release/librs2p.so or $RS2P_LIBRARY). scripts/demo.sh sets all of that up.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any, Optional, Set, Tuple

from rs2p.base import Connection, Message
from rs2p.mesh import MeshSocket
from rs2p.sync import SyncSocket

SHORT_ID = 8


def host_port(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="An rs2p (Python) node of the demo network.")
    parser.add_argument("--name", default="Python", help="shown in the lines this node prints")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--connect", type=host_port, metavar="HOST:PORT", help="a node to join")
    parser.add_argument("--expect", type=int, default=3, help="messages to wait for")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before giving up")
    parser.add_argument(
        "--stay", action="store_true", help="after N messages, keep relaying until stdin closes"
    )
    parser.add_argument(
        "--sync", action="store_true", help="be a sync table node; --expect counts keys"
    )
    return parser.parse_args()


def text_of(packet: Any) -> str:
    return packet.decode("utf-8", "replace") if isinstance(packet, bytes) else str(packet)


class Demo:
    """What the node has done so far; the main thread waits on it. Callbacks arrive on the
    node's dispatcher thread, stdin on a thread of its own."""

    def __init__(self, name: str, expect: int, stay: bool) -> None:
        self.name = name
        self.expect = expect
        self.stay = stay
        self.changed = threading.Condition()
        self.received = 0
        self.sent = False
        self.stdin_closed = False
        self.closing = False  # once set, departures are the network shutting down: not shown
        self.peers: Set[bytes] = set()
        self.table_shown = False
        self._print_lock = threading.Lock()

    def say(self, line: str) -> None:
        with self._print_lock:
            print(line, flush=True)

    def finished(self) -> bool:
        if self.stdin_closed:
            return True
        return self.sent and self.received >= self.expect and not self.stay

    def on_table_change(self, sock: SyncSocket) -> None:
        """Sync mode: counts the table's keys; prints the table once, when it first holds N
        keys after this node wrote its own."""
        with self.changed:  # shown before the main thread can see the count and end the run
            self.received = len(sock)
            if self.sent and self.received >= self.expect and not self.table_shown:
                self.table_shown = True
                self.say(table_line(self.name, sock))
            self.changed.notify_all()

    def on_message(self, msg: Message, _conn: Optional[Connection]) -> bool:
        text = " ".join(text_of(p) for p in msg.packets[1:])
        # Counted before it is shown: whoever reads the line may end the run at once.
        with self.changed:
            self.received += 1
            self.changed.notify_all()
        self.say(f"{self.name} got: {text} from {msg.sender.decode('ascii')[:SHORT_ID]}")
        return True  # consumed: nothing reads the receive queue

    def on_peer(self, joined: bool, peer: bytes) -> None:
        with self.changed:
            (self.peers.add if joined else self.peers.discard)(peer)
            count = len(self.peers)
            if self.closing:
                return
        self.say(f"{'connected' if joined else 'disconnected'} {count} {peer.decode('ascii')}")


def table_line(name: str, table: Any) -> str:
    """``NAME table: {KEY: VALUE, ...}``, keys sorted."""
    entries = sorted((text_of(key), text_of(value)) for key, value in table.items())
    return f"{name} table: {{{', '.join(f'{key}: {value}' for key, value in entries)}}}"


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    demo = Demo(args.name, args.expect, args.stay)
    node = SyncSocket if args.sync else MeshSocket
    with node(args.host, args.port) as sock:
        if isinstance(sock, SyncSocket):
            sock.on("update", lambda s, _key, _value, _meta: demo.on_table_change(s))
            sock.on("delete", lambda s, _key: demo.on_table_change(s))
        else:
            sock.register_handler(demo.on_message)
        sock.on("peer_connect", lambda _s, peer: demo.on_peer(True, peer))
        sock.on("peer_disconnect", lambda _s, peer: demo.on_peer(False, peer))
        demo.say(f"ready {sock.port} {sock.id.decode('ascii')}")
        if args.connect:
            sock.connect(*args.connect)

        def read_stdin() -> None:
            for line in sys.stdin:
                if line.strip() == "go":
                    if isinstance(sock, SyncSocket):
                        sock[demo.name] = f"hello from {demo.name}"
                        with demo.changed:
                            demo.sent = True
                            demo.on_table_change(sock)
                    else:
                        sock.send(f"hello from {demo.name}".encode("utf-8"))
                    with demo.changed:
                        demo.sent = True
                        demo.changed.notify_all()
            with demo.changed:
                demo.closing = True  # stdin closed: the run is over, links now go down
                demo.stdin_closed = True
                demo.changed.notify_all()

        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        with demo.changed:
            remaining = args.timeout - (time.monotonic() - started)
            demo.changed.wait_for(demo.finished, max(0.0, remaining))
            received = demo.received
            demo.closing = True
    if received < args.expect:
        what = "keys in the table" if args.sync else "messages"
        print(
            f"{demo.name}: got {received} of {args.expect} {what} in {args.timeout:g} s",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
