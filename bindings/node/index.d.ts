// Type declarations for the rs2p Node package.

/// <reference types="node" />

import { EventEmitter } from 'node:events';

/** The package version (the loaded library must share its major.minor). */
export const version: string;
/** The loaded librs2p's version string. */
export function libraryVersion(): string;
/** Finds, loads and version-checks librs2p now; returns the path it was loaded from. */
export function loadLibrary(): string;

/** `null` (no compression), `'zlib'`, `'gzip'`, or a raw method code from `flags`. */
export type Compression = null | undefined | 'zlib' | 'gzip' | number;

export interface Frame {
  /** The msgpack array [msg_type, sender, time, payload...]. */
  packed: Buffer;
  /** SHA-256 of `packed`: the message ID (32 bytes). */
  id: Buffer;
  /** How many bytes of the input this frame took. */
  consumed: number;
}

/** A message unpacked from a frame by `decodeMessage` (the codec's view, not the mesh's). */
export interface DecodedMessage {
  msgType: number;
  /** The sender's base58 ID as ASCII bytes. */
  sender: Buffer;
  /** Seconds since the Unix epoch, by the sender's clock. */
  time: number | bigint;
  /** Sub-flag first, then the packets; msgpack bin values are Buffers, str values strings. */
  payload: unknown[];
  id: Buffer;
}

/** The base58 protocol ID of `subnet` with `encryption` ('Plaintext' by default, or 'SSL'). */
export function protocolId(subnet: string, encryption?: string): string;
/** The whole frame (length prefix included) carrying `packed`, optionally compressed. */
export function encodeFrame(packed: Uint8Array, compression?: Compression): Buffer;
/** Checks and opens the first frame of `frame`; throws `Truncated` if it is incomplete. */
export function decodeFrame(frame: Uint8Array): Frame;
/** `decodeFrame`, then unpacks the message it carries. */
export function decodeMessage(frame: Uint8Array): DecodedMessage;

export const flags: Readonly<{
  reserved: readonly number[];
  broadcast: 0x00; renegotiate: 0x01; whisper: 0x02; ping: 0x03; pong: 0x04;
  compression: 0x01; handshake: 0x05; notify: 0x06; peers: 0x07; request: 0x08;
  resend: 0x09; response: 0x0a; store: 0x0b; retrieve: 0x0c; retrieved: 0x0d;
  forward: 0x0e; new_paths: 0x0f; revoke_paths: 0x10; delta: 0x11;
  bz2: 0x10; gzip: 0x11; lzma: 0x12; zlib: 0x13; snappy: 0x20;
}>;

