'use strict';
// The sync table for Node: SyncSocket, a MeshSocket whose nodes share one dictionary
// (js2p's names and events). Keys are byte strings: a string key is its UTF-8 bytes, a
// Buffer key is taken as is; keys come back as strings when they are valid UTF-8, as
// Buffers otherwise. Values are any msgpack value but null (through @msgpack/msgpack; bin
// comes back as a Buffer); setting null deletes. The table itself, its lease rules and its
// network traffic live in librs2p; this file converts and emits the events.

const util = require('node:util');
const { keyBytes, keyValue, encodeValue, decodeValue, isPlainMapping } = require('./table-values');
const { MeshSocket, Protocol, NATIVE_FACTORY } = require('./mesh');
const { NativeMesh } = require('./native-mesh');
const { NativeSync } = require('./native-sync');
const errors = require('./errors');

const STATUS_CLOSED = 32;

/** js2p's and py2p's default sync protocol: subnet 'sync' (the node adds '1' or '0'). */
const defaultSyncProtocol = new Protocol('sync', 'Plaintext');

/**
 * A node of a sync table: a MeshSocket (everything it has) whose network shares one
 * dictionary. Events, besides the mesh's: 'update' (socket, key, value, {owner, time}) for
 * every change of a key, local or remote, and 'delete' (socket, key). With leasing (the
 * default) a key written by one node cannot be changed by another for an hour: set() then
 * throws Leased. Writes apply at once locally and reach the other nodes shortly after.
 */
class SyncSocket extends MeshSocket {
  #sync;
  #leasing;

