"""Mesh broadcast throughput and one-way latency from Python, for py2p 0.7.878 (default) or
the rs2p Python wrapper (``--impl rs2p``). Not a test: it measures and prints.

    build/venv/bin/python benches/py_mesh.py [--impl py2p|rs2p] [--scale F] [--only NAME]

The scenarios are the Rust bench's (benches/mesh.rs): 64 B and 4 KiB packets over 1 hop
(A -> B) and 3 hops (a line A-B-C-D; nobody dials extra peers: ``py2p.mesh.max_outgoing = 0``,
``max_outgoing=0`` for rs2p), sent at A and counted at the last node; and latency p50/p99 of
64 B packets at a modest rate. Each node runs in its own process (py2p serialises on the GIL,
so nodes in one process would slow each other down), driven over a pipe. Packets carry a
sequence number and ``time.monotonic_ns()`` (CLOCK_MONOTONIC, one clock for all processes).
The last node counts in a handler registered with ``register_handler`` that returns True, so
each message is taken exactly once and never queued.

py2p is slow (tens to a thousand messages a second; its relay de-duplication rebuilds a set of
every message of the last minute on each message) and may drop a link under bursts (a framing
bug, docs/reference-notes.md (a)), so its counts are small and its throughput sends are paced
on a fixed schedule: one send every ``--py2p-gap-us`` microseconds (default 500). When a run
loses messages (py2p closed a link), the scenario is run again on a fresh line with the gap
doubled, up to 8 ms; the record says which gap held and lists the failed tries. So a py2p
throughput figure is "the rate py2p sustained without losing its link", bounded by 1/gap.
The rs2p wrapper sends unpaced. Losses are reported with each node's ``status`` and, for rs2p,
its drop counters.

Prints one JSON object per line (prefix ``{"bench"``), then a human table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import socket
import struct
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Dict, List, Optional, Tuple

STAMP = struct.Struct("<QQ")  # sequence number, send time (ns, CLOCK_MONOTONIC)
IDLE_GIVE_UP_S = 5.0
CONNECT_DEADLINE_S = 15.0


def free_port() -> int:
    """A port the kernel just handed out (py2p needs a real port number up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_socket(impl: str, port: int) -> Any:
    if impl == "py2p":
        import py2p.mesh

        py2p.mesh.max_outgoing = 0
        return py2p.mesh.MeshSocket("127.0.0.1", port)
    from rs2p.mesh import MeshSocket

    return MeshSocket("127.0.0.1", port, max_outgoing=0)


class Counter:
    """The last node's consuming handler: distinct sequence numbers, duplicates, latencies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.expected = 0
        self.seen: set[int] = set()
        self.duplicates = 0
        self.latencies_ns: List[int] = []
        self.last_ns = 0
        self.started_ns = 0
        self.done = threading.Event()

    def reset(self, expected: int) -> None:
        with self.lock:
            self.expected = expected
            self.seen = set()
            self.duplicates = 0
            self.latencies_ns = []
            self.last_ns = 0
            self.done.clear()

    def handle(self, msg: Any, _conn: Any) -> Optional[bool]:
        now = time.monotonic_ns()
        packets = msg.packets
        if len(packets) < 2 or not isinstance(packets[1], bytes) or len(packets[1]) < 16:
            return None
        seq, sent_ns = STAMP.unpack_from(packets[1])
        with self.lock:
            if seq in self.seen:
                self.duplicates += 1
            else:
                self.seen.add(seq)
                self.latencies_ns.append(now - sent_ns)
            self.last_ns = now
            if len(self.seen) >= self.expected:
                self.done.set()
        return True

    def collect(self) -> Dict[str, Any]:
        """Waits until every expected message came or none came for IDLE_GIVE_UP_S."""
        while not self.done.wait(0.2):
            with self.lock:
                last = self.last_ns
            if last and time.monotonic_ns() - last > IDLE_GIVE_UP_S * 1e9:
                break
            if not last and time.monotonic_ns() - self.started_ns > IDLE_GIVE_UP_S * 1e9:
                break
        with self.lock:
            return {
                "received": len(self.seen),
                "duplicates": self.duplicates,
                "last_ns": self.last_ns,
                "latencies_ns": list(self.latencies_ns),
            }


def node_status(sock: Any) -> Dict[str, Any]:
    status = sock.status
    info: Dict[str, Any] = {
        "peers": len(sock.routing_table),
        "status": status if isinstance(status, str) else [str(s)[-200:] for s in status],
    }
    stats = getattr(sock, "stats", None)
    if isinstance(stats, dict):
        info["dropped"] = {k: v for k, v in stats.get("dropped", {}).items() if v}
    return info


def node_main(impl: str, port: int, pipe: Connection) -> None:
    """One node: obeys commands from the parent until told to close."""
    sock = make_socket(impl, port)
    counter = Counter()
    sock.register_handler(counter.handle)
    pipe.send("ready")
    while True:
        command, *args = pipe.recv()
        if command == "connect":
            sock.connect("127.0.0.1", args[0])
            pipe.send("ok")
        elif command == "peers":
            pipe.send(len(sock.routing_table))
        elif command == "expect":
            counter.reset(args[0])
            counter.started_ns = time.monotonic_ns()
            pipe.send("ok")
        elif command == "collect":
            pipe.send(counter.collect())
        elif command == "send":
            pipe.send(send_all(sock, *args))
        elif command == "status":
            pipe.send(node_status(sock))
        elif command == "close":
            try:
                sock.close()
            finally:
                pipe.send("closed")
            return


def send_all(sock: Any, count: int, size: int, gap_ns: int) -> Dict[str, Any]:
    """Broadcasts ``count`` packets of ``size`` bytes, one every ``gap_ns`` (0: no pacing)."""
    filler = b"\0" * max(0, size - STAMP.size)
    start = time.monotonic_ns()
    sent = 0
    error = None
    try:
        for seq in range(count):
            if gap_ns:
                due = start + seq * gap_ns
                wait = due - time.monotonic_ns()
                if wait > 0:
                    time.sleep(wait / 1e9)
            sock.send(STAMP.pack(seq, time.monotonic_ns()) + filler)
            sent += 1
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        error = f"{type(e).__name__}: {e}"
    return {"sent": sent, "start_ns": start, "end_ns": time.monotonic_ns(), "error": error}


class Line:
    """``hops + 1`` node processes, each connected to the next."""

    def __init__(self, impl: str, hops: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: List[Connection] = []
        self.procs: List[Any] = []
        self.ports = [free_port() for _ in range(hops + 1)]
        for port in self.ports:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=node_main, args=(impl, port, theirs), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        for pipe in self.pipes:
            self.ask(pipe, None, CONNECT_DEADLINE_S)
        for i in range(hops):
            self.ask(self.pipes[i], ("connect", self.ports[i + 1]), CONNECT_DEADLINE_S)
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
        last = len(self.pipes) - 1
        want = [1 if i in (0, last) else 2 for i in range(len(self.pipes))]
        while True:
            have = [self.ask(p, ("peers",), 5) for p in self.pipes]
            if have == want:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the line did not connect: peers per node {have}, want {want}")
            time.sleep(0.02)

    def statuses(self) -> List[Dict[str, Any]]:
        return [self.ask(p, ("status",), 10) for p in self.pipes]

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


def percentile(sorted_values: List[int], p: float) -> int:
    if not sorted_values:
        return 0
    rank = round(p / 100 * (len(sorted_values) - 1))
    return sorted_values[min(rank, len(sorted_values) - 1)]


def run(impl_name: str, impl: str, scenario: Dict[str, Any]) -> Dict[str, Any]:
    """One scenario; for a paced throughput scenario, the gap is doubled after a run that lost
    messages (py2p dropped a link), up to ``max_gap_ns``, and the failed tries are recorded."""
    tries: List[Dict[str, Any]] = []
    while True:
        record = run_once(impl_name, impl, scenario)
        failed = record["lost"] or record["duplicates"] or record.get("error")
        gap = scenario["gap_ns"]
        if not failed or scenario["kind"] != "throughput" or not gap or gap * 2 > scenario["max_gap_ns"]:
            break
        tries.append({k: record[k] for k in ("pace_gap_us", "sent", "received")})
        scenario = dict(scenario, gap_ns=gap * 2)
    if tries:
        record["failed_tries"] = tries
    return record


def run_once(impl_name: str, impl: str, scenario: Dict[str, Any]) -> Dict[str, Any]:
    """One scenario on a fresh line; returns its JSON record."""
    hops, size, count, gap_ns = scenario["hops"], scenario["size"], scenario["count"], scenario["gap_ns"]
    line = Line(impl, hops)
    try:
        first, last = line.pipes[0], line.pipes[-1]
        line.ask(last, ("expect", count), 10)
        budget = 60 + count * max(gap_ns, 1_000_000) / 1e9
        sent = line.ask(first, ("send", count, size, gap_ns), budget)
        got = line.ask(last, ("collect",), budget)
        statuses = line.statuses()
    finally:
        line.close()
    record: Dict[str, Any] = {
        "bench": "mesh",
        "impl": impl_name,
        "scenario": scenario["name"],
        "kind": scenario["kind"],
        "size": size,
        "hops": hops,
        "sent": sent["sent"],
        "received": got["received"],
        "lost": sent["sent"] - got["received"],
        "duplicates": got["duplicates"],
        "pace_gap_us": gap_ns / 1000,
    }
    if sent["error"]:
        record["error"] = sent["error"]
    if scenario["kind"] == "throughput":
        end = got["last_ns"] or sent["end_ns"]
        secs = max((end - sent["start_ns"]) / 1e9, 1e-9)
        rate = got["received"] / secs
        record.update(
            seconds=round(secs, 4),
            msgs_per_s=round(rate),
            mib_per_s=round(rate * size / 2**20, 2),
        )
    else:
        warmup = scenario["warmup"]
        samples = sorted(got["latencies_ns"][warmup:])
        record.update(
            rate_per_s=round(1e9 / gap_ns),
            samples=len(samples),
            p50_us=round(percentile(samples, 50) / 1000, 1),
            p99_us=round(percentile(samples, 99) / 1000, 1),
            max_us=round((samples[-1] if samples else 0) / 1000, 1),
        )
    if record["lost"] or record["duplicates"] or sent["error"]:
        record["nodes"] = statuses
    return record


def scenarios(impl: str, scale: float, py2p_gap_ns: int) -> List[Dict[str, Any]]:
    def n(base: float) -> int:
        return max(50, int(base * scale))

    if impl == "py2p":
        # Small counts: py2p handles tens to a thousand messages a second.
        tput = [(64, 1, n(600)), (4096, 1, n(300)), (64, 3, n(300)), (4096, 3, n(200))]
        gap, lat_gap, lat_count, warmup = py2p_gap_ns, 5_000_000, n(300), 20
    else:
        tput = [(64, 1, n(20000)), (4096, 1, n(5000)), (64, 3, n(10000)), (4096, 3, n(2500))]
        gap, lat_gap, lat_count, warmup = 0, 1_000_000, n(2000), 100
    out = []
    for size, hops, count in tput:
        label = f"{size // 1024}KiB" if size >= 1024 else f"{size}B"
        out.append(
            {"name": f"throughput_{label}_{hops}hop", "kind": "throughput", "size": size,
             "hops": hops, "count": count, "gap_ns": gap, "max_gap_ns": 8_000_000}
        )
    for hops in (1, 3):
        out.append(
            {"name": f"latency_64B_{hops}hop", "kind": "latency", "size": 64, "hops": hops,
             "count": lat_count + warmup, "gap_ns": lat_gap, "warmup": warmup}
        )
    return out


def human(record: Dict[str, Any]) -> str:
    if "error_only" in record:
        return f"ERROR {record['error_only']}"
    if record["kind"] == "throughput":
        text = f"{record['msgs_per_s']:>10,} msg/s {record['mib_per_s']:>8.2f} MiB/s ({record['received']} msgs)"
    else:
        text = f"p50 {record['p50_us']:>9.1f} us  p99 {record['p99_us']:>9.1f} us  at {record['rate_per_s']}/s"
    if record.get("pace_gap_us") and record["kind"] == "throughput":
        text += f"  paced {record['pace_gap_us']:.0f} us"
    if record.get("failed_tries"):
        text += f" (after {len(record['failed_tries'])} faster tries lost the link)"
    if record["lost"] or record["duplicates"] or record.get("error"):
        text += f"  LOST {record['lost']} dup {record['duplicates']} {record.get('error') or ''}"
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
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--py2p-gap-us", type=float, default=500.0,
                        help="py2p throughput: microseconds between sends (0: no pacing)")
    args = parser.parse_args()
    impl_name = "py2p" if args.impl == "py2p" else "rs2p-python"
    plan = [s for s in scenarios(args.impl, args.scale, int(args.py2p_gap_us * 1000))
            if not args.only or args.only in s["name"]]
    missing = why_not_available(args.impl)
    if missing:
        for scenario in plan:
            print(json.dumps({"bench": "mesh", "impl": impl_name, "scenario": scenario["name"],
                              "not_measured": missing}), flush=True)
        print(f"\n{impl_name}: not measured: {missing}")
        return 0
    rows = []
    failed = False
    for scenario in plan:
        try:
            record = run(impl_name, args.impl, scenario)
        except Exception as e:  # noqa: BLE001 - one scenario failing does not hide the others
            failed = True
            record = {"bench": "mesh", "impl": impl_name, "scenario": scenario["name"],
                      "error": f"{type(e).__name__}: {e}", "error_only": str(e)}
        print(json.dumps({k: v for k, v in record.items() if k != "error_only"}), flush=True)
        rows.append(record)
    print()
    print(f"{impl_name} mesh, 127.0.0.1, one process per node")
    for record in rows:
        print(f"  {record['scenario']:<24} {human(record)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
