'use strict';
// The chord table's C functions in JS terms (private to the package): declares them on the
// loaded library, owns the rs2p_chord pointer, the reads in flight (rs2p_chord_get_op) and
// the koffi callback slot of its key events, and turns statuses into rs2p errors. Keys and
// values cross as bytes (a key is a Buffer, a value its msgpack); conversions from JS values
// are chord.js's job.
//
// Reads never block the JS thread. A read starts with rs2p_chord_get_start (returns at
// once: the read is then in flight on the node's I/O thread, however many others are) and
// its result is collected with rs2p_chord_get_wait. One "collector" call at a time runs on
// a koffi worker thread (`.async`): it waits on the oldest read for at most COLLECT_SLICE_MS;
// when it returns, every read in flight is looked at without waiting (wait_ms 0) on the JS
// thread and the finished ones settle their Promises. So N reads in flight hold one worker
// thread (not N of libuv's four), and a read that ends while another is waited on is seen
// within COLLECT_SLICE_MS.
//
// The rule of native-mesh.js holds here too: key events come from the node's dispatcher
// thread, which waits while koffi runs the callback on the JS thread; nothing called
// synchronously here waits on the dispatcher (writes wait at most for room to send, on the
// I/O thread). Closing goes through the mesh handle (rs2p_mesh_close on a worker thread, in
// native-mesh.js), which stops the node; afterwards `release()` frees the table, once the
// collector has returned.

const koffi = require('koffi');
const errors = require('./errors');
const nativeMesh = require('./native-mesh');
const { takeKeyList } = require('./native-sync');

const { copyOut, checkGlobal } = nativeMesh;

const STATUS_OK = 0;
const STATUS_BUFFER_TOO_SMALL = 3;
const STATUS_CLOSED = 32;
const STATUS_WOULD_BLOCK = 33;
const STATUS_TIMEOUT = 34;
const STATUS_NOT_FOUND = 40;
const STATUS_NO_MAJORITY = 41;
const EVENT_KIND = Object.freeze({ 1: 'add', 2: 'delete' });
const SCRATCH_BYTES = 4096;
/** The longest a finished read may wait to be noticed while another read is waited on. */
const COLLECT_SLICE_MS = 20;
// An empty key is a valid key; koffi would pass an empty Buffer as NULL, so a key of
// length 0 points at this byte instead.
const EMPTY = Buffer.alloc(1);
// msgpack nil: writing it deletes the key at its five positions.
const NIL = Buffer.from([0xc0]);

const { NoMajority } = errors;

let declared = null;
let declareFailure = null;

/** The chord functions of the loaded library, declared on first use (after the mesh's). */
function api() {
  if (declared !== null) return declared;
  if (declareFailure !== null) throw declareFailure; // koffi types cannot be declared twice
  try {
    declared = declare();
  } catch (err) {
    declareFailure = err;
    throw err;
  }
  return declared;
}

