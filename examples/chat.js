#!/usr/bin/env node
'use strict';
// A terminal chat over the rs2p mesh (Node bindings). Every line you type is broadcast to
// the whole mesh; lines from others are printed with the first characters of their ID.
//
// Set up once from the repository root (builds librs2p, installs the Node dependencies):
//     scripts/test-node.sh        (or: make build, then `npm install` in bindings/node)
// Then, in two terminals:
//     node examples/chat.js --port 4444
//     node examples/chat.js --port 4445 --connect 127.0.0.1:4444
// A third can join through either. Commands: /peers lists the neighbours, /quit leaves
// (so do Ctrl-D and Ctrl-C). Options: --host (bind address, default 127.0.0.1), --port
// (default 0: any free port), --connect host:port (repeatable), --name (shown to others).
// The chat speaks py2p/js2p's default protocol, so a py2p or js2p mesh socket on the same
// network sees the lines as broadcasts of [name, text].

const path = require('node:path');
const readline = require('node:readline');
const { parseArgs } = require('node:util');
const rs2p = require(path.join(__dirname, '..', 'bindings', 'node'));

const SHORT_ID = 8;

function usage(problem) {
  console.error(`${problem}\nusage: node examples/chat.js [--host H] [--port P] [--connect H:P]... [--name N]`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        connect: { type: 'string', multiple: true, default: [] },
        name: { type: 'string', default: '' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port ${values.port} is not a port number`);
  const peers = values.connect.map((spec) => {
    const at = spec.lastIndexOf(':');
    const peerPort = Number(spec.slice(at + 1));
    if (at <= 0 || !Number.isInteger(peerPort) || peerPort < 1 || peerPort > 65535) {
      usage(`--connect ${spec} should look like 127.0.0.1:4444`);
    }
    return [spec.slice(0, at), peerPort];
  });
  return { host: values.host, port, peers, name: values.name };
}

function short(id) {
  return id.slice(0, SHORT_ID);
}

function text(value) {
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function main() {
  const options = parseOptions();
  let socket;
  try {
    socket = new rs2p.MeshSocket(options.host, options.port);
  } catch (err) {
    usage(`cannot start a node on ${options.host}:${options.port}: ${err.message}`);
  }
  const me = options.name || short(socket.id);
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });

  // On a terminal, print above the prompt without eating what the user is typing.
  function say(line) {
    if (!process.stdout.isTTY) {
      console.log(line);
      return;
    }
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
    console.log(line);
    rl.prompt(true);
  }

  socket.on('connect', (_s, peerId) => say(`* ${short(peerId)} joined`));
  socket.on('disconnect', (_s, peerId) => say(`* ${short(peerId)} left`));
  socket.on('message', () => {
    for (const message of socket.recv(100)) {
      const [, name, line] = message.packets;
      const who = name ? `${text(name)}@${short(message.sender)}` : short(message.sender);
      say(`<${who}> ${line === undefined ? text(name) : text(line)}`);
    }
  });

  let quitting = false;
  function quit() {
    if (quitting) return;
    quitting = true;
    rl.close();
    socket.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`close failed: ${err.message}`);
        process.exit(1);
      },
    );
  }

  rl.on('line', (input) => {
    const line = input.trim();
    if (line === '/quit') return quit();
    if (line === '/peers') {
      const peers = socket.peers();
      if (peers.length === 0) say('* no peers yet');
      for (const peer of peers) say(`* ${peer.id} at ${peer.host}:${peer.port} (${peer.outgoing ? 'we dialled' : 'they dialled'})`);
      return undefined;
    }
    if (line.startsWith('/')) {
      say('* commands: /peers, /quit');
      return undefined;
    }
    if (line) socket.send(me, line).catch((err) => say(`* not sent: ${err.message}`));
    rl.prompt();
    return undefined;
  });
  rl.on('close', quit);
  rl.on('SIGINT', quit);

  console.log(`rs2p chat: you are ${me} (ID ${socket.id}), listening on ${options.host}:${socket.port}`);
  for (const [host, port] of options.peers) {
    try {
      socket.connect(host, port);
      console.log(`* dialling ${host}:${port}`);
    } catch (err) {
      console.log(`* cannot dial ${host}:${port}: ${err.message}`);
    }
  }
  console.log('* type a line to broadcast it; /peers, /quit');
  rl.prompt();
}

main();
