"""Chord table get/set latency and throughput from Python, for py2p 0.7.878 (default) or the
rs2p Python wrapper (``--impl rs2p``; benches/py_chord_rs2p.py runs that). Not a test: it
measures and prints.

    build/venv/bin/python benches/py_chord.py [--impl py2p|rs2p] [--scale F] [--only NAME]
                                              [--nodes N] [--budget S]

The network is the Rust bench's (benches/chord.rs): 8 storing nodes, each dialling the first
(one at a time, each linked before the next dials; 0.5 s apart for py2p). Every node joins
BEFORE it connects (py2p needs that). py2p drops every link when 6 to 8 of its chord nodes
link to each other (a framing failure under bursts, docs/reference-notes.md (a)), so for py2p
a network that does not settle is replaced by a smaller one (6, 5, then 4 nodes); the setup
record lists the failed tries. py2p's sets are paced (``--py2p-set-gap-ms``, default 5) for
the same reason. After each scenario the record lists (links, storing links) per node, and
the nodes' status when one lost every storing link (its reads then answer locally only). Each node runs in its own process
(py2p serialises on the GIL), driven over a pipe; the measuring loops run inside the node
process, so no pipe round trip is timed. Scenario names are the Rust bench's:

- ``get_latency``: sequential ``getSync`` of preloaded keys at node 0, p50/p99/max;
- ``set_latency``: sequential ``set`` of a new key at node 0, then ``getSync`` until the
  value comes back (latency "until readable");
- ``set_throughput_1thread``: node 0 sets new keys as fast as ``set`` returns; the time is
  until a ``getSync`` of the last key returns it; then node N-1 reads keys back;
- ``get_throughput_1thread``: reads of preloaded keys with many in flight at node 0. rs2p:
  ``get()`` futures, a window of ``--window`` (default 1,000). py2p's ``get()`` reads before
  it returns (its Promise resolves synchronously), so reads are put in flight by a pool of
  ``--py2p-threads`` threads (default 32) each calling ``getSync``.

py2p is slow: its ``getSync`` checks for answers every 100 ms, and it handles hundreds of
messages a second. So every py2p loop is bounded by a key/sample count AND a time budget
(``--budget`` seconds per scenario, default 20); a record says how many it reached
(``samples``/``count``) and whether the budget cut it short (``budget_hit``).

Prints one JSON object per line (prefix ``{"bench"``), then a human table.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Dict, List, Optional, Tuple

SETTLE_DEADLINE_S = 25.0
QUIET_LINKS_S = 1.0
#: py2p: pause between two nodes dialling node 0.
CONNECT_GAP_S = 0.5
#: Per-read timeout (seconds); py2p's answers come within its 100 ms polling or not at all.
GET_TIMEOUT_S = 10
VISIBLE_DEADLINE_S = 60.0
PRELOAD_PREFIX = "pre"
MISSING = "\0missing"


def free_port() -> int:
    """A port the kernel just handed out (py2p needs a real port number up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def key(prefix: str, i: int) -> str:
    return f"{prefix}-{i:08}"


def value(prefix: str, i: int) -> str:
    """32 characters naming the key, as the Rust bench stores."""
    return f"value of {prefix}-{i:08}               "[:32]


def same(got: Any, want: str) -> bool:
    if isinstance(got, (bytes, bytearray)):
        got = bytes(got).decode("utf-8", "replace")
    return got == want


def make_socket(impl: str, port: int) -> Any:
    if impl == "py2p":
        import py2p.chord

        return py2p.chord.ChordSocket("127.0.0.1", port)
    from rs2p.chord import ChordSocket

    return ChordSocket("127.0.0.1", port)


def storing_links(impl: str, sock: Any) -> Tuple[int, int]:
    """(links, links to storing nodes) of a node."""
    if impl == "py2p":
        return len(sock.routing_table), len(list(sock.data_storing))
    return len(sock.routing_table), int(sock.chord_stats["storing_peers"])


class Tally:
    def __init__(self) -> None:
        self.ok = 0
        self.wrong = 0
        self.failed = 0
        self.first_problem: Optional[str] = None

    def count(self, got: Any, want: str) -> None:
        if same(got, want):
            self.ok += 1
            return
        if got == MISSING:
            self.failed += 1
        else:
            self.wrong += 1
        if self.first_problem is None:
            self.first_problem = f"read {got!r}, wanted {want!r}"[:200]

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"ok": self.ok, "wrong": self.wrong, "failed": self.failed}
        if self.first_problem:
            out["first_problem"] = self.first_problem
        return out


