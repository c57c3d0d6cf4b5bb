'use strict';
// MeshSocket end to end: real nodes on 127.0.0.1 (port 0) talking through librs2p.
const test = require('node:test');
const assert = require('node:assert/strict');
const rs2p = require('..');
const { waitEvent, eventually, nextMessage, sockets, link } = require('./mesh-helpers');

test('a socket binds port 0 to a real port and has an ID', async (t) => {
  const open = sockets(t);
  const a = open();
  assert.ok(Number.isInteger(a.port) && a.port > 0, `port ${a.port}`);
  assert.equal(typeof a.id, 'string');
  assert.ok(a.id.length > 20, `id ${a.id}`);
  assert.deepEqual(a.addr, ['127.0.0.1', a.port]);
  assert.equal(a.status, 'Nominal');
  assert.equal(a.protocol.id, new rs2p.Protocol('mesh', 'Plaintext').id);
  assert.deepEqual(a.peers(), []);
  assert.equal(a.routingTable.size, 0);
});

test('two sockets connect and exchange broadcasts both ways', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);

  assert.deepEqual([...a.routingTable.keys()], [b.id]);
  assert.deepEqual([...b.routingTable.keys()], [a.id]);
  assert.deepEqual(a.outgoing, [b.id]);
  assert.deepEqual(b.incoming, [a.id]);

  await a.send('hello', Buffer.from([0, 1, 255]), 42);
  const atB = await nextMessage(b, 'a -> b');
  assert.deepEqual(atB.packets, [rs2p.flags.broadcast, 'hello', Buffer.from([0, 1, 255]), 42]);
  assert.ok(Buffer.isBuffer(atB.packets[2]), 'bin packets come back as Buffers');
  assert.equal(atB.sender, a.id);
  assert.ok(Buffer.isBuffer(atB.id) && atB.id.length === 32);
  assert.ok(Number.isInteger(atB.time) && atB.time > 1_600_000_000, `time ${atB.time}`);

  await b.send('back');
  const atA = await nextMessage(a, 'b -> a');
  assert.deepEqual(atA.packets, [rs2p.flags.broadcast, 'back']);
  assert.equal(atA.sender, b.id);
});

test('whisper reaches only the named peer, with the whisper sub-flag', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  a.whisper(b.id, 'psst');
  const message = await nextMessage(b, 'whisper');
  assert.deepEqual(message.packets, [rs2p.flags.whisper, 'psst']);
  assert.equal(message.sender, a.id);
  assert.throws(() => a.whisper('NotAPeerId', 'x'), rs2p.UnknownPeer);
});

test('reply goes back to the sender', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  await a.send('ping');
  const ping = await nextMessage(b, 'ping');
  ping.reply('pong', Buffer.from('!'));
  const pong = await nextMessage(a, 'pong');
  assert.deepEqual(pong.packets, [rs2p.flags.whisper, 'pong', Buffer.from('!')]);
  assert.equal(pong.sender, b.id);
});

test("events: 'connect', 'message' (with the socket) and 'disconnect'", async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  const connected = waitEvent(b, 'connect');
  a.connect('127.0.0.1', b.port);
  const [connectSocket, connectPeer] = await connected;
  assert.equal(connectSocket, b);
  assert.equal(connectPeer, a.id);
  await eventually(() => a.peers().length === 1, 'a to see b');

  const messaged = waitEvent(b, 'message');
  await a.send('event');
  const [messageSocket] = await messaged;
  assert.equal(messageSocket, b);
  const message = b.recv();
  assert.deepEqual(message.packets, [rs2p.flags.broadcast, 'event']);
  assert.equal(b.recv(), undefined, 'the queue is empty again');

  const disconnected = waitEvent(b, 'disconnect', (_s, id) => id === a.id, 'b loses a');
  await a.close();
  const [disconnectSocket, disconnectPeer] = await disconnected;
  assert.equal(disconnectSocket, b);
  assert.equal(disconnectPeer, a.id);
  await eventually(() => b.peers().length === 0, "a gone from b's routing table");
});

test('recv(n) returns up to n queued messages at once, in order', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  for (let i = 0; i < 3; i++) await a.send(i);
  await eventually(() => b.stats().recvQueueLen === 3, 'three queued messages');
  assert.deepEqual(b.recv(0 + 2).map((m) => m.packets[1]), [0, 1]);
  assert.deepEqual(b.recv(5).map((m) => m.packets[1]), [2]);
  assert.deepEqual(b.recv(5), []);
});

test('a line of three relays a broadcast from one end to the other', async (t) => {
  const open = sockets(t);
  // One outgoing link each: the ends do not dial each other after swapping peer lists.
  const a = open({ maxOutgoing: 1 });
  const b = open({ maxOutgoing: 1 });
  const c = open({ maxOutgoing: 1 });
  await link(a, b);
  await link(c, b);
  assert.ok(!a.routingTable.has(c.id), 'a and c are not neighbours');

  await a.send('end to end');
  const atC = await nextMessage(c, 'a -> b -> c');
  assert.deepEqual(atC.packets, [rs2p.flags.broadcast, 'end to end']);
  assert.equal(atC.sender, a.id);
  const atB = await nextMessage(b, 'a -> b');
  assert.equal(atB.sender, a.id);
  assert.ok(b.stats().relayed >= 1, 'b counted the relay');

  await c.send('and back');
  const atA = await nextMessage(a, 'c -> b -> a');
  assert.equal(atA.sender, c.id);
  assert.deepEqual(atA.packets, [rs2p.flags.broadcast, 'and back']);
});

