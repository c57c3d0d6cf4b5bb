#!/usr/bin/env python3
"""One node of the demo network, run by py2p 0.7.878 (the reference implementation).

It speaks the same command line and stdout protocol as examples/demo_node.c, so that
scripts/demo.py can drive a C, a Python, a Node and a py2p node the same way:

    demo_py2p.py --name NAME --port P [--connect HOST:PORT] [--expect N] [--timeout S] [--stay]
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

--sync: the node is a py2p ``sync.SyncSocket`` (subnet 'sync', leasing on). ``go`` sets the key
NAME to ``hello from NAME``; once the table holds N keys the node prints, on one line with the
keys sorted, ``NAME table: {KEY: VALUE, ...}`` and exits 0 (with --stay: when stdin closes); 1
if the table does not hold N keys before the timeout.

Run it with a Python that has py2p installed (build/venv/bin/python, see scripts/demo.sh).
It is not an rs2p program: it shows that rs2p nodes talk to the reference unchanged.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from typing import Any, Tuple

from py2p import base, mesh, sync

SHORT_ID = 8


def host_port(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A py2p node of the rs2p demo network.")
    parser.add_argument("--name", default="py2p", help="shown in the lines this node prints")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument("--connect", type=host_port, metavar="HOST:PORT", help="a node to join")
    parser.add_argument(
        "--subnet",
        default=None,
        help="the protocol's subnet (default: py2p.mesh's own, 'mesh', or py2p.sync's, 'sync', "
        "to which py2p adds '1'; nodes of different subnets refuse each other)",
    )
    parser.add_argument("--expect", type=int, default=3, help="messages to wait for")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before giving up")
    parser.add_argument(
        "--stay", action="store_true", help="after N messages, keep relaying until stdin closes"
    )
    parser.add_argument(
        "--sync", action="store_true", help="be a sync table node; --expect counts keys"
    )
    return parser.parse_args()


def free_port(host: str) -> int:
    """A port nobody listens on right now. py2p derives its ID and the address it tells its
    peers from the port it was given, so it must be given a real one, not 0."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
    finally:
        probe.close()


def text_of(packet: Any) -> str:
    return packet.decode("utf-8", "replace") if isinstance(packet, bytes) else str(packet)


def id_text(node_id: Any) -> str:
    return node_id.decode("ascii", "replace") if isinstance(node_id, bytes) else str(node_id)


class Demo:
    """What the node has done so far; the main thread waits on it."""

    def __init__(self, name: str, expect: int, stay: bool) -> None:
        self.name = name
        self.expect = expect
        self.stay = stay
        self.changed = threading.Condition()
        self.received = 0
        self.sent = False
        self.stdin_closed = False
        self.closing = False  # once set, departures are the network shutting down: not shown
        self.table_shown = False
        self._print_lock = threading.Lock()

    def say(self, line: str) -> None:
        with self._print_lock:
            print(line, flush=True)

    def finished(self) -> bool:
        if self.stdin_closed:
            return True
        done = self.sent and self.received >= self.expect
        return done and not self.stay

    def on_table_change(self, table: Any) -> None:
        """Sync mode: counts the table's keys; prints the table once, when it first holds N
        keys after this node wrote its own."""
        with self.changed:  # shown before the main thread can see the count and end the run
            self.received = len(table.data)
            if self.sent and self.received >= self.expect and not self.table_shown:
                self.table_shown = True
                entries = sorted((text_of(k), text_of(v)) for k, v in list(table.data.items()))
                shown = ", ".join(f"{key}: {value}" for key, value in entries)
                self.say(f"{self.name} table: {{{shown}}}")
            self.changed.notify_all()


class Reporting:
    """Reports handshakes and departures of a py2p socket as they happen.

    py2p has no per-peer event: ``_send_peers`` is what it calls right after a handshake put
    the peer in its routing table, and ``disconnect`` is where peers leave it.
    """

    demo: Demo

    def _send_peers(self, handler: Any) -> None:
        super()._send_peers(handler)
        if not self.demo.closing:
                self.demo.say(f"connected {len(self.routing_table)} {id_text(handler.id)}")

    def disconnect(self, handler: Any) -> None:
        known = handler.id is not None and self.routing_table.get(handler.id) is handler
        super().disconnect(handler)
        if known and not self.demo.closing:
            self.demo.say(f"disconnected {len(self.routing_table)} {id_text(handler.id)}")


class DemoSocket(Reporting, mesh.MeshSocket):  # type: ignore[misc]
    """py2p's MeshSocket, reporting peers."""

    def __init__(self, demo: Demo, host: str, port: int, subnet: str) -> None:
        self.demo = demo  # set first: the daemon thread may call back during __init__
        super().__init__(host, port, base.Protocol(subnet, "Plaintext"))


class DemoSyncSocket(Reporting, sync.SyncSocket):  # type: ignore[misc]
    """py2p's SyncSocket (leasing on), reporting peers."""

    def __init__(self, demo: Demo, host: str, port: int, subnet: str) -> None:
        self.demo = demo
        super().__init__(host, port, base.Protocol(subnet, "Plaintext"))


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    demo = Demo(args.name, args.expect, args.stay)
    port = args.port or free_port(args.host)
    if args.sync:
        subnet = args.subnet if args.subnet is not None else sync.default_protocol.subnet
        sock = DemoSyncSocket(demo, args.host, port, subnet)
        sock.on("update", lambda s, _key, _value, _meta: demo.on_table_change(s))
        sock.on("delete", lambda s, _key: demo.on_table_change(s))
    else:
        subnet = args.subnet if args.subnet is not None else mesh.default_protocol.subnet
        sock = DemoSocket(demo, args.host, port, subnet)

    def on_message(_sock: Any) -> None:
        while True:
            msg = sock.recv()
            if msg is None:
                return
            text = " ".join(text_of(p) for p in msg.packets[1:])
            # Counted before it is shown: whoever reads the line may end the run at once.
            with demo.changed:
                demo.received += 1
                demo.changed.notify_all()
            demo.say(f"{demo.name} got: {text} from {id_text(msg.sender)[:SHORT_ID]}")

    sock.on("message", on_message)
    demo.say(f"ready {port} {id_text(sock.id)}")
    if args.connect:
        sock.connect(*args.connect)

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "go":
                with demo.changed:
                    if args.sync:
                        demo.sent = True  # py2p emits 'update' inside the write
                        sock[demo.name] = f"hello from {demo.name}"
                        demo.on_table_change(sock)
                    else:
                        sock.send(f"hello from {demo.name}".encode("utf-8"))
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
    # py2p prints a traceback notice (at debug level 0) for each link its peers close while
    # they shut down too; that is the end of the demo, not news.
    sock.debug_level = -1
    sock.close()
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
