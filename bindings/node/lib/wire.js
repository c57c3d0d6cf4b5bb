'use strict';
// Protocol IDs and frames: librs2p's codec calls in Node terms. A frame is
// `u32 length ‖ maybe_compress(sha256(packed) ‖ packed)` where `packed` is the msgpack
// array [msg_type, sender, time, payload...]. No sockets here, and no meaning of messages.

const { decode: msgpackDecode } = require('@msgpack/msgpack');
const library = require('./library');
const errors = require('./errors');
const flags = require('./flags');

const COMPRESSION_CODES = { zlib: flags.zlib, gzip: flags.gzip };
// Status codes for problems found by the JS-side unpacking (the C call checks only the
// checksum): the numbers the library uses for the same kind of problem.
const UNSUPPORTED_MSGPACK = 18;
const BAD_MESSAGE_SHAPE = 21;
const BUFFER_TOO_SMALL = errors.BufferTooSmall;

function toBuffer(data, what) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} must be a Buffer or Uint8Array, not ${typeof data}`);
}

/** The version string of the loaded librs2p. */
function libraryVersion() {
  return library.get().version;
}

/** The base58 protocol ID of `subnet` with `encryption` ('Plaintext' or 'SSL'). */
function protocolId(subnet, encryption = 'Plaintext') {
  if (typeof subnet !== 'string' || typeof encryption !== 'string') {
    throw new TypeError('protocolId(subnet, encryption) takes two strings');
  }
  const lib = library.get();
  let capacity = 64;
  for (let attempt = 0; attempt < 2; attempt++) {
    const out = Buffer.alloc(capacity);
    const needed = [0];
    try {
      lib.call('rs2p_protocol_id', subnet, encryption, out, capacity, needed);
    } catch (err) {
      if (!(err instanceof BUFFER_TOO_SMALL)) throw err;
      capacity = Number(needed[0]) + 1;
      continue;
    }
    return out.toString('ascii', 0, Number(needed[0]));
  }
  throw errors.errorForStatus(3, `protocol ID still does not fit in ${capacity} bytes`);
}

function compressionCode(compression) {
  if (compression === null || compression === undefined) return 0;
  if (typeof compression === 'string') {
    if (Object.hasOwn(COMPRESSION_CODES, compression)) return COMPRESSION_CODES[compression];
    throw new RangeError(`unknown compression '${compression}': use null, 'zlib' or 'gzip'`);
  }
  if (Number.isInteger(compression) && compression >= 0 && compression <= 0xff) return compression;
  throw new RangeError(`compression must be null, 'zlib', 'gzip' or a method code, not ${compression}`);
}

/** The whole frame (length prefix included) carrying `packed`, optionally compressed. */
function encodeFrame(packed, compression = null) {
  const data = toBuffer(packed, 'packed');
  const code = compressionCode(compression);
  const lib = library.get();
  let capacity = data.length + 32 + 4 + 64 + Math.floor(data.length / 100);
  for (let attempt = 0; attempt < 3; attempt++) {
    const out = Buffer.alloc(capacity);
    const needed = [0];
    try {
      lib.call('rs2p_frame_encode', data, data.length, code, out, capacity, needed);
    } catch (err) {
      if (!(err instanceof BUFFER_TOO_SMALL)) throw err;
      capacity = Math.max(Number(needed[0]), capacity * 2);
      continue;
    }
    return out.subarray(0, Number(needed[0]));
  }
  throw errors.errorForStatus(3, `frame still does not fit in ${capacity} bytes`);
}

/**
 * Checks and opens the first frame in `frame`: {packed, id, consumed}. Throws Truncated
 * when the buffer holds only part of a frame, other WireErrors when the frame is invalid.
 */
function decodeFrame(frame) {
  const data = toBuffer(frame, 'frame');
  const lib = library.get();
  // An uncompressed body holds the packed message plus its 32-byte checksum, so the body
  // length (when the prefix has arrived) is enough unless the frame is compressed.
  const bodyLen = data.length >= 4 ? data.readUInt32BE(0) : 0;
  let capacity = Math.max(Math.min(data.length, bodyLen), 64);
  for (let attempt = 0; attempt < 3; attempt++) {
    const out = Buffer.alloc(capacity);
    const id = Buffer.alloc(32);
    const packedLen = [0];
    const consumed = [0];
    try {
      lib.call('rs2p_frame_decode', data, data.length, out, capacity, packedLen, id, consumed);
    } catch (err) {
      if (!(err instanceof BUFFER_TOO_SMALL)) throw err;
      capacity = Math.max(Number(packedLen[0]), capacity * 2);
      continue;
    }
    return { packed: out.subarray(0, Number(packedLen[0])), id, consumed: Number(consumed[0]) };
  }
  throw errors.errorForStatus(3, `decoded frame still does not fit in ${capacity} bytes`);
}

// msgpack bin arrives as Uint8Array; hand it out as Buffer (same memory) for Node users.
function binToBuffer(value) {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(binToBuffer);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = binToBuffer(item);
    return out;
  }
  return value;
}

/** Unpacks checked `packed` bytes into {msgType, sender, time, payload, id}. */
function unpackMessage(packed, id) {
  let items;
  try {
    items = msgpackDecode(packed);
  } catch (err) {
    throw new errors.UnsupportedMsgpack(UNSUPPORTED_MSGPACK, `frame body is not acceptable msgpack: ${err.message}`);
  }
  if (!Array.isArray(items) || items.length < 3) {
    throw new errors.BadMessageShape(BAD_MESSAGE_SHAPE, 'malformed message: not an array [msg_type, sender, time, ...]');
  }
  let [msgType, sender, time] = items;
  if (typeof sender === 'string') sender = Buffer.from(sender, 'utf8');
  if (
    !Number.isInteger(msgType) ||
    msgType < 0 ||
    msgType > 0xff ||
    !(sender instanceof Uint8Array) ||
    !(Number.isInteger(time) || typeof time === 'bigint')
  ) {
    throw new errors.BadMessageShape(
      BAD_MESSAGE_SHAPE,
      'malformed message: expected msg_type 0..255, sender bin or str, integer time',
    );
  }
  return { msgType, sender: binToBuffer(sender), time, payload: binToBuffer(items.slice(3)), id };
}

/** decodeFrame, then unpack the message it carries. */
function decodeMessage(frame) {
  const { packed, id } = decodeFrame(frame);
  return unpackMessage(packed, id);
}

module.exports = { libraryVersion, protocolId, encodeFrame, decodeFrame, decodeMessage, unpackMessage, binToBuffer };
