'use strict';
// The bindings reproduce py2p 0.7.878's protocol IDs and frames byte for byte.
const test = require('node:test');
const assert = require('node:assert/strict');
const { encode: msgpackEncode, decode: msgpackDecode } = require('@msgpack/msgpack');
const rs2p = require('..');
const { loadVectors } = require('./helpers');

const vectors = loadVectors();
const FRAME_KINDS = ['frame_hex', 'zlib_frame_hex', 'gzip_frame_hex'];
const hex = (text) => Buffer.from(text, 'hex');
const packedOf = (message) => hex(message.frame_hex).subarray(4 + 32);

test('every protocol ID matches py2p', () => {
  assert.ok(vectors.protocols.length > 0);
  for (const c of vectors.protocols) {
    assert.equal(rs2p.protocolId(c.subnet, c.encryption), c.id, JSON.stringify(c));
  }
});

test('encryption defaults to Plaintext', () => {
  const mesh = vectors.protocols.find((c) => c.subnet === 'mesh' && c.encryption === 'Plaintext');
  assert.equal(rs2p.protocolId('mesh'), mesh.id);
});

test('decodes the plain, zlib and gzip frames of every message', () => {
  assert.ok(vectors.messages.length > 0);
  for (const message of vectors.messages) {
    for (const kind of FRAME_KINDS) {
      const frame = hex(message[kind]);
      const opened = rs2p.decodeFrame(frame);
      assert.deepEqual(opened.packed, packedOf(message), `${message.name} ${kind}`);
      assert.equal(opened.id.toString('hex'), message.id_hex, `${message.name} ${kind}`);
      assert.equal(opened.consumed, frame.length, `${message.name} ${kind}`);
    }
  }
});

test('encoding reproduces the plain frame', () => {
  for (const message of vectors.messages) {
    assert.deepEqual(rs2p.encodeFrame(packedOf(message)), hex(message.frame_hex), message.name);
  }
});

for (const compression of ['zlib', 'gzip']) {
  test(`${compression} frames round-trip`, () => {
    for (const message of vectors.messages) {
      const opened = rs2p.decodeFrame(rs2p.encodeFrame(packedOf(message), compression));
      assert.deepEqual(opened.packed, packedOf(message));
      assert.equal(opened.id.toString('hex'), message.id_hex);
    }
  });
}

test('decodeMessage gives the fields py2p sent', () => {
  for (const message of vectors.messages) {
    const expectedPayload = msgpackDecode(packedOf(message)).slice(3);
    for (const kind of FRAME_KINDS) {
      const decoded = rs2p.decodeMessage(hex(message[kind]));
      assert.equal(decoded.msgType, message.msg_type);
      assert.deepEqual(decoded.sender, Buffer.from(message.sender, 'ascii'));
      assert.equal(decoded.time, message.time);
      assert.equal(decoded.id.toString('hex'), message.id_hex);
      assert.equal(JSON.stringify(decoded.payload), JSON.stringify(expectedPayload.map(asBuffers)));
    }
  }
});

function asBuffers(value) {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(asBuffers);
  return value;
}

test('bin stays binary (Buffer) and str stays a string', () => {
  const byName = Object.fromEntries(vectors.messages.map((m) => [m.name, m]));
  const broadcast = rs2p.decodeMessage(hex(byName['broadcast of bytes and int'].frame_hex));
  assert.equal(broadcast.payload[0], rs2p.flags.broadcast);
  assert.ok(Buffer.isBuffer(broadcast.payload[1]));
  assert.equal(broadcast.payload[1].toString(), 'hello');
  assert.equal(broadcast.payload[2], 3);
  const whisper = rs2p.decodeMessage(hex(byName['whisper of str'].frame_hex));
  assert.equal(whisper.payload[0], rs2p.flags.whisper);
  assert.equal(typeof whisper.payload[1], 'string');
});

test('the first frame of a stream reports what it consumed', () => {
  const [first, second] = vectors.messages.slice(0, 2).map((m) => hex(m.frame_hex));
  const both = Buffer.concat([first, second]);
  const opened = rs2p.decodeFrame(both);
  assert.equal(opened.consumed, first.length);
  assert.deepEqual(rs2p.decodeFrame(both.subarray(opened.consumed)).packed, second.subarray(36));
});

test('a large compressed frame grows the output buffer', () => {
  const packed = Buffer.from(msgpackEncode([0, Buffer.from('sender'), 1764000000, 0, new Uint8Array(200000)]));
  const frame = rs2p.encodeFrame(packed, 'zlib');
  assert.ok(frame.length < packed.length / 10, 'a run of zeros should compress well');
  assert.deepEqual(rs2p.decodeFrame(frame).packed, packed);
});

test('accepts a plain Uint8Array', () => {
  const frame = hex(vectors.messages[0].frame_hex);
  const copy = new Uint8Array(frame);
  assert.deepEqual(rs2p.decodeFrame(copy), rs2p.decodeFrame(frame));
});

test('package and library versions share major.minor', () => {
  assert.equal(rs2p.version, '0.1.0');
  assert.deepEqual(rs2p.libraryVersion().split('.').slice(0, 2), rs2p.version.split('.').slice(0, 2));
});
