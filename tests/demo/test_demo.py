"""The network demo, run for real: a C, a Python (rs2p), a Node.js (rs2p) and a py2p node on
127.0.0.1 must each print the other three nodes' lines, and leave no process behind.

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
# The demo bounds itself (--timeout 20 and 5 s to exit); this only catches a hang of the driver.
DRIVER_BOUND_S = 60


def test_every_node_prints_the_other_three_lines_and_no_node_is_left(tmp_path: Path) -> None:
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

    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is True, shown
    ids = set()
    for name in NAMES:
        node = report["nodes"][name]
        assert sorted(node["got_from"]) == sorted(n for n in NAMES if n != name), shown
        assert node["exit_status"] == 0, f"{name} exited with {node['exit_status']}\n{shown}"
        ids.add(node["id"])
        # The demo waited for (or killed) every child: none is still running.
        pid = node["pid"]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            pass
        else:
            raise AssertionError(f"the {name} node (pid {pid}) is still running\n{shown}")
    assert len(ids) == len(NAMES), f"node IDs are not distinct: {ids}\n{shown}"
