'use strict';
// A Node process that used ChordSockets exits by itself once they are closed: neither the
// key events, nor the reads in flight (collected on a koffi worker thread), nor the node
// leave anything holding the event loop.
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

test('the process exits by itself after its chord sockets close, reads in flight included', async () => {
  // b leeches and its only storing peer is a bare mesh node that never answers, so b's
  // read of 'held' (timeout one hour) is still in flight when b closes.
  const script = `
const rs2p = require('.');
const { encode } = require('@msgpack/msgpack');
const { NativeMesh } = require('./lib/native-mesh');
const a = new rs2p.ChordSocket('127.0.0.1', 0).join();
const b = new rs2p.ChordSocket('127.0.0.1', 0);
const silent = new NativeMesh({ host: '127.0.0.1', port: 0, subnet: 'chord', encryption: 'Plaintext' });
b.on('add', (_s, key) => {
  if (key !== 'hello') return;
  a.close().then(() => {
    silent.connect('127.0.0.1', b.port);
    const tell = setInterval(() => {
      try { silent.whisper(b.id, 0x05, Buffer.from(encode(['0']))); } catch { return; }
      if (b.chordStats().storingPeers !== 1) return;
      clearInterval(tell);
      const read = b.get('held', 'fallback', 3600);
      b.close();
      read.then(
        (v) => console.log('resolved', v),
        (err) => console.log('ended', err.name),
      ).finally(() => silent.close());
    }, 5);
  });
});
b.connect('127.0.0.1', a.port);
a.once('connect', () => a.set('hello', 1));
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'ended Closed');
});

test("an exception in an 'add' listener surfaces as the process's uncaught exception", async () => {
  const script = `
const rs2p = require('.');
const a = new rs2p.ChordSocket('127.0.0.1', 0).join();
const b = new rs2p.ChordSocket('127.0.0.1', 0);
process.on('uncaughtException', (err) => {
  console.log('caught', err.message);
  a.close();
  b.close();
});
b.on('add', () => { throw new Error('boom'); });
a.once('connect', () => a.set('k', 1));
b.connect('127.0.0.1', a.port);
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'caught boom');
});
