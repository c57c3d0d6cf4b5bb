#!/usr/bin/env bash
# Demo of the Python bindings: the protocol IDs of the default subnets, and a reference
# frame from tests/data/py2p-0.7.json decoded into (msg_type, sender, time, payload).
# Reuses build/venv and target/release/librs2p.so (sets them up if missing).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bindings/python/tools/dev-env.sh
source "$REPO_ROOT/bindings/python/tools/dev-env.sh"

rs2p_ensure_venv
rs2p_ensure_library

RS2P_VECTORS="$REPO_ROOT/tests/data/py2p-0.7.json" "$RS2P_PYTHON" - <<'PY'
import json
import os

import rs2p

print(f"rs2p {rs2p.__version__}, library {rs2p.library_version()} at {rs2p.load_library()}")
print()
print("Protocol IDs (Plaintext):")
for subnet in ("", "mesh", "sync1", "sync0", "chord"):
    print(f"  {subnet!r:8} {rs2p.protocol_id(subnet)}")

with open(os.environ["RS2P_VECTORS"], encoding="utf-8") as f:
    reference = json.load(f)["messages"][0]
print()
print(f"Reference frame from py2p 0.7.878: {reference['name']!r}")
for kind in ("frame_hex", "zlib_frame_hex", "gzip_frame_hex"):
    frame = bytes.fromhex(reference[kind])
    message = rs2p.decode_message(frame)
    print(f"  {kind:15} {len(frame):4} bytes -> id {message.id.hex()[:16]}...")
    print(f"    {(message.msg_type, message.sender, message.time, message.payload)}")
PY