function declare() {
  const { lib } = nativeMesh.api();
  const handle = lib.handle;
  koffi.opaque('rs2p_chord');
  koffi.opaque('rs2p_chord_get_op');
  // rs2p_key_list is declared (by name) by native-sync.js; it is `void *` here so that the
  // two files can be loaded in either order.
  const eventType = koffi.struct('rs2p_chord_event', {
    kind: 'int32_t',
    key: 'const void *',
    key_len: 'size_t',
  });
  const statsType = koffi.struct('rs2p_chord_stats', {
    stores_forwarded: 'uint64_t',
    retrieves_forwarded: 'uint64_t',
    retrieves_answered: 'uint64_t',
    bad_messages: 'uint64_t',
    bad_deltas: 'uint64_t',
    replicas_sent: 'uint64_t',
    read_repairs: 'uint64_t',
    handed_over: 'uint64_t',
    restored: 'uint64_t',
    stored: 'uint64_t',
    gets_in_flight: 'uint64_t',
    storing_peers: 'uint64_t',
    reserved: koffi.array('uint64_t', 8),
  });
  const callbackType = koffi.proto('void rs2p_chord_event_cb(void *userdata, const rs2p_chord_event *ev)');
  const prototypes = [
    'int32_t rs2p_chord_new(const rs2p_mesh_config *cfg, const char *subnet, uint32_t get_timeout_ms, _Out_ rs2p_chord **out)',
    'rs2p_mesh *rs2p_chord_mesh(rs2p_chord *chord)',
    'int32_t rs2p_chord_join(rs2p_chord *chord)',
    'int32_t rs2p_chord_unjoin(rs2p_chord *chord)',
    'int32_t rs2p_chord_is_joined(const rs2p_chord *chord, _Out_ int32_t *out)',
    'int32_t rs2p_chord_set(rs2p_chord *chord, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)',
    'int32_t rs2p_chord_delete(rs2p_chord *chord, const uint8_t *key, size_t key_len, _Out_ int32_t *existed)',
    'int32_t rs2p_chord_apply_delta(rs2p_chord *chord, const uint8_t *key, size_t key_len, const uint8_t *delta, size_t delta_len)',
    'int32_t rs2p_chord_get_start(rs2p_chord *chord, const uint8_t *key, size_t key_len, uint32_t timeout_ms, _Out_ rs2p_chord_get_op **op)',
    'int32_t rs2p_chord_get_wait(rs2p_chord_get_op *op, uint32_t wait_ms, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
    'void rs2p_chord_get_free(rs2p_chord_get_op *op)',
    'int32_t rs2p_chord_len(const rs2p_chord *chord, _Out_ size_t *out)',
    'int32_t rs2p_chord_keys(const rs2p_chord *chord, _Out_ void **out)',
    'size_t rs2p_key_list_len(const void *list)',
    'int32_t rs2p_key_list_get(const void *list, size_t index, _Out_ const void **key, _Out_ size_t *key_len)',
    'void rs2p_key_list_free(void *list)',
    'int32_t rs2p_chord_set_callback(rs2p_chord *chord, rs2p_chord_event_cb *cb, void *userdata, void *userdata_free)',
    'int32_t rs2p_chord_stats_get(const rs2p_chord *chord, _Out_ rs2p_chord_stats *out)',
    'void rs2p_chord_free(rs2p_chord *chord)',
  ];
  const fn = {};
  for (const prototype of prototypes) {
    const name = /([a-z0-9_]+)\(/.exec(prototype)[1];
    try {
      fn[name] = handle.func(prototype);
    } catch (err) {
      throw new errors.LibraryLoadError(
        `librs2p at ${lib.path} has no usable chord function ${name} (${err.message}): it was ` +
          'built before the chord C API. Rebuild it from this checkout (`cargo build --release`).',
      );
    }
  }
  return { fn, eventType, statsType, callbackType };
}

function keyArg(key) {
  return key.length === 0 ? EMPTY : key;
}

function keyText(key) {
  const text = key.toString('utf8');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The error a read of `key` ended with (`status` is not OK). */
function readError(status, key, timeoutMs) {
  const shown = keyText(key);
  switch (status) {
    case STATUS_NOT_FOUND:
      return errors.errorForStatus(status, `no node holds key '${shown}' (every position answered it has nothing)`);
    case STATUS_NO_MAJORITY:
      return new NoMajority(
        status,
        `the five positions of key '${shown}' disagree: no value is held by three of them ` +
          '(writes may still be on their way; read again)',
      );
    case STATUS_TIMEOUT:
      return errors.errorForStatus(
        status,
        `too few positions of key '${shown}' answered within ${timeoutMs === 0 ? 'the default timeout' : `${timeoutMs} ms`}` +
          ' (are storing nodes connected? has any node joined?)',
      );
    case STATUS_CLOSED:
      return errors.errorForStatus(status, `the ChordSocket closed while key '${shown}' was being read`);
    default:
      return errors.errorForStatus(status, `reading key '${shown}' failed`);
  }
}

/**
 * One chord table. The mesh handle it lends (`meshPointer()`) is wrapped by a NativeMesh,
 * which closes the node; once that is done it calls `release()`, which frees the table.
 * Afterwards every method throws `Closed` without touching C.
 */
class NativeChord {
  /**
   * @param {object} options network settings as for NativeMesh (its subnet is ignored)
   * @param {string} subnet the chord network's subnet, used as is
   * @param {number} getTimeoutMs default timeout of reads (0: the library's, 10 s)
   */
  constructor(options, subnet, getTimeoutMs) {
    const { fn } = api();
    this.ptr = nativeMesh.withConfig(options, (cfg) => {
      const out = [null];
      checkGlobal(fn.rs2p_chord_new(cfg, subnet, getTimeoutMs, out));
      return out[0];
    });
    this.callback = null;
    this.scratch = Buffer.alloc(SCRATCH_BYTES);
    this.reads = new Set(); // reads in flight, oldest first: {op, key, timeoutMs, resolve, reject}
    this.collecting = null; // the read the worker thread waits on, or null
    this.readsEnded = false; // endReads() was called: no new reads
    this.releaseWanted = false;
  }

  /** The node's mesh handle (borrowed: valid until release()). */
  meshPointer() {
    return api().fn.rs2p_chord_mesh(this.live());
  }

  live() {
    if (this.ptr === null || this.releaseWanted) {
      throw errors.errorForStatus(STATUS_CLOSED, 'this ChordSocket is closed; create a new one to join the network');
    }
    return this.ptr;
  }

  /** Routes key events to `handler(kind, key)` on the JS thread: kind 'add' or 'delete'. */
  listen(handler) {
    const ptr = this.live();
    const { fn, eventType, callbackType } = api();
    const onEvent = (_userdata, evPtr) => {
      const ev = koffi.decode(evPtr, eventType);
      const kind = EVENT_KIND[ev.kind];
      if (kind === undefined) return; // a newer library's event kind: ignore it
      handler(kind, copyOut(ev.key, Number(ev.key_len)));
    };
    this.callback = koffi.register(onEvent, koffi.pointer(callbackType));
    checkGlobal(fn.rs2p_chord_set_callback(ptr, this.callback, null, null));
  }

  join() {
    checkGlobal(api().fn.rs2p_chord_join(this.live()));
  }

  unjoin() {
    checkGlobal(api().fn.rs2p_chord_unjoin(this.live()));
  }

  isJoined() {
    const out = [0];
    checkGlobal(api().fn.rs2p_chord_is_joined(this.live(), out));
    return out[0] === 1;
  }

  /** Writes msgpack `packed` at the key's five positions (msgpack nil deletes). */
  set(key, packed) {
    checkGlobal(api().fn.rs2p_chord_set(this.live(), keyArg(key), key.length, packed, packed.length));
  }

  /** Deletes `key` at its five positions, whether or not this node heard of it. */
  setNil(key) {
    this.set(key, NIL);
  }

  /** Deletes `key` if this node heard of it (else sends nothing); true if it did. */
  delete(key) {
    const existed = [0];
    checkGlobal(api().fn.rs2p_chord_delete(this.live(), keyArg(key), key.length, existed));
    return existed[0] === 1;
  }

  /** Merges msgpack map `packed` into the map at `key`. */
  applyDelta(key, packed) {
    checkGlobal(api().fn.rs2p_chord_apply_delta(this.live(), keyArg(key), key.length, packed, packed.length));
  }

  /**
   * Starts a majority read of `key` (timeoutMs 0: the node's default). Resolves with the
   * value's msgpack; rejects with NotFound, NoMajority, Timeout or Closed.
   */
  get(key, timeoutMs) {
    if (this.readsEnded) {
      return Promise.reject(readError(STATUS_CLOSED, key, timeoutMs));
    }
    let ptr;
    try {
      ptr = this.live();
    } catch (err) {
      return Promise.reject(err);
    }
    const { fn } = api();
    const out = [null];
    try {
      checkGlobal(fn.rs2p_chord_get_start(ptr, keyArg(key), key.length, timeoutMs, out));
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.reads.add({ op: out[0], key, timeoutMs, resolve, reject });
      this.collect();
    });
  }

  /** Runs the collector on a worker thread unless it runs already or nothing is in flight. */
  collect() {
    if (this.collecting !== null || this.reads.size === 0) return;
    const read = this.reads.values().next().value;
    this.collecting = read;
    const len = [0];
    api().fn.rs2p_chord_get_wait.async(read.op, COLLECT_SLICE_MS, EMPTY, 0, len, (err) => {
      this.collecting = null;
      // Settled while waited on (endReads): its op could only be freed now.
      if (read.settled) api().fn.rs2p_chord_get_free(read.op);
      if (this.releaseWanted) {
        this.freeAll();
        return;
      }
      if (err) {
        // koffi could not make the call: fail every read rather than spin.
        for (const pending of [...this.reads]) this.settle(pending, null, err);
        return;
      }
      this.sweep();
      this.collect();
    });
  }

  /** Settles every read that ended (looked at without waiting; on the JS thread). */
  sweep() {
    const { fn } = api();
    for (const read of [...this.reads]) {
      let out = this.scratch;
      for (;;) {
        const len = [0];
        const status = fn.rs2p_chord_get_wait(read.op, 0, out, out.length, len);
        if (status === STATUS_WOULD_BLOCK) break;
        if (status === STATUS_BUFFER_TOO_SMALL) {
          out = Buffer.alloc(Number(len[0])); // the result is kept in the op: ask again
          continue;
        }
        if (status === STATUS_OK) this.settle(read, Buffer.from(out.subarray(0, Number(len[0]))), null);
        else this.settle(read, null, readError(status, read.key, read.timeoutMs));
        break;
      }
    }
  }

  settle(read, packed, err) {
    this.reads.delete(read);
    read.settled = true;
    if (this.collecting !== read) api().fn.rs2p_chord_get_free(read.op);
    if (err) read.reject(err);
    else read.resolve(packed);
  }

  /** Ends every read in flight with Closed, at once; later reads are refused. */
  endReads() {
    this.readsEnded = true;
    for (const read of [...this.reads]) this.settle(read, null, readError(STATUS_CLOSED, read.key, read.timeoutMs));
  }

  size() {
    const out = [0];
    checkGlobal(api().fn.rs2p_chord_len(this.live(), out));
    return Number(out[0]);
  }

  /** Every key this node knows of (Buffers), in byte order. */
  keys() {
    const { fn } = api();
    const out = [null];
    checkGlobal(fn.rs2p_chord_keys(this.live(), out));
    return takeKeyList(fn, out[0]);
  }

  stats() {
    const raw = {};
    checkGlobal(api().fn.rs2p_chord_stats_get(this.live(), raw));
    return {
      storesForwarded: Number(raw.stores_forwarded),
      retrievesForwarded: Number(raw.retrieves_forwarded),
      retrievesAnswered: Number(raw.retrieves_answered),
      badMessages: Number(raw.bad_messages),
      badDeltas: Number(raw.bad_deltas),
      replicasSent: Number(raw.replicas_sent),
      readRepairs: Number(raw.read_repairs),
      handedOver: Number(raw.handed_over),
      restored: Number(raw.restored),
      stored: Number(raw.stored),
      getsInFlight: Number(raw.gets_in_flight),
      storingPeers: Number(raw.storing_peers),
    };
  }

  /**
   * Frees the table. Only once its node is closed (its dispatcher joined, so the callback
   * cannot run any more) and no call uses the mesh handle: NativeMesh calls it then. If the
   * collector still waits on a worker thread (at most COLLECT_SLICE_MS) the table is freed
   * when it returns.
   */
  release() {
    if (this.ptr === null) return;
    this.endReads();
    this.releaseWanted = true;
    if (this.collecting === null) this.freeAll();
  }

  freeAll() {
    if (this.ptr === null) return;
    const { fn } = api();
    for (const read of [...this.reads]) fn.rs2p_chord_get_free(read.op);
    this.reads.clear();
    const ptr = this.ptr;
    this.ptr = null;
    fn.rs2p_chord_free(ptr);
    if (this.callback !== null) {
      koffi.unregister(this.callback);
      this.callback = null;
    }
  }
}

module.exports = { NativeChord, NoMajority, api, COLLECT_SLICE_MS };
