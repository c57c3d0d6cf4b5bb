"""Combines the JSON lines of benches/chord.rs, benches/py_chord.py (py2p) and
benches/py_chord_rs2p.py (rs2p Python wrapper) into one table.

    python3 benches/report_chord.py build/bench/chord-*.jsonl

Reads every line that starts with ``{"bench": "chord"`` (any spacing); ignores the rest.
Prints a Markdown table: figure | rs2p (Rust) | rs2p (Python wrapper) | py2p | ratio
rs2p/py2p | ratio rs2p-python/py2p, then notes: network sizes, py2p's failures, what was not
measured, wrong or failed reads, the issue's targets. Standard library only. Not a
measurement itself.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Tuple

IMPLS = ("rs2p-rust", "rs2p-python", "py2p")
#: (scenario, metric, label, higher is better)
ROWS = (
    ("get_latency", "p50_us", "get latency p50 (µs)", False),
    ("get_latency", "p99_us", "get latency p99 (µs)", False),
    ("set_latency", "p50_us", "set until readable p50 (µs)", False),
    ("set_latency", "p99_us", "set until readable p99 (µs)", False),
    ("get_throughput_1thread", "ops_per_s", "gets/s, 1 thread, many in flight", True),
    ("get_throughput_1thread_w100", "ops_per_s", "gets/s, 1 thread, window 100", True),
    ("get_throughput_2thread", "ops_per_s", "gets/s, 2 threads (2 nodes)", True),
    ("set_throughput_1thread", "ops_per_s", "sets/s, 1 writer (until last key readable)", True),
    ("set_throughput_2thread", "ops_per_s", "sets/s, 2 writers (until last key readable)", True),
    ("get_throughput_1thread", "cpu_us_per_op", "CPU per get, all threads (µs)", False),
    ("set_throughput_1thread", "cpu_us_per_op", "CPU per set, all threads (µs)", False),
)
TARGETS = {("get_latency", "p50_us"): ("≤", 500.0), ("get_throughput_1thread", "ops_per_s"): ("≥", 50_000.0)}


def load(paths: List[str]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    records: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith('{"bench"'):
                    continue
                record = json.loads(line)
                if record.get("bench") == "chord":
                    records[(record["impl"], record["scenario"])] = record
    return records


def isolated(record: Dict[str, Any]) -> bool:
    """Node 0 (where the Python benches measure) had no storing link left after the scenario:
    its reads and writes only touched its own table, so the figure is not a network's."""
    links = record.get("links_after")
    return bool(links) and links[0][1] == 0


def broken(record: Dict[str, Any]) -> bool:
    """A figure that does not describe working reads: errors, fewer good reads than bad, or
    a measuring node cut off from the network."""
    if "error" in record or isolated(record):
        return True
    bad = (record.get("wrong") or 0) + (record.get("failed") or 0)
    return bad > 0 and bad >= (record.get("ok") or 0)


def value(record: Optional[Dict[str, Any]], metric: str) -> Optional[float]:
    if not record or "not_measured" in record or broken(record):
        return None
    if record.get("kind") == "latency" and not record.get("samples"):
        return None
    number = record.get(metric)
    return float(number) if number is not None else None


def cell(record: Optional[Dict[str, Any]], metric: str, notes: List[str]) -> str:
    if record is None:
        return "not run"
    if "not_measured" in record:
        return "not measured"
    if metric not in record:
        return "–"
    number = value(record, metric)
    bad = (record.get("wrong") or 0) + (record.get("failed") or 0)
    where = f"{record['impl']} {record['scenario']}"
    if number is None:
        reason = record.get("error") or ("node 0 had lost every storing link (local table only)"
                                          if isolated(record) else None) or (
            f"{bad} of {bad + (record.get('ok') or 0)} reads wrong or failed" if bad else "no samples"
        )
        notes.append(f"{where}: {reason}; {record.get('first_problem', '')}".rstrip("; "))
        return "failed"
    if metric.endswith("_us"):
        text = f"{number:,.1f}" if number < 100 else f"{number:,.0f}"
    else:
        text = f"{number:,.0f}" if number >= 100 else f"{number:,.1f}"
    marks = ""
    if bad:
        marks += " (!)"
        notes.append(f"{where}: {bad} reads wrong or failed; {record.get('first_problem', '')}")
    if record.get("budget_hit"):
        marks += " (b)"
    return text + marks


def ratio(a: Optional[float], b: Optional[float], higher_better: bool) -> str:
    """How many times better rs2p is than py2p (above 1: rs2p better)."""
    if not a or not b:
        return "–"
    r = a / b if higher_better else b / a
    return f"{r:,.3g}×"


def main() -> int:
    records = load(sys.argv[1:])
    notes: List[str] = []
    rows = [
        "| figure | rs2p (Rust) | rs2p (Python wrapper) | py2p 0.7.878 | rs2p/py2p | rs2p-python/py2p |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, metric, label, higher in ROWS:
        found = [records.get((impl, scenario)) for impl in IMPLS]
        if not any(found):
            continue
        cells = [cell(r, metric, notes) for r in found]
        rust, python, py2p = (value(r, metric) for r in found)
        rows.append(
            f"| {label} | " + " | ".join(cells) + f" | {ratio(rust, py2p, higher)} | {ratio(python, py2p, higher)} |"
        )
    print("\n".join(rows))
    print()
    print("ratios: how many times better than py2p (faster, or lower latency); – where a side has no figure.")
    print("(b): cut short by the time budget (py2p); the figure is over what it reached. (!): some reads wrong or failed.")
    for impl in IMPLS:
        setup = records.get((impl, "setup"))
        if not setup:
            continue
        if "error" in setup:
            print(f"{impl}: the network did not start: {setup['error']}")
            continue
        line = f"{impl}: {setup.get('nodes')} storing nodes"
        if setup.get("failed_networks"):
            line += "; bigger networks that did not hold: " + " | ".join(s[:160] for s in setup["failed_networks"])
        print(line)
    for impl in IMPLS:
        after = [
            (s, r["links_after"]) for (i, s), r in records.items() if i == impl and r.get("links_after")
        ]
        lost = [s for s, links in after if any(storing == 0 for _, storing in links)]
        if lost:
            print(f"{impl}: nodes without any storing link after: {', '.join(lost)} (reads there answer from the local table only)")
    for (scenario, metric), (sign, target) in TARGETS.items():
        got = value(records.get(("rs2p-rust", scenario)), metric)
        if got is None:
            continue
        met = got <= target if sign == "≤" else got >= target
        print(f"target {scenario} {metric} {sign} {target:,.0f}: {got:,.1f} ({'met' if met else 'NOT met'})")
    reasons = {r["not_measured"] for r in records.values() if "not_measured" in r}
    for reason in sorted(reasons):
        print(f"not measured: {reason}")
    for note in dict.fromkeys(notes):
        print(f"(!) {note[:400]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