/** A failing library call: `status` is the C status code, `detail` the library's explanation. */
export class Rs2pError extends Error {
  constructor(status: number, detail: string);
  readonly status: number;
  readonly detail: string;
}
/** The arguments were refused before any work was done. */
export class UsageError extends Rs2pError {}
export class NullArgument extends UsageError {}
export class InvalidArgument extends UsageError {}
export class InvalidUtf8Argument extends InvalidArgument {}
export class BufferTooSmall extends UsageError {}
/** A bug inside the library, caught at the C boundary. */
export class Panic extends Rs2pError {}
/** Input bytes are not valid protocol data. */
export class WireError extends Rs2pError {}
export class FrameTooLarge extends WireError {}
export class DecompressedTooLarge extends WireError {}
export class BadCompression extends WireError {}
export class UnknownCompression extends WireError {}
export class Truncated extends WireError {}
export class TrailingBytes extends WireError {}
export class BadChecksum extends WireError {}
export class BadMessageShape extends WireError {}
export class BadBase58 extends WireError {}
/** A mesh node's operation failed. */
export class MeshError extends Rs2pError {}
/** A socket operation failed in the operating system. */
export class IoError extends MeshError {}
/** The port to bind is taken. */
export class AddressInUse extends MeshError {}
/** The MeshSocket is closed. */
export class Closed extends MeshError {}
/** The node is pushing back and the call was asked not to wait. */
export class WouldBlock extends MeshError {}
/** The wait ran out. */
export class Timeout extends MeshError {}
/** The peer ID is not a connected peer. */
export class UnknownPeer extends MeshError {}
/** rs2p does not implement this (e.g. 'SSL' encryption). */
export class Unsupported extends UsageError {}
/** A packet asked for as bytes is another msgpack type. */
export class NotBytes extends UsageError {}
/** Msgpack bytes given to the library do not decode, or are not an array. */
export class InvalidMsgpackArgument extends UsageError {}
/** The msgpack inside a frame is malformed or uses something the protocol forbids. */
export class BadMsgpack extends WireError {}
export class InvalidUtf8 extends BadMsgpack {}
export class TooDeep extends BadMsgpack {}
export class UnsupportedMsgpack extends BadMsgpack {}
export class DuplicateMapKey extends BadMsgpack {}
export class LengthOverflow extends BadMsgpack {}
/** A sync table refused an operation on a key. */
export class SyncError extends Rs2pError {}
/** Another node holds the key's lease (for an hour after its last write): nothing was written or sent. */
export class Leased extends SyncError {}
/** No such key. */
export class NotFound extends SyncError {}
/** A chord read: all five positions of the key answered and no value is held by three (status 41). */
export class NoMajority extends SyncError {}
/** The exception class instance for a status code. */
export function errorForStatus(status: number, detail: string): Rs2pError;

/** librs2p could not be found or used. */
export class LibraryLoadError extends Error {}
export class LibraryNotFound extends LibraryLoadError {}
export class LibraryVersionMismatch extends LibraryLoadError {}

export const errors: {
  Rs2pError: typeof Rs2pError; UsageError: typeof UsageError; WireError: typeof WireError;
  BadMsgpack: typeof BadMsgpack; NullArgument: typeof NullArgument;
  InvalidArgument: typeof InvalidArgument; InvalidUtf8Argument: typeof InvalidUtf8Argument;
  BufferTooSmall: typeof BufferTooSmall; Panic: typeof Panic; FrameTooLarge: typeof FrameTooLarge;
  DecompressedTooLarge: typeof DecompressedTooLarge; BadCompression: typeof BadCompression;
  UnknownCompression: typeof UnknownCompression; Truncated: typeof Truncated;
  TrailingBytes: typeof TrailingBytes; BadChecksum: typeof BadChecksum;
  BadMessageShape: typeof BadMessageShape; BadBase58: typeof BadBase58;
  InvalidUtf8: typeof InvalidUtf8; TooDeep: typeof TooDeep;
  UnsupportedMsgpack: typeof UnsupportedMsgpack; DuplicateMapKey: typeof DuplicateMapKey;
  LengthOverflow: typeof LengthOverflow; MeshError: typeof MeshError; IoError: typeof IoError;
  AddressInUse: typeof AddressInUse; Closed: typeof Closed; WouldBlock: typeof WouldBlock;
  Timeout: typeof Timeout; UnknownPeer: typeof UnknownPeer; Unsupported: typeof Unsupported;
  NotBytes: typeof NotBytes; InvalidMsgpackArgument: typeof InvalidMsgpackArgument;
  SyncError: typeof SyncError; Leased: typeof Leased; NotFound: typeof NotFound;
  errorForStatus: typeof errorForStatus;
  LibraryLoadError: typeof LibraryLoadError; LibraryNotFound: typeof LibraryNotFound;
  LibraryVersionMismatch: typeof LibraryVersionMismatch;
};

/** Anything @msgpack/msgpack encodes: Buffer/Uint8Array -> bin, string -> str, numbers, arrays, maps. */
export type Packet = unknown;

