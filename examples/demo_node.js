#!/usr/bin/env node
'use strict';
// One node of the demo network, on rs2p's Node bindings (rs2p.MeshSocket). Same command
// line and stdout protocol as examples/demo_node.c, so that scripts/demo.py drives a C, a
// Python, a Node and a py2p node alike:
//
//   node examples/demo_node.js --name NAME --port P [--connect HOST:PORT] [--expect N]
//                              [--timeout S] [--stay] [--sync]
//
// stdout, one line per event:
//   ready <port> <id>                 the node listens (--port 0: a free one)
//   connected <n> <peer id>           a peer finished its handshake; n peers now
//   disconnected <n> <peer id>        a peer left; n peers now
//   NAME got: <text> from <short id>  a broadcast arrived (short id: first 8 characters)
//
// stdin: the line `go` broadcasts `hello from NAME`. The node exits once it has sent and
// received N messages (with --stay: and stdin has closed, so that it keeps relaying for
// the others until the driver is done), or when the timeout (counted from start) passes:
// status 0 if it received N messages, 1 if not.
//
// --sync: the node is an rs2p.SyncSocket of the default sync table (subnet 'sync', leasing,
// as py2p's SyncSocket). `go` sets key NAME to `hello from NAME`; once the table holds N
// keys the node prints, on one line with the keys sorted,
//   NAME table: {C: hello from C, Node: hello from Node, ...}
// and exits as above (status 0; 1 if the table did not reach N keys in time).
//
// Needs bindings/node/node_modules (npm install there) and librs2p (target/release, or
// $RS2P_LIBRARY); scripts/demo.sh sets both up.

const path = require('node:path');
const readline = require('node:readline');
const { parseArgs } = require('node:util');
const rs2p = require(path.join(__dirname, '..', 'bindings', 'node'));

const SHORT_ID = 8;

function usage(problem) {
  console.error(`${problem}\nusage: node examples/demo_node.js --name NAME --port P [--connect HOST:PORT] [--expect N] [--timeout S] [--stay] [--sync]`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        name: { type: 'string', default: 'Node' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        connect: { type: 'string' },
        expect: { type: 'string', default: '3' },
        timeout: { type: 'string', default: '20' },
        stay: { type: 'boolean', default: false },
        sync: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port ${values.port} is not a port number`);
  const expect = Number(values.expect);
  if (!Number.isInteger(expect) || expect < 0) usage(`--expect ${values.expect} is not a count`);
  const timeout = Number(values.timeout);
  if (!(timeout >= 0)) usage(`--timeout ${values.timeout} is not a number of seconds`);
  let peer = null;
  if (values.connect !== undefined) {
    const at = values.connect.lastIndexOf(':');
    const peerPort = Number(values.connect.slice(at + 1));
    if (at <= 0 || !Number.isInteger(peerPort) || peerPort < 1 || peerPort > 65535) {
      usage(`--connect ${values.connect} should look like 127.0.0.1:4444`);
    }
    peer = [values.connect.slice(0, at), peerPort];
  }
  return {
    name: values.name,
    host: values.host,
    port,
    peer,
    expect,
    timeoutMs: timeout * 1000,
    stay: values.stay,
    sync: values.sync,
  };
}

function text(value) {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** `{a: x, b: y}` with the keys sorted: the table as the demo prints it. */
function tableLine(socket) {
  const items = socket.items().map(([key, value]) => [text(key), text(value)]);
  items.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${items.map(([key, value]) => `${key}: ${value}`).join(', ')}}`;
}

/** Network events both modes print. */
function reportLinks(socket, isEnding) {
  const peers = new Set();
  socket.on('connect', (_s, peerId) => {
    peers.add(peerId);
    if (!isEnding()) console.log(`connected ${peers.size} ${peerId}`);
  });
  socket.on('disconnect', (_s, peerId) => {
    peers.delete(peerId);
    if (!isEnding()) console.log(`disconnected ${peers.size} ${peerId}`);
  });
}

function mainSync(options) {
  const socket = new rs2p.SyncSocket(options.host, options.port);
  let written = false;
  let printed = false;
  let stdinClosed = false;
  let ending = false;

  const full = () => socket.size >= options.expect;

  function finish() {
    if (ending) return;
    ending = true;
    clearTimeout(deadline);
    if (!printed && full()) {
      printed = true;
      console.log(`${options.name} table: ${tableLine(socket)}`);
    }
    const ok = printed;
    if (!ok) {
      console.error(`${options.name}: the table holds ${socket.size} of ${options.expect} keys after ${options.timeoutMs / 1000} s: ${tableLine(socket)}`);
    }
    socket.close().then(
      () => process.exit(ok ? 0 : 1),
      (err) => {
        console.error(`${options.name}: close failed: ${err.message}`);
        process.exit(1);
      },
    );
  }

  function check() {
    if (ending) return;
    if (written && !printed && full()) {
      printed = true;
      console.log(`${options.name} table: ${tableLine(socket)}`);
    }
    if (stdinClosed || (printed && !options.stay)) finish();
  }

  const deadline = setTimeout(finish, options.timeoutMs);
  reportLinks(socket, () => ending);
  socket.on('update', check);

  console.log(`ready ${socket.port} ${socket.id}`);
  if (options.peer !== null) socket.connect(...options.peer);

  const input = readline.createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    if (line.trim() !== 'go' || ending || written) return;
    try {
      socket.set(options.name, `hello from ${options.name}`);
    } catch (err) {
      console.error(`${options.name}: writing key ${options.name} failed: ${err.message}`);
      finish();
      return;
    }
    written = true;
    check();
  });
  input.on('close', () => {
    stdinClosed = true;
    check();
  });
}

