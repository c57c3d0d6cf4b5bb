"""Combines the JSON lines of benches/mesh.rs, benches/py_mesh.py, benches/sync.rs and
benches/py_sync.py into two tables (mesh, then sync table).

    python3 benches/report.py build/bench/*.jsonl

Reads every line that starts with ``{"bench"``; ignores the rest. Prints Markdown tables:
scenario | rs2p (Rust) | rs2p (Python wrapper) | py2p | ratio rs2p/py2p, then notes (losses,
py2p's pacing, what was not measured). Standard library only. Not a measurement itself.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Tuple

IMPLS = ("rs2p-rust", "rs2p-python", "py2p")
ORDER = (
    "throughput_64B_1hop",
    "throughput_4KiB_1hop",
    "throughput_64B_3hop",
    "throughput_4KiB_3hop",
    "latency_64B_1hop",
    "latency_64B_3hop",
)


def load(paths: List[str], bench: str) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """The records of one bench ("mesh" or "sync"), by (impl, scenario)."""
    records: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith('{"bench"'):
                    record = json.loads(line)
                    if record.get("bench") == bench:
                        records[(record["impl"], record["scenario"])] = record
    return records


def label(scenario: str, metric: str) -> str:
    kind, size, hops = scenario.split("_")
    size = size.replace("KiB", " KiB") if size.endswith("KiB") else size.replace("B", " B")
    hop_text = "1 hop" if hops == "1hop" else f"{hops[:-3]} hops"
    if kind == "throughput":
        return f"broadcast {size}, {hop_text} (msg/s)"
    return f"latency {metric.replace('_us', '')} {size}, {hop_text} (µs)"


def value(record: Optional[Dict[str, Any]], metric: str) -> Optional[float]:
    if not record or "not_measured" in record or "error" in record and metric not in record:
        return None
    number = record.get(metric)
    return float(number) if number is not None else None


def cell(record: Optional[Dict[str, Any]], metric: str, notes: List[str]) -> str:
    if record is None:
        return "not run"
    if "not_measured" in record:
        return "not measured"
    number = value(record, metric)
    if number is None:
        notes.append(f"{record['impl']} {record['scenario']}: {record.get('error', 'no result')}")
        return "error"
    text = f"{number:,.0f}" if metric == "msgs_per_s" else f"{number:,.1f}"
    marks = ""
    if record.get("lost") or record.get("duplicates") or record.get("error"):
        marks = " (!)"
        notes.append(
            f"{record['impl']} {record['scenario']}: lost {record.get('lost')} of {record.get('sent')}, "
            f"duplicates {record.get('duplicates')}; {record.get('error') or ''} "
            f"{json.dumps(record.get('drops') or record.get('nodes') or {})[:300]}"
        )
    return text + marks


def sync_label(record: Dict[str, Any]) -> str:
    return f"{record['keys']:,} keys to a {record['shape']} of {record['nodes']}"


def sync_cell(record: Optional[Dict[str, Any]], notes: List[str]) -> str:
    """Time to every node (ms), or, for an unfinished run, how far it got."""
    if record is None:
        return "not run"
    if "not_measured" in record:
        return "not measured"
    if "seconds" not in record:
        notes.append(f"{record['impl']} {record['scenario']}: {record.get('error', 'no result')}")
        return "error"
    if not record.get("complete"):
        notes.append(
            f"{record['impl']} {record['scenario']}: unfinished at the {record.get('deadline_s', '?')} s "
            f"deadline; keys held per node {record.get('held')}"
            + (f", peers {record.get('peers')} of {record.get('peers_wanted')} (links lost"
               + (f"; py2p: {last_line(record['py2p_error'])}" if record.get("py2p_error") else "") + ")"
               if record.get("links_lost") else "")
        )
        return f"> {record['seconds']:,.0f} s ({record['min_keys_reached']:,} keys, {record['keys_per_s']:,.0f} keys/s)"
    text = f"{record['seconds'] * 1e3:,.1f} ms ({record['keys_per_s']:,.0f} keys/s)"
    if record.get("error") or record.get("links_lost"):
        notes.append(f"{record['impl']} {record['scenario']}: {record.get('error') or 'links lost'}")
        text += " (!)"
    return text


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else text)[:60] + "..."


def times(ratio: float) -> str:
    """A ratio for the table: three significant digits, no exponent."""
    return f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"


def sync_main(paths: List[str]) -> None:
    records = load(paths, "sync")
    if not records:
        return
    order: List[Tuple[int, str, str]] = []
    for (_, scenario), r in records.items():
        entry = (r.get("keys", 0), r.get("shape", ""), scenario)
        if entry not in order:
            order.append(entry)
    order.sort()
    notes: List[str] = []
    print()
    print("Sync table: N keys written at one node until every node holds all N (time, and N / time)")
    print()
    print("| scenario | rs2p (Rust) | rs2p (Python wrapper) | py2p | ratio py2p/rs2p time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for _, _, scenario in order:
        found = [records.get((impl, scenario)) for impl in IMPLS]
        some = next(r for r in found if r is not None and "keys" in r) if any(
            r is not None and "keys" in r for r in found) else None
        label_text = sync_label(some) if some else scenario
        cells = [sync_cell(r, notes) for r in found]
        rust, py2p = found[0], found[2]
        ratio = "–"
        if rust and py2p and rust.get("complete") and "keys_per_s" in py2p and py2p.get("keys_per_s"):
            if py2p.get("complete"):
                ratio = f"{times(py2p['seconds'] / rust['seconds'])}×"
            else:  # by rate: py2p did not finish
                ratio = f"≥ {times(rust['keys_per_s'] / py2p['keys_per_s'])}× (by keys/s)"
        print(f"| {label_text} | " + " | ".join(cells) + f" | {ratio} |")
    print()
    print("ratio = py2p's time / rs2p's (Rust API): how many times faster rs2p spreads the table; "
          "when py2p did not finish, the ratio of rates (a lower bound).")
    paced = [r for (impl, _), r in records.items() if impl == "py2p" and r.get("batch_gap_ms")]
    if paced:
        gaps = ", ".join(
            f"{r['scenario']} {r['batch']} keys / {r['batch_gap_ms']:g} ms"
            + (f" ({len(r['failed_tries'])} faster tries lost links)" if r.get("failed_tries") else "")
            for r in paced
        )
        print(f"py2p writes were paced (batches, then a wait; py2p drops links under bursts): {gaps}.")
    for reason in sorted({r["not_measured"] for r in records.values() if "not_measured" in r}):
        print(f"not measured: {reason}")
    for note in dict.fromkeys(notes):
        print(f"(!) {note}")


def main() -> int:
    records = load(sys.argv[1:], "mesh")
    if not records:
        sync_main(sys.argv[1:])
        return 0
    scenarios = [s for s in ORDER if any((i, s) in records for i in IMPLS)]
    notes: List[str] = []
    rows = [
        "| scenario | rs2p (Rust) | rs2p (Python wrapper) | py2p | ratio rs2p/py2p | ratio rs2p-python/py2p |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario in scenarios:
        metrics = ["msgs_per_s"] if scenario.startswith("throughput") else ["p50_us", "p99_us"]
        for metric in metrics:
            found = [records.get((impl, scenario)) for impl in IMPLS]
            cells = [cell(r, metric, notes) for r in found]
            rust, python, py2p = (value(r, metric) for r in found)
            ratio = f"{rust / py2p:,.3g}×" if rust and py2p else "–"
            py_ratio = f"{python / py2p:,.3g}×" if python and py2p else "–"
            rows.append(f"| {label(scenario, metric)} | " + " | ".join(cells) + f" | {ratio} | {py_ratio} |")
    print("\n".join(rows))
    print()
    print("ratio = rs2p / py2p (Rust, then the Python wrapper): above 1 is faster for throughput; below 1 is faster for latency.")
    paced = [r for (impl, _), r in records.items() if impl == "py2p" and r.get("pace_gap_us")
             and r.get("kind") == "throughput"]
    if paced:
        gaps = ", ".join(
            f"{r['scenario']} {r['pace_gap_us']:.0f} µs"
            + (f" ({len(r['failed_tries'])} faster tries lost the link)" if r.get("failed_tries") else "")
            for r in paced
        )
        print(f"py2p throughput sends were paced (one send per gap; py2p drops links under bursts): {gaps}.")
    reasons = {r["not_measured"] for r in records.values() if "not_measured" in r}
    for reason in sorted(reasons):
        print(f"not measured: {reason}")
    for note in dict.fromkeys(notes):
        print(f"(!) {note}")
    sync_main(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
