'use strict';
// The chord DHT for Node: ChordSocket, a MeshSocket that is a node of a chord network (js2p's
// names and events). Keys are byte strings: a string key is its UTF-8 bytes, a Buffer key is
// taken as is; keys come back as strings when they are valid UTF-8, as Buffers otherwise.
// Values are any msgpack value but null (through @msgpack/msgpack; bin comes back as a
// Buffer); setting null deletes. Reads go to the network (a majority of a key's five
// positions) and return Promises; they never block the event loop. The ring, the routing
// and the network traffic live in librs2p; this file converts and emits the events.

const util = require('node:util');
const { keyBytes, keyValue, encodeValue, decodeValue, isPlainMapping } = require('./table-values');
const { MeshSocket, Protocol, NATIVE_FACTORY } = require('./mesh');
const { NativeMesh } = require('./native-mesh');
const { NativeChord, NoMajority } = require('./native-chord');
const errors = require('./errors');

const STATUS_CLOSED = 32;
const MAX_TIMEOUT_MS = 2 ** 32 - 1;
// Settles the read Promises of get() with "nothing there" instead of a value.
const ABSENT = Symbol('absent');

/** js2p's and py2p's default chord protocol: subnet 'chord' (used as is). */
const defaultChordProtocol = new Protocol('chord', 'Plaintext');

/** A timeout in seconds (js2p's and py2p's unit) as whole milliseconds; 0 = the node's default. */
function timeoutMs(seconds) {
  if (seconds === undefined || seconds === null) return 0;
  if (typeof seconds !== 'number' || !(seconds > 0)) {
    throw new RangeError(`timeout is a number of seconds > 0 (or omitted for the default), not ${seconds}`);
  }
  return Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil(seconds * 1000)));
}

function isReadMiss(err) {
  return err instanceof errors.NotFound || err instanceof NoMajority || err instanceof errors.Timeout;
}

/**
 * A node of a chord network (a distributed hash table): a MeshSocket (everything it has)
 * whose keys live at five positions of a ring and are read by majority. It starts leeching
 * (reading and writing through storing peers); join() makes it store its share. Events,
 * besides the mesh's: 'add' (socket, key) when a key is announced by another node, 'delete'
 * (socket, key) when one is deleted (this node's own writes are not reported). Writes are
 * sent at once; reads ask the network and return Promises.
 */
class ChordSocket extends MeshSocket {
  #chord;

