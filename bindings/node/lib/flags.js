'use strict';
// Protocol flag values under the names py2p and js2p use. Main flags go in msg_type,
// sub-flags in payload[0], compression codes in handshakes and on compressed frames.

module.exports = Object.freeze({
  // Every value below 0x30 is reserved for protocol flags.
  reserved: Object.freeze(Array.from({ length: 0x30 }, (_, i) => i)),
  // Main flags (msg_type); broadcast, whisper, ping and pong double as sub-flags.
  broadcast: 0x00,
  renegotiate: 0x01,
  whisper: 0x02,
  ping: 0x03,
  pong: 0x04,
  // Sub-flags (payload[0]).
  compression: 0x01,
  handshake: 0x05,
  notify: 0x06,
  peers: 0x07,
  request: 0x08,
  resend: 0x09,
  response: 0x0a,
  store: 0x0b,
  retrieve: 0x0c,
  retrieved: 0x0d,
  forward: 0x0e,
  new_paths: 0x0f,
  revoke_paths: 0x10,
  delta: 0x11,
  // Compression methods py2p implements; rs2p reads and writes zlib and gzip.
  bz2: 0x10,
  gzip: 0x11,
  lzma: 0x12,
  zlib: 0x13,
  snappy: 0x20,
});
