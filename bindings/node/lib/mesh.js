'use strict';
// The mesh network for Node: MeshSocket (a running node of the flooding mesh, with js2p's
// names and events), Message and Protocol. Packets are any msgpack values (Buffer -> bin,
// string -> str, through @msgpack/msgpack); received bin packets come back as Buffers.
// The node itself (sockets, threads, the protocol) lives in librs2p; this file keeps the
// JS side: the receive queue, the events, ordering of sends that wait for back-pressure.

const EventEmitter = require('node:events');
const util = require('node:util');
const { encode: msgpackEncode, decode: msgpackDecode } = require('@msgpack/msgpack');
const { NativeMesh } = require('./native-mesh');
const errors = require('./errors');
const flags = require('./flags');
const wire = require('./wire');

const DEFAULT_QUEUE_CAPACITY = 65536;
// Longest timer Node accepts: holds the event loop open while a node runs.
const KEEP_ALIVE_MS = 2 ** 31 - 1;
const STATUS_CLOSED = 32;
// Private to the package: options[NATIVE_FACTORY](nativeOptions) builds the NativeMesh
// (a SyncSocket's wraps the mesh handle of its sync table) instead of starting a node.
const NATIVE_FACTORY = Symbol('rs2p native mesh factory');

function noop() {}

function closedError() {
  return errors.errorForStatus(STATUS_CLOSED, 'this MeshSocket is closed; create a new one to talk to the network');
}

function encodePackets(packets) {
  try {
    return msgpackEncode(packets);
  } catch (err) {
    throw new TypeError(`packets must be msgpack-encodable (Buffer, string, number, array, object...): ${err.message}`);
  }
}

/** A subnet and an encryption name; nodes with different protocol IDs do not talk. */
class Protocol {
  /** @param {string} subnet  @param {string} encryption 'Plaintext' (rs2p has no 'SSL') */
  constructor(subnet = '', encryption = 'Plaintext') {
    if (typeof subnet !== 'string' || typeof encryption !== 'string') {
      throw new TypeError('Protocol(subnet, encryption) takes two strings');
    }
    this.subnet = subnet;
    this.encryption = encryption;
    Object.freeze(this);
  }

  /** The base58 protocol ID (what the handshake compares). */
  get id() {
    return wire.protocolId(this.subnet, this.encryption);
  }
}

/** The default of py2p's and js2p's mesh sockets: subnet 'mesh' in plaintext. */
const defaultProtocol = new Protocol('mesh', 'Plaintext');

/** A broadcast or whisper received by a MeshSocket. */
class Message {
  #native;
  #socket;
  #packets = null;

  /** @internal built by MeshSocket only */
  constructor(native, socket) {
    this.#native = native;
    this.#socket = socket;
    /** The sender's node ID (base58 text). */
    this.sender = native.sender;
    /** When it was sent: seconds since the Unix epoch, by the sender's clock. */
    this.time = native.time;
    /** The message ID: SHA-256 of the packed message (32 bytes). */
    this.id = native.id;
    /** The main flag it came with (flags.broadcast or flags.whisper). */
    this.msgType = native.msgType;
  }

