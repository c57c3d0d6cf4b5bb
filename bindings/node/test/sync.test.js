'use strict';
// SyncSocket end to end: real sync nodes on 127.0.0.1 (port 0) sharing one table through
// librs2p. Every wait is bounded: on an event or on a polled condition.
const test = require('node:test');
const assert = require('node:assert/strict');
const rs2p = require('..');
const { syncSockets, holds, lacks, sortedItems, link, waitEvent } = require('./sync-helpers');

test('a sync socket speaks subnet sync1 (sync0 without leasing) and starts empty', async (t) => {
  const open = syncSockets(t);
  const leased = open();
  const unleased = open(false);
  assert.equal(leased.protocol.id, new rs2p.Protocol('sync1', 'Plaintext').id);
  assert.equal(unleased.protocol.id, new rs2p.Protocol('sync0', 'Plaintext').id);
  assert.equal(leased.leasing, true);
  assert.equal(unleased.leasing, false);
  assert.ok(leased instanceof rs2p.MeshSocket);
  assert.ok(leased.port > 0);
  assert.equal(leased.size, 0);
  assert.deepEqual(leased.keys(), []);
  assert.deepEqual(leased.values(), []);
  assert.deepEqual(leased.items(), []);
  assert.equal(leased.get('nothing'), undefined);
  assert.equal(leased.get('nothing', 'fallback'), 'fallback');
  assert.equal(leased.metadata('nothing'), undefined);
});

test("js2p's argument order (addr, port, protocol, leasing) is accepted too", async (t) => {
  const socket = new rs2p.SyncSocket('127.0.0.1', 0, new rs2p.Protocol('table', 'Plaintext'), false);
  t.after(() => socket.close());
  assert.equal(socket.leasing, false);
  assert.equal(socket.protocol.subnet, 'table0');
  assert.equal(socket.tableProtocol.subnet, 'table');
});

test('set on one node reaches the other with the same value and metadata', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);

  const seen = waitEvent(b, 'update', (_s, key) => key === 'greeting', 'b sees greeting');
  a.set('greeting', 'hello');
  assert.equal(a.get('greeting'), 'hello', 'a local write is readable at once');
  const [socket, key, value, meta] = await seen;
  assert.equal(socket, b);
  assert.equal(key, 'greeting');
  assert.equal(value, 'hello');
  assert.equal(meta.owner, a.id);
  assert.ok(Number.isInteger(meta.time) && meta.time > 1_600_000_000, `time ${meta.time}`);
  assert.equal(b.get('greeting'), 'hello');
  assert.deepEqual(b.metadata('greeting'), a.metadata('greeting'));
  assert.deepEqual(a.metadata('greeting'), { owner: a.id, time: meta.time });
});

test('values of every msgpack kind cross unchanged', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  const values = {
    text: 'héllo',
    bytes: Buffer.from([0, 1, 254, 255]),
    int: -42,
    big: 2 ** 40,
    float: 1.5,
    yes: true,
    no: false,
    list: [1, 'two', Buffer.from('three')],
    map: { nested: { deep: [1, 2] }, blob: Buffer.from([9]) },
  };
  a.update(values);
  await holds(b, 'map');
  for (const [key, value] of Object.entries(values)) {
    await holds(b, key);
    assert.deepEqual(b.get(key), value, `key ${key}`);
  }
  assert.ok(Buffer.isBuffer(b.get('bytes')), 'bin comes back as a Buffer');
  assert.ok(Buffer.isBuffer(b.get('map').blob), 'nested bin comes back as a Buffer');
});

test('update, keys, values and items agree across nodes', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.update({ one: 1, two: 2 });
  b.update(new Map([['three', 3]]));
  await Promise.all([holds(a, 'three'), holds(b, 'one'), holds(b, 'two')]);

  const expected = [['one', 1], ['three', 3], ['two', 2]];
  assert.deepEqual(sortedItems(a), expected);
  assert.deepEqual(sortedItems(b), expected);
  assert.deepEqual(a.keys().sort(), ['one', 'three', 'two']);
  assert.deepEqual(b.values().sort(), [1, 2, 3]);
  assert.equal(a.size, 3);
  assert.equal(b.size, 3);
  assert.deepEqual(new Map(a), new Map(expected), 'a SyncSocket iterates its [key, value] pairs');
  for (const key of ['one', 'two', 'three']) assert.deepEqual(a.metadata(key), b.metadata(key), `metadata of ${key}`);
  assert.equal(a.metadata('three').owner, b.id);
  assert.equal(b.metadata('one').owner, a.id);
  const stats = b.syncStats();
  assert.ok(stats.accepted >= 2, `b accepted a's two writes: ${JSON.stringify(stats)}`);
  assert.equal(stats.refusedLeased, 0);
  for (const key of ['dumpEntriesPassedOn', 'passOnSkipped']) {
    assert.ok(Number.isInteger(stats[key]) && stats[key] >= 0, `${key} = ${stats[key]}`);
  }
  assert.equal('reserved' in stats, false);
});

