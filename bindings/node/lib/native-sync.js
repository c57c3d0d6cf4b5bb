'use strict';
// The sync table's C functions in JS terms (private to the package): declares them on the
// loaded library, owns the rs2p_sync pointer and the koffi callback slot of its events, and
// turns statuses into rs2p errors. Keys and values cross as bytes (a key is a Buffer, a
// value its msgpack); conversions from JS values are sync.js's job.
//
// The rule of native-mesh.js holds here too: the table's events come from the node's
// dispatcher thread, which waits while koffi runs the callback on the JS thread. Every
// function called here returns at once (reads take the table's lock only) or waits only on
// the I/O thread (a write waits for room to send when peers read slowly, up to the node's
// send timeout); none waits on the dispatcher. Closing goes through the mesh handle
// (rs2p_mesh_close, on a worker thread, in native-mesh.js), which closes the table too;
// afterwards `release()` frees the table.

const koffi = require('koffi');
const errors = require('./errors');
const nativeMesh = require('./native-mesh');

const { copyOut, checkGlobal } = nativeMesh;

const STATUS_BUFFER_TOO_SMALL = 3;
const STATUS_CLOSED = 32;
const STATUS_NOT_FOUND = 40;
const EVENT_KIND = Object.freeze({ 1: 'update', 2: 'delete' });
const SCRATCH_BYTES = 4096;
// An empty key is a valid key; koffi would pass an empty Buffer as NULL, so a key of
// length 0 points at this byte instead.
const EMPTY = Buffer.alloc(1);

let declared = null;
let declareFailure = null;

/** The sync functions of the loaded library, declared on first use (after the mesh's). */
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
  koffi.opaque('rs2p_sync');
  koffi.opaque('rs2p_key_list');
  const eventType = koffi.struct('rs2p_sync_event', {
    kind: 'int32_t',
    key: 'const void *',
    key_len: 'size_t',
    value: 'const void *',
    value_len: 'size_t',
    owner: 'const char *',
    time: 'int64_t',
  });
  const statsType = koffi.struct('rs2p_sync_stats', {
    accepted: 'uint64_t',
    refused_leased: 'uint64_t',
    refused_delta_on_non_map: 'uint64_t',
    ignored_dump_entries: 'uint64_t',
    dump_entries_passed_on: 'uint64_t',
    pass_on_skipped: 'uint64_t',
    reserved: koffi.array('uint64_t', 6),
  });
  const callbackType = koffi.proto('void rs2p_sync_event_cb(void *userdata, const rs2p_sync_event *ev)');
  const prototypes = [
    'int32_t rs2p_sync_new(const rs2p_mesh_config *cfg, const char *subnet, int32_t leasing, _Out_ rs2p_sync **out)',
    'rs2p_mesh *rs2p_sync_mesh(rs2p_sync *sync)',
    'int32_t rs2p_sync_set(rs2p_sync *sync, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)',
    'int32_t rs2p_sync_delete(rs2p_sync *sync, const uint8_t *key, size_t key_len, _Out_ int32_t *existed)',
    'int32_t rs2p_sync_apply_delta(rs2p_sync *sync, const uint8_t *key, size_t key_len, const uint8_t *delta, size_t delta_len)',
    'int32_t rs2p_sync_get(const rs2p_sync *sync, const uint8_t *key, size_t key_len, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
    'int32_t rs2p_sync_metadata(const rs2p_sync *sync, const uint8_t *key, size_t key_len, uint8_t *owner_out, size_t owner_cap, _Out_ size_t *owner_len, _Out_ int64_t *time_out)',
    'int32_t rs2p_sync_len(const rs2p_sync *sync, _Out_ size_t *out)',
    'int32_t rs2p_sync_keys(const rs2p_sync *sync, _Out_ rs2p_key_list **out)',
    'size_t rs2p_key_list_len(const rs2p_key_list *list)',
    'int32_t rs2p_key_list_get(const rs2p_key_list *list, size_t index, _Out_ const void **key, _Out_ size_t *key_len)',
    'void rs2p_key_list_free(rs2p_key_list *list)',
    'int32_t rs2p_sync_set_callback(rs2p_sync *sync, rs2p_sync_event_cb *cb, void *userdata, void *userdata_free)',
    'int32_t rs2p_sync_stats_get(const rs2p_sync *sync, _Out_ rs2p_sync_stats *out)',
    'void rs2p_sync_free(rs2p_sync *sync)',
  ];
  const fn = {};
  for (const prototype of prototypes) {
    const name = /([a-z0-9_]+)\(/.exec(prototype)[1];
    try {
      fn[name] = handle.func(prototype);
    } catch (err) {
      throw new errors.LibraryLoadError(
        `librs2p at ${lib.path} has no usable sync function ${name} (${err.message}): it was ` +
          'built before the sync C API. Rebuild it from this checkout (`cargo build --release`).',
      );
    }
  }
  return { fn, eventType, statsType, callbackType };
}

