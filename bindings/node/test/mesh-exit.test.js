'use strict';
// A Node process that used MeshSockets exits by itself once they are closed (no thread or
// handle left holding the event loop), and stays alive while one is open.
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

const USE_AND_CLOSE = `
const rs2p = require('.');
(async () => {
  const a = new rs2p.MeshSocket('127.0.0.1', 0);
  const b = new rs2p.MeshSocket('127.0.0.1', 0);
  // Both ends: a broadcast goes only to peers whose handshake the sender has handled, and
  // b may see a's handshake before a sees b's.
  const met = Promise.all([
    new Promise((resolve) => a.once('connect', resolve)),
    new Promise((resolve) => b.once('connect', resolve)),
  ]);
  a.connect('127.0.0.1', b.port);
  await met;
  await a.send('bye');
  const message = await b.recvAsync();
  message.reply('ok');
  const reply = await a.recvAsync();
  await Promise.all([a.close(), b.close()]);
  console.log('done', reply.packets[1]);
})();
`;

test('the process exits by itself after its sockets close', async () => {
  const result = await runNode(USE_AND_CLOSE);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code} ${result.signal}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'done ok');
});

test('an open socket keeps the process alive until it is closed', async () => {
  // The socket is closed from a 'connect' listener that only a later dial triggers: the
  // process can only get there if the open socket held the event loop in the meantime.
  const script = `
const rs2p = require('.');
const a = new rs2p.MeshSocket('127.0.0.1', 0);
a.once('connect', () => { a.close().then(() => { dialler.close(); console.log('closed'); }); });
const dialler = new rs2p.MeshSocket('127.0.0.1', 0);
setImmediate(() => dialler.connect('127.0.0.1', a.port));
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'closed');
});

test("an exception in a listener surfaces as the process's uncaught exception", async () => {
  const script = `
const rs2p = require('.');
const a = new rs2p.MeshSocket('127.0.0.1', 0);
const b = new rs2p.MeshSocket('127.0.0.1', 0);
process.on('uncaughtException', (err) => {
  console.log('caught', err.message);
  Promise.all([a.close(), b.close()]);
});
b.on('message', () => { throw new Error('boom'); });
// a sends once both ends have the link (a broadcast reaches only peers a has handshaken).
Promise.all([
  new Promise((resolve) => a.once('connect', resolve)),
  new Promise((resolve) => b.once('connect', resolve)),
]).then(() => a.send('x'));
a.connect('127.0.0.1', b.port);
`;
  const result = await runNode(script);
  assert.equal(result.timedOut, false, `still running after ${EXIT_BOUND_MS} ms; stderr: ${result.stderr}`);
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout.trim(), 'caught boom');
});
