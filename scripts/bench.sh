#!/usr/bin/env bash
# make bench: rs2p's mesh throughput and latency, and how fast a sync table spreads, beside
# py2p 0.7.878, in two tables.
#   1. builds the release library and the Rust bench (benches/mesh.rs), runs it;
#   2. makes or reuses build/venv (bindings/python/tools/dev-env.sh: py2p, msgpack, rs2p);
#   3. runs benches/py_mesh.py for py2p, then for the rs2p Python wrapper (reported as
#      "not measured", with the reason, when the wrapper cannot start a node);
#   4. the sync table: benches/sync.rs (Rust API), then benches/py_sync.py for py2p (paced,
#      each scenario bounded at 20 s) and for the rs2p Python wrapper;
#   5. prints the combined tables (benches/report.py). Raw JSON lines stay in build/bench/.
# Bounded: each step has a timeout; the whole run takes about five minutes on 2 cores (py2p's
# sync scenarios take most of the added time).
# BENCH_SCALE (default 1) multiplies the message and key counts of every step; BENCH_ONLY=mesh
# or BENCH_ONLY=sync runs only that part.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

SCALE="${BENCH_SCALE:-1}"
ONLY="${BENCH_ONLY:-}"  # "mesh" or "sync": run only that part (default both)
OUT="$REPO_ROOT/build/bench"
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl

echo "== building (release)" >&2
cargo build --quiet --release --lib
rs2p_ensure_venv
rs2p_ensure_library

if [ "$ONLY" != "sync" ]; then
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

if [ "$ONLY" != "mesh" ]; then
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

echo
echo "== rs2p vs py2p 0.7.878 (127.0.0.1, $(nproc) cores, $(uname -m); raw results in build/bench/)"
"$RS2P_PYTHON" benches/report.py "$OUT"/*.jsonl