  /**
   * @param {string} addr address to bind ('127.0.0.1' for local only)
   * @param {number} port port to bind; 0 picks a free one (see `.port`)
   * @param {Protocol} [protocol] the network's subnet (default 'chord', used as is)
   * @param {[string, number]} [outAddr] the address peers should dial
   * @param {{maxOutgoing?: number, queueCapacity?: number, getTimeout?: number}} [options]
   *   as for MeshSocket, plus getTimeout: the default timeout of reads in seconds (10)
   */
  constructor(addr = '127.0.0.1', port = 0, protocol = defaultChordProtocol, outAddr = undefined, options = {}) {
    if (protocol === undefined || protocol === null) protocol = defaultChordProtocol;
    if (!(protocol instanceof Protocol)) throw new TypeError('protocol must be an rs2p.Protocol');
    const defaultTimeoutMs = timeoutMs(options.getTimeout);
    let chord = null;
    const factory = (nativeOptions) => {
      chord = new NativeChord(nativeOptions, protocol.subnet, defaultTimeoutMs);
      try {
        return new NativeMesh(nativeOptions, { ptr: chord.meshPointer(), release: () => chord.release() });
      } catch (err) {
        chord.release();
        throw err;
      }
    };
    super(addr, port, protocol, outAddr, { ...options, [NATIVE_FACTORY]: factory });
    this.#chord = chord;
    try {
      chord.listen((kind, key) => this.#onKey(kind, key));
    } catch (err) {
      this.close().catch(() => {});
      throw err;
    }
  }

  // Runs on the JS thread while the node's dispatcher waits: a listener's exception must
  // not travel into koffi (it would be swallowed there).
  #onKey(kind, keyBuffer) {
    try {
      this.emit(kind, this, keyValue(keyBuffer));
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  #live() {
    if (this.closed) {
      throw errors.errorForStatus(STATUS_CLOSED, 'this ChordSocket is closed; create a new one to join the network');
    }
    return this.#chord;
  }

  /** Start storing data: this node takes its share of the ring from now on. */
  join() {
    this.#live().join();
    return this;
  }

  /**
   * Stop storing: what this node holds is handed to the storing peers now responsible
   * (kept here when there is none).
   */
  unjoin() {
    this.#live().unjoin();
    return this;
  }

  /** Whether this node stores data (after join(), until unjoin()). */
  get joined() {
    return this.#live().isJoined();
  }

  /** js2p's name: true until join(). */
  get leeching() {
    return !this.joined;
  }

  /**
   * Reads `key` from the network: resolves with the value three of its five positions
   * agree on, or with `fallback` (default undefined) when there is no such key, the
   * positions disagree, or too few answer within `timeout` seconds (default: the socket's,
   * 10). Rejects only with Closed (the socket closed before the read ended) or for a bad
   * argument. Any number of reads may be in flight.
   */
  get(key, fallback = undefined, timeout = undefined) {
    return this.getNoFallback(key, timeout).catch((err) => {
      if (isReadMiss(err)) return fallback;
      throw err;
    });
  }

  /**
   * js2p's get_no_fallback: like get() but rejects with NotFound (no node holds the key),
   * NoMajority (the positions disagree) or Timeout (too few answered in time).
   */
  getNoFallback(key, timeout = undefined) {
    let bytes;
    let ms;
    let chord;
    try {
      bytes = keyBytes(key);
      ms = timeoutMs(timeout);
      chord = this.#live();
    } catch (err) {
      return Promise.reject(err);
    }
    return chord.get(bytes, ms).then(decodeValue);
  }

  /** js2p's name for getNoFallback. */
  get_no_fallback(key, timeout = undefined) {
    return this.getNoFallback(key, timeout);
  }

  /**
   * Stores `value` at `key`'s five positions and announces a new key to the network. null
   * or undefined deletes the key. Sent at once (waits only for room to send when peers read
   * slowly).
   */
  set(key, value) {
    if (value === null || value === undefined) {
      this.del(key);
      return this;
    }
    const bytes = keyBytes(key);
    this.#live().set(bytes, encodeValue(value, 'a chord value'));
    return this;
  }

  /** set() for every entry of an object or a Map. */
  update(entries) {
    if (!isPlainMapping(entries)) throw new TypeError('update() takes an object or a Map');
    const pairs = entries instanceof Map ? entries.entries() : Object.entries(entries);
    for (const [key, value] of pairs) this.set(key, value);
    return this;
  }

  /**
   * Deletes `key` at its five positions and announces it; true if this node knew of the
   * key (else nothing is sent: see keys()).
   */
  del(key) {
    return this.#live().delete(keyBytes(key));
  }

  /**
   * Reads `key` (as get()) and deletes it; resolves with its value, or with `fallback`
   * when there was none to read.
   */
  pop(key, fallback = undefined, timeout = undefined) {
    let bytes;
    try {
      bytes = keyBytes(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.get(bytes, ABSENT, timeout).then((value) => {
      if (value === ABSENT) return fallback;
      this.#live().setNil(bytes);
      return value;
    });
  }

  /**
   * Merges the fields of `delta` (an object or a Map) into the map at `key`'s five
   * positions (an absent entry starts as {}; an entry that is not a map is left alone).
   * Sent at once; read the key to see the merged map.
   */
  applyDelta(key, delta) {
    if (!isPlainMapping(delta)) throw new TypeError('a delta is an object or a Map of fields');
    this.#live().applyDelta(keyBytes(key), encodeValue(delta, 'a delta'));
    return this;
  }

  /** js2p's name for applyDelta. */
  apply_delta(key, delta) {
    return this.applyDelta(key, delta);
  }

  /** How many keys this node knows of (see keys()). */
  get size() {
    return this.#live().size();
  }

  /**
   * The keys this node knows of: its own writes and every key announced on the network
   * since it joined the mesh (strings, or Buffers for keys that are not UTF-8), in byte
   * order. Their values are read with get().
   */
  keys() {
    return this.#live().keys().map(keyValue);
  }

  /** The value of every key of keys() that reads (keys without a value are left out). */
  async values() {
    return (await this.items()).map(([, value]) => value);
  }

  /** [key, value] of every key of keys() that reads, all read at once. */
  async items() {
    const keys = this.keys();
    const values = await Promise.all(keys.map((key) => this.get(key, ABSENT)));
    const items = [];
    keys.forEach((key, i) => {
      if (values[i] !== ABSENT) items.push([key, values[i]]);
    });
    return items;
  }

  /** items(), one [key, value] at a time (for await ... of). */
  async *[Symbol.asyncIterator]() {
    for (const item of await this.items()) yield item;
  }

  /** The chord layer's counters and state (the mesh's are in stats()). */
  chordStats() {
    return this.#live().stats();
  }

  /**
   * Stops the node (see MeshSocket.close). Reads in flight reject with Closed at once.
   * Idempotent.
   */
  close() {
    if (!this.closed && this.#chord !== undefined && this.#chord !== null) this.#chord.endReads();
    return super.close();
  }

  [util.inspect.custom]() {
    const state = this.closed ? 'Closed' : this.joined ? 'joined' : 'leeching';
    return `ChordSocket { id: '${this.id}', addr: ${this.addr[0]}:${this.port}, status: '${state}' }`;
  }
}

module.exports = { ChordSocket, NoMajority, defaultChordProtocol };