function main() {
  const options = parseOptions();
  if (options.sync) {
    mainSync(options);
    return;
  }
  const socket = new rs2p.MeshSocket(options.host, options.port);
  const peers = new Set();
  let received = 0;
  let sent = false;
  let stdinClosed = false;
  let ending = false;

  function finish() {
    if (ending) return;
    ending = true;
    clearTimeout(deadline);
    const ok = received >= options.expect;
    if (!ok) console.error(`${options.name}: got ${received} of ${options.expect} messages in ${options.timeoutMs / 1000} s`);
    socket.close().then(
      () => process.exit(ok ? 0 : 1),
      (err) => {
        console.error(`${options.name}: close failed: ${err.message}`);
        process.exit(1);
      },
    );
  }

  function check() {
    if (stdinClosed || (sent && received >= options.expect && !options.stay)) finish();
  }

  const deadline = setTimeout(finish, options.timeoutMs);

  socket.on('connect', (_s, peerId) => {
    peers.add(peerId);
    if (!ending) console.log(`connected ${peers.size} ${peerId}`);
  });
  socket.on('disconnect', (_s, peerId) => {
    peers.delete(peerId);
    if (!ending) console.log(`disconnected ${peers.size} ${peerId}`);
  });
  socket.on('message', () => {
    for (const message of socket.recv(100)) {
      const words = message.packets.slice(1).map(text).join(' ');
      console.log(`${options.name} got: ${words} from ${message.sender.slice(0, SHORT_ID)}`);
      received += 1;
    }
    check();
  });

  console.log(`ready ${socket.port} ${socket.id}`);
  if (options.peer !== null) socket.connect(...options.peer);

  const input = readline.createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    if (line.trim() !== 'go' || ending) return;
    socket.send(Buffer.from(`hello from ${options.name}`, 'utf8')).then(
      () => {
        sent = true;
        check();
      },
      (err) => {
        console.error(`${options.name}: broadcast failed: ${err.message}`);
        finish();
      },
    );
  });
  input.on('close', () => {
    stdinClosed = true;
    check();
  });
}

main();