function keyArg(key) {
  return key.length === 0 ? EMPTY : key;
}

/**
 * One sync table. The mesh handle it lends (`meshPointer()`) is wrapped by a NativeMesh,
 * which closes the node; once that is done it calls `release()`, which frees the table.
 * Afterwards every method throws `Closed` without touching C.
 */
class NativeSync {
  /**
   * @param {object} options network settings as for NativeMesh (its subnet is ignored)
   * @param {string} subnet the table's subnet; the protocol's is subnet + '1' or '0'
   * @param {boolean} leasing whether writers hold their keys for an hour
   */
  constructor(options, subnet, leasing) {
    const { fn } = api();
    this.ptr = nativeMesh.withConfig(options, (cfg) => {
      const out = [null];
      checkGlobal(fn.rs2p_sync_new(cfg, subnet, leasing ? 1 : 0, out));
      return out[0];
    });
    this.callback = null;
    this.scratch = Buffer.alloc(SCRATCH_BYTES);
  }

  /** The node's mesh handle (borrowed: valid until release()). */
  meshPointer() {
    return api().fn.rs2p_sync_mesh(this.live());
  }

  live() {
    if (this.ptr === null) {
      throw errors.errorForStatus(STATUS_CLOSED, 'this SyncSocket is closed; create a new one to join the table');
    }
    return this.ptr;
  }

  /**
   * Routes table changes to `handler(kind, key, valuePacked, owner, time)` on the JS thread:
   * kind 'update' or 'delete' (then valuePacked is null).
   */
  listen(handler) {
    const ptr = this.live();
    const { fn, eventType, callbackType } = api();
    const onEvent = (_userdata, evPtr) => {
      const ev = koffi.decode(evPtr, eventType);
      const kind = EVENT_KIND[ev.kind];
      if (kind === undefined) return; // a newer library's event kind: ignore it
      const key = copyOut(ev.key, Number(ev.key_len));
      const value = kind === 'update' ? copyOut(ev.value, Number(ev.value_len)) : null;
      handler(kind, key, value, ev.owner || '', Number(ev.time));
    };
    this.callback = koffi.register(onEvent, koffi.pointer(callbackType));
    checkGlobal(fn.rs2p_sync_set_callback(ptr, this.callback, null, null));
  }

  /** Stores msgpack `packed` at `key`; throws Leased when another node holds the key. */
  set(key, packed) {
    checkGlobal(api().fn.rs2p_sync_set(this.live(), keyArg(key), key.length, packed, packed.length));
  }

  /** Deletes `key` everywhere; true if this node held it. */
  delete(key) {
    const existed = [0];
    checkGlobal(api().fn.rs2p_sync_delete(this.live(), keyArg(key), key.length, existed));
    return existed[0] === 1;
  }

  /** Merges msgpack map `packed` into the map at `key`. */
  applyDelta(key, packed) {
    checkGlobal(api().fn.rs2p_sync_apply_delta(this.live(), keyArg(key), key.length, packed, packed.length));
  }

