// Type declarations for the rs2p Node package.

/// <reference types="node" />

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

export interface Message {
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
export function decodeMessage(frame: Uint8Array): Message;

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
/** The msgpack inside a frame is malformed or uses something the protocol forbids. */
export class BadMsgpack extends WireError {}
export class InvalidUtf8 extends BadMsgpack {}
export class TooDeep extends BadMsgpack {}
export class UnsupportedMsgpack extends BadMsgpack {}
export class DuplicateMapKey extends BadMsgpack {}
export class LengthOverflow extends BadMsgpack {}
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
  LengthOverflow: typeof LengthOverflow; errorForStatus: typeof errorForStatus;
  LibraryLoadError: typeof LibraryLoadError; LibraryNotFound: typeof LibraryNotFound;
  LibraryVersionMismatch: typeof LibraryVersionMismatch;
};
