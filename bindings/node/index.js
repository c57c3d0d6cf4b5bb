'use strict';
// rs2p: the p2p protocol 0.7 (py2p / js2p compatible), implemented in Rust, for Node.
// The mesh network (MeshSocket, Message, Protocol), the sync table (SyncSocket), the chord DHT
// (ChordSocket) and the wire codec (protocol IDs and frames). The shared library is loaded on
// first use; loadLibrary() does it up front and returns where it came from.

const errors = require('./lib/errors');
const flags = require('./lib/flags');
const wire = require('./lib/wire');
const library = require('./lib/library');
const mesh = require('./lib/mesh');
const sync = require('./lib/sync');
const chord = require('./lib/chord');

/** Finds, loads and version-checks librs2p now; returns its path. */
function loadLibrary() {
  return library.get().path;
}

module.exports = {
  version: library.PACKAGE_VERSION,
  libraryVersion: wire.libraryVersion,
  loadLibrary,
  protocolId: wire.protocolId,
  encodeFrame: wire.encodeFrame,
  decodeFrame: wire.decodeFrame,
  decodeMessage: wire.decodeMessage,
  MeshSocket: mesh.MeshSocket,
  Message: mesh.Message,
  Protocol: mesh.Protocol,
  defaultProtocol: mesh.defaultProtocol,
  SyncSocket: sync.SyncSocket,
  defaultSyncProtocol: sync.defaultSyncProtocol,
  ChordSocket: chord.ChordSocket,
  defaultChordProtocol: chord.defaultChordProtocol,
  flags,
  errors,
  ...errors,
  NoMajority: chord.NoMajority,
};
