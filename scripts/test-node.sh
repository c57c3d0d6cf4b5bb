#!/usr/bin/env bash
# Runs the Node bindings' tests (bindings/node/test/*.test.js) against
# target/release/librs2p.so. First run: npm install and the library build; later runs reuse
# both. Extra arguments go to `node --test` (e.g. --test-name-pattern=frame).
# Set RS2P_LIBRARY to test another build of the library instead.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bindings/node/tools/dev-env.sh
source "$REPO_ROOT/bindings/node/tools/dev-env.sh"

rs2p_ensure_node_modules
rs2p_ensure_library

cd "$RS2P_NODE_DIR"
shopt -s nullglob
tests=(test/*.test.js)
if [ "${#tests[@]}" -eq 0 ]; then
    echo "test-node: no test files in bindings/node/test; that is a failure" >&2
    exit 1
fi
exec node --test --test-reporter=spec "$@" "${tests[@]}"