/** A subnet and an encryption name; nodes whose protocol IDs differ do not talk. */
export class Protocol {
  constructor(subnet?: string, encryption?: string);
  readonly subnet: string;
  readonly encryption: string;
  /** The base58 protocol ID compared in handshakes. */
  readonly id: string;
}
/** The default protocol of py2p's and js2p's mesh sockets: subnet 'mesh' in 'Plaintext'. */
export const defaultProtocol: Protocol;

/** A broadcast or whisper received by a MeshSocket. */
export class Message {
  private constructor();
  /** The sender's node ID (base58). */
  readonly sender: string;
  /** Seconds since the Unix epoch, by the sender's clock. */
  readonly time: number;
  /** SHA-256 of the packed message (32 bytes). */
  readonly id: Buffer;
  /** The main flag it came with (flags.broadcast or flags.whisper). */
  readonly msgType: number;
  /** The sub-flag first (flags.broadcast or flags.whisper), then the packets; bin packets are Buffers. */
  readonly packets: [number, ...unknown[]];
  /** The receiving socket's protocol. */
  readonly protocol: Protocol;
  /** Sends packets to the sender only (whisper if a neighbour, else the request/response flow). */
  reply(...packets: Packet[]): void;
}

/** A handshaken peer. */
export interface Peer {
  id: string;
  host: string;
  port: number;
  /** [host, port] */
  addr: [string, number];
  /** True if this node dialled it. */
  outgoing: boolean;
}

export interface MeshStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  relayed: number;
  delivered: number;
  /** Messages waiting in the library's own queue (0 in normal use: the socket takes them). */
  queueLen: number;
  /** Connections still waiting for a handshake. */
  pending: number;
  /** Non-zero drop counters by reason name (e.g. frame_too_large). */
  dropped: Record<string, number>;
  /**
   * Redial attempts: dials made to reach again a lost peer this node had dialled (after 1, 2,
   * 4, 8 and 16 s).
   */
  redials: number;
  /** Lost peers given up on after the last redial attempt failed. */
  redialsGivenUp: number;
  /** Messages waiting in this socket's queue for recv(). */
  recvQueueLen: number;
  /** Messages dropped (oldest first) because that queue was full. */
  queueShed: number;
}

export interface MeshSocketOptions {
  /** How many peers this node dials by itself at most (default 4). */
  maxOutgoing?: number;
  /** Bound of the recv() queue (default 65536); when full the oldest message is dropped. */
  queueCapacity?: number;
}

export interface MeshSocketEvents {
  /** A peer completed its handshake. */
  connect: [socket: MeshSocket, peerId: string];
  /** A handshaken peer went away. */
  disconnect: [socket: MeshSocket, peerId: string];
  /** A message was queued: take it with recv(). */
  message: [socket: MeshSocket];
}

/** A node of the flooding mesh (js2p's MeshSocket). Holds the event loop open until closed. */
export class MeshSocket extends EventEmitter {
  /**
   * Binds addr:port (0 picks a free port) and starts the node.
   * @throws AddressInUse, Unsupported (encryption 'SSL'), IoError
   */
  constructor(addr?: string, port?: number, protocol?: Protocol, outAddr?: [string, number], options?: MeshSocketOptions);
  /** This node's ID (base58). */
  readonly id: string;
  /** The bound port. */
  readonly port: number;
  readonly addr: [string, number];
  readonly outAddr: [string, number];
  readonly protocol: Protocol;
  /** 'Nominal' while open, 'Closed' after close(). */
  readonly status: 'Nominal' | 'Closed';
  /** True once close() was called. */
  readonly closed: boolean;
  /** Handshaken peers keyed by ID. */
  readonly routingTable: Map<string, Peer>;
  /** IDs of the peers this node dialled. */
  readonly outgoing: string[];
  /** IDs of the peers that dialled this node. */
  readonly incoming: string[];

