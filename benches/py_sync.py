"""How long N keys written at one sync node take to reach every node, for py2p 0.7.878
(default) or the rs2p Python wrapper (``--impl rs2p``): the Python side of benches/sync.rs.
Not a test: it measures and prints.

    build/venv/bin/python benches/py_sync.py [--impl py2p|rs2p] [--scale F] [--only NAME]
                                             [--deadline S] [--batch B] [--batch-gap-ms MS]
                                             [--max-batch-gap-ms MS]

The scenarios are the Rust bench's: a line of 4 (each node dials the next) and a mesh of 10
(node i dials nodes i-1 and i-3), nobody dialing anyone else (``py2p.mesh.max_outgoing = 0``,
``max_outgoing=0`` for rs2p), N = 1,000 and 10,000 keys ``k000000``... with 16-byte values,
written at node 0. Each node runs in its own process (py2p serialises on the GIL), driven over a
pipe; each counts its table in its ``update`` event and notes ``time.monotonic_ns()``
(CLOCK_MONOTONIC, one clock for all processes) when it first holds N keys. The time reported
runs from node 0's first write to the last node holding N keys.

Pacing (py2p only): py2p drops links when frames arrive in bursts (docs/reference-notes.md (a);
its own py2p-to-py2p links too), and each message costs it more as its recent-message set
grows, so node 0 writes in batches of ``--batch`` keys (default 5) and waits ``--batch-gap-ms``
(default 20 ms) after each batch, on a fixed schedule: a ceiling of 250 keys/s. If a node's
links drop (its peer count at the end is below the links built) the scenario is run again on a
fresh network with the gap doubled, up to ``--max-batch-gap-ms`` (default 80 ms: 62.5 keys/s);
the 10,000-key scenario of a shape starts at the gap that held for 1,000 keys. Each scenario is
bounded by ``--deadline`` seconds from the first write (default 20; the writer stops writing
then too): a scenario that does not finish reports how many keys the slowest node held then,
and the rate that is (keys/s), rather than a time. The rs2p wrapper writes unpaced.

Prints one JSON object per line (prefix ``{"bench"``), then a human table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Dict, List, Optional, Tuple

CONNECT_DEADLINE_S = 15.0
VALUE_BYTES = 16


def free_port() -> int:
    """A port the kernel just handed out (py2p needs a real port number up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_socket(impl: str, port: int) -> Any:
    if impl == "py2p":
        import py2p.mesh
        import py2p.sync

        py2p.mesh.max_outgoing = 0
        sock = py2p.sync.SyncSocket("127.0.0.1", port)
        # Its notices of dropped links would go to stdout among the JSON lines; `status` still
        # records the exceptions, and the record reports the last one.
        sock.debug_level = -1
        return sock
    from rs2p.sync import SyncSocket

    return SyncSocket("127.0.0.1", port, max_outgoing=0)


def table_len(impl: str, sock: Any) -> int:
    return len(sock.data) if impl == "py2p" else len(sock)


class Watch:
    """Notes when the node's table first holds ``expected`` keys (in its update event)."""

    def __init__(self, impl: str, sock: Any) -> None:
        self.impl = impl
        self.sock = sock
        self.changed = threading.Condition()
        self.expected = 0
        self.done_ns = 0
        sock.on("update", self.on_update)

    def reset(self, expected: int) -> None:
        with self.changed:
            self.expected = expected
            self.done_ns = 0

    def on_update(self, *_args: Any) -> None:
        if self.done_ns or not self.expected:
            return
        if table_len(self.impl, self.sock) >= self.expected:
            with self.changed:
                self.done_ns = time.monotonic_ns()
                self.changed.notify_all()

    def collect(self, deadline_ns: int) -> Dict[str, Any]:
        """Waits until the table is full or CLOCK_MONOTONIC passes ``deadline_ns``."""
        with self.changed:
            while not self.done_ns:
                left = (deadline_ns - time.monotonic_ns()) / 1e9
                if left <= 0:
                    break
                self.changed.wait(min(left, 0.2))
                # A table filled by the handshake dump or before reset() still counts.
                if not self.done_ns and table_len(self.impl, self.sock) >= self.expected:
                    self.done_ns = time.monotonic_ns()
            info = {
                "done_ns": self.done_ns,
                "held": table_len(self.impl, self.sock),
                "peers": len(self.sock.routing_table),
            }
        status = getattr(self.sock, "status", "Nominal")
        if self.impl == "py2p" and status != "Nominal":
            # py2p's record of why it dropped links: tracebacks; the last line names the error.
            last = str(status[-1]) if isinstance(status, list) else str(status)
            lines = [line for line in last.splitlines() if line.strip()]
            info["error"] = (lines[-1] if lines else last)[:100]
        return info


def write_all(sock: Any, count: int, batch: int, gap_ns: int, deadline_s: float) -> Dict[str, Any]:
    """Writes ``count`` keys, ``batch`` at a time with ``gap_ns`` after each batch (0: no
    pacing), stopping at ``deadline_s`` after the first write. Keys and values are made before
    the clock starts."""
    writes = [(f"k{i:06}", i.to_bytes(8, "little") + bytes(VALUE_BYTES - 8)) for i in range(count)]
    start = time.monotonic_ns()
    stop = start + int(deadline_s * 1e9)
    written = 0
    error = None
    try:
        for i, (key, value) in enumerate(writes):
            if time.monotonic_ns() > stop:
                break
            sock[key] = value
            written += 1
            if gap_ns and (i + 1) % batch == 0:
                # On a schedule, so that slow writes do not push the later batches back.
                due = start + ((i + 1) // batch) * gap_ns
                wait = due - time.monotonic_ns()
                if wait > 0:
                    time.sleep(wait / 1e9)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        error = f"{type(e).__name__}: {e}"
    return {"written": written, "start_ns": start, "end_ns": time.monotonic_ns(), "error": error}


def node_main(impl: str, port: int, pipe: Connection) -> None:
    """One node: obeys commands from the parent until told to close."""
    sock = make_socket(impl, port)
    watch = Watch(impl, sock)
    pipe.send("ready")
    while True:
        command, *args = pipe.recv()
        if command == "connect":
            sock.connect("127.0.0.1", args[0])
            pipe.send("ok")
        elif command == "peers":
            pipe.send(len(sock.routing_table))
        elif command == "expect":
            watch.reset(args[0])
            pipe.send("ok")
        elif command == "write":
            pipe.send(write_all(sock, *args))
        elif command == "collect":
            pipe.send(watch.collect(args[0]))
        elif command == "close":
            try:
                if impl == "py2p":
                    sock.debug_level = -1  # links closing at the end are not news
                sock.close()
            finally:
                pipe.send("closed")
            return


def links(shape: str, nodes: int) -> List[Tuple[int, int]]:
    """(dialer, listener) pairs: benches/sync.rs's networks."""
    out = []
    for i in range(1, nodes):
        out.append((i, i - 1))
        if shape == "mesh" and i >= 3:
            out.append((i, i - 3))
    return out


class Network:
    """One process per node, linked as ``links`` says."""

    def __init__(self, impl: str, shape: str, nodes: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: List[Connection] = []
        self.procs: List[Any] = []
        self.ports = [free_port() for _ in range(nodes)]
        self.links = links(shape, nodes)
        for port in self.ports:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=node_main, args=(impl, port, theirs), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        for pipe in self.pipes:
            self.ask(pipe, None, CONNECT_DEADLINE_S)
        for dialer, listener in self.links:
            self.ask(self.pipes[dialer], ("connect", self.ports[listener]), CONNECT_DEADLINE_S)
        self.want = [0] * nodes
        for a, b in self.links:
            self.want[a] += 1
            self.want[b] += 1
        self.wait_connected()

    @staticmethod
    def ask(pipe: Connection, command: Optional[Tuple[Any, ...]], timeout: float) -> Any:
        if command is not None:
            pipe.send(command)
        if not pipe.poll(timeout):
            raise RuntimeError(f"a node did not answer {command!r} within {timeout:.0f} s")
        return pipe.recv()

    def wait_connected(self) -> None:
        deadline = time.monotonic() + CONNECT_DEADLINE_S
        while True:
            have = [self.ask(p, ("peers",), 5) for p in self.pipes]
            if have == self.want:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the network did not connect: peers {have}, want {self.want}")
            time.sleep(0.02)

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                self.ask(pipe, ("close",), 10)
            except (RuntimeError, OSError, EOFError):
                pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


def run(
    impl_name: str, impl: str, scenario: Dict[str, Any], deadline_s: float, max_gap_ns: int
) -> Dict[str, Any]:
    """One scenario; after a run in which a node lost a link, again with the gap doubled (up
    to ``max_gap_ns``); the failed tries are recorded."""
    tries: List[Dict[str, Any]] = []
    while True:
        record = run_once(impl_name, impl, scenario, deadline_s)
        gap = scenario["gap_ns"]
        if not record.get("links_lost") or not gap or gap * 2 > max_gap_ns:
            break
        tries.append({k: record.get(k) for k in ("batch_gap_ms", "min_keys_reached", "peers", "py2p_error")})
        scenario = dict(scenario, gap_ns=gap * 2)
    if tries:
        record["failed_tries"] = tries
    return record


def run_once(impl_name: str, impl: str, scenario: Dict[str, Any], deadline_s: float) -> Dict[str, Any]:
    shape, nodes, keys = scenario["shape"], scenario["nodes"], scenario["keys"]
    batch, gap_ns = scenario["batch"], scenario["gap_ns"]
    net = Network(impl, shape, nodes)
    try:
        for pipe in net.pipes:
            net.ask(pipe, ("expect", keys), 10)
        writer = net.pipes[0]
        writer.send(("write", keys, batch, gap_ns, deadline_s))
        # The writer answers when it has written everything; the deadline counts from its first
        # write, which is at most a moment after this.
        deadline_ns = time.monotonic_ns() + int(deadline_s * 1e9)
        write_budget = deadline_s + 60
        wrote = Network.ask(writer, None, write_budget)
        got = [net.ask(p, ("collect", deadline_ns), deadline_s + 30) for p in net.pipes]
    finally:
        net.close()
    done = [g["done_ns"] for g in got]
    complete = all(done)
    start = wrote["start_ns"]
    held = [g["held"] for g in got]
    peers = [g["peers"] for g in got]
    reached = min(held)
    if complete:
        secs = (max(done) - start) / 1e9
    else:
        secs = max((deadline_ns - start) / 1e9, 1e-9)
    others_done = [d for d in done[1:] if d]
    record: Dict[str, Any] = {
        "bench": "sync",
        "impl": impl_name,
        "scenario": scenario["name"],
        "shape": shape,
        "nodes": nodes,
        "keys": keys,
        "links": len(net.links),
        "written": wrote["written"],
        "complete": complete,
        "seconds": round(secs, 4),
        "keys_per_s": round(reached / max(secs, 1e-9)),
        "min_keys_reached": reached,
        "held": held,
        "peers": peers,
        "first_other_node_ms": round((min(others_done) - start) / 1e6, 2) if others_done else None,
        "write_loop_ms": round((wrote["end_ns"] - start) / 1e6, 2),
        "batch": batch if gap_ns else None,
        "batch_gap_ms": gap_ns / 1e6 if gap_ns else None,
        "deadline_s": deadline_s,
    }
    if peers != net.want:
        record["links_lost"] = True
        record["peers_wanted"] = net.want
    if wrote["error"]:
        record["error"] = wrote["error"]
    errors = [g["error"] for g in got if g.get("error")]
    if errors:
        record["py2p_error"] = errors[0]
    return record


def scenarios(impl: str, scale: float, batch: int, gap_ms: float) -> List[Dict[str, Any]]:
    gap_ns = int(gap_ms * 1e6) if impl == "py2p" else 0
    out = []
    for n in (1_000, 10_000):
        keys = max(10, int(n * scale))
        for shape, nodes in (("line", 4), ("mesh", 10)):
            out.append({"name": f"sync_{keys}keys_{shape}{nodes}", "shape": shape, "nodes": nodes,
                        "keys": keys, "batch": batch, "gap_ns": gap_ns})
    return out


def human(record: Dict[str, Any]) -> str:
    if "error_only" in record:
        return f"ERROR {record['error_only']}"
    if record["complete"]:
        text = (f"{record['seconds'] * 1e3:>9.1f} ms to all {record['nodes']} nodes "
                f"({record['keys_per_s']:>9,} keys/s; write loop {record['write_loop_ms']:.1f} ms)")
    else:
        text = (f"INCOMPLETE at the {record['deadline_s']:g} s deadline: slowest node held "
                f"{record['min_keys_reached']} of {record['keys']} ({record['keys_per_s']:,} keys/s)")
    if record.get("batch_gap_ms"):
        text += f"  paced {record['batch']} keys / {record['batch_gap_ms']:g} ms"
    if record.get("failed_tries"):
        text += f" (after {len(record['failed_tries'])} faster tries lost links)"
    if record.get("links_lost"):
        text += f"  LINKS LOST: peers {record['peers']} want {record['peers_wanted']}"
    if record.get("error"):
        text += f"  ERROR {record['error']}"
    if record.get("py2p_error"):
        text += f"  py2p's last error: {record['py2p_error'][:60]}..."
    return text


def why_not_available(impl: str) -> Optional[str]:
    """None when a node of ``impl`` starts and closes here, else the reason it does not."""
    try:
        sock = make_socket(impl, free_port())
        sock.close()
    except Exception as e:  # noqa: BLE001 - the reason is the report
        return f"{type(e).__name__}: {e}"[:300]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=("py2p", "rs2p"), default="py2p")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the key counts")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--deadline", type=float, default=20.0,
                        help="bound on each scenario from the first write, s (default 20)")
    parser.add_argument("--batch", type=int, default=5, help="py2p: keys per batch (default 5)")
    parser.add_argument("--batch-gap-ms", type=float, default=20.0,
                        help="py2p: wait after each batch, ms (default 20; 0: no pacing)")
    parser.add_argument("--max-batch-gap-ms", type=float, default=80.0,
                        help="py2p: the longest gap tried after lost links, ms (default 80)")
    args = parser.parse_args()
    impl_name = "py2p" if args.impl == "py2p" else "rs2p-python"
    plan = [s for s in scenarios(args.impl, args.scale, max(1, args.batch), args.batch_gap_ms)
            if not args.only or args.only in s["name"]]
    missing = why_not_available(args.impl)
    if missing:
        for scenario in plan:
            print(json.dumps({"bench": "sync", "impl": impl_name, "scenario": scenario["name"],
                              "not_measured": missing}), flush=True)
        print(f"\n{impl_name}: not measured: {missing}")
        return 0
    rows = []
    failed = False
    held_gap: Dict[str, int] = {}  # shape -> the gap that kept its links at fewer keys
    for scenario in plan:
        if scenario["gap_ns"] and scenario["shape"] in held_gap:
            scenario = dict(scenario, gap_ns=max(scenario["gap_ns"], held_gap[scenario["shape"]]))
        try:
            record = run(impl_name, args.impl, scenario, args.deadline,
                         int(args.max_batch_gap_ms * 1e6))
            if record.get("batch_gap_ms") and not record.get("links_lost"):
                held_gap[scenario["shape"]] = int(record["batch_gap_ms"] * 1e6)
        except Exception as e:  # noqa: BLE001 - one scenario failing does not hide the others
            failed = True
            record = {"bench": "sync", "impl": impl_name, "scenario": scenario["name"],
                      "error": f"{type(e).__name__}: {e}", "error_only": str(e)}
        print(json.dumps({k: v for k, v in record.items() if k != "error_only"}), flush=True)
        rows.append(record)
    print()
    print(f"{impl_name} sync table, 127.0.0.1, one process per node: N keys written at node 0")
    for record in rows:
        print(f"  {record['scenario']:<24} {human(record)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
