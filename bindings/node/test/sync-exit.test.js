'use strict';
// A Node process that used SyncSockets exits by itself once they are closed: neither the
// table's event callback nor its node leaves anything holding the event loop.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const EXIT_BOUND_MS = 30000;

/** Runs `script` in a fresh `node -e`; resolves {code, signal, stdout, stderr, timedOut}. */
function runNode(script) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: PACKAGE_DIR, env: process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXIT_BOUND_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

test('the process exits by itself after its sync sockets close', async () => {
  const script = `
const rs2p = require('.');
const a = new rs2p.SyncSocket('127.0.0.1', 0);
const b = new rs2p.SyncSocket('127.0.0.1', 0);
b.on('update', (_s, key, value) => {
  if (key !== 'bye') return;
  Promise.all([a.close(), b.close()]).then(() => console.log('done', value));
});
b.once('connect', () => a.set('bye', 'ok'));
a.connect('127.0.0.1', b.port);
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'done ok');
});

test("an exception in an 'update' listener surfaces as the process's uncaught exception", async () => {
  const script = `
const rs2p = require('.');
const a = new rs2p.SyncSocket('127.0.0.1', 0);
process.on('uncaughtException', (err) => {
  console.log('caught', err.message);
  a.close();
});
a.on('update', () => { throw new Error('boom'); });
a.set('k', 1);
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'caught boom');
});
