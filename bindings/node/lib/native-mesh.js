'use strict';
// The mesh node's C functions in JS terms (private to the package): declares them on the
// loaded library, owns the koffi pointers (BigInt, untyped) of nodes and messages and never
// lets one out, and turns statuses into rs2p errors. No events API and no queue here (that
// is mesh.js); what this file guarantees is that no call here can deadlock the JS thread.
//
// The rule that keeps it so: the node's dispatcher thread hands each event to a koffi
// callback, which koffi runs on the JS thread while the dispatcher waits. A C call made
// synchronously from JS that itself waits on the dispatcher (rs2p_mesh_close, a blocking
// rs2p_mesh_recv) would then wait forever. Those calls go through koffi's `.async` (a
// worker thread) and return Promises; everything called synchronously returns at once or
// waits only on the I/O thread (which never waits on JS).

const koffi = require('koffi');
const library = require('./library');
const errors = require('./errors');

const CALLBACK_CONSUME_MESSAGES = 1;
const EVENT_KIND = Object.freeze({ 1: 'connect', 2: 'disconnect', 3: 'message' });
const DROP_REASONS = 32;
const STATUS_BUFFER_TOO_SMALL = 3;
const STATUS_CLOSED = 32;
const STATUS_WOULD_BLOCK = 33;
const MESSAGE_ID_LEN = 32;

let declared = null;