  /** Dials addr:port; returns at once (listen for 'connect'). */
  connect(addr: string, port: number): this;
  /**
   * Broadcasts one message. Resolves once the node accepted it (at once unless it pushes
   * back); ignoring the Promise is safe.
   */
  send(...packets: Packet[]): Promise<void>;
  /** Sends one message to a connected peer only. @throws UnknownPeer */
  whisper(peerId: string, ...packets: Packet[]): void;
  /** The oldest queued Message, or undefined. */
  recv(): Message | undefined;
  /** Up to `quantity` queued Messages (maybe none). */
  recv(quantity: number): Message[];
  /** The next Message, or null after `timeoutMs` (omitted: no limit) or when the socket closes. */
  recvAsync(timeoutMs?: number): Promise<Message | null>;
  peers(): Peer[];
  stats(): MeshStats;
  /** Stops the node; resolves when its threads are gone and its port is free. Idempotent. */
  close(): Promise<void>;

  on<E extends keyof MeshSocketEvents>(event: E, listener: (...args: MeshSocketEvents[E]) => void): this;
  once<E extends keyof MeshSocketEvents>(event: E, listener: (...args: MeshSocketEvents[E]) => void): this;
  off<E extends keyof MeshSocketEvents>(event: E, listener: (...args: MeshSocketEvents[E]) => void): this;
  addListener<E extends keyof MeshSocketEvents>(event: E, listener: (...args: MeshSocketEvents[E]) => void): this;
  removeListener<E extends keyof MeshSocketEvents>(event: E, listener: (...args: MeshSocketEvents[E]) => void): this;
  emit<E extends keyof MeshSocketEvents>(event: E, ...args: MeshSocketEvents[E]): boolean;
}

/** A sync table key: a string is its UTF-8 bytes; a Buffer / Uint8Array is taken as is. */
export type SyncKeyInput = string | Uint8Array;
/** A key as the table returns it: a string when its bytes are valid UTF-8, else a Buffer. */
export type SyncKey = string | Buffer;
/** Who last wrote a key: its node ID (base58) and when (Unix seconds, by its clock). */
export interface SyncMetadata {
  owner: string;
  time: number;
}
export interface SyncStats {
  /** Writes applied to the table (local and remote). */
  accepted: number;
  /** Writes refused because another node held the key. */
  refusedLeased: number;
  /** Deltas refused because the key held something other than a map. */
  refusedDeltaOnNonMap: number;
  /** Entries of a joining peer's table dump that were not taken. */
  ignoredDumpEntries: number;
  /** Handshake-dump entries that changed this table and were passed on to other neighbours. */
  dumpEntriesPassedOn: number;
  /** (neighbour, entry) pairs not passed on because that neighbour already holds the key. */
  passOnSkipped: number;
}

export interface SyncSocketEvents {
  connect: [socket: SyncSocket, peerId: string];
  disconnect: [socket: SyncSocket, peerId: string];
  message: [socket: SyncSocket];
  /** A key changed (here or on another node): its new value (after a delta, the merged map). */
  update: [socket: SyncSocket, key: SyncKey, value: unknown, meta: SyncMetadata];
  /** A key was deleted. */
  delete: [socket: SyncSocket, key: SyncKey];
}

/** py2p's and js2p's default sync protocol: subnet 'sync' (the node joins 'sync1' or 'sync0'). */
export const defaultSyncProtocol: Protocol;

/**
 * A node of a sync table (js2p's SyncSocket): a MeshSocket whose network shares one
 * dictionary. Reads never wait for the network; writes apply here at once and reach the
 * other nodes shortly after. With leasing (the default) a key written by one node cannot be
 * changed by another for an hour.
 */
