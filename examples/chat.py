#!/usr/bin/env python3
"""A terminal chat over an rs2p mesh: every line you type reaches everyone on the network.

How to run it, from the repository root:

    scripts/test-python.sh            # once: makes build/venv, builds target/release/librs2p.so
    build/venv/bin/python examples/chat.py --port 4444
    build/venv/bin/python examples/chat.py --port 4445 --connect 127.0.0.1:4444   # 2nd terminal

(The venv has the rs2p package installed in editable mode; it finds the library in
target/release, or wherever RS2P_LIBRARY points.) A third terminal can --connect to either
one: messages are relayed through the mesh. It speaks py2p's default mesh protocol, so a py2p
0.7 MeshSocket on the same network sees the lines too.

Commands: /peers lists the connected peers, /id shows this node's ID, /quit (or end of input,
Ctrl-D) leaves.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, List, Optional, Tuple

from rs2p import flags
from rs2p.base import Connection, Message
from rs2p.mesh import MeshSocket

SHORT_ID = 8
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def short(peer_id: bytes) -> str:
    return peer_id[:SHORT_ID].decode("ascii", "replace")


def show_packet(packet: Any) -> str:
    if isinstance(packet, bytes):
        return packet.decode("utf-8", "replace")
    return str(packet)


def host_port(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def on_message(msg: Message, _conn: Optional[Connection]) -> bool:
    """Prints user messages as they arrive (and consumes them: nothing else reads the queue)."""
    kind, *packets = msg.packets
    marker = " (whisper)" if kind == flags.whisper else ""
    say(f"[{short(msg.sender)}]{marker} {' '.join(show_packet(p) for p in packets)}")
    return True


def list_peers(sock: MeshSocket) -> None:
    table = sock.routing_table
    if not table:
        say("* no peers yet")
        return
    for peer_id, conn in sorted(table.items()):
        way = "we dialled" if conn.outgoing else "they dialled"
        say(f"* {short(peer_id)}  {conn.addr[0]}:{conn.addr[1]}  ({way})  {peer_id.decode()}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Chat over an rs2p mesh network.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free one)")
    parser.add_argument(
        "--connect",
        type=host_port,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a node to join through (may be repeated)",
    )
    args = parser.parse_args(argv)

    with MeshSocket(args.host, args.port) as sock:
        sock.register_handler(on_message)
        sock.on("peer_connect", lambda _s, peer: say(f"* {short(peer)} joined"))
        sock.on("peer_disconnect", lambda _s, peer: say(f"* {short(peer)} left"))
        say(f"* you are {short(sock.id)}, listening on {sock.out_addr[0]}:{sock.port}")
        say("* type a line to send it; /peers, /id, /quit")
        for host, port in args.connect:
            sock.connect(host, port)
            say(f"* connecting to {host}:{port}")
        try:
            for line in sys.stdin:
                text = line.rstrip("\r\n")
                if text == "/quit":
                    break
                if text == "/peers":
                    list_peers(sock)
                elif text == "/id":
                    say(f"* {sock.id.decode()}")
                elif text.startswith("/"):
                    say("* commands: /peers, /id, /quit")
                elif text:
                    sock.send(text)
        except KeyboardInterrupt:
            pass
    say("* bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
