'use strict';
// The reference vectors, read from the repository's tests/data (a missing file fails).
const fs = require('node:fs');
const path = require('node:path');

// bindings/node/test/helpers.js -> the repository root is three levels up.
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const VECTORS_PATH = path.join(REPO_ROOT, 'tests', 'data', 'py2p-0.7.json');

function loadVectors() {
  if (!fs.existsSync(VECTORS_PATH)) {
    throw new Error(`reference vectors missing: ${VECTORS_PATH} (they are part of the repository)`);
  }
  return JSON.parse(fs.readFileSync(VECTORS_PATH, 'utf8'));
}

module.exports = { REPO_ROOT, loadVectors };
