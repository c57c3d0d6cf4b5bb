#!/usr/bin/env node
'use strict';
// One node of the demo network, on rs2p's Node bindings (rs2p.MeshSocket). Same command
// line and stdout protocol as examples/demo_node.c, so that scripts/demo.py drives a C, a
// Python, a Node and a py2p node alike:
//
//   node examples/demo_node.js --name NAME --port P [--connect HOST:PORT] [--expect N]
//                              [--timeout S] [--stay]
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
// Needs bindings/node/node_modules (npm install there) and librs2p (target/release, or
// $RS2P_LIBRARY); scripts/demo.sh sets both up.

const path = require('node:path');
const readline = require('node:readline');
const { parseArgs } = require('node:util');
const rs2p = require(path.join(__dirname, '..', 'bindings', 'node'));

const SHORT_ID = 8;

function usage(problem) {
  console.error(`${problem}\nusage: node examples/demo_node.js --name NAME --port P [--connect HOST:PORT] [--expect N] [--timeout S] [--stay]`);
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
  return { name: values.name, host: values.host, port, peer, expect, timeoutMs: timeout * 1000, stay: values.stay };
}

function text(value) {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function main() {
  const options = parseOptions();
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
