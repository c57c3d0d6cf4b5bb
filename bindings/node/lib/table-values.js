'use strict';
// Keys and values of the shared tables (the sync table and the chord DHT) as Node shows them.
// Keys are byte strings: a string key is its UTF-8 bytes, a Buffer key is taken as is; keys
// come back as strings when they are valid UTF-8, as Buffers otherwise. Values are msgpack
// (through @msgpack/msgpack; bin comes back as a Buffer, maps with byte-string keys as
// objects). Not the tables themselves (lib/sync.js, lib/chord.js).

const { encode: msgpackEncode, Decoder } = require('@msgpack/msgpack');
const errors = require('./errors');
const wire = require('./wire');

const STATUS_UNSUPPORTED_MSGPACK = 18;

// Maps written by py2p may have byte-string keys; JS objects need string keys.
const valueDecoder = new Decoder({
  mapKeyConverter: (key) => {
    if (typeof key === 'string' || typeof key === 'number') return key;
    if (key instanceof Uint8Array) return Buffer.from(key).toString('utf8');
    throw new TypeError(`a map key of type ${typeof key} has no JS form`);
  },
});

/** A key as the bytes the table uses: a string's UTF-8, or a Buffer / Uint8Array as is. */
function keyBytes(key) {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (Buffer.isBuffer(key)) return key;
  if (key instanceof Uint8Array) return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  throw new TypeError(`a table key is a string or a Buffer, not ${key === null ? 'null' : typeof key}`);
}

/** A key as JS shows it: a string when the bytes are valid UTF-8, else the Buffer. */
function keyValue(bytes) {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text, 'utf8') === bytes.length && Buffer.from(text, 'utf8').equals(bytes) ? text : bytes;
}

// @msgpack/msgpack packs a Map as an empty map; a Map becomes an object of its entries
// (keys as strings) before packing, at any depth.
function withoutMaps(value) {
  if (value instanceof Map) {
    const out = {};
    for (const [key, item] of value) out[String(key)] = withoutMaps(item);
    return out;
  }
  if (Array.isArray(value)) return value.map(withoutMaps);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = withoutMaps(item);
    return out;
  }
  return value;
}

function encodeValue(value, what) {
  try {
    return Buffer.from(msgpackEncode(withoutMaps(value)));
  } catch (err) {
    throw new TypeError(`${what} must be msgpack-encodable (Buffer, string, number, array, object...): ${err.message}`);
  }
}

function decodeValue(packed) {
  try {
    return wire.binToBuffer(valueDecoder.decode(packed));
  } catch (err) {
    throw new errors.UnsupportedMsgpack(STATUS_UNSUPPORTED_MSGPACK, `a table value has no JS form: ${err.message}`);
  }
}

function isPlainMapping(value) {
  return value instanceof Map || (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array));
}

module.exports = { keyBytes, keyValue, encodeValue, decodeValue, isPlainMapping };