test('del removes a key everywhere and fires delete', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.set('doomed', 1);
  await holds(b, 'doomed');

  const deletedAtB = waitEvent(b, 'delete', (_s, key) => key === 'doomed', 'b deletes doomed');
  const deletedAtA = waitEvent(a, 'delete', (_s, key) => key === 'doomed', 'a deletes doomed');
  assert.equal(a.del('doomed'), true);
  assert.equal(a.has('doomed'), false);
  const [socket] = await deletedAtB;
  assert.equal(socket, b);
  await deletedAtA;
  assert.equal(b.get('doomed', 'gone'), 'gone');
  assert.equal(b.metadata('doomed'), undefined);
  assert.equal(a.del('doomed'), false, 'deleting an absent key reports it');
});

test('set(key, null) deletes like del', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.set('k', 'v');
  await holds(b, 'k');
  a.set('k', null);
  await lacks(b, 'k');
  assert.equal(a.has('k'), false);
});

test('pop returns the value and deletes it everywhere', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.set('popped', { x: 1 });
  await holds(b, 'popped');
  assert.deepEqual(a.pop('popped'), { x: 1 });
  assert.equal(a.has('popped'), false);
  await lacks(b, 'popped');
  assert.equal(a.pop('popped', 'none'), 'none');
  assert.equal(a.pop('popped'), undefined);

  a.set('last', 7);
  assert.deepEqual(a.popitem(), ['last', 7]);
  assert.equal(a.popitem(), undefined);
});

test('a key another node leases cannot be written: set and del throw Leased', async (t) => {
  const open = syncSockets(t);
  const first = open();
  const second = open();
  await link(first, second);
  // Within the same second the protocol lets the writer with the smaller ID take a key over
  // (its tie-break); the owner here has the smaller ID, so the lease holds whatever the clock.
  const [a, b] = first.id < second.id ? [first, second] : [second, first];
  a.set('mine', 'from a');
  await holds(b, 'mine');

  for (const write of [() => b.set('mine', 'from b'), () => b.del('mine'), () => b.update({ mine: 1 }), () => b.pop('mine')]) {
    assert.throws(write, (err) => {
      assert.ok(err instanceof rs2p.Leased, `expected Leased, got ${err && err.name}: ${err && err.message}`);
      assert.ok(err instanceof rs2p.SyncError);
      assert.equal(err.status, 39);
      assert.ok(err.detail.length > 0, 'the error explains itself');
      return true;
    });
  }
  assert.equal(b.get('mine'), 'from a', 'the refused write changed nothing here');
  assert.equal(b.metadata('mine').owner, a.id);
  assert.equal(a.get('mine'), 'from a', 'nor there');
  // The owner may still write it, and b follows.
  a.set('mine', 'again from a');
  await holds(b, 'mine', (v) => v === 'again from a');
});

test('applyDelta merges fields into a map everywhere', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  const merged = waitEvent(b, 'update', (_s, key, value) => key === 'profile' && value.b === 2, 'b sees both fields');
  a.applyDelta('profile', { a: 1 });
  a.applyDelta('profile', { b: 2 });
  assert.deepEqual(a.get('profile'), { a: 1, b: 2 });
  const [, , value, meta] = await merged;
  assert.deepEqual(value, { a: 1, b: 2 }, "the event carries the merged map");
  assert.equal(meta.owner, a.id);
  assert.deepEqual(b.get('profile'), { a: 1, b: 2 });
  a.apply_delta('profile', new Map([['a', 'changed']]));
  await holds(b, 'profile', (v) => v.a === 'changed');
  assert.deepEqual(b.get('profile'), { a: 'changed', b: 2 });
});