export class SyncSocket extends MeshSocket {
  /**
   * @param leasing default true; every node of a table must agree (the protocol ID differs)
   * @param protocol the table's subnet (default 'sync'); the node speaks subnet + '1' or '0'
   */
  constructor(addr?: string, port?: number, leasing?: boolean, protocol?: Protocol, outAddr?: [string, number], options?: MeshSocketOptions);
  /** js2p's argument order. */
  constructor(addr: string, port: number, protocol: Protocol, leasing?: boolean, outAddr?: [string, number], options?: MeshSocketOptions);
  readonly leasing: boolean;
  /** The protocol given (the table's subnet); `protocol` is the one the node speaks. */
  readonly tableProtocol: Protocol;
  /** How many keys the table holds. */
  readonly size: number;

  /** The value at key, or `fallback` (default undefined) when there is none. */
  get<T = unknown>(key: SyncKeyInput, fallback?: T): unknown;
  has(key: SyncKeyInput): boolean;
  /** Stores value at key everywhere; null/undefined deletes. @throws Leased */
  set(key: SyncKeyInput, value: unknown): this;
  /** set() for each entry. @throws Leased */
  update(entries: Record<string, unknown> | Map<SyncKeyInput, unknown>): this;
  /** Deletes key everywhere; true if this node held it. @throws Leased */
  del(key: SyncKeyInput): boolean;
  /** The value at key (or fallback), deleting the key. @throws Leased */
  pop<T = unknown>(key: SyncKeyInput, fallback?: T): unknown;
  /** Some [key, value], deleted; undefined when empty. */
  popitem(): [SyncKey, unknown] | undefined;
  /** Merges the fields into the map at key (absent: {}). @throws Leased, InvalidArgument (key holds a non-map) */
  applyDelta(key: SyncKeyInput, delta: Record<string, unknown> | Map<unknown, unknown>): this;
  /** js2p's name for applyDelta. */
  apply_delta(key: SyncKeyInput, delta: Record<string, unknown> | Map<unknown, unknown>): this;
  /** Who last wrote key and when, or undefined when there is no such key. */
  metadata(key: SyncKeyInput): SyncMetadata | undefined;
  keys(): SyncKey[];
  values(): unknown[];
  items(): [SyncKey, unknown][];
  [Symbol.iterator](): Iterator<[SyncKey, unknown]>;
  syncStats(): SyncStats;

  on<E extends keyof SyncSocketEvents>(event: E, listener: (...args: SyncSocketEvents[E]) => void): this;
  once<E extends keyof SyncSocketEvents>(event: E, listener: (...args: SyncSocketEvents[E]) => void): this;
  off<E extends keyof SyncSocketEvents>(event: E, listener: (...args: SyncSocketEvents[E]) => void): this;
  addListener<E extends keyof SyncSocketEvents>(event: E, listener: (...args: SyncSocketEvents[E]) => void): this;
  removeListener<E extends keyof SyncSocketEvents>(event: E, listener: (...args: SyncSocketEvents[E]) => void): this;
  emit<E extends keyof SyncSocketEvents>(event: E, ...args: SyncSocketEvents[E]): boolean;
}

/** py2p's and js2p's default chord protocol: subnet 'chord' (used as is). */
export const defaultChordProtocol: Protocol;

export interface ChordSocketOptions extends MeshSocketOptions {
  /** Default timeout of reads, in seconds (10). */
  getTimeout?: number;
}

export interface ChordStats {
  storesForwarded: number;
  retrievesForwarded: number;
  retrievesAnswered: number;
  badMessages: number;
  badDeltas: number;
  replicasSent: number;
  readRepairs: number;
  handedOver: number;
  restored: number;
  /** Entries held at this node. */
  stored: number;
  /** Reads this node has in flight. */
  getsInFlight: number;
  /** Links to storing nodes. */
  storingPeers: number;
}

export interface ChordSocketEvents {
  connect: [socket: ChordSocket, peerId: string];
  disconnect: [socket: ChordSocket, peerId: string];
  message: [socket: ChordSocket];
  /** Another node announced a new key. */
  add: [socket: ChordSocket, key: SyncKey];
  /** Another node deleted a key. */
  delete: [socket: ChordSocket, key: SyncKey];
}

