#!/usr/bin/env bash
# Runs the Python bindings' tests (bindings/python/tests) against target/release/librs2p.so.
# First run: makes build/venv, installs the test requirements and the package, builds the
# library. Later runs reuse all of that. Extra arguments go to pytest (e.g. -k frame).
# Set RS2P_LIBRARY to test another build of the library instead.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

rs2p_ensure_venv
rs2p_ensure_library

status=0
"$RS2P_PYTHON" -m pytest -p no:cacheprovider "$REPO_ROOT/bindings/python/tests" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test-python: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$status"
