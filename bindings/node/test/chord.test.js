'use strict';
// ChordSocket end to end: real chord nodes on 127.0.0.1 (port 0) through librs2p. Every
// wait is bounded: on an event, on a polled condition, or on a Promise raced against
// WAIT_MS.
const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const rs2p = require('..');
const { chordSockets, storingNetwork, silentStoringPeer, waitEvent, eventually, WAIT_MS } = require('./chord-helpers');

/** `promise`, or a failure naming `what` if it has not settled within WAIT_MS. */
function bounded(promise, what) {
  let timer;
  const limit = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Reads `key` at `node` until the read gives `expected` (deep-equal), within WAIT_MS: a write
 * made at another node is on its way to the key's positions for a moment, and a read in
 * that moment may still agree on the old value.
 */
async function readsEventually(node, key, expected, what) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  for (;;) {
    last = await bounded(node.get(key, 'no value'), what);
    if (util.isDeepStrictEqual(last, expected)) return;
    if (Date.now() > deadline) {
      assert.fail(`${what}: still read ${util.inspect(last)} after ${WAIT_MS} ms, expected ${util.inspect(expected)}`);
    }
  }
}

test('a chord socket speaks subnet chord, is a MeshSocket, and starts leeching and empty', async (t) => {
  const open = chordSockets(t);
  const node = open();
  assert.ok(node instanceof rs2p.MeshSocket);
  assert.equal(node.protocol.id, new rs2p.Protocol('chord', 'Plaintext').id);
  assert.equal(node.protocol, rs2p.defaultChordProtocol);
  assert.ok(node.port > 0);
  assert.equal(node.joined, false);
  assert.equal(node.leeching, true);
  assert.equal(node.join(), node);
  assert.equal(node.joined, true);
  assert.equal(node.leeching, false);
  assert.equal(node.size, 0);
  assert.deepEqual(node.keys(), []);
  assert.deepEqual(await bounded(node.items(), 'items of an empty node'), []);
  node.unjoin();
  assert.equal(node.joined, false);
});

test('one joined node sets, reads, merges deltas and deletes', async (t) => {
  const open = chordSockets(t);
  const node = open().join();

  node.set('greeting', 'hello');
  node.set(Buffer.from([0xff, 0x00]), { nested: [1, 2.5, 'x', Buffer.from('bin')], flag: true });
  assert.equal(await bounded(node.get('greeting'), 'read greeting'), 'hello');
  assert.deepEqual(await bounded(node.get(Buffer.from([0xff, 0x00])), 'read a bytes key'), {
    nested: [1, 2.5, 'x', Buffer.from('bin')],
    flag: true,
  });
  const keys = node.keys();
  assert.equal(keys.length, 2);
  assert.ok(keys.includes('greeting'));
  assert.ok(keys.some((k) => Buffer.isBuffer(k) && k.equals(Buffer.from([0xff, 0x00]))), 'a non-UTF-8 key stays bytes');
  assert.equal(node.size, 2);

  assert.equal(node.applyDelta('map', { a: 1 }), node);
  node.apply_delta('map', new Map([['b', 2]]));
  assert.deepEqual(await bounded(node.get('map'), 'read the merged map'), { a: 1, b: 2 });

  // A delta is not announced (as in py2p and js2p): keys() lists written keys only.
  assert.equal(node.keys().includes('map'), false);
  node.update({ one: 1, two: 2 });
  assert.equal((await bounded(node.values(), 'values')).length, 4);
  const items = new Map((await bounded(node.items(), 'items')).filter(([k]) => typeof k === 'string'));
  assert.deepEqual(Object.fromEntries(items), { greeting: 'hello', one: 1, two: 2 });

  assert.equal(node.del('greeting'), true);
  assert.equal(await bounded(node.get('greeting', 'gone'), 'read a deleted key'), 'gone');
  assert.equal(node.del('greeting'), false, 'this node no longer knows the key');

  assert.equal(await bounded(node.pop('one', 'none'), 'pop one'), 1);
  assert.equal(await bounded(node.get('one', 'gone'), 'read a popped key'), 'gone');
  assert.equal(await bounded(node.pop('one', 'none'), 'pop a missing key'), 'none');

  node.set('two', null);
  assert.equal(await bounded(node.get('two', 'gone'), 'read a key set to null'), 'gone');
});

