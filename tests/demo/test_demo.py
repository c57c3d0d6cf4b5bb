"""The network demo, run for real, both parts: a C, a Python (rs2p), a Node.js (rs2p) and a
py2p node on 127.0.0.1 must each print the other three nodes' lines (mesh part); then four
such nodes sharing one sync table must each print the same complete table, every node's key
with its value (sync part); and no process is left behind.

Run by `make test` (target test-demo) through scripts/demo.sh --test, which sets up
build/venv, bindings/node/node_modules and the library; the C node
build/examples/demo_node comes from the Makefile. Nothing here is skipped: a missing piece
fails the test with the demo's own explanation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "scripts" / "demo.py"
NAMES = ("C", "Python", "Node", "py2p")
# The demo bounds each part itself (--timeout 20 and 5 s to exit); this only catches a hang
# of the driver.
DRIVER_BOUND_S = 90
SHARED_TABLE = ", ".join(f"{name}: hello from {name}" for name in sorted(NAMES))


def assert_no_node_left(pid: int, name: str, shown: str) -> None:
    """The demo waited for (or killed) every child: none is still running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"the {name} node (pid {pid}) is still running\n{shown}")


def test_mesh_lines_reach_every_node_and_one_sync_table_is_identical_everywhere(
    tmp_path: Path,
) -> None:
    report_path = tmp_path / "demo.json"
    run = subprocess.run(
        [sys.executable, str(DEMO), "--report", str(report_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=DRIVER_BOUND_S,
    )
    shown = f"--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
    assert run.returncode == 0, f"the demo failed (status {run.returncode})\n{shown}"

    # What a user reads: each node printed "<name> got: hello from <other> from <id>".
    for name in NAMES:
        for other in NAMES:
            if other == name:
                continue
            line = re.compile(rf"^\s*{name} \| .*  {name} got: hello from {other} from \S+$", re.M)
            assert line.search(run.stdout), f"{name} never printed {other}'s line\n{shown}"
    assert "== Every node got the other nodes' lines." in run.stdout, shown

    # The sync part: each node printed the one shared table, complete, in the same words.
    for name in NAMES:
        line = re.compile(rf"^\s*{name} \| .*  {name} table: \{{(.*)\}}$", re.M)
        found = line.search(run.stdout)
        assert found, f"{name} never printed its table\n{shown}"
        assert found.group(1) == SHARED_TABLE, f"{name}'s table differs\n{shown}"
    assert "== The shared table, identical at all 4 nodes (C, Python, Node, py2p):" in run.stdout, shown

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is True, shown
    mesh_ids = set()
    for name in NAMES:
        node = report["mesh"]["nodes"][name]
        assert sorted(node["got_from"]) == sorted(n for n in NAMES if n != name), shown
        assert node["exit_status"] == 0, f"{name} exited with {node['exit_status']}\n{shown}"
        mesh_ids.add(node["id"])
        assert_no_node_left(node["pid"], name, shown)
    assert len(mesh_ids) == len(NAMES), f"node IDs are not distinct: {mesh_ids}\n{shown}"

    sync = report["sync"]
    expected = {name: f"hello from {name}" for name in NAMES}
    assert sync["ok"] is True and sync["identical"] is True, shown
    sync_ids = set()
    for name in NAMES:
        node = sync["nodes"][name]
        assert node["table"] == expected, f"{name} holds {node['table']}\n{shown}"
        assert node["exit_status"] == 0, f"{name} exited with {node['exit_status']}\n{shown}"
        sync_ids.add(node["id"])
        assert_no_node_left(node["pid"], name, shown)
    assert len(sync_ids) == len(NAMES), f"sync node IDs are not distinct: {sync_ids}\n{shown}"
