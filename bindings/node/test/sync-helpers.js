'use strict';
// Helpers for the sync table tests: SyncSockets on 127.0.0.1 port 0 that are always closed,
// and a wait for a key to reach a node. The bounded waits come from mesh-helpers.
const rs2p = require('..');
const { eventually, link, waitEvent, WAIT_MS } = require('./mesh-helpers');

/** SyncSockets for one test, closed when it ends (pass the test context). */
function syncSockets(t) {
  const opened = [];
  t.after(() => Promise.all(opened.map((s) => s.close())));
  return (leasing = true, protocol = undefined) => {
    const socket = new rs2p.SyncSocket('127.0.0.1', 0, leasing, protocol);
    opened.push(socket);
    return socket;
  };
}

/** Resolves once `socket` holds `key` with a value satisfying `accept` (default: any value). */
function holds(socket, key, accept = () => true, what = `${socket.id} holds ${String(key)}`) {
  return eventually(() => {
    const value = socket.get(key, undefined);
    return value !== undefined && accept(value);
  }, what);
}

/** Resolves once `socket` no longer holds `key`. */
function lacks(socket, key) {
  return eventually(() => !socket.has(key), `${socket.id} drops ${String(key)}`);
}

/** Sorted [key, value] pairs of a socket (keys as strings). */
function sortedItems(socket) {
  return socket.items().sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

module.exports = { syncSockets, holds, lacks, sortedItems, link, waitEvent, eventually, WAIT_MS };
