'use strict';
// Helpers for the mesh tests: sockets on 127.0.0.1 port 0 that are always closed, and
// waits on events or conditions that give up (and say what they waited for) after a bound.
const rs2p = require('..');

// Generous: the machine is shared; a healthy run takes milliseconds.
const WAIT_MS = 15000;

/** The next `event` on `emitter` whose arguments satisfy `predicate`: its arguments. */
function waitEvent(emitter, event, predicate = () => true, what = event, timeoutMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event (${what}) within ${timeoutMs} ms`));
    }, timeoutMs);
    function listener(...args) {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    }
    emitter.on(event, listener);
  });
}

/** Resolves once `condition()` is truthy, checking on every timer tick; rejects after the bound. */
async function eventually(condition, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The next message on `socket` (recvAsync), failing the test if none arrives in time. */
async function nextMessage(socket, what = 'a message') {
  const message = await socket.recvAsync(WAIT_MS);
  if (message === null) throw new Error(`no message (${what}) within ${WAIT_MS} ms on ${socket.id}`);
  return message;
}

/** Sockets for one test, closed when it ends (pass the test context). */
function sockets(t) {
  const opened = [];
  t.after(() => Promise.all(opened.map((s) => s.close())));
  return (options = {}) => {
    const socket = new rs2p.MeshSocket('127.0.0.1', 0, options.protocol, undefined, options);
    opened.push(socket);
    return socket;
  };
}

/** `dialler` connects to `listener`; resolves once both have seen the handshake. */
async function link(dialler, listener) {
  const seenByDialler = waitEvent(dialler, 'connect', (_s, id) => id === listener.id, `${dialler.id} meets ${listener.id}`);
  const seenByListener = waitEvent(listener, 'connect', (_s, id) => id === dialler.id, `${listener.id} meets ${dialler.id}`);
  dialler.connect('127.0.0.1', listener.port);
  await Promise.all([seenByDialler, seenByListener]);
}

module.exports = { WAIT_MS, waitEvent, eventually, nextMessage, sockets, link };