def read(sock: Any, k: str) -> Any:
    try:
        return sock.getSync(k, MISSING, timeout=GET_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - counted as a failed read
        return f"{MISSING} {type(e).__name__}: {e}"


class Node:
    """The commands a node process obeys; every loop is bounded by count and budget."""

    def __init__(self, impl: str, port: int, set_gap_s: float) -> None:
        self.impl = impl
        self.sock = make_socket(impl, port)
        self.set_gap_s = set_gap_s

    def set_many(self, prefix: str, count: int, budget_s: float) -> Dict[str, Any]:
        start = time.monotonic()
        done = 0
        error = None
        try:
            while done < count and time.monotonic() - start < budget_s:
                if self.set_gap_s:
                    wait = start + done * self.set_gap_s - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                self.sock.set(key(prefix, done), value(prefix, done))
                done += 1
        except Exception as e:  # noqa: BLE001 - reported
            error = f"{type(e).__name__}: {e}"[:300]
        handed = time.monotonic() - start
        visible = None
        if done:
            last = done - 1
            end = time.monotonic() + VISIBLE_DEADLINE_S
            while time.monotonic() < end:
                if same(read(self.sock, key(prefix, last)), value(prefix, last)):
                    visible = time.monotonic() - start
                    break
        return {"done": done, "handover_s": handed, "visible_s": visible, "error": error,
                "budget_hit": done < count}

    def read_back(self, prefix: str, count: int, budget_s: float) -> Dict[str, Any]:
        start = time.monotonic()
        tally = Tally()
        for i in range(count):
            if time.monotonic() - start >= budget_s:
                break
            tally.count(read(self.sock, key(prefix, i)), value(prefix, i))
        out = tally.as_dict()
        out["seconds"] = time.monotonic() - start
        out["asked"] = tally.ok + tally.wrong + tally.failed
        return out

    def get_latency(self, preloaded: int, samples: int, warmup: int, budget_s: float) -> Dict[str, Any]:
        state = 0x9E3779B97F4A7C15
        latencies: List[int] = []
        tally = Tally()
        start = time.monotonic()
        for n in range(warmup + samples):
            if time.monotonic() - start >= budget_s:
                break
            state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
            i = (state >> 33) % preloaded
            t0 = time.monotonic_ns()
            got = read(self.sock, key(PRELOAD_PREFIX, i))
            took = time.monotonic_ns() - t0
            if n >= warmup:
                latencies.append(took)
                tally.count(got, value(PRELOAD_PREFIX, i))
        return {"latencies_ns": latencies, **tally.as_dict(), "budget_hit": len(latencies) < samples}

    def set_latency(self, samples: int, warmup: int, budget_s: float) -> Dict[str, Any]:
        visible: List[int] = []
        calls: List[int] = []
        reads = 0
        tally = Tally()
        start = time.monotonic()
        for n in range(warmup + samples):
            if time.monotonic() - start >= budget_s:
                break
            k, want = key("lat", n), value("lat", n)
            t0 = time.monotonic_ns()
            self.sock.set(k, want)
            call = time.monotonic_ns() - t0
            end = time.monotonic() + VISIBLE_DEADLINE_S
            tries = 0
            while True:
                tries += 1
                got = read(self.sock, k)
                if same(got, want) or time.monotonic() >= end:
                    break
            took = time.monotonic_ns() - t0
            if n >= warmup:
                visible.append(took)
                calls.append(call)
                reads += tries
                tally.count(got, want)
        return {"latencies_ns": visible, "calls_ns": calls, "reads": reads, **tally.as_dict(),
                "budget_hit": len(visible) < samples}

    def get_many(self, preloaded: int, count: int, window: int, threads: int,
                 budget_s: float) -> Dict[str, Any]:
        if self.impl == "py2p":
            return self._get_many_threads(preloaded, count, threads, budget_s)
        return self._get_many_futures(preloaded, count, window, budget_s)

    def _get_many_futures(self, preloaded: int, count: int, window: int, budget_s: float) -> Dict[str, Any]:
        state = 0x2545F4914F6CDD1D
        tally = Tally()
        in_flight: collections.deque = collections.deque()
        start = time.monotonic()
        asked = 0
        while asked < count and time.monotonic() - start < budget_s:
            if len(in_flight) == window:
                i, future = in_flight.popleft()
                tally.count(future.get(GET_TIMEOUT_S + 5), value(PRELOAD_PREFIX, i))
            state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
            i = (state >> 33) % preloaded
            in_flight.append((i, self.sock.get(key(PRELOAD_PREFIX, i), MISSING, timeout=GET_TIMEOUT_S)))
            asked += 1
        for i, future in in_flight:
            tally.count(future.get(GET_TIMEOUT_S + 5), value(PRELOAD_PREFIX, i))
        return {"seconds": time.monotonic() - start, "count": asked, "window": window,
                **tally.as_dict(), "budget_hit": asked < count}

    def _get_many_threads(self, preloaded: int, count: int, threads: int, budget_s: float) -> Dict[str, Any]:
        lock = threading.Lock()
        tally = Tally()
        next_index = [0]
        start = time.monotonic()

        def worker(seed: int) -> None:
            state = seed
            while True:
                with lock:
                    if next_index[0] >= count or time.monotonic() - start >= budget_s:
                        return
                    next_index[0] += 1
                state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
                i = (state >> 33) % preloaded
                got = read(self.sock, key(PRELOAD_PREFIX, i))
                with lock:
                    tally.count(got, value(PRELOAD_PREFIX, i))

        pool = [threading.Thread(target=worker, args=(0x2545F4914F6CDD1D + t,), daemon=True)
                for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(budget_s + GET_TIMEOUT_S + 10)
        asked = tally.ok + tally.wrong + tally.failed
        return {"seconds": time.monotonic() - start, "count": asked, "window": threads,
                "in_flight_by": "threads", **tally.as_dict(), "budget_hit": asked < count}


def node_main(impl: str, port: int, set_gap_s: float, pipe: Connection) -> None:
    """One node: obeys commands from the parent until told to close."""
    try:
        node = Node(impl, port, set_gap_s)
    except Exception as e:  # noqa: BLE001 - the parent reports it
        pipe.send(f"error {type(e).__name__}: {e}")
        return
    pipe.send("ready")
    while True:
        command, *args = pipe.recv()
        try:
            if command == "join":
                node.sock.join()
                reply: Any = "ok"
            elif command == "connect":
                node.sock.connect("127.0.0.1", args[0])
                reply = "ok"
            elif command == "id":
                reply = node.sock.id if isinstance(node.sock.id, str) else bytes(node.sock.id).decode()
            elif command == "links":
                reply = storing_links(impl, node.sock)
            elif command == "status":
                status = getattr(node.sock, "status", "")
                reply = status if isinstance(status, str) else [str(e)[-600:] for e in status][:2]
            elif command == "close":
                try:
                    node.sock.close()
                finally:
                    pipe.send("closed")
                return
            else:
                reply = getattr(node, command)(*args)
        except Exception as e:  # noqa: BLE001 - the parent reports it
            reply = {"error": f"{type(e).__name__}: {e}"[:300]}
        pipe.send(reply)


class Network:
    """``n`` node processes; each joins, then dials node 0."""

    def __init__(self, impl: str, n: int, set_gap_s: float = 0.0) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: List[Connection] = []
        self.procs: List[Any] = []
        self.ports = [free_port() for _ in range(n)]
        for port in self.ports:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=node_main, args=(impl, port, set_gap_s, theirs), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        try:
            self._start(impl)
        except BaseException:
            self.close()
            raise

    def _start(self, impl: str) -> None:
        for pipe in self.pipes:
            ready = self.ask(pipe, None, 30)
            if ready != "ready":
                raise RuntimeError(f"a node did not start: {ready}")
        for pipe in self.pipes:
            self.ask(pipe, ("join",), 10)
        # One at a time, each linked before the next dials: py2p breaks its framing when
        # several nodes handshake with one node at once (docs/reference-notes.md (a)).
        gap = CONNECT_GAP_S if impl == "py2p" else 0.0
        for pipe in self.pipes[1:]:
            self.ask(pipe, ("connect", self.ports[0]), 30)
            deadline = time.monotonic() + 15
            while self.ask(pipe, ("links",), 10)[1] < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(gap)
        self.links = self.settle()

    @staticmethod
    def ask(pipe: Connection, command: Optional[Tuple[Any, ...]], timeout: float) -> Any:
        if command is not None:
            pipe.send(command)
        if not pipe.poll(timeout):
            raise RuntimeError(f"a node did not answer {command!r} within {timeout:.0f} s")
        return pipe.recv()

    def settle(self) -> List[Tuple[int, int]]:
        """Waits until every node links to at least two storing nodes (all its links store)
        and no node's links changed for QUIET_LINKS_S."""
        deadline = time.monotonic() + SETTLE_DEADLINE_S
        want = min(2, len(self.pipes) - 1)
        last: List[Any] = []
        since = time.monotonic()
        while True:
            links = [tuple(self.ask(p, ("links",), 10)) for p in self.pipes]
            if links != last:
                last, since = links, time.monotonic()
            ready = all(total == storing and storing >= want for total, storing in links)
            if ready and time.monotonic() - since >= QUIET_LINKS_S:
                return links
            if time.monotonic() > deadline:
                raise RuntimeError(f"the network did not settle: (links, storing) per node {links}")
            time.sleep(0.05)

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


def start_network(impl: str, nodes: int, set_gap_s: float) -> Tuple[Optional[Network], List[str]]:
    """A settled network of ``nodes`` nodes; for py2p, when one does not hold (py2p drops
    every link once 6-8 nodes all link to each other: a framing failure under the burst of
    handshakes, docs/reference-notes.md (a)), a smaller one, down to 4 nodes. Returns the
    network and the failures of the bigger tries."""
    sizes = [nodes] if impl != "py2p" else [n for n in (nodes, 6, 5, 4) if n <= nodes]
    failures: List[str] = []
    for size in dict.fromkeys(sizes):
        net = None
        try:
            net = Network(impl, size, set_gap_s)
            return net, failures
        except Exception as e:  # noqa: BLE001 - recorded; a smaller network is tried
            failures.append(f"{size} nodes: {type(e).__name__}: {e}"[:400])
            if net is not None:
                net.close()
    return None, failures


def percentile(sorted_values: List[int], p: float) -> int:
    if not sorted_values:
        return 0
    rank = round(p / 100 * (len(sorted_values) - 1))
    return sorted_values[min(rank, len(sorted_values) - 1)]


def spread(latencies_ns: List[int]) -> Dict[str, float]:
    s = sorted(latencies_ns)
    return {
        "samples": len(s),
        "p50_us": round(percentile(s, 50) / 1000, 1),
        "p99_us": round(percentile(s, 99) / 1000, 1),
        "max_us": round((s[-1] if s else 0) / 1000, 1),
    }


def checked(reply: Any, what: str) -> Dict[str, Any]:
    if isinstance(reply, dict) and set(reply) == {"error"}:
        raise RuntimeError(f"{what}: {reply['error']}")
    return reply


def run(net: Network, impl: str, name: str, plan: Dict[str, Any]) -> Dict[str, Any]:
    first, last = net.pipes[0], net.pipes[-1]
    budget = plan["budget"]
    answer = budget + GET_TIMEOUT_S + VISIBLE_DEADLINE_S + 30
    record: Dict[str, Any] = {"scenario": name, "nodes": len(net.pipes)}
    if name == "set_throughput_1thread":
        got = checked(net.ask(first, ("set_many", "w1t0", plan["set_count"], budget), answer), name)
        back = checked(net.ask(last, ("read_back", "w1t0", got["done"], budget), answer), name)
        visible = got["visible_s"]
        record.update(kind="throughput", op="set", threads=1, count=got["done"],
                      handover_s=round(got["handover_s"], 4), budget_hit=got["budget_hit"],
                      read_back_asked=back["asked"], read_back_s=round(back["seconds"], 4),
                      ok=back["ok"], wrong=back["wrong"], failed=back["failed"])
        if back.get("first_problem"):
            record["first_problem"] = back["first_problem"]
        if visible:
            record.update(seconds=round(visible, 4), ops_per_s=round(got["done"] / visible, 1))
        else:
            record["error"] = got["error"] or "the last key written never read back"
        if back["asked"]:
            record["read_back_per_s"] = round(back["asked"] / max(back["seconds"], 1e-9), 1)
    elif name == "get_latency":
        got = checked(net.ask(first, ("get_latency", plan["preloaded"], plan["lat_samples"],
                                      plan["warmup"], budget), answer), name)
        record.update(kind="latency", op="get", **spread(got.pop("latencies_ns")),
                      **{k: v for k, v in got.items()})
    elif name == "set_latency":
        got = checked(net.ask(first, ("set_latency", plan["set_lat_samples"], plan["warmup"], budget),
                              answer), name)
        calls = spread(got.pop("calls_ns"))
        record.update(kind="latency", op="set", **spread(got.pop("latencies_ns")),
                      call_p50_us=calls["p50_us"], call_p99_us=calls["p99_us"],
                      reads_per_set=round(got.pop("reads") / max(1, calls["samples"]), 2),
                      **got)
    elif name == "get_throughput_1thread":
        got = checked(net.ask(first, ("get_many", plan["preloaded"], plan["get_count"], plan["window"],
                                      plan["threads"], budget), answer), name)
        secs = max(got.pop("seconds"), 1e-9)
        record.update(kind="throughput", op="get", threads=1, seconds=round(secs, 4),
                      ops_per_s=round(got["ok"] / secs, 1), **got)
    return record


SCENARIOS = ("set_throughput_1thread", "get_latency", "set_latency", "get_throughput_1thread")


def human(record: Dict[str, Any]) -> str:
    if "error_only" in record:
        return f"ERROR {record['error_only']}"
    if record.get("kind") == "latency":
        text = f"p50 {record['p50_us']:>9.1f} us  p99 {record['p99_us']:>9.1f} us  ({record['samples']} samples)"
    elif "ops_per_s" in record:
        text = f"{record['ops_per_s']:>10,.1f} {record['op']}s/s  ({record['count']} {record['op']}s)"
    else:
        text = "no rate"
    if record.get("budget_hit"):
        text += "  [time budget reached]"
    if record.get("wrong") or record.get("failed") or record.get("error"):
        text += f"  WRONG {record.get('wrong')} FAILED {record.get('failed')} {record.get('error') or ''}"
    return text


def why_not_available(impl: str) -> Optional[str]:
    """None when a node of ``impl`` starts and closes here, else the reason it does not."""
    try:
        sock = make_socket(impl, free_port())
        sock.close()
    except Exception as e:  # noqa: BLE001 - the reason is the report
        return f"{type(e).__name__}: {e}"[:300]
    return None


def main(argv: Optional[List[str]] = None, default_impl: str = "py2p") -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=("py2p", "rs2p"), default=default_impl)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the key and sample counts")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per scenario at most")
    parser.add_argument("--window", type=int, default=1000, help="rs2p: reads in flight")
    parser.add_argument("--py2p-set-gap-ms", type=float, default=5.0,
                        help="py2p: milliseconds between two sets (it drops links under bursts)")
    parser.add_argument("--py2p-threads", type=int, default=32, help="py2p: reading threads")
    args = parser.parse_args(argv)
    impl_name = "py2p" if args.impl == "py2p" else "rs2p-python"

    def n(base: float) -> int:
        return max(20, int(base * args.scale))

    if args.impl == "py2p":
        plan = {"set_count": n(2000), "preloaded": n(200), "lat_samples": n(300), "set_lat_samples": n(100),
                "warmup": 10, "get_count": n(2000)}
    else:
        plan = {"set_count": n(20000), "preloaded": n(5000), "lat_samples": n(3000), "set_lat_samples": n(1000),
                "warmup": 100, "get_count": n(50000)}
    plan.update(budget=args.budget, window=args.window, threads=args.py2p_threads)
    set_gap_note = {"set_gap_ms": args.py2p_set_gap_ms} if args.impl == "py2p" else {}
    names = [s for s in SCENARIOS if not args.only or args.only in s]
    missing = why_not_available(args.impl)
    if missing:
        for name in names:
            print(json.dumps({"bench": "chord", "impl": impl_name, "scenario": name, "not_measured": missing}),
                  flush=True)
        print(f"\n{impl_name}: not measured: {missing}")
        return 0
    set_gap_s = args.py2p_set_gap_ms / 1000 if args.impl == "py2p" else 0.0
    net, collapsed = start_network(args.impl, args.nodes, set_gap_s)
    if net is None:
        print(json.dumps({"bench": "chord", "impl": impl_name, "scenario": "setup", "error": collapsed[-1]}))
        return 1
    nodes = len(net.pipes)
    print(json.dumps({"bench": "chord", "impl": impl_name, "scenario": "setup", "nodes": nodes,
                      "links": [list(l) for l in net.links], "failed_networks": collapsed}), flush=True)
    rows = []
    failed = False
    try:
        if any(s.startswith("get_") for s in names):
            got = checked(net.ask(net.pipes[0], ("set_many", PRELOAD_PREFIX, plan["preloaded"], 10 * args.budget),
                                  10 * args.budget + VISIBLE_DEADLINE_S + 30), "preload")
            plan["preloaded"] = max(1, got["done"])
        for name in names:
            try:
                record = run(net, args.impl, name, plan)
                # (links, storing links) per node after the scenario: py2p drops links under
                # load, and a node with none answers every read from its own table.
                record["links_after"] = [list(net.ask(p, ("links",), 10)) for p in net.pipes]
                if any(storing == 0 for _, storing in record["links_after"]):
                    record["status_after"] = [net.ask(p, ("status",), 10) for p in net.pipes]
            except Exception as e:  # noqa: BLE001 - one scenario failing does not hide the others
                failed = True
                record = {"scenario": name, "error": f"{type(e).__name__}: {e}", "error_only": str(e)}
            record = {"bench": "chord", "impl": impl_name, **record, **set_gap_note}
            print(json.dumps({k: v for k, v in record.items() if k != "error_only"}), flush=True)
            rows.append(record)
    finally:
        net.close()
    print()
    print(f"{impl_name} chord, {nodes} storing nodes, 127.0.0.1, one process per node")
    for failure in collapsed:
        print(f"  (a network that did not hold: {failure[:200]})")
    for record in rows:
        print(f"  {record['scenario']:<24} {human(record)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
