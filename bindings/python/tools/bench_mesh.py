"""A quick measurement (not a test) of Python-side broadcast throughput between two
MeshSockets in one process.

    build/venv/bin/python bindings/python/tools/bench_mesh.py [--count 20000] [--size 100]

One socket broadcasts ``count`` messages of one ``size``-byte packet as fast as ``send`` (which
waits while the node pushes back) allows; the other takes them in a handler (no queue) or,
with ``--recv``, through ``recv(quantity, timeout)``. Prints messages per second on each side
and what the receiving node shed if Python fell behind.
"""

from __future__ import annotations

import argparse
import threading
import time

from rs2p.mesh import MeshSocket


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--recv", action="store_true", help="read with recv() instead of a handler")
    parser.add_argument("--wait", type=float, default=30.0, help="give up after this many seconds")
    args = parser.parse_args()

    with MeshSocket("127.0.0.1", 0) as sender, MeshSocket("127.0.0.1", 0) as receiver:
        joined = threading.Event()
        receiver.on("connect", lambda _s: joined.set())
        sender.connect("127.0.0.1", receiver.port)
        if not joined.wait(args.wait):
            raise SystemExit("the sockets did not connect")

        received = 0
        done = threading.Condition()

        def count(msg: object, conn: object) -> bool:
            nonlocal received
            with done:
                received += 1
                if received >= args.count:
                    done.notify_all()
            return True

        if not args.recv:
            receiver.register_handler(count)
        payload = b"x" * args.size

        start = time.perf_counter()
        if args.recv:
            reader_done = threading.Event()

            def read() -> None:
                nonlocal received
                deadline = time.monotonic() + args.wait
                while received < args.count and time.monotonic() < deadline:
                    batch = receiver.recv(1000, timeout=1.0)
                    assert isinstance(batch, list)
                    received += len(batch)
                reader_done.set()

            threading.Thread(target=read, daemon=True).start()
        # Each message differs (a counter): identical messages sent within the same second
        # have the same ID, and the protocol delivers a message ID once.
        for number in range(args.count):
            sender.send(number, payload)
        sent_s = time.perf_counter() - start
        if args.recv:
            reader_done.wait(args.wait)
        else:
            with done:
                done.wait_for(lambda: received >= args.count, args.wait)
        total_s = time.perf_counter() - start
        stats = receiver.stats
        print(
            f"sent {args.count} x {args.size} B in {sent_s:.2f} s ({args.count / sent_s:,.0f} msg/s); "
            f"received {received} in {total_s:.2f} s ({received / total_s:,.0f} msg/s); "
            f"receiver dropped: {stats['dropped'] or 'nothing'}"
        )


if __name__ == "__main__":
    main()
