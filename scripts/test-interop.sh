#!/usr/bin/env bash
# Runs the interop tests (tests/interop): rs2p against the reference py2p 0.7.878 and
# js2p 0.7.870, bad input against an rs2p node, and the harness's own facts about the
# references. First run: makes build/venv (pytest, msgpack, py2p, the rs2p package; see
# bindings/python/tools/dev-env.sh), runs `npm install --ignore-scripts` in tests/interop
# (js2p), builds the library. Later runs reuse all of that.
# Extra arguments go to pytest (e.g. -k burst). Set RS2P_LIBRARY to test another build.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INTEROP_DIR="$REPO_ROOT/tests/interop"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

ensure_js2p() {
    # Reinstall only when js2p is missing or the manifest changed since the last install.
    local stamp="$INTEROP_DIR/node_modules/.rs2p-installed"
    if [ ! -d "$INTEROP_DIR/node_modules/js2p" ] || [ ! -e "$stamp" ] \
        || [ "$INTEROP_DIR/package.json" -nt "$stamp" ] || [ "$INTEROP_DIR/package-lock.json" -nt "$stamp" ]; then
        echo "==> npm install --ignore-scripts in tests/interop (js2p 0.7.870)" >&2
        (cd "$INTEROP_DIR" && npm install --ignore-scripts --no-audit --no-fund --silent)
        touch "$stamp"
    fi
}

rs2p_ensure_venv
ensure_js2p
rs2p_ensure_library

export PY2P_PYTHON="$RS2P_PYTHON"  # the python that runs py2p_peer.py
status=0
"$RS2P_PYTHON" -m pytest -p no:cacheprovider "$INTEROP_DIR" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-interop: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$status"
