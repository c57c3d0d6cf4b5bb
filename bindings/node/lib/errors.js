'use strict';
// Exceptions thrown by rs2p. A failing C call returns an rs2p_status code; it becomes an
// instance of the class registered for that code here, carrying the library's detail
// message (rs2p_last_error). Problems finding or loading the library are LibraryLoadError.

class Rs2pError extends Error {
  /** @param {number} status the C status code  @param {string} detail the library's explanation */
  constructor(status, detail) {
    super(`${detail} (rs2p status ${status})`);
    this.name = new.target.name;
    this.status = status;
    this.detail = detail;
  }
}

// Families.
class UsageError extends Rs2pError {}
class WireError extends Rs2pError {}
class BadMsgpack extends WireError {}
/** A mesh node's operation failed: its sockets, its state, or its peers. */
class MeshError extends Rs2pError {}
/** A sync table refused an operation on a key (see Leased, NotFound). */
class SyncError extends Rs2pError {}

const byStatus = new Map();
const classes = { Rs2pError, UsageError, WireError, BadMsgpack, MeshError, SyncError };

function define(name, parent, status) {
  // A named class per status, so `err instanceof Truncated` and `err.name` both work.
  const cls = { [name]: class extends parent {} }[name];
  cls.STATUS = status;
  byStatus.set(status, cls);
  classes[name] = cls;
  return cls;
}

define('NullArgument', UsageError, 1);
const InvalidArgument = define('InvalidArgument', UsageError, 2);
define('BufferTooSmall', UsageError, 3);
define('Panic', Rs2pError, 4);
define('InvalidUtf8Argument', InvalidArgument, 5);
define('FrameTooLarge', WireError, 10);
define('DecompressedTooLarge', WireError, 11);
define('BadCompression', WireError, 12);
define('Truncated', WireError, 13);
define('TrailingBytes', WireError, 14);
define('BadChecksum', WireError, 15);
define('InvalidUtf8', BadMsgpack, 16);
define('TooDeep', BadMsgpack, 17);
define('UnsupportedMsgpack', BadMsgpack, 18);
define('DuplicateMapKey', BadMsgpack, 19);
define('LengthOverflow', BadMsgpack, 20);
define('BadMessageShape', WireError, 21);
define('BadBase58', WireError, 22);
define('UnknownCompression', WireError, 23);
define('IoError', MeshError, 30);
define('AddressInUse', MeshError, 31);
define('Closed', MeshError, 32);
define('WouldBlock', MeshError, 33);
define('Timeout', MeshError, 34);
define('UnknownPeer', MeshError, 35);
define('Unsupported', UsageError, 36);
define('NotBytes', UsageError, 37);
define('InvalidMsgpackArgument', UsageError, 38);
// Another node holds the key's lease: the write was refused and nothing was sent.
define('Leased', SyncError, 39);
define('NotFound', SyncError, 40);
// A chord read: all five positions answered and no value is held by three of them.
define('NoMajority', SyncError, 41);

/** The exception for a non-zero status; unknown codes (a newer library) give Rs2pError. */
function errorForStatus(status, detail) {
  const Cls = byStatus.get(status) || Rs2pError;
  return new Cls(status, detail);
}

class LibraryLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
class LibraryNotFound extends LibraryLoadError {}
class LibraryVersionMismatch extends LibraryLoadError {}

module.exports = {
  ...classes,
  errorForStatus,
  LibraryLoadError,
  LibraryNotFound,
  LibraryVersionMismatch,
};
