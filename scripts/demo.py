#!/usr/bin/env python3
"""The network demo, in two parts, each a network of a C, a Python, a Node.js and a py2p node
on 127.0.0.1: first a mesh where every node broadcasts one line and prints what it received;
then a sync table (one dictionary held by every node) where every node writes its own key and
prints the whole table, which must come out identical at all four nodes.

Run it through scripts/demo.sh (or `make demo`), which builds the library and the C example
and sets up build/venv and bindings/node/node_modules. By hand, from the repository root:

    build/venv/bin/python scripts/demo.py [--nodes C,Python,Node,py2p] [--hub Python]
                                          [--part both|mesh|sync]

How the mesh part goes: the hub node starts first (on a free port); the others start and dial it. Each
node reports its handshakes (``connected <n> <peer id>``); once every node has announced
itself (``ready <port> <id>``) and the reported links connect all of them, each gets ``go``
on stdin and broadcasts ``hello from <name>``. Every node's output is shown prefixed with
its name. When all have received the others' lines (or the time is up), their stdin closes
and they exit. A summary says who got what from whom; the exit status is 0 only if every
node got every other node's line and exited cleanly. Every child is killed if still running
when this script ends, whatever the reason. Each part is bounded by --timeout (plus 5 s for
the nodes to exit).

How the sync part goes: the same, with every node started with --sync (a sync table node of
py2p's default table: subnet 'sync', leasing on) and --stay. On ``go`` each node sets the key
<name> to ``hello from <name>``; once its table holds one key per node it prints
``<name> table: {C: hello from C, ...}`` (keys sorted). When every node has printed its table,
their stdin closes and they exit. The summary shows the shared table and whether it is
complete (every node's key with its value) and identical at every node; the exit status is 0
only if both parts succeeded.

The node programs are examples/demo_node.c (build/examples/demo_node), examples/demo_node.py
(rs2p Python bindings), examples/demo_node.js (rs2p Node bindings) and examples/demo_py2p.py
(py2p 0.7.878, the reference implementation). They share one command line and stdout
protocol, documented at the top of each.

Not done here: building anything, installing anything (scripts/demo.sh does that).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, IO, List, Optional, Set, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
KINDS = ("C", "Python", "Node", "py2p")
# Kinds whose program reports its own handshakes with `connected` lines for sure. The C
# program may or may not; for it, the other side's report of the link is enough.
REPORTS_LINKS = {"Python", "Node", "py2p"}
# Kinds whose program knows --stay (keep relaying after N messages until stdin closes).
KNOWS_STAY = {"Python", "Node", "py2p"}

READY = re.compile(r"^ready (\d+) (\S+)$")
LINK = re.compile(r"^(connected|disconnected) (\d+) (\S+)$")
GOT = re.compile(r"^(\S+) got: (.*) from (\S+)$")
HELLO = re.compile(r"^hello from (\S+)$")
TABLE = re.compile(r"^(\S+) table: \{(.*)\}$")


@dataclass
class Node:
    name: str
    kind: str
    proc: Optional["subprocess.Popen[str]"] = None
    port: Optional[int] = None
    node_id: Optional[str] = None
    peers: Set[str] = field(default_factory=set)  # peer IDs, as this node reports them
    reported_links: bool = False
    got: List[Tuple[str, str]] = field(default_factory=list)  # (text, short sender id)
    stdout_closed: bool = False
    exit_status: Optional[int] = None
    table: Optional[str] = None  # sync part: what the node printed between the braces


def parse_table(text: str) -> Dict[str, str]:
    """``C: hello from C, Node: hello from Node`` as a dict (the demo's values hold no commas)."""
    entries: Dict[str, str] = {}
    for item in filter(None, text.split(", ")):
        key, _, value = item.partition(": ")
        entries[key] = value
    return entries


def rs2p_default_subnet() -> str:
    """The subnet rs2p nodes join by default. py2p's MeshSocket defaults to another one
    ('mesh'), so the py2p node is told to use this one: nodes of different subnets refuse
    each other's handshakes."""
    from rs2p import mesh  # build/venv has the bindings installed (scripts/demo.sh)

    return str(mesh.default_protocol.subnet)


def command_for(kind: str, c_node: Path, sync: bool) -> List[str]:
    if kind == "C":
        cmd = [str(c_node)]
    elif kind == "Python":
        cmd = [sys.executable, str(REPO_ROOT / "examples" / "demo_node.py")]
    elif kind == "Node":
        cmd = ["node", str(REPO_ROOT / "examples" / "demo_node.js")]
    elif sync:
        # py2p's SyncSocket and rs2p's sync nodes default to the same table ('sync' + '1').
        cmd = [sys.executable, str(REPO_ROOT / "examples" / "demo_py2p.py")]
    else:
        subnet = rs2p_default_subnet()
        cmd = [sys.executable, str(REPO_ROOT / "examples" / "demo_py2p.py"), "--subnet", subnet]
    return cmd + ["--sync"] if sync else cmd


def named(kinds: List[str]) -> List[Tuple[str, str]]:
    """(name, kind) per node: the kind, numbered when it repeats (``Python-1``, ``Python-2``)."""
    counts = {k: kinds.count(k) for k in kinds}
    seen: Dict[str, int] = {}
    nodes = []
    for kind in kinds:
        seen[kind] = seen.get(kind, 0) + 1
        nodes.append((kind if counts[kind] == 1 else f"{kind}-{seen[kind]}", kind))
    return nodes


class Demo:
    """One part of the demo: the mesh (``sync=False``) or the sync table (``sync=True``)."""

    def __init__(
        self, kinds: List[str], hub: str, timeout: float, c_node: Path, sync: bool = False
    ) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.c_node = c_node
        self.sync = sync
        self.events: "queue.Queue[Tuple[str, str, str]]" = queue.Queue()
        self.nodes = [Node(name, kind) for name, kind in named(kinds)]
        self.hub = next(n for n in self.nodes if n.kind == hub)
        self.by_name = {n.name: n for n in self.nodes}
        self.width = max(len(n.name) for n in self.nodes)

    # --- output ---------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def note(self, text: str) -> None:
        print(f"{'':>{self.width}}   {self.elapsed():5.2f}s  {text}", flush=True)

    def show(self, node: Node, line: str, stream: str) -> None:
        mark = "!" if stream == "err" else "|"
        print(f"{node.name:>{self.width}} {mark} {self.elapsed():5.2f}s  {line}", flush=True)

    # --- processes ------------------------------------------------------------------

    def start(self, node: Node, connect: Optional[int]) -> None:
        cmd = command_for(node.kind, self.c_node, self.sync)
        # Mesh: the other nodes' lines; sync: keys in the table, the node's own included.
        expect = len(self.nodes) if self.sync else len(self.nodes) - 1
        cmd += ["--name", node.name, "--port", "0", "--expect", str(expect)]
        # The nodes' own timeout is the time left (whole seconds: the C node's parser may
        # take no fraction), so they stop by themselves in time.
        cmd += ["--timeout", str(max(1, int(self.remaining())))]
        if connect is not None:
            cmd += ["--connect", f"127.0.0.1:{connect}"]
        if node.kind in KNOWS_STAY or self.sync:  # every sync node knows --stay
            cmd.append("--stay")
        try:
            node.proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        except OSError as err:
            raise DemoFailed(f"cannot start the {node.name} node ({cmd[0]}): {err}") from err
        assert node.proc.stdout is not None and node.proc.stderr is not None
        for stream, pipe in (("out", node.proc.stdout), ("err", node.proc.stderr)):
            threading.Thread(
                target=self._pump, args=(node.name, stream, pipe), daemon=True
            ).start()

    def _pump(self, name: str, stream: str, pipe: IO[str]) -> None:
        for line in pipe:
            self.events.put((name, stream, line.rstrip("\r\n")))
        self.events.put((name, stream + "-eof", ""))

    def kill_all(self) -> None:
        for node in self.nodes:
            proc = node.proc
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()

    def send_line(self, node: Node, line: Optional[str]) -> None:
        """Writes ``line`` to the node's stdin, or closes stdin when ``line`` is None."""
        proc = node.proc
        if proc is None or proc.stdin is None or proc.stdin.closed:
            return
        try:
            if line is None:
                proc.stdin.close()
            else:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has exited already; its status will tell

    # --- events ---------------------------------------------------------------------

    def pump_until(self, condition, what: str) -> None:  # type: ignore[no-untyped-def]
        """Handles the nodes' output until ``condition()`` holds; DemoFailed at the deadline
        or if a node exits first."""
        while not condition():
            try:
                name, stream, line = self.events.get(timeout=self.remaining())
            except queue.Empty:
                raise DemoFailed(f"timed out after {self.elapsed():.1f} s waiting for {what}")
            self.handle(self.by_name[name], stream, line)

    def handle(self, node: Node, stream: str, line: str) -> None:
        if stream == "out-eof":
            node.stdout_closed = True
            return
        if stream == "err-eof":
            return
        self.show(node, line, stream)
        if stream != "out":
            return
        if m := READY.match(line):
            node.port, node.node_id = int(m.group(1)), m.group(2)
        elif m := LINK.match(line):
            node.reported_links = True
            (node.peers.add if m.group(1) == "connected" else node.peers.discard)(m.group(3))
        elif m := GOT.match(line):
            node.got.append((m.group(2), m.group(3)))
        elif (m := TABLE.match(line)) and m.group(1) == node.name:
            node.table = m.group(2)

    def exited_early(self) -> Optional[Node]:
        return next((n for n in self.nodes if n.stdout_closed and not self.has_all(n)), None)

    def network_formed(self) -> bool:
        if any(n.node_id is None for n in self.nodes):
            return False
        for node in self.nodes:
            must_report = node.kind in REPORTS_LINKS or node.reported_links
            if must_report and not node.peers:
                return False
        by_id = {n.node_id: n.name for n in self.nodes}
        parent = {n.name: n.name for n in self.nodes}

        def root(name: str) -> str:
            while parent[name] != name:
                name = parent[name]
            return name

        for node in self.nodes:
            for peer_id in node.peers:
                other = by_id.get(peer_id)
                if other is not None:
                    parent[root(node.name)] = root(other)
        return len({root(n.name) for n in self.nodes}) == 1

    def senders(self, node: Node) -> Set[str]:
        return {m.group(1) for text, _ in node.got if (m := HELLO.match(text))}

    def has_all(self, node: Node) -> bool:
        if self.sync:
            return node.table is not None  # printed only once it holds one key per node
        others = {n.name for n in self.nodes if n is not node}
        return others <= self.senders(node)

    def expected_table(self) -> Dict[str, str]:
        return {n.name: f"hello from {n.name}" for n in self.nodes}

    def fail_if_one_died(self) -> bool:
        dead = self.exited_early()
        if dead is not None:
            what = "printed the whole table" if self.sync else "got every line"
            raise DemoFailed(f"the {dead.name} node ended before it {what}")
        return False

    # --- the run ---------------------------------------------------------------------

    def run(self) -> None:
        self.note(f"starting the hub, {self.hub.name}")
        self.start(self.hub, None)
        self.pump_until(lambda: self.fail_if_one_died() or self.hub.port is not None,
                        f"the {self.hub.name} node to be ready")
        others = [n for n in self.nodes if n is not self.hub]
        self.note(f"starting {', '.join(n.name for n in others)}; each dials "
                  f"{self.hub.name} at 127.0.0.1:{self.hub.port}")
        for node in others:
            self.start(node, self.hub.port)
        self.pump_until(lambda: self.fail_if_one_died() or self.network_formed(),
                        "every node to be ready and linked into one network")
        if self.sync:
            self.note("network formed; sending go: each node writes the key <its name>")
        else:
            self.note("network formed; sending go to every node")
        for node in self.nodes:
            self.send_line(node, "go")
        if self.sync:
            self.pump_until(lambda: self.fail_if_one_died() or all(map(self.has_all, self.nodes)),
                            "every node to hold every node's key")
            self.note("every node printed its table; closing their stdin")
            return
        self.pump_until(lambda: self.fail_if_one_died() or all(map(self.has_all, self.nodes)),
                        "every node to receive every other node's line")
        self.note("every node got every line; closing their stdin")

    def finish(self) -> None:
        """Closes every stdin and waits (bounded) for the nodes to exit, then kills the rest."""
        for node in self.nodes:
            self.send_line(node, None)
        grace = time.monotonic() + 5.0
        for node in self.nodes:
            if node.proc is None:
                continue
            try:
                node.exit_status = node.proc.wait(timeout=max(0.0, grace - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.note(f"{node.name} did not exit in time; killing it")
        self.kill_all()
        # Show whatever the nodes printed on their way out.
        while True:
            try:
                name, stream, line = self.events.get_nowait()
            except queue.Empty:
                break
            self.handle(self.by_name[name], stream, line)

    def sync_summary(self) -> Tuple[bool, Dict[str, object]]:
        """The sync part: one table, complete and the same at every node."""
        expected = self.expected_table()
        print()
        print(f"== Sync table summary: {len(self.nodes)} nodes, {self.elapsed():.1f} s")
        report: Dict[str, object] = {"seconds": round(self.elapsed(), 2), "nodes": {}}
        nodes = report["nodes"]
        assert isinstance(nodes, dict)
        ok = True
        for node in self.nodes:
            table = parse_table(node.table) if node.table is not None else None
            missing = sorted(k for k in expected if table is None or table.get(k) != expected[k])
            extra = sorted(k for k in (table or {}) if k not in expected)
            clean = node.exit_status == 0
            good = table is not None and not missing and not extra and clean
            ok = ok and good
            if table is None:
                what = "printed no table"
            else:
                what = f"{len(table)}/{len(expected)} keys"
                if missing:
                    what += f"; missing or wrong: {', '.join(missing)}"
                if extra:
                    what += f"; unexpected: {', '.join(extra)}"
            status = node.exit_status
            print(f"  {node.name:<{self.width}} {'ok' if good else 'FAILED':6} {what}; exit status "
                  f"{status if status is not None else 'none (killed)'}")
            nodes[node.name] = {
                "kind": node.kind,
                "pid": node.proc.pid if node.proc is not None else None,
                "id": node.node_id,
                "table": table,
                "missing": missing,
                "exit_status": status,
            }
        printed = {n.table for n in self.nodes}
        identical = len(printed) == 1 and None not in printed
        ok = ok and identical
        report["identical"] = identical
        report["expected"] = expected
        report["ok"] = ok
        if ok:
            print(f"== The shared table, identical at all {len(self.nodes)} nodes "
                  f"({', '.join(n.name for n in self.nodes)}):")
            for key, value in sorted(expected.items()):
                print(f"     {key}: {value}")
        elif not identical:
            print("== The sync part FAILED: the nodes' tables differ (or some printed none).")
        else:
            print("== The sync part FAILED.")
        return ok, report

    def summary(self) -> Tuple[bool, Dict[str, object]]:
        if self.sync:
            return self.sync_summary()
        ok = True
        print()
        print(f"== Mesh summary: {len(self.nodes)} nodes, {self.elapsed():.1f} s")
        ids = {n.name: n.node_id or "" for n in self.nodes}
        report: Dict[str, object] = {"seconds": round(self.elapsed(), 2), "nodes": {}}
        for node in self.nodes:
            others = [n.name for n in self.nodes if n is not node]
            got = []
            for text, short in node.got:
                m = HELLO.match(text)
                sender = m.group(1) if m else None
                # The line names its sender; the short ID must agree with that node's ID.
                if sender in ids and not ids[sender].startswith(short):
                    got.append(f"{text!r} from {short} (not {sender}'s ID!)")
                    ok = False
                else:
                    got.append(sender or repr(text))
            missing = [o for o in others if o not in self.senders(node)]
            status = node.exit_status
            clean = status == 0
            ok = ok and not missing and clean
            verdict = "ok" if not missing and clean else "FAILED"
            line = f"  {node.name:<{self.width}} {verdict:6} got {len(others) - len(missing)}/{len(others)}"
            line += f": {', '.join(got) if got else 'nothing'}"
            if missing:
                line += f"; missing {', '.join(missing)}"
            line += f"; exit status {status if status is not None else 'none (killed)'}"
            print(line)
            nodes = report["nodes"]
            assert isinstance(nodes, dict)
            nodes[node.name] = {
                "kind": node.kind,
                "pid": node.proc.pid if node.proc is not None else None,
                "id": node.node_id,
                "got_from": sorted(self.senders(node)),
                "missing": missing,
                "exit_status": status,
            }
        report["ok"] = ok
        print("== Every node got the other nodes' lines." if ok else "== The demo FAILED.")
        return ok, report


class DemoFailed(Exception):
    pass


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nodes",
        default=",".join(KINDS),
        help=f"comma-separated node kinds, repeats allowed (default {','.join(KINDS)})",
    )
    parser.add_argument("--hub", default="Python", help="the kind the others dial (default Python)")
    parser.add_argument("--timeout", type=float, default=20.0, help="bound on each part, s")
    parser.add_argument(
        "--part",
        choices=("both", "mesh", "sync"),
        default="both",
        help="run the mesh part, the sync table part, or both, one after the other (default)",
    )
    parser.add_argument(
        "--c-node",
        type=Path,
        default=REPO_ROOT / "build" / "examples" / "demo_node",
        help="the C node program (default build/examples/demo_node)",
    )
    parser.add_argument("--report", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.nodes.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or len(kinds) < 2:
        parser.error(f"--nodes takes at least two of {', '.join(KINDS)}; got {args.nodes!r}")
    if args.hub not in kinds:
        args.hub = kinds[0]
    args.kinds = kinds
    if "C" in kinds and not args.c_node.is_file():
        parser.error(f"the C node program {args.c_node} is missing: run `make demo` (it builds it)")
    return args


def run_part(demo: Demo) -> Tuple[bool, Dict[str, object]]:
    """Runs one part to the end (children always reaped) and prints its summary."""
    try:
        try:
            demo.run()
        except DemoFailed as err:
            demo.note(f"problem: {err}")
        demo.finish()
    finally:
        demo.kill_all()
    return demo.summary()


def main() -> int:
    args = parse_args()
    # A SIGTERM (e.g. from a test's timeout) unwinds like Ctrl-C, so the children are killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: Dict[str, object] = {}
    ok = True
    names = ", ".join(name for name, _ in named(args.kinds))
    legend = "(lines: name | seconds since the part began | what the node printed; ! = its stderr)"
    if args.part in ("both", "mesh"):
        print(f"== Network demo, part 1, mesh: {names} on 127.0.0.1 each broadcast a line "
              f"{legend}")
        part_ok, report["mesh"] = run_part(Demo(args.kinds, args.hub, args.timeout, args.c_node))
        ok = ok and part_ok
    if args.part in ("both", "sync"):
        print()
        print(f"== Network demo, part 2, sync table: {names} on 127.0.0.1 share one table; "
              f"each writes its own key {legend}")
        demo = Demo(args.kinds, args.hub, args.timeout, args.c_node, sync=True)
        part_ok, report["sync"] = run_part(demo)
        ok = ok and part_ok
    report["ok"] = ok
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
