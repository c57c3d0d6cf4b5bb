#!/usr/bin/env node
'use strict';
// Broadcast rate between two MeshSockets in one process (not a test: prints a number).
//     node bindings/node/tools/bench-mesh.js [messages=20000] [packet bytes=64]
// One socket sends `messages` broadcasts as fast as send() accepts them (waiting when the
// node pushes back); the other drains its queue on every 'message' event. Prints the rate
// at which the receiver got them, and the nodes' drop counters (the dispatcher sheds
// events when JS falls behind, so a count below `messages` is reported, not hidden).
const rs2p = require('..');

async function main() {
  const total = Number(process.argv[2] || 20000);
  const size = Number(process.argv[3] || 64);
  const payload = Buffer.alloc(size, 0x61);
  const a = new rs2p.MeshSocket('127.0.0.1', 0);
  const b = new rs2p.MeshSocket('127.0.0.1', 0);
  const met = new Promise((resolve) => b.once('connect', resolve));
  a.connect('127.0.0.1', b.port);
  await met;

  let received = 0;
  let lastAt = 0n;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  b.on('message', () => {
    received += b.recv(1000).length;
    lastAt = process.hrtime.bigint();
    if (received >= total) finish();
  });
  // Shed messages never arrive: stop once everything sent is either received or counted
  // as dropped by the receiver.
  const accounted = setInterval(() => {
    const shed = Object.values(b.stats().dropped).reduce((x, y) => x + y, 0);
    if (received + shed >= total) finish();
  }, 100);
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const accepted = a.send(i, payload); // the counter keeps IDs distinct: equal messages are duplicates
    if (i % 256 === 0) await accepted; // let the event loop run the receive callbacks
  }
  const timeout = setTimeout(finish, 30000);
  await done;
  clearTimeout(timeout);
  clearInterval(accounted);
  const seconds = Number(lastAt - started) / 1e9;
  console.log(
    `${received}/${total} broadcasts of ${size} bytes in ${seconds.toFixed(2)} s: ` +
      `${Math.round(received / seconds)} msg/s received (to the last one received)`,
  );
  console.log('sender dropped:', a.stats().dropped, 'receiver dropped:', b.stats().dropped);
  await Promise.all([a.close(), b.close()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