test('a missing key is answered (NotFound), not waited out: get gives the fallback', async (t) => {
  const open = chordSockets(t);
  const node = open().join();
  const longTimeout = 3600; // seconds: only an answer can end these reads within the bound
  await assert.rejects(bounded(node.getNoFallback('never written', longTimeout), 'read a missing key'), rs2p.NotFound);
  assert.equal(await bounded(node.get('never written', 'fallback', longTimeout), 'get a missing key'), 'fallback');
  assert.equal(await bounded(node.get('never written'), 'get without fallback'), undefined);
});

test('50 reads in flight at once all resolve with their values', async (t) => {
  const open = chordSockets(t);
  const node = open().join();
  for (let i = 0; i < 50; i++) node.set(`k${i}`, i);
  const reads = [];
  for (let i = 0; i < 50; i++) reads.push(node.get(`k${i}`, 'missing'));
  const values = await bounded(Promise.all(reads), '50 reads');
  assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => i));
});

test('three storing nodes: a key set at one reads at the others; add and delete events', async (t) => {
  const open = chordSockets(t);
  const [a, b, c] = await storingNetwork(open, 3);

  const addedAtB = waitEvent(b, 'add', (_s, key) => key === 'shared', 'b hears of shared');
  const addedAtC = waitEvent(c, 'add', (_s, key) => key === 'shared', 'c hears of shared');
  a.set('shared', { by: 'a' });
  const [socket, key] = await addedAtB;
  assert.equal(socket, b);
  assert.equal(key, 'shared');
  await addedAtC;
  for (const node of [a, b, c]) {
    await readsEventually(node, 'shared', { by: 'a' }, `read at ${node.id}`);
    assert.ok(node.keys().includes('shared'), `${node.id} lists the key`);
  }

  b.applyDelta('shared', { also: 'b' });
  await readsEventually(c, 'shared', { by: 'a', also: 'b' }, 'read the delta at c');

  const deletedAtC = waitEvent(c, 'delete', (_s, k) => k === 'shared', 'c hears shared deleted');
  assert.equal(b.del('shared'), true);
  await deletedAtC;
  for (const node of [a, b, c]) {
    await readsEventually(node, 'shared', 'no value', `read the deleted key at ${node.id}`);
  }
});

test('50 reads held in flight at once all end with Closed at close; later calls throw Closed', async (t) => {
  const open = chordSockets(t);
  const node = open(); // leeching: every read goes to the silent storing peer
  await silentStoringPeer(t, node);
  const pending = [node.get('held', 'fallback', 3600)];
  for (let i = 0; i < 49; i++) pending.push(node.getNoFallback(`held ${i}`, 3600));
  const outcomes = Promise.allSettled(pending);
  // The event loop runs meanwhile (this wait polls on timers) with 50 reads in flight at once.
  await eventually(() => node.chordStats().getsInFlight === 50, '50 reads held in flight by the silent peer');
  await node.close();
  const settled = await bounded(outcomes, 'reads pending at close');
  for (const outcome of settled) {
    assert.equal(outcome.status, 'rejected');
    assert.ok(outcome.reason instanceof rs2p.Closed, `${outcome.reason}`);
  }
  assert.throws(() => node.set('k', 1), rs2p.Closed);
  assert.throws(() => node.keys(), rs2p.Closed);
  await assert.rejects(node.get('k'), rs2p.Closed);
});

test('a read nobody answers ends at its timeout: Timeout, or the fallback from get', async (t) => {
  const open = chordSockets(t);
  const node = open({ getTimeout: 0.2 }); // leeching: every read goes to the silent storing peer
  await silentStoringPeer(t, node);
  await assert.rejects(bounded(node.getNoFallback('unanswered'), 'a read with the socket default timeout'), rs2p.Timeout);
  assert.equal(await bounded(node.get('unanswered', 'fallback', 0.1), 'a read with its own timeout'), 'fallback');
});

test('bad arguments are refused before anything is sent', async (t) => {
  const open = chordSockets(t);
  const node = open().join();
  assert.throws(() => node.set(42, 'v'), TypeError);
  assert.throws(() => node.applyDelta('k', [1, 2]), TypeError);
  assert.throws(() => node.update('not a mapping'), TypeError);
  await assert.rejects(node.get('k', undefined, -1), RangeError);
  await assert.rejects(node.get(null), TypeError);
  assert.throws(() => new rs2p.ChordSocket('127.0.0.1', 0, 'chord'), TypeError);
});