test('applyDelta on a key holding a non-map throws InvalidArgument; a non-object delta is a TypeError', async (t) => {
  const open = syncSockets(t);
  const a = open();
  a.set('scalar', 5);
  assert.throws(() => a.applyDelta('scalar', { x: 1 }), rs2p.InvalidArgument);
  assert.equal(a.get('scalar'), 5);
  assert.throws(() => a.applyDelta('scalar', [1, 2]), TypeError);
  assert.throws(() => a.applyDelta('scalar', 'text'), TypeError);
});

test('local writes fire update and delete events on the writer too', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const updated = waitEvent(a, 'update', (_s, key) => key === 'local');
  a.set('local', [1, 2]);
  const [socket, key, value, meta] = await updated;
  assert.equal(socket, a);
  assert.equal(key, 'local');
  assert.deepEqual(value, [1, 2]);
  assert.equal(meta.owner, a.id);
  const deleted = waitEvent(a, 'delete', (_s, k) => k === 'local');
  a.del('local');
  await deleted;
});

test('string keys are their UTF-8 bytes; other byte keys come back as Buffers', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.set('clé', 1);
  assert.equal(a.get(Buffer.from('clé', 'utf8')), 1, 'a Buffer of the UTF-8 bytes is the same key');
  const raw = Buffer.from([0xff, 0x00, 0xfe]);
  a.set(raw, 'raw');
  a.set('', 'empty key');
  await Promise.all([holds(b, raw), holds(b, ''), holds(b, 'clé')]);
  assert.equal(b.get(raw), 'raw');
  assert.equal(b.get(''), 'empty key');
  const keys = b.keys();
  assert.ok(keys.includes('clé'));
  assert.ok(keys.includes(''));
  const rawKey = keys.find((k) => Buffer.isBuffer(k));
  assert.ok(rawKey && rawKey.equals(raw), `keys ${JSON.stringify(keys)}`);
  assert.throws(() => a.set(42, 'x'), TypeError);
});

test('three nodes in a line: writes from either end reach every node', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  const c = open();
  await link(a, b);
  await link(c, b);
  a.set('from a', 'A');
  c.set('from c', 'C');
  b.set('from b', 'B');
  for (const node of [a, b, c]) {
    await Promise.all([holds(node, 'from a'), holds(node, 'from b'), holds(node, 'from c')]);
  }
  const expected = sortedItems(a);
  assert.deepEqual(expected, [['from a', 'A'], ['from b', 'B'], ['from c', 'C']]);
  assert.deepEqual(sortedItems(b), expected);
  assert.deepEqual(sortedItems(c), expected);
  for (const key of ['from a', 'from b', 'from c']) {
    assert.deepEqual(c.metadata(key), a.metadata(key), `metadata of ${key}`);
  }
  assert.equal(c.metadata('from a').owner, a.id);
});

test('a late joiner receives the whole table with its metadata', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.update({ alpha: 1, beta: Buffer.from('two') });
  b.applyDelta('gamma', { g: 3 });
  await Promise.all([holds(a, 'gamma'), holds(b, 'alpha'), holds(b, 'beta')]);

  const late = open();
  assert.equal(late.size, 0);
  await link(late, a);
  await Promise.all(['alpha', 'beta', 'gamma'].map((key) => holds(late, key)));
  assert.deepEqual(sortedItems(late), sortedItems(a));
  for (const key of ['alpha', 'beta', 'gamma']) assert.deepEqual(late.metadata(key), a.metadata(key), `metadata of ${key}`);
  assert.equal(late.metadata('gamma').owner, b.id);
});

test('a SyncSocket is a MeshSocket: broadcasts still work beside the table', async (t) => {
  const open = syncSockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.set('key', 'value');
  await a.send('plain', 'broadcast');
  const message = await b.recvAsync(15000);
  assert.ok(message !== null, 'the broadcast arrived');
  assert.deepEqual(message.packets, [rs2p.flags.broadcast, 'plain', 'broadcast']);
  await holds(b, 'key');
  assert.equal(b.recv(), undefined, 'table traffic is not delivered as messages');
});

test('close resolves, is idempotent, and later calls throw Closed', async () => {
  const a = new rs2p.SyncSocket('127.0.0.1', 0);
  a.set('k', 1);
  const first = a.close();
  assert.equal(a.close(), first);
  await first;
  assert.equal(a.status, 'Closed');
  for (const call of [() => a.get('k'), () => a.set('k', 2), () => a.keys(), () => a.del('k'), () => a.metadata('k')]) {
    assert.throws(call, rs2p.Closed);
  }
});
