#!/usr/bin/env bash
# make bench: rs2p's mesh throughput and latency, and how fast a sync table spreads, beside
# py2p 0.7.878, in two tables.
#   1. builds the release library and the Rust bench (benches/mesh.rs), runs it;
#   2. makes or reuses build/venv (bindings/python/tools/dev-env.sh: py2p, msgpack, rs2p);
#   3. runs benches/py_mesh.py for py2p, then for the rs2p Python wrapper (reported as
#      "not measured", with the reason, when the wrapper cannot start a node);
#   4. the sync table: benches/sync.rs (Rust API), then benches/py_sync.py for py2p (paced,
#      each scenario bounded at 20 s) and for the rs2p Python wrapper;
#   5. the chord table: benches/chord.rs (Rust API, 8 storing nodes), benches/py_chord.py
#      for py2p (as many nodes as it holds, up to 8; sets paced) and for the rs2p Python
#      wrapper;
#   6. prints the combined tables (benches/report.py for mesh and sync, then
#      benches/report_chord.py). Raw JSON lines stay in build/bench/.
# Bounded: each step has a timeout; the whole run takes about five minutes on 2 cores (py2p's
# sync and chord scenarios take most of the time).
# BENCH_SCALE (default 1) multiplies the message and key counts of every step; BENCH_ONLY=mesh,
# BENCH_ONLY=sync or BENCH_ONLY=chord runs only that part.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

SCALE="${BENCH_SCALE:-1}"
ONLY="${BENCH_ONLY:-}"  # "mesh", "sync" or "chord": run only that part (default all)
OUT="$REPO_ROOT/build/bench"
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl

echo "== building (release)" >&2
cargo build --quiet --release --lib
rs2p_ensure_venv
rs2p_ensure_library

if [ -z "$ONLY" ] || [ "$ONLY" = "mesh" ]; then
echo "== running the Rust mesh bench" >&2
cargo bench --quiet --bench mesh --no-run
timeout 300 cargo bench --quiet --bench mesh -- --scale "$SCALE" | tee "$OUT/rs2p-rust.jsonl"

echo "== py2p 0.7.878 (one process per node)" >&2
timeout 400 "$RS2P_PYTHON" benches/py_mesh.py --impl py2p --scale "$SCALE" 2>"$OUT/py2p.stderr" \
    | tee "$OUT/py2p.jsonl" || echo "py2p bench failed (exit $?); see $OUT/py2p.stderr" >&2

echo "== rs2p Python wrapper" >&2
timeout 300 "$RS2P_PYTHON" benches/py_mesh.py --impl rs2p --scale "$SCALE" 2>"$OUT/rs2p-python.stderr" \
    | tee "$OUT/rs2p-python.jsonl" || echo "rs2p-python bench failed (exit $?); see $OUT/rs2p-python.stderr" >&2

fi

if [ -z "$ONLY" ] || [ "$ONLY" = "sync" ]; then
echo "== sync table: Rust bench (benches/sync.rs)" >&2
cargo bench --quiet --bench sync --no-run
timeout 300 cargo bench --quiet --bench sync -- --scale "$SCALE" | tee "$OUT/sync-rs2p-rust.jsonl" \
    || echo "sync Rust bench failed (exit $?)" >&2

echo "== sync table: py2p 0.7.878 (one process per node, paced)" >&2
timeout 900 "$RS2P_PYTHON" benches/py_sync.py --impl py2p --scale "$SCALE" 2>"$OUT/sync-py2p.stderr" \
    | tee "$OUT/sync-py2p.jsonl" || echo "py2p sync bench failed (exit $?); see $OUT/sync-py2p.stderr" >&2

echo "== sync table: rs2p Python wrapper" >&2
timeout 300 "$RS2P_PYTHON" benches/py_sync.py --impl rs2p --scale "$SCALE" 2>"$OUT/sync-rs2p-python.stderr" \
    | tee "$OUT/sync-rs2p-python.jsonl" || echo "rs2p-python sync bench failed (exit $?); see $OUT/sync-rs2p-python.stderr" >&2
fi

if [ -z "$ONLY" ] || [ "$ONLY" = "chord" ]; then
echo "== chord table: Rust bench (benches/chord.rs)" >&2
cargo bench --quiet --bench chord --no-run
timeout 600 cargo bench --quiet --bench chord -- --scale "$SCALE" | tee "$OUT/chord-rs2p-rust.jsonl" \
    || echo "chord Rust bench failed (exit $?)" >&2

echo "== chord table: py2p 0.7.878 (one process per node)" >&2
timeout 900 "$RS2P_PYTHON" benches/py_chord.py --scale "$(python3 -c "print(0.2 * $SCALE)")" --budget 20 \
    2>"$OUT/chord-py2p.stderr" | tee "$OUT/chord-py2p.jsonl" \
    || echo "py2p chord bench failed (exit $?); see $OUT/chord-py2p.stderr" >&2

echo "== chord table: rs2p Python wrapper" >&2
timeout 300 "$RS2P_PYTHON" benches/py_chord_rs2p.py 2>"$OUT/chord-rs2p-python.stderr" \
    | tee "$OUT/chord-rs2p-python.jsonl" \
    || echo "rs2p-python chord bench failed (exit $?); see $OUT/chord-rs2p-python.stderr" >&2
fi

echo
echo "== rs2p vs py2p 0.7.878 (127.0.0.1, $(nproc) cores, $(uname -m); raw results in build/bench/)"
shopt -s nullglob
tables=()
for f in "$OUT"/*.jsonl; do
    case "$(basename "$f")" in chord-*) ;; *) tables+=("$f") ;; esac
done
if [ "${#tables[@]}" -gt 0 ]; then
    "$RS2P_PYTHON" benches/report.py "${tables[@]}"
fi
chord=("$OUT"/chord-*.jsonl)
if [ "${#chord[@]}" -gt 0 ]; then
    echo
    "$RS2P_PYTHON" benches/report_chord.py "${chord[@]}"
fi
