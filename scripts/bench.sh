#!/usr/bin/env bash
# make bench: rs2p's mesh throughput and latency beside py2p 0.7.878, in one table.
#   1. builds the release library and the Rust bench (benches/mesh.rs), runs it;
#   2. makes or reuses build/venv (bindings/python/tools/dev-env.sh: py2p, msgpack, rs2p);
#   3. runs benches/py_mesh.py for py2p, then for the rs2p Python wrapper (reported as
#      "not measured", with the reason, when the wrapper cannot start a node);
#   4. prints the combined table (benches/report.py). Raw JSON lines stay in build/bench/.
# Bounded: each step has a timeout; the whole run takes about two minutes on 2 cores.
# BENCH_SCALE (default 1) multiplies the message counts of every step.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

SCALE="${BENCH_SCALE:-1}"
OUT="$REPO_ROOT/build/bench"
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl

echo "== building (release) and running the Rust bench" >&2
cargo build --quiet --release --lib
cargo bench --quiet --bench mesh --no-run
timeout 300 cargo bench --quiet --bench mesh -- --scale "$SCALE" | tee "$OUT/rs2p-rust.jsonl"

rs2p_ensure_venv
rs2p_ensure_library

echo "== py2p 0.7.878 (one process per node)" >&2
timeout 400 "$RS2P_PYTHON" benches/py_mesh.py --impl py2p --scale "$SCALE" 2>"$OUT/py2p.stderr" \
    | tee "$OUT/py2p.jsonl" || echo "py2p bench failed (exit $?); see $OUT/py2p.stderr" >&2

echo "== rs2p Python wrapper" >&2
timeout 300 "$RS2P_PYTHON" benches/py_mesh.py --impl rs2p --scale "$SCALE" 2>"$OUT/rs2p-python.stderr" \
    | tee "$OUT/rs2p-python.jsonl" || echo "rs2p-python bench failed (exit $?); see $OUT/rs2p-python.stderr" >&2

echo
echo "== rs2p vs py2p 0.7.878 (127.0.0.1, $(nproc) cores, $(uname -m); raw results in build/bench/)"
"$RS2P_PYTHON" benches/report.py "$OUT"/*.jsonl
