'use strict';
// Helpers for the chord tests: ChordSockets on 127.0.0.1 port 0 that are always closed, a
// network of storing nodes waited on until its ring is linked, and a peer that claims to
// store data but never answers (to hold a read in flight). Bounded waits come from
// mesh-helpers.
const { encode } = require('@msgpack/msgpack');
const rs2p = require('..');
const { NativeMesh } = require('../lib/native-mesh');
const { eventually, link, waitEvent, WAIT_MS } = require('./mesh-helpers');

const HANDSHAKE = 0x05;

/** ChordSockets for one test, closed when it ends (pass the test context). */
function chordSockets(t) {
  const opened = [];
  t.after(() => Promise.all(opened.map((s) => s.close())));
  return (options = {}) => {
    const socket = new rs2p.ChordSocket('127.0.0.1', 0, undefined, undefined, options);
    opened.push(socket);
    return socket;
  };
}

/**
 * `n` joined nodes, each dialling the first; resolves once every node links to every
 * other and knows they all store (so writes route to where reads look). For n <= 3 every
 * node is a ring neighbour of every other, so that is the whole ring.
 */
async function storingNetwork(open, n) {
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(open().join());
  for (const node of nodes.slice(1)) node.connect('127.0.0.1', nodes[0].port);
  for (const node of nodes) {
    await eventually(() => {
      const peers = node.peers();
      return peers.length === n - 1 && node.chordStats().storingPeers === n - 1;
    }, `${node.id} links to the ${n - 1} other storing nodes`);
  }
  return nodes;
}

/**
 * A bare mesh node on the chord subnet, linked to `node`, that tells it "I store data"
 * (chord's handshake, state '0') and then never answers a read: every position of every
 * key routes to it while `node` leeches. Closed when the test ends.
 */
async function silentStoringPeer(t, node) {
  const fake = new NativeMesh({ host: '127.0.0.1', port: 0, subnet: node.protocol.subnet, encryption: 'Plaintext' });
  t.after(() => fake.close());
  const met = waitEvent(node, 'connect', (_s, id) => id === fake.id, `${node.id} meets the silent peer`);
  fake.connect('127.0.0.1', node.port);
  await met;
  await eventually(() => {
    try {
      fake.whisper(node.id, HANDSHAKE, Buffer.from(encode(['0'])));
      return true;
    } catch (err) {
      if (err instanceof rs2p.UnknownPeer) return false; // its side of the handshake is not done yet
      throw err;
    }
  }, 'the silent peer whispers its chord state');
  await eventually(() => node.chordStats().storingPeers === 1, `${node.id} counts the silent peer as storing`);
  return fake;
}

module.exports = { chordSockets, storingNetwork, silentStoringPeer, link, waitEvent, eventually, WAIT_MS };
