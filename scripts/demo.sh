#!/usr/bin/env bash
# The network demo, set up and run: a C, a Python (rs2p), a Node.js (rs2p) and a py2p 0.7.878
# node on 127.0.0.1 each broadcast one line (mesh part), then four such nodes share one sync
# table, each writing its own key, and print it (sync part); scripts/demo.py drives them and
# prints a summary of each part.
#
#   scripts/demo.sh [demo.py options]     run the demo (e.g. --nodes Python,py2p --part sync)
#   scripts/demo.sh --test [pytest args]  run tests/demo instead (the demo, checked by pytest)
#
# Sets up, idempotently: build/venv (py2p, msgpack, pytest, rs2p editable), the Node
# dependencies in bindings/node/node_modules, target/release/librs2p.so (unless RS2P_LIBRARY
# is set). It does not build the C node build/examples/demo_node: `make demo` does (or
# `make build/examples/demo_node`); demo.py says so if it is missing.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"
rs2p_ensure_venv
# shellcheck source=../bindings/node/tools/dev-env.sh
source "$REPO_ROOT/bindings/node/tools/dev-env.sh"
rs2p_ensure_node_modules
rs2p_ensure_library

cd "$REPO_ROOT"
if [ "${1:-}" = "--test" ]; then
    shift
    exec "$RS2P_PYTHON" -m pytest -p no:cacheprovider tests/demo "$@"
fi
exec "$RS2P_PYTHON" scripts/demo.py "$@"