  /** The msgpack of the value at `key`, or null if there is none. */
  get(key) {
    const { fn } = api();
    const ptr = this.live();
    let out = this.scratch;
    for (let attempt = 0; attempt < 3; attempt++) {
      const len = [0];
      const status = fn.rs2p_sync_get(ptr, keyArg(key), key.length, out, out.length, len);
      if (status === 0) return Buffer.from(out.subarray(0, Number(len[0])));
      if (status === STATUS_NOT_FOUND) return null;
      if (status !== STATUS_BUFFER_TOO_SMALL) checkGlobal(status);
      out = Buffer.alloc(Number(len[0])); // the value grew meanwhile: try again
    }
    checkGlobal(STATUS_BUFFER_TOO_SMALL);
    return null;
  }

  /** {owner, time} of `key`, or null if there is none. */
  metadata(key) {
    const { fn } = api();
    const ptr = this.live();
    let capacity = 128;
    for (let attempt = 0; attempt < 3; attempt++) {
      const out = Buffer.alloc(capacity);
      const len = [0];
      const time = [0];
      const status = fn.rs2p_sync_metadata(ptr, keyArg(key), key.length, out, capacity, len, time);
      if (status === 0) {
        const n = Number(len[0]);
        const end = out.indexOf(0);
        return { owner: out.toString('utf8', 0, end >= 0 && end < n ? end : n), time: Number(time[0]) };
      }
      if (status === STATUS_NOT_FOUND) return null;
      if (status !== STATUS_BUFFER_TOO_SMALL) checkGlobal(status);
      capacity = Number(len[0]) + 1;
    }
    checkGlobal(STATUS_BUFFER_TOO_SMALL);
    return null;
  }

  size() {
    const out = [0];
    checkGlobal(api().fn.rs2p_sync_len(this.live(), out));
    return Number(out[0]);
  }

  /** Every key (Buffers), in no particular order. */
  keys() {
    const { fn } = api();
    const out = [null];
    checkGlobal(fn.rs2p_sync_keys(this.live(), out));
    return takeKeyList(fn, out[0]);
  }

  stats() {
    const raw = {};
    checkGlobal(api().fn.rs2p_sync_stats_get(this.live(), raw));
    return {
      accepted: Number(raw.accepted),
      refusedLeased: Number(raw.refused_leased),
      refusedDeltaOnNonMap: Number(raw.refused_delta_on_non_map),
      ignoredDumpEntries: Number(raw.ignored_dump_entries),
      dumpEntriesPassedOn: Number(raw.dump_entries_passed_on),
      passOnSkipped: Number(raw.pass_on_skipped),
    };
  }

  /**
   * Frees the table. Only once its node is closed (its dispatcher joined, so the callback
   * cannot run any more) and no call uses the mesh handle: NativeMesh calls it then.
   */
  release() {
    if (this.ptr === null) return;
    const ptr = this.ptr;
    this.ptr = null;
    api().fn.rs2p_sync_free(ptr);
    if (this.callback !== null) {
      koffi.unregister(this.callback);
      this.callback = null;
    }
  }
}

/**
 * The keys of an `rs2p_key_list *` (from rs2p_sync_keys or rs2p_chord_keys) as Buffers; frees
 * the list. `fn` holds the rs2p_key_list functions as the caller declared them.
 */
function takeKeyList(fn, list) {
  try {
    const keys = [];
    const count = Number(fn.rs2p_key_list_len(list));
    for (let i = 0; i < count; i++) {
      const keyPtr = [null];
      const len = [0];
      checkGlobal(fn.rs2p_key_list_get(list, i, keyPtr, len));
      keys.push(copyOut(keyPtr[0], Number(len[0])));
    }
    return keys;
  } finally {
    fn.rs2p_key_list_free(list);
  }
}

module.exports = { NativeSync, api, takeKeyList };
