'use strict';
// Failures from the library arrive as rs2p error classes carrying the library's detail.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { encode: msgpackEncode } = require('@msgpack/msgpack');
const rs2p = require('..');
const { loadVectors } = require('./helpers');

const plainFrame = Buffer.from(loadVectors().messages[0].frame_hex, 'hex');

function assertDetailed(Cls, status) {
  return (err) => {
    assert.ok(err instanceof Cls, `expected ${Cls.name}, got ${err && err.name}: ${err && err.message}`);
    assert.equal(err.status, status);
    assert.equal(err.name, Cls.name);
    assert.ok(err.detail.length > 0, "the error should carry the library's explanation");
    assert.ok(err.message.includes(String(status)));
    return true;
  };
}

test('a truncated frame throws Truncated', () => {
  assert.throws(() => rs2p.decodeFrame(plainFrame.subarray(0, plainFrame.length - 1)), assertDetailed(rs2p.Truncated, 13));
  assert.throws(() => rs2p.decodeFrame(plainFrame.subarray(0, 3)), rs2p.Truncated);
  assert.throws(() => rs2p.decodeFrame(Buffer.alloc(0)), rs2p.Truncated);
});

test('Truncated is a WireError and an Rs2pError', () => {
  assert.throws(() => rs2p.decodeFrame(plainFrame.subarray(0, 10)), rs2p.WireError);
  assert.throws(() => rs2p.decodeFrame(plainFrame.subarray(0, 10)), rs2p.Rs2pError);
});

test('a corrupt frame throws BadChecksum', () => {
  const corrupt = Buffer.from(plainFrame);
  corrupt[corrupt.length - 1] ^= 0xff;
  assert.throws(() => rs2p.decodeFrame(corrupt), assertDetailed(rs2p.BadChecksum, 15));
});

test('an oversized length prefix throws FrameTooLarge', () => {
  const announced2GiB = Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(64)]);
  assert.throws(() => rs2p.decodeFrame(announced2GiB), assertDetailed(rs2p.FrameTooLarge, 10));
});

test('an unsupported compression code throws UnknownCompression', () => {
  assert.throws(() => rs2p.encodeFrame(plainFrame.subarray(36), rs2p.flags.bz2), assertDetailed(rs2p.UnknownCompression, 23));
});

test('an unknown compression name is refused before calling the library', () => {
  assert.throws(() => rs2p.encodeFrame(plainFrame.subarray(36), 'brotli'), RangeError);
});

test('non-bytes input is a TypeError', () => {
  assert.throws(() => rs2p.decodeFrame('00000000'), TypeError);
});

test('a message that is not an array throws BadMessageShape', () => {
  // The library may refuse to frame it or leave the shape check to the unpacking.
  assert.throws(() => rs2p.decodeMessage(rs2p.encodeFrame(Buffer.from(msgpackEncode([1, 2])))), rs2p.BadMessageShape);
});

test('every C status has its class', () => {
  const expected = {
    1: 'NullArgument', 2: 'InvalidArgument', 3: 'BufferTooSmall', 4: 'Panic', 5: 'InvalidUtf8Argument',
    10: 'FrameTooLarge', 11: 'DecompressedTooLarge', 12: 'BadCompression', 13: 'Truncated',
    14: 'TrailingBytes', 15: 'BadChecksum', 16: 'InvalidUtf8', 17: 'TooDeep', 18: 'UnsupportedMsgpack',
    19: 'DuplicateMapKey', 20: 'LengthOverflow', 21: 'BadMessageShape', 22: 'BadBase58', 23: 'UnknownCompression',
  };
  for (const [status, name] of Object.entries(expected)) {
    const err = rs2p.errorForStatus(Number(status), 'detail');
    assert.equal(err.constructor, rs2p[name]);
    assert.equal(err.name, name);
    assert.equal(err.status, Number(status));
  }
  assert.equal(rs2p.errorForStatus(99, 'newer library').constructor, rs2p.Rs2pError);
  assert.ok(rs2p.errorForStatus(19, 'x') instanceof rs2p.BadMsgpack);
  assert.ok(rs2p.errorForStatus(5, 'x') instanceof rs2p.InvalidArgument);
});

// A frame built without the library, so that the library's decoder can be shown bad input.
function handMadeFrame(packed) {
  const body = Buffer.concat([crypto.createHash('sha256').update(packed).digest(), packed]);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

// [0, bin "sender", 1764000000, ext 1 "x"] written by hand: fixext1 (0xd4) type 1.
const EXT_MESSAGE = Buffer.concat([
  Buffer.from([0x94, 0x00, 0xc4, 0x06]),
  Buffer.from('sender'),
  Buffer.from([0xce, 0x69, 0x24, 0x81, 0x00, 0xd4, 0x01, 0x78]),
]);

test('encoding refuses msgpack the protocol forbids', () => {
  assert.throws(() => rs2p.encodeFrame(EXT_MESSAGE), assertDetailed(rs2p.UnsupportedMsgpack, 18));
  assert.throws(() => rs2p.encodeFrame(EXT_MESSAGE), rs2p.BadMsgpack);
});

test('decoding refuses msgpack the protocol forbids', () => {
  assert.throws(() => rs2p.decodeFrame(handMadeFrame(EXT_MESSAGE)), assertDetailed(rs2p.UnsupportedMsgpack, 18));
});

test('decoding refuses a message of the wrong shape', () => {
  assert.throws(() => rs2p.decodeFrame(handMadeFrame(Buffer.from(msgpackEncode({ not: 'an array' })))), assertDetailed(rs2p.BadMessageShape, 21));
});