  /** The sub-flag first (flags.broadcast or flags.whisper), then the sender's packets. */
  get packets() {
    if (this.#packets === null) {
      let decoded;
      try {
        decoded = msgpackDecode(this.#native.packed);
      } catch (err) {
        throw new errors.UnsupportedMsgpack(18, `message packets are not acceptable msgpack: ${err.message}`);
      }
      this.#packets = [this.#native.subFlag, ...wire.binToBuffer(decoded)];
    }
    return [...this.#packets];
  }

  /** The protocol of the socket that received it. */
  get protocol() {
    return this.#socket.protocol;
  }

  /**
   * Sends `packets` back to the sender only: a whisper if the sender is a neighbour, else
   * through the protocol's request/response flow (delivery then is not guaranteed).
   */
  reply(...packets) {
    if (this.#socket.closed) throw closedError();
    this.#native.reply(encodePackets(packets));
  }

  [util.inspect.custom](depth, options, inspect) {
    const shown = inspect(this.packets, { ...options, depth: options.depth === null ? null : options.depth - 1 });
    return `Message { sender: '${this.sender}', time: ${this.time}, packets: ${shown} }`;
  }
}

/**
 * A node of the mesh network. Events: 'connect' (socket, peerId) when a peer completes its
 * handshake, 'disconnect' (socket, peerId), 'message' (socket) when a message is queued
 * for recv(). Holds the event loop open until close() resolves.
 */
class MeshSocket extends EventEmitter {
  #native;
  #queue = [];
  #queueCapacity;
  #queueShed = 0;
  #waiters = new Set(); // pending recvAsync calls, oldest first
  #sendTail = null; // the last send still waiting for back-pressure, to keep order
  #keepAlive;
  #closing = null;

  /**
   * @param {string} addr address to bind ('127.0.0.1' for local only)
   * @param {number} port port to bind; 0 picks a free one (see `.port`)
   * @param {Protocol} protocol the subnet to join
   * @param {[string, number]} [outAddr] the address peers should dial (default: addr, port)
   * @param {{maxOutgoing?: number, queueCapacity?: number}} [options] queueCapacity bounds
   *   the receive queue (default 65536): when full, the oldest message is dropped and
   *   counted in stats().queueShed
   */
  constructor(addr = '127.0.0.1', port = 0, protocol = defaultProtocol, outAddr = undefined, options = {}) {
    super();
    if (typeof addr !== 'string') throw new TypeError('addr must be a string such as "127.0.0.1"');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, not ${port}`);
    if (!(protocol instanceof Protocol)) throw new TypeError('protocol must be an rs2p.Protocol');
    const nativeOptions = { host: addr, port, subnet: protocol.subnet, encryption: protocol.encryption };
    if (outAddr !== undefined && outAddr !== null) {
      if (!Array.isArray(outAddr) || typeof outAddr[0] !== 'string' || !Number.isInteger(outAddr[1])) {
        throw new TypeError('outAddr must be [host, port]');
      }
      [nativeOptions.outHost, nativeOptions.outPort] = outAddr;
    }
    if (options.maxOutgoing !== undefined) nativeOptions.maxOutgoing = options.maxOutgoing;
    this.#queueCapacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    if (!Number.isInteger(this.#queueCapacity) || this.#queueCapacity < 1) {
      throw new RangeError('options.queueCapacity must be a positive integer');
    }
    const factory = options[NATIVE_FACTORY];
    this.#native = factory !== undefined ? factory(nativeOptions) : new NativeMesh(nativeOptions);
    /** The protocol this node speaks. */
    this.protocol = protocol;
    /** This node's ID (base58 text). */
    this.id = this.#native.id;
    /** The port actually bound (useful with port 0). */
    this.port = this.#native.port;
    /** [addr, port] bound. */
    this.addr = [addr, this.port];
    /** [host, port] peers are told to dial. */
    this.outAddr = nativeOptions.outHost !== undefined ? [nativeOptions.outHost, nativeOptions.outPort] : this.addr;
    this.#keepAlive = setInterval(noop, KEEP_ALIVE_MS);
    try {
      this.#native.listen((kind, peerId, message) => this.#onEvent(kind, peerId, message));
    } catch (err) {
      this.#closing = this.#shutdown();
      this.#closing.catch(noop);
      throw err;
    }
  }

  // Runs on the JS thread while the node's dispatcher thread waits: keep it short, and
  // never let a listener's exception travel into koffi (it would be swallowed there).
  #onEvent(kind, peerId, native) {
    try {
      if (kind === 'message') {
        const message = new Message(native, this);
        const waiter = this.#waiters.values().next().value;
        if (waiter !== undefined) {
          waiter(message);
        } else {
          if (this.#queue.length >= this.#queueCapacity) {
            this.#queue.shift();
            this.#queueShed += 1;
          }
          this.#queue.push(message);
        }
        this.emit('message', this);
      } else {
        this.emit(kind, this, peerId);
      }
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  /** True once close() was called. */
  get closed() {
    return this.#closing !== null;
  }

  /** "Nominal" while open, "Closed" after close() (js2p's name). */
  get status() {
    return this.closed ? 'Closed' : 'Nominal';
  }

  #live() {
    if (this.#closing !== null) throw closedError();
    return this.#native;
  }

  /** Dials addr:port; returns at once (listen for 'connect'). */
  connect(addr, port) {
    if (typeof addr !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TypeError('connect(addr, port) takes a host string and a port 1..65535');
    }
    this.#live().connect(addr, port);
    return this;
  }

  /**
   * Broadcasts one message carrying `packets` to the whole network. Accepted at once unless
   * the node is pushing back; then it waits (on a worker thread) and later sends queue up
   * behind it in order. The Promise resolves once the node accepted the message; ignoring
   * it is safe (a failure while waiting is then dropped silently).
   */
  send(...packets) {
    const native = this.#live();
    const packed = encodePackets(packets);
    if (this.#sendTail === null && native.trySend(flags.broadcast, packed)) return Promise.resolve();
    const previous = this.#sendTail ?? Promise.resolve();
    const waiting = previous.catch(noop).then(() => {
      if (this.#closing !== null) throw closedError();
      return native.sendWait(flags.broadcast, packed);
    });
    this.#sendTail = waiting;
    waiting
      .finally(() => {
        if (this.#sendTail === waiting) this.#sendTail = null;
      })
      .catch(noop);
    return waiting;
  }

  /** Sends `packets` to one connected peer only. Throws UnknownPeer if it is not connected. */
  whisper(peerId, ...packets) {
    if (typeof peerId !== 'string') throw new TypeError('peerId must be a base58 ID string');
    const native = this.#live();
    native.whisper(peerId, flags.whisper, encodePackets(packets));
  }

  /**
   * Queued messages, without waiting (js2p's recv): no argument -> the oldest Message or
   * undefined; recv(n) -> an array of up to n Messages (possibly empty).
   */
  recv(quantity) {
    this.#live();
    if (quantity === undefined || quantity === null || quantity === 0) return this.#queue.shift();
    if (!Number.isInteger(quantity) || quantity < 0) throw new RangeError('quantity must be a positive integer');
    return this.#queue.splice(0, quantity);
  }

  /**
   * The next message: at once if one is queued, else the first to arrive within
   * `timeoutMs` (omit it to wait without limit); null on timeout or when the socket closes.
   */
  recvAsync(timeoutMs) {
    let native;
    try {
      native = this.#live();
    } catch (err) {
      return Promise.reject(err);
    }
    void native;
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
      return Promise.reject(new RangeError('timeoutMs must be a number >= 0, or omitted to wait without limit'));
    }
    if (timeoutMs === 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      let timer = null;
      const waiter = (message) => {
        this.#waiters.delete(waiter);
        if (timer !== null) clearTimeout(timer);
        resolve(message);
      };
      this.#waiters.add(waiter);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(() => waiter(null), timeoutMs);
    });
  }

  /** Handshaken peers: [{id, host, port, addr, outgoing}]. */
  peers() {
    return this.#live()
      .peers()
      .map((p) => ({ ...p, addr: [p.host, p.port] }));
  }

  /** Handshaken peers keyed by ID (js2p's routing_table). */
  get routingTable() {
    return new Map(this.peers().map((p) => [p.id, p]));
  }

  /** IDs of the peers this node dialled. */
  get outgoing() {
    return this.peers()
      .filter((p) => p.outgoing)
      .map((p) => p.id);
  }

  /** IDs of the peers that dialled this node. */
  get incoming() {
    return this.peers()
      .filter((p) => !p.outgoing)
      .map((p) => p.id);
  }

  /** The node's counters, plus this socket's receive queue (recvQueueLen, queueShed). */
  stats() {
    return { ...this.#live().stats(), recvQueueLen: this.#queue.length, queueShed: this.#queueShed };
  }

  /**
   * Stops the node: connections and listener closed, threads gone, port free, when the
   * Promise resolves. Pending recvAsync calls resolve with null; later calls throw Closed.
   * Idempotent (every call returns the same Promise).
   */
  close() {
    if (this.#closing === null) this.#closing = this.#shutdown();
    return this.#closing;
  }

  async #shutdown() {
    for (const waiter of [...this.#waiters]) waiter(null);
    try {
      await this.#native.close();
    } finally {
      clearInterval(this.#keepAlive);
    }
  }

  [util.inspect.custom]() {
    return `MeshSocket { id: '${this.id}', addr: ${this.addr[0]}:${this.port}, status: '${this.status}' }`;
  }
}

module.exports = { MeshSocket, Message, Protocol, defaultProtocol, NATIVE_FACTORY };