/**
 * A node of a chord network, a distributed hash table (js2p's ChordSocket): a MeshSocket whose
 * keys live at five positions of a ring and are read by majority. It starts leeching; join()
 * makes it store its share. Writes are sent at once; reads ask the network and return Promises
 * (any number in flight; the event loop never blocks). Keys are strings (UTF-8) or bytes.
 */
export class ChordSocket extends MeshSocket {
  /** js2p's argument order. */
  constructor(addr?: string, port?: number, protocol?: Protocol, outAddr?: [string, number], options?: ChordSocketOptions);
  /** Whether this node stores data (after join(), until unjoin()). */
  readonly joined: boolean;
  /** js2p's name: true until join(). */
  readonly leeching: boolean;
  /** How many keys this node knows of (see keys()). */
  readonly size: number;

  /** Start storing data (this node takes its share of the ring). */
  join(): this;
  /** Stop storing; what this node holds goes to the storing peers now responsible. */
  unjoin(): this;
  /**
   * Resolves with the value three of the key's five positions agree on, or `fallback` when there
   * is no such key, the positions disagree, or too few answer within `timeout` seconds (default
   * the socket's, 10). Rejects only with Closed or for a bad argument.
   */
  get<T = undefined>(key: SyncKeyInput, fallback?: T, timeout?: number): Promise<unknown | T>;
  /** Like get() but rejects with NotFound, NoMajority or Timeout. */
  getNoFallback(key: SyncKeyInput, timeout?: number): Promise<unknown>;
  /** js2p's name for getNoFallback. */
  get_no_fallback(key: SyncKeyInput, timeout?: number): Promise<unknown>;
  /** Writes value at the key's five positions and announces the key; null/undefined deletes. */
  set(key: SyncKeyInput, value: unknown): this;
  /** set() for each entry. */
  update(entries: Record<string, unknown> | Map<SyncKeyInput, unknown>): this;
  /** Deletes key everywhere; true if this node knew of it (else nothing is sent). */
  del(key: SyncKeyInput): boolean;
  /** Reads key (as get()) and deletes it: its value, or `fallback` when there was none. */
  pop<T = undefined>(key: SyncKeyInput, fallback?: T, timeout?: number): Promise<unknown | T>;
  /** Merges the fields into the map at key (absent: {}); sent at once. */
  applyDelta(key: SyncKeyInput, delta: Record<string, unknown> | Map<unknown, unknown>): this;
  /** js2p's name for applyDelta. */
  apply_delta(key: SyncKeyInput, delta: Record<string, unknown> | Map<unknown, unknown>): this;
  /** Keys this node knows of (its writes and every key announced since it joined the mesh), in byte order. */
  keys(): SyncKey[];
  /** The value of every key of keys() that reads. */
  values(): Promise<unknown[]>;
  /** [key, value] of every key of keys() that reads. */
  items(): Promise<[SyncKey, unknown][]>;
  [Symbol.asyncIterator](): AsyncIterator<[SyncKey, unknown]>;
  chordStats(): ChordStats;
  /** Stops the node; reads in flight reject with Closed at once. Idempotent. */
  close(): Promise<void>;

  on<E extends keyof ChordSocketEvents>(event: E, listener: (...args: ChordSocketEvents[E]) => void): this;
  once<E extends keyof ChordSocketEvents>(event: E, listener: (...args: ChordSocketEvents[E]) => void): this;
  off<E extends keyof ChordSocketEvents>(event: E, listener: (...args: ChordSocketEvents[E]) => void): this;
  addListener<E extends keyof ChordSocketEvents>(event: E, listener: (...args: ChordSocketEvents[E]) => void): this;
  removeListener<E extends keyof ChordSocketEvents>(event: E, listener: (...args: ChordSocketEvents[E]) => void): this;
  emit<E extends keyof ChordSocketEvents>(event: E, ...args: ChordSocketEvents[E]): boolean;
}