/** The mesh functions of the loaded library, declared on first use. */
function api() {
  if (declared !== null) return declared;
  const lib = library.get();
  const handle = lib.handle;
  koffi.opaque('rs2p_mesh');
  koffi.opaque('rs2p_mesh_config');
  koffi.opaque('rs2p_message');
  koffi.opaque('rs2p_peer_list');
  const eventType = koffi.struct('rs2p_event', {
    kind: 'int32_t',
    peer_id: 'const char *',
    message: 'rs2p_message *',
  });
  const statsType = koffi.struct('rs2p_mesh_stats', {
    frames_in: 'uint64_t',
    frames_out: 'uint64_t',
    bytes_in: 'uint64_t',
    bytes_out: 'uint64_t',
    relayed: 'uint64_t',
    delivered: 'uint64_t',
    queue_len: 'uint64_t',
    pending: 'uint64_t',
    dropped: koffi.array('uint64_t', DROP_REASONS),
    redials: 'uint64_t',
    redials_given_up: 'uint64_t',
    reserved: koffi.array('uint64_t', 6),
  });
  const callbackType = koffi.proto('void rs2p_event_cb(void *userdata, const rs2p_event *ev)');
  const prototypes = [
    'int32_t rs2p_mesh_config_new(_Out_ rs2p_mesh_config **out)',
    'int32_t rs2p_mesh_config_set_bind(rs2p_mesh_config *cfg, const char *host, uint16_t port)',
    'int32_t rs2p_mesh_config_set_out_addr(rs2p_mesh_config *cfg, const char *host, uint16_t port)',
    'int32_t rs2p_mesh_config_set_protocol(rs2p_mesh_config *cfg, const char *subnet, const char *encryption)',
    'int32_t rs2p_mesh_config_set_max_outgoing(rs2p_mesh_config *cfg, uint32_t n)',
    'int32_t rs2p_mesh_config_set_queue_capacity(rs2p_mesh_config *cfg, uint64_t messages)',
    'void rs2p_mesh_config_free(rs2p_mesh_config *cfg)',
    'int32_t rs2p_mesh_new(const rs2p_mesh_config *cfg, _Out_ rs2p_mesh **out)',
    'int32_t rs2p_mesh_id(const rs2p_mesh *mesh, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
    'int32_t rs2p_mesh_port(const rs2p_mesh *mesh, _Out_ uint16_t *out)',
    'int32_t rs2p_mesh_connect(rs2p_mesh *mesh, const char *host, uint16_t port)',
    'int32_t rs2p_mesh_send_msgpack(rs2p_mesh *mesh, uint8_t sub_flag, const uint8_t *packets, size_t len, int32_t timeout_ms)',
    'int32_t rs2p_mesh_whisper_msgpack(rs2p_mesh *mesh, const char *peer_id, uint8_t sub_flag, const uint8_t *packets, size_t len)',
    'const char *rs2p_message_sender(const rs2p_message *msg)',
    'int64_t rs2p_message_time(const rs2p_message *msg)',
    'const uint8_t *rs2p_message_id(const rs2p_message *msg)',
    'uint8_t rs2p_message_type(const rs2p_message *msg)',
    'uint8_t rs2p_message_subflag(const rs2p_message *msg)',
    'int32_t rs2p_message_packets_msgpack(const rs2p_message *msg, _Out_ const uint8_t **ptr, _Out_ size_t *len)',
    'int32_t rs2p_message_reply_msgpack(const rs2p_message *msg, const uint8_t *packets, size_t len)',
    'int32_t rs2p_message_clone(const rs2p_message *msg, _Out_ rs2p_message **out)',
    'void rs2p_message_free(rs2p_message *msg)',
    'int32_t rs2p_mesh_set_callback(rs2p_mesh *mesh, rs2p_event_cb *cb, void *userdata, void *userdata_free, uint32_t flags)',
    'int32_t rs2p_mesh_peers(const rs2p_mesh *mesh, _Out_ rs2p_peer_list **out)',
    'size_t rs2p_peer_list_len(const rs2p_peer_list *list)',
    'const char *rs2p_peer_list_id(const rs2p_peer_list *list, size_t index)',
    'const char *rs2p_peer_list_host(const rs2p_peer_list *list, size_t index)',
    'uint16_t rs2p_peer_list_port(const rs2p_peer_list *list, size_t index)',
    'int32_t rs2p_peer_list_outgoing(const rs2p_peer_list *list, size_t index)',
    'void rs2p_peer_list_free(rs2p_peer_list *list)',
    'int32_t rs2p_mesh_stats_get(const rs2p_mesh *mesh, _Out_ rs2p_mesh_stats *out)',
    'const char *rs2p_drop_reason_str(uint32_t reason)',
    'int32_t rs2p_mesh_last_error(const rs2p_mesh *mesh, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
    'int32_t rs2p_mesh_close(rs2p_mesh *mesh)',
    'void rs2p_mesh_free(rs2p_mesh *mesh)',
  ];
  const fn = {};
  for (const prototype of prototypes) {
    const name = /([a-z0-9_]+)\(/.exec(prototype)[1];
    try {
      fn[name] = handle.func(prototype);
    } catch (err) {
      throw new errors.LibraryLoadError(
        `librs2p at ${lib.path} has no usable mesh function ${name} (${err.message}): it was ` +
          'built before the mesh C API. Rebuild it from this checkout (`cargo build --release`).',
      );
    }
  }
  const dropReasons = [];
  for (let reason = 0; reason < DROP_REASONS; reason++) dropReasons.push(fn.rs2p_drop_reason_str(reason) || '');
  declared = { lib, fn, eventType, statsType, callbackType, dropReasons };
  return declared;
}

/** Copies `len` bytes at C address `ptr` into a new Buffer (C memory is only lent to us). */
function copyOut(ptr, len) {
  if (len === 0) return Buffer.alloc(0);
  return Buffer.from(new Uint8Array(koffi.view(ptr, len)));
}

/** A string filled in by a `(out, out_cap, *out_len)` function, growing the buffer once. */
function readText(call) {
  let capacity = 128;
  for (let attempt = 0; attempt < 2; attempt++) {
    const out = Buffer.alloc(capacity);
    const len = [0];
    const status = call(out, capacity, len);
    if (status === 0) {
      const n = Number(len[0]);
      const end = out.indexOf(0);
      return out.toString('utf8', 0, end >= 0 && end < n ? end : n);
    }
    if (status !== STATUS_BUFFER_TOO_SMALL) return { status };
    capacity = Number(len[0]) + 1;
  }
  return { status: STATUS_BUFFER_TOO_SMALL };
}

/**
 * A received message as the C library lent it to an event callback: everything is copied
 * out at once, and a clone is kept for `reply` (freed when the JS object is collected).
 */
class NativeMessage {
  constructor(msgPtr) {
    const { fn } = api();
    this.sender = fn.rs2p_message_sender(msgPtr) || '';
    this.time = Number(fn.rs2p_message_time(msgPtr));
    const idPtr = fn.rs2p_message_id(msgPtr);
    this.id = idPtr ? copyOut(idPtr, MESSAGE_ID_LEN) : Buffer.alloc(MESSAGE_ID_LEN);
    this.msgType = fn.rs2p_message_type(msgPtr);
    this.subFlag = fn.rs2p_message_subflag(msgPtr);
    const ptr = [null];
    const len = [0];
    checkGlobal(fn.rs2p_message_packets_msgpack(msgPtr, ptr, len));
    this.packed = copyOut(ptr[0], Number(len[0]));
    const clone = [null];
    checkGlobal(fn.rs2p_message_clone(msgPtr, clone));
    this.clonePtr = clone[0];
    messageFinalizer.register(this, clone[0]);
  }

  /** Sends msgpack array `packed` back to the sender (whisper, or the request flow). */
  reply(packed) {
    const { fn } = api();
    checkGlobal(fn.rs2p_message_reply_msgpack(this.clonePtr, packed, packed.length));
  }
}

const messageFinalizer = new FinalizationRegistry((ptr) => {
  if (declared !== null) declared.fn.rs2p_message_free(ptr);
});

/** Throws the rs2p error for `status`, with the detail of this thread's last failure. */
function checkGlobal(status) {
  if (status !== 0) throw errors.errorForStatus(status, library.get().lastError(status));
}

/**
 * Calls `use(cfg)` with a config built from `options` (see NativeMesh), freeing the config
 * afterwards whatever happens; returns what `use` returns.
 */
function withConfig(options, use) {
  const { fn } = api();
  const cfgOut = [null];
  checkGlobal(fn.rs2p_mesh_config_new(cfgOut));
  const cfg = cfgOut[0];
  try {
    checkGlobal(fn.rs2p_mesh_config_set_bind(cfg, options.host, options.port));
    if (options.outHost !== undefined) {
      checkGlobal(fn.rs2p_mesh_config_set_out_addr(cfg, options.outHost, options.outPort));
    }
    checkGlobal(fn.rs2p_mesh_config_set_protocol(cfg, options.subnet, options.encryption));
    if (options.maxOutgoing !== undefined) {
      checkGlobal(fn.rs2p_mesh_config_set_max_outgoing(cfg, options.maxOutgoing));
    }
    if (options.queueCapacity !== undefined) {
      checkGlobal(fn.rs2p_mesh_config_set_queue_capacity(cfg, options.queueCapacity));
    }
    return use(cfg);
  } finally {
    fn.rs2p_mesh_config_free(cfg);
  }
}

/**
 * One running node. Every method except `close()` and `sendWait()` returns at once. After
 * `close()` has resolved the C handle is freed and every method throws `Closed` without
 * touching C, so a stale call can never reach freed memory.
 */
class NativeMesh {
  /**
   * @param {{host:string, port:number, subnet:string, encryption:string,
   *          outHost?:string, outPort?:number, maxOutgoing?:number, queueCapacity?:number}} options
   * @param {{ptr: *, release: function(): void}} [borrowed] adopt a node started elsewhere
   *   (a sync table's mesh handle) instead of starting one: `options` is then unused, and
   *   once closed and idle `release()` runs instead of rs2p_mesh_free (the owner frees it).
   */
  constructor(options, borrowed = undefined) {
    const { fn } = api();
    if (borrowed !== undefined) {
      this.ptr = borrowed.ptr;
      this.release = borrowed.release;
    } else {
      this.ptr = withConfig(options, (cfg) => {
        const meshOut = [null];
        checkGlobal(fn.rs2p_mesh_new(cfg, meshOut));
        return meshOut[0];
      });
      this.release = null;
    }
    this.callback = null;
    this.closing = null;
    this.closed = false;
    this.inflight = 0; // `.async` calls still running on a worker thread with `ptr`
    const id = readText((out, cap, len) => fn.rs2p_mesh_id(this.ptr, out, cap, len));
    if (typeof id !== 'string') this.fail(id.status);
    this.id = id;
    const port = [0];
    this.check(fn.rs2p_mesh_port(this.ptr, port));
    this.port = Number(port[0]);
  }

  /** The detail of the node's last failure: readable from any thread, unlike rs2p_last_error. */
  lastError(status) {
    const { fn, lib } = api();
    if (this.ptr !== null) {
      const text = readText((out, cap, len) => fn.rs2p_mesh_last_error(this.ptr, out, cap, len));
      if (typeof text === 'string' && text) return text;
    }
    return lib.fn.rs2p_status_str(status) || `status ${status}`;
  }

  fail(status) {
    throw errors.errorForStatus(status, this.lastError(status));
  }

  check(status) {
    if (status !== 0) this.fail(status);
  }

  live() {
    if (this.closed || this.ptr === null) {
      throw errors.errorForStatus(STATUS_CLOSED, 'this MeshSocket is closed; create a new one to talk to the network');
    }
    return api().fn;
  }

  /**
   * Routes every event to `handler(kind, peerId, message)` on the JS thread; messages
   * are consumed (not also kept in the C receive queue). `message` is a NativeMessage.
   */
  listen(handler) {
    const fn = this.live();
    const { eventType, callbackType } = api();
    const onEvent = (_userdata, evPtr) => {
      const ev = koffi.decode(evPtr, eventType);
      const kind = EVENT_KIND[ev.kind];
      if (kind === undefined) return; // a newer library's event kind: ignore it
      const message = kind === 'message' && ev.message ? new NativeMessage(ev.message) : null;
      handler(kind, ev.peer_id || '', message);
    };
    this.callback = koffi.register(onEvent, koffi.pointer(callbackType));
    this.check(fn.rs2p_mesh_set_callback(this.ptr, this.callback, null, null, CALLBACK_CONSUME_MESSAGES));
  }

  connect(host, port) {
    this.check(this.live().rs2p_mesh_connect(this.ptr, host, port));
  }

  /** Tries to broadcast without waiting: true if accepted, false if the node pushes back. */
  trySend(subFlag, packed) {
    const status = this.live().rs2p_mesh_send_msgpack(this.ptr, subFlag, packed, packed.length, 0);
    if (status === STATUS_WOULD_BLOCK) return false;
    this.check(status);
    return true;
  }

  /** Broadcasts, waiting on a worker thread for as long as the node pushes back. */
  sendWait(subFlag, packed) {
    const fn = this.live();
    this.inflight += 1;
    return new Promise((resolve, reject) => {
      fn.rs2p_mesh_send_msgpack.async(this.ptr, subFlag, packed, packed.length, -1, (err, status) => {
        this.inflight -= 1;
        this.freeWhenIdle();
        if (err) reject(err);
        else if (status !== 0) reject(errors.errorForStatus(status, this.lastError(status)));
        else resolve();
      });
    });
  }

  whisper(peerId, subFlag, packed) {
    this.check(this.live().rs2p_mesh_whisper_msgpack(this.ptr, peerId, subFlag, packed, packed.length));
  }

  /** [{id, host, port, outgoing}] of the handshaken peers. */
  peers() {
    const fn = this.live();
    const out = [null];
    this.check(fn.rs2p_mesh_peers(this.ptr, out));
    const list = out[0];
    try {
      const peers = [];
      const count = Number(fn.rs2p_peer_list_len(list));
      for (let i = 0; i < count; i++) {
        peers.push({
          id: fn.rs2p_peer_list_id(list, i) || '',
          host: fn.rs2p_peer_list_host(list, i) || '',
          port: fn.rs2p_peer_list_port(list, i),
          outgoing: fn.rs2p_peer_list_outgoing(list, i) === 1,
        });
      }
      return peers;
    } finally {
      fn.rs2p_peer_list_free(list);
    }
  }

  stats() {
    const fn = this.live();
    const raw = {};
    this.check(fn.rs2p_mesh_stats_get(this.ptr, raw));
    const { dropReasons } = api();
    const dropped = {};
    Array.from(raw.dropped, Number).forEach((count, reason) => {
      if (count > 0) dropped[dropReasons[reason] || `reason_${reason}`] = count;
    });
    return {
      framesIn: Number(raw.frames_in),
      framesOut: Number(raw.frames_out),
      bytesIn: Number(raw.bytes_in),
      bytesOut: Number(raw.bytes_out),
      relayed: Number(raw.relayed),
      delivered: Number(raw.delivered),
      queueLen: Number(raw.queue_len),
      pending: Number(raw.pending),
      dropped,
      redials: Number(raw.redials),
      redialsGivenUp: Number(raw.redials_given_up),
    };
  }

  /**
   * Stops the node on a worker thread (its threads joined, its port free), then releases
   * the koffi callback slot; the handle is freed once no `.async` call uses it any more.
   * Idempotent: every call gets the same Promise. Calls made while it runs reach C, which
   * answers RS2P_ERR_CLOSED; calls made after it resolved throw `Closed` in JS.
   */
  close() {
    if (this.closing !== null) return this.closing;
    const fn = this.live();
    this.inflight += 1;
    this.closing = new Promise((resolve, reject) => {
      fn.rs2p_mesh_close.async(this.ptr, (err, status) => {
        this.inflight -= 1;
        const failure = err || (status !== 0 ? errors.errorForStatus(status, this.lastError(status)) : null);
        if (failure) {
          this.freeWhenIdle();
          reject(failure);
          return;
        }
        this.closed = true;
        if (this.callback !== null) {
          // The dispatcher thread is joined: nothing can call the callback any more.
          koffi.unregister(this.callback);
          this.callback = null;
        }
        this.freeWhenIdle();
        resolve();
      });
    });
    return this.closing;
  }

  freeWhenIdle() {
    if (this.closed && this.inflight === 0 && this.ptr !== null) {
      const ptr = this.ptr;
      this.ptr = null;
      if (this.release !== null) this.release();
      else api().fn.rs2p_mesh_free(ptr);
    }
  }
}

module.exports = { NativeMesh, api, withConfig, copyOut, checkGlobal };
