'use strict';
// Finding, loading and declaring librs2p (private to the package). With native-mesh.js
// (which declares the mesh functions on `handle`, lazily, so a library built before the
// mesh API still serves the codec) the only file that touches koffi: the codec functions
// are declared once here, and calls returning an rs2p_status go through `call`, which
// turns a failure into an rs2p error class with the library's detail. koffi pointers
// (BigInt, untyped) never leave these two files.
//
// Lookup order, first hit wins:
//   1. RS2P_LIBRARY (if set but wrong, loading fails rather than picking another copy);
//   2. beside the package (bindings/node/librs2p.so in a checkout, or a bundled copy);
//   3. the cargo target dir of the checkout: $CARGO_TARGET_DIR/release, then
//      target/release and target/debug beside the first Cargo.toml above the package.

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const errors = require('./errors');
const { version: PACKAGE_VERSION } = require('../package.json');

const PACKAGE_DIR = path.resolve(__dirname, '..');
const ENV_VAR = 'RS2P_LIBRARY';
const BUILD_HINT =
  'Build it with `cargo build --release` at the root of the rs2p repository, ' +
  `or point ${ENV_VAR} at an existing librs2p shared library.`;

function libraryFileName(platform = process.platform) {
  if (platform === 'win32') return 'rs2p.dll';
  if (platform === 'darwin') return 'librs2p.dylib';
  return 'librs2p.so';
}

/** Where the library is looked for, in order: [{why, file}]. */
function candidatePaths(env = process.env, packageDir = PACKAGE_DIR) {
  const name = libraryFileName();
  if (env[ENV_VAR]) return [{ why: `$${ENV_VAR}`, file: path.resolve(env[ENV_VAR]) }];
  const found = [{ why: 'beside the package', file: path.join(packageDir, name) }];
  if (env.CARGO_TARGET_DIR) {
    found.push({
      why: '$CARGO_TARGET_DIR/release',
      file: path.join(path.resolve(env.CARGO_TARGET_DIR), 'release', name),
    });
  }
  for (let dir = path.resolve(packageDir); ; dir = path.dirname(dir)) {
    if (isFile(path.join(dir, 'Cargo.toml'))) {
      for (const profile of ['release', 'debug']) {
        found.push({ why: `cargo target/${profile}`, file: path.join(dir, 'target', profile, name) });
      }
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return found;
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first existing candidate, or LibraryNotFound listing every place tried. */
function findLibrary(env = process.env, packageDir = PACKAGE_DIR) {
  const candidates = candidatePaths(env, packageDir);
  const hit = candidates.find((c) => isFile(c.file));
  if (hit) return hit.file;
  const tried = candidates.map((c) => `  ${c.why}: ${c.file}`).join('\n');
  throw new errors.LibraryNotFound(`librs2p was not found. Looked in:\n${tried}\n${BUILD_HINT}`);
}

function majorMinor(version) {
  return String(version).split('.').slice(0, 2).join('.');
}

function checkVersion(libraryVersion, expected, file) {
  if (majorMinor(libraryVersion) !== majorMinor(expected)) {
    throw new errors.LibraryVersionMismatch(
      `librs2p at ${file} is version ${libraryVersion}, but the rs2p Node package ${expected} ` +
        `needs ${majorMinor(expected)}.x. Rebuild the library from the same checkout ` +
        `(\`cargo build --release\`) or set ${ENV_VAR} to a matching build.`,
    );
  }
}

const PROTOTYPES = {
  rs2p_version: 'const char *rs2p_version(void)',
  rs2p_status_str: 'const char *rs2p_status_str(int32_t status)',
  rs2p_last_error: 'const char *rs2p_last_error(void)',
  rs2p_protocol_id:
    'int32_t rs2p_protocol_id(const char *subnet, const char *encryption, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
  rs2p_frame_encode:
    'int32_t rs2p_frame_encode(const uint8_t *packed, size_t packed_len, uint8_t compression, uint8_t *out, size_t out_cap, _Out_ size_t *out_len)',
  rs2p_frame_decode:
    'int32_t rs2p_frame_decode(const uint8_t *frame, size_t frame_len, uint8_t *packed_out, size_t packed_cap, _Out_ size_t *packed_len, uint8_t *id_out, _Out_ size_t *consumed)',
};

/** A loaded librs2p with every function declared. Use `get()` for the shared instance. */
class Library {
  constructor(file, expectedVersion = PACKAGE_VERSION) {
    this.path = file;
    let handle;
    try {
      handle = koffi.load(file);
    } catch (err) {
      throw new errors.LibraryLoadError(`cannot load librs2p from ${file}: ${err.message}\n${BUILD_HINT}`);
    }
    this.handle = handle;
    this.fn = {};
    for (const [name, prototype] of Object.entries(PROTOTYPES)) {
      try {
        this.fn[name] = handle.func(prototype);
      } catch (err) {
        throw new errors.LibraryLoadError(
          `librs2p at ${file} has no usable function ${name} (${err.message}): it is older or ` +
            `newer than this package. ${BUILD_HINT}`,
        );
      }
    }
    this.version = this.fn.rs2p_version();
    checkVersion(this.version, expectedVersion, file);
  }

  /** Calls a status-returning function; throws the rs2p error for a non-zero status. */
  call(name, ...args) {
    const status = this.fn[name](...args);
    if (status !== 0) throw errors.errorForStatus(status, this.lastError(status));
  }

  /** The detail of the last failure on this thread, else the status's generic text. */
  lastError(status) {
    return this.fn.rs2p_last_error() || this.fn.rs2p_status_str(status) || `status ${status}`;
  }
}

let loaded = null;

/** The process-wide library, found and version-checked on first use. */
function get() {
  if (loaded === null) loaded = new Library(findLibrary());
  return loaded;
}

module.exports = {
  Library,
  candidatePaths,
  checkVersion,
  findLibrary,
  get,
  libraryFileName,
  PACKAGE_VERSION,
};
