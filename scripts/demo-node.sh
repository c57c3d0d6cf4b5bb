#!/usr/bin/env bash
# Demo of the Node bindings: the protocol IDs of the default subnets, and a reference
# frame from tests/data/py2p-0.7.json decoded into (msgType, sender, time, payload).
# Reuses bindings/node/node_modules and target/release/librs2p.so (sets them up if missing).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../bindings/node/tools/dev-env.sh
source "$REPO_ROOT/bindings/node/tools/dev-env.sh"

rs2p_ensure_node_modules
rs2p_ensure_library

cd "$RS2P_NODE_DIR"
RS2P_VECTORS="$REPO_ROOT/tests/data/py2p-0.7.json" node - <<'JS'
'use strict';
const fs = require('node:fs');
const util = require('node:util');
const rs2p = require('.');

console.log(`rs2p ${rs2p.version}, library ${rs2p.libraryVersion()} at ${rs2p.loadLibrary()}`);
console.log('\nProtocol IDs (Plaintext):');
for (const subnet of ['', 'mesh', 'sync1', 'sync0', 'chord']) {
  console.log(`  ${JSON.stringify(subnet).padEnd(8)} ${rs2p.protocolId(subnet)}`);
}

const reference = JSON.parse(fs.readFileSync(process.env.RS2P_VECTORS, 'utf8')).messages[0];
console.log(`\nReference frame from py2p 0.7.878: '${reference.name}'`);
for (const kind of ['frame_hex', 'zlib_frame_hex', 'gzip_frame_hex']) {
  const frame = Buffer.from(reference[kind], 'hex');
  const m = rs2p.decodeMessage(frame);
  console.log(`  ${kind.padEnd(15)} ${String(frame.length).padStart(4)} bytes -> id ${m.id.toString('hex').slice(0, 16)}...`);
  const shown = [m.msgType, m.sender.toString('ascii'), m.time, m.payload];
  console.log(`    ${util.inspect(shown, { depth: 4, breakLength: Infinity })}`);
}
JS