test('recvAsync resolves with a message, and with null when the timeout passes', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  assert.equal(await b.recvAsync(0), null, 'nothing queued: a zero timeout polls');
  assert.equal(await b.recvAsync(20), null, 'nothing sent: it times out to null');
  const pending = b.recvAsync();
  await a.send('awaited');
  const message = await pending;
  assert.deepEqual(message.packets, [rs2p.flags.broadcast, 'awaited']);
});

test('close resolves, is idempotent, and a closed socket rejects calls clearly', async (t) => {
  const open = sockets(t);
  const a = open();
  const waiting = a.recvAsync();
  const closing = a.close();
  assert.equal(a.close(), closing, 'a second close returns the same Promise');
  await closing;
  assert.equal(await waiting, null, 'a pending recvAsync resolves with null on close');
  assert.equal(a.status, 'Closed');
  const closedError = (err) => err instanceof rs2p.Closed && /closed/.test(err.message) && err.status === 32;
  assert.throws(() => a.send('x'), closedError);
  assert.throws(() => a.whisper('someone', 'x'), closedError);
  assert.throws(() => a.connect('127.0.0.1', 1), closedError);
  assert.throws(() => a.recv(), closedError);
  assert.throws(() => a.peers(), closedError);
  assert.throws(() => a.stats(), closedError);
  await assert.rejects(a.recvAsync(10), closedError);
});

test('the port is free once close resolves', async (t) => {
  const open = sockets(t);
  const a = open();
  const port = a.port;
  assert.throws(() => new rs2p.MeshSocket('127.0.0.1', port), rs2p.AddressInUse);
  await a.close();
  const again = new rs2p.MeshSocket('127.0.0.1', port);
  await again.close();
});

test('a reply after the socket closed throws Closed', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  await a.send('late');
  const message = await nextMessage(b);
  await b.close();
  assert.throws(() => message.reply('too late'), rs2p.Closed);
});

test('stats count frames and bytes', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  await a.send('counted');
  await nextMessage(b);
  const stats = b.stats();
  for (const key of ['framesIn', 'framesOut', 'bytesIn', 'bytesOut', 'relayed', 'delivered', 'queueLen', 'pending', 'redials', 'redialsGivenUp']) {
    assert.ok(Number.isInteger(stats[key]) && stats[key] >= 0, `${key} = ${stats[key]}`);
  }
  assert.ok(stats.framesIn >= 1 && stats.bytesIn > 0);
  assert.equal(typeof stats.dropped, 'object');
});

test('a lost peer this socket dialled is redialled, and stats count the redials', async (t) => {
  const open = sockets(t);
  const a = open({ maxOutgoing: 0 });
  const b = open({ maxOutgoing: 0 });
  const fresh = a.stats();
  assert.equal(fresh.redials, 0);
  assert.equal(fresh.redialsGivenUp, 0);
  assert.equal('reserved' in fresh, false);
  await link(a, b);
  await b.close();
  // The first redial is due 1 s after the loss.
  await eventually(() => a.stats().redials >= 1, 'a to redial the lost peer');
});

test('invalid arguments are refused before reaching the library', () => {
  assert.throws(() => new rs2p.MeshSocket('127.0.0.1', 70000), RangeError);
  assert.throws(() => new rs2p.MeshSocket('127.0.0.1', 0, 'mesh'), TypeError);
  assert.throws(() => new rs2p.Protocol(1, 'Plaintext'), TypeError);
});

test('a full receive queue drops its oldest message and counts it', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open({ queueCapacity: 2 });
  await link(a, b);
  for (const n of [1, 2, 3]) {
    const queued = waitEvent(b, 'message');
    await a.send(n);
    await queued;
  }
  assert.equal(b.stats().queueShed, 1);
  assert.deepEqual(b.recv(3).map((m) => m.packets[1]), [2, 3]);
});

test('sends that meet back-pressure still arrive complete and in order', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  // 32 MiB offered at once: well past the node's 4 MiB of queued writes, so most of these
  // sends wait on a worker thread; whichever path each takes, order must hold.
  const big = Buffer.alloc(1 << 20, 0x5a);
  const accepted = [];
  for (let i = 0; i < 32; i++) accepted.push(a.send(i, big));
  await Promise.all(accepted);
  for (let i = 0; i < 32; i++) {
    const message = await nextMessage(b, `large message ${i}`);
    assert.equal(message.packets[1], i);
    assert.ok(message.packets[2].equals(big));
  }
});

test('a listener may close the socket and send from inside an event', async (t) => {
  const open = sockets(t);
  const a = open();
  const b = open();
  await link(a, b);
  const closedFromListener = new Promise((resolve) => {
    b.once('message', (socket) => {
      const message = socket.recv();
      message.reply('last words');
      resolve(socket.close());
    });
  });
  await a.send('close now');
  await closedFromListener;
  assert.equal(b.status, 'Closed');
  const reply = await nextMessage(a, 'reply sent from the listener');
  assert.deepEqual(reply.packets, [rs2p.flags.whisper, 'last words']);
});