  /**
   * js2p's argument order is (addr, port, protocol, leasing, outAddr); both
   * (addr, port, leasing, protocol, outAddr) and that order are accepted (a Protocol in
   * third place means the latter).
   * @param {string} addr address to bind ('127.0.0.1' for local only)
   * @param {number} port port to bind; 0 picks a free one (see `.port`)
   * @param {boolean} [leasing] whether writers hold their keys for an hour (default true);
   *   every node of a table must agree (it is part of the protocol ID)
   * @param {Protocol} [protocol] the table's subnet (default 'sync'); the node joins subnet
   *   + '1' with leasing, + '0' without, as js2p and py2p do
   * @param {[string, number]} [outAddr] the address peers should dial
   * @param {{maxOutgoing?: number, queueCapacity?: number}} [options] as for MeshSocket
   */
  constructor(addr = '127.0.0.1', port = 0, leasing = true, protocol = defaultSyncProtocol, outAddr = undefined, options = {}) {
    if (leasing instanceof Protocol) {
      // js2p's order: (addr, port, protocol, leasing, outAddr).
      const given = leasing;
      leasing = protocol === defaultSyncProtocol ? true : protocol;
      protocol = given;
    }
    if (leasing === undefined || leasing === null) leasing = true;
    if (protocol === undefined || protocol === null) protocol = defaultSyncProtocol;
    if (typeof leasing !== 'boolean') throw new TypeError('leasing must be true or false');
    if (!(protocol instanceof Protocol)) throw new TypeError('protocol must be an rs2p.Protocol');
    const used = new Protocol(protocol.subnet + (leasing ? '1' : '0'), protocol.encryption);
    let sync = null;
    const factory = (nativeOptions) => {
      sync = new NativeSync(nativeOptions, protocol.subnet, leasing);
      try {
        return new NativeMesh(nativeOptions, { ptr: sync.meshPointer(), release: () => sync.release() });
      } catch (err) {
        sync.release();
        throw err;
      }
    };
    super(addr, port, used, outAddr, { ...options, [NATIVE_FACTORY]: factory });
    this.#sync = sync;
    this.#leasing = leasing;
    /** The protocol given (the table's subnet); `protocol` is the one the node speaks. */
    this.tableProtocol = protocol;
    try {
      sync.listen((kind, key, packed, owner, time) => this.#onChange(kind, key, packed, owner, time));
    } catch (err) {
      this.close().catch(() => {});
      throw err;
    }
  }

  // Runs on the JS thread while the node's dispatcher waits: a listener's exception must
  // not travel into koffi (it would be swallowed there).
  #onChange(kind, keyBuffer, packed, owner, time) {
    try {
      const key = keyValue(keyBuffer);
      if (kind === 'update') this.emit('update', this, key, decodeValue(packed), { owner, time });
      else this.emit('delete', this, key);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  #live() {
    if (this.closed) {
      throw errors.errorForStatus(STATUS_CLOSED, 'this SyncSocket is closed; create a new one to join the table');
    }
    return this.#sync;
  }

  /** Whether writers hold their keys for an hour. */
  get leasing() {
    return this.#leasing;
  }

  /** The value at `key`, or `fallback` when there is none. Never waits for the network. */
  get(key, fallback = undefined) {
    const packed = this.#live().get(keyBytes(key));
    return packed === null ? fallback : decodeValue(packed);
  }

  /** Whether the table holds `key`. */
  has(key) {
    return this.#live().get(keyBytes(key)) !== null;
  }

  /**
   * Stores `value` at `key` here and on every node. null or undefined deletes the key.
   * Throws Leased when another node holds the key (nothing is sent then).
   */
  set(key, value) {
    if (value === null || value === undefined) {
      this.del(key);
      return this;
    }
    const bytes = keyBytes(key);
    this.#live().set(bytes, encodeValue(value, 'a sync value'));
    return this;
  }

  /** set() for every entry of an object or a Map. */
  update(entries) {
    if (!isPlainMapping(entries)) throw new TypeError('update() takes an object or a Map');
    const pairs = entries instanceof Map ? entries.entries() : Object.entries(entries);
    for (const [key, value] of pairs) this.set(key, value);
    return this;
  }

  /** Deletes `key` here and on every node; true if this node held it. Throws Leased like set(). */
  del(key) {
    return this.#live().delete(keyBytes(key));
  }

  /** The value at `key` (or `fallback` when there is none), deleting the key. */
  pop(key, fallback = undefined) {
    const bytes = keyBytes(key);
    const packed = this.#live().get(bytes);
    if (packed === null) return fallback;
    this.#sync.delete(bytes);
    return decodeValue(packed);
  }

  /** [key, value] of some key, deleting it; undefined when the table is empty. */
  popitem() {
    for (const key of this.keys()) {
      const packed = this.#live().get(keyBytes(key));
      if (packed === null) continue;
      this.#sync.delete(keyBytes(key));
      return [key, decodeValue(packed)];
    }
    return undefined;
  }

  /**
   * Merges the fields of `delta` (an object or a Map) into the map at `key` (an absent key
   * starts as {}), here and on every node; this node becomes the key's owner. Throws
   * InvalidArgument when the key holds something other than a map, Leased when another
   * node holds it (only with leasing).
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

  /** Who last wrote `key` and when: {owner (node ID), time (Unix seconds)}, or undefined. */
  metadata(key) {
    return this.#live().metadata(keyBytes(key)) ?? undefined;
  }

  /** How many keys the table holds. */
  get size() {
    return this.#live().size();
  }

  /** Every key (strings, or Buffers for keys that are not UTF-8), in no particular order. */
  keys() {
    return this.#live().keys().map(keyValue);
  }

  /** Every value, in the order of keys() at the time of the call. */
  values() {
    return this.items().map(([, value]) => value);
  }

  /** Every [key, value] pair; keys deleted while reading are left out. */
  items() {
    const sync = this.#live();
    const items = [];
    for (const bytes of sync.keys()) {
      const packed = sync.get(bytes);
      if (packed !== null) items.push([keyValue(bytes), decodeValue(packed)]);
    }
    return items;
  }

  [Symbol.iterator]() {
    return this.items()[Symbol.iterator]();
  }

  /** The node's counters (see MeshSocket.stats) plus the table's: {accepted, refusedLeased, ...}. */
  syncStats() {
    return this.#live().stats();
  }

  [util.inspect.custom]() {
    const size = this.closed ? '?' : this.size;
    return `SyncSocket { id: '${this.id}', addr: ${this.addr[0]}:${this.port}, keys: ${size}, status: '${this.status}' }`;
  }
}

module.exports = { SyncSocket, defaultSyncProtocol };
