'use strict';
// Finding and checking the shared library.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const rs2p = require('..');
const library = require('../lib/library');

const NAME = library.libraryFileName();
const scratchDirs = [];
test.after(() => {
  for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratchDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

function fakeCheckout() {
  const root = scratchDir('rs2p-node-lookup-');
  fs.writeFileSync(path.join(root, 'Cargo.toml'), '[package]\n');
  const pkg = path.join(root, 'bindings', 'node');
  fs.mkdirSync(pkg, { recursive: true });
  return { root, pkg };
}

function touch(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  return file;
}

test('RS2P_LIBRARY wins over every other place', () => {
  const { root, pkg } = fakeCheckout();
  touch(path.join(pkg, NAME));
  touch(path.join(root, 'target', 'release', NAME));
  const chosen = touch(path.join(root, 'elsewhere', NAME));
  assert.equal(library.findLibrary({ RS2P_LIBRARY: chosen }, pkg), chosen);
});

test('a wrong RS2P_LIBRARY fails instead of falling back', () => {
  const { root, pkg } = fakeCheckout();
  touch(path.join(root, 'target', 'release', NAME));
  const missing = path.join(root, 'nope', NAME);
  assert.throws(() => library.findLibrary({ RS2P_LIBRARY: missing }, pkg), (err) => {
    assert.ok(err instanceof rs2p.LibraryNotFound);
    assert.ok(err.message.includes(missing));
    return true;
  });
});

test('a copy beside the package beats the cargo target dir', () => {
  const { root, pkg } = fakeCheckout();
  const beside = touch(path.join(pkg, NAME));
  touch(path.join(root, 'target', 'release', NAME));
  assert.equal(library.findLibrary({}, pkg), beside);
});

test('cargo release beats debug, debug is the last resort', () => {
  const { root, pkg } = fakeCheckout();
  const debug = touch(path.join(root, 'target', 'debug', NAME));
  assert.equal(library.findLibrary({}, pkg), debug);
  const release = touch(path.join(root, 'target', 'release', NAME));
  assert.equal(library.findLibrary({}, pkg), release);
});

test('not found lists every place and how to build', () => {
  const { root, pkg } = fakeCheckout();
  assert.throws(() => library.findLibrary({}, pkg), (err) => {
    assert.ok(err instanceof rs2p.LibraryNotFound);
    for (const place of [path.join(pkg, NAME), path.join(root, 'target', 'release', NAME), path.join(root, 'target', 'debug', NAME)]) {
      assert.ok(err.message.includes(place), place);
    }
    assert.ok(err.message.includes('cargo build --release') && err.message.includes('RS2P_LIBRARY'));
    return true;
  });
});

test('a version mismatch is refused, naming both versions', () => {
  const loaded = rs2p.loadLibrary();
  assert.throws(() => new library.Library(loaded, '9.4.0'), (err) => {
    assert.ok(err instanceof rs2p.LibraryVersionMismatch);
    assert.ok(err.message.includes(rs2p.libraryVersion()) && err.message.includes('9.4') && err.message.includes(loaded));
    return true;
  });
});

test('patch versions may differ', () => {
  const patchBumped = rs2p.version.split('.').slice(0, 2).concat(['99']).join('.');
  assert.equal(new library.Library(rs2p.loadLibrary(), patchBumped).version, rs2p.libraryVersion());
});

test('a file that is not a library gives a load error', () => {
  const bogus = path.join(scratchDir('rs2p-node-bogus-'), NAME);
  fs.writeFileSync(bogus, 'not an ELF file');
  assert.throws(() => new library.Library(bogus), (err) => err instanceof rs2p.LibraryLoadError && /cannot load/.test(err.message));
});

function runNode(code, env) {
  return spawnSync(process.execPath, ['-e', code], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
}

test('a fresh process loads the library named by RS2P_LIBRARY', () => {
  const copy = path.join(scratchDir('rs2p-node-copy-'), NAME);
  fs.copyFileSync(rs2p.loadLibrary(), copy);
  const result = runNode("const r = require('.'); console.log(r.loadLibrary()); console.log(r.protocolId('mesh'));", { RS2P_LIBRARY: copy });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split('\n'), [copy, 'EpAmyZWv9rZUKmjQgU3FTUD4GrJHvVEXizmghVBc8eGD']);
});

test('a fresh process with a wrong RS2P_LIBRARY gets a clear error', () => {
  const missing = path.join(scratchDir('rs2p-node-missing-'), 'missing', NAME);
  const result = runNode("require('.').protocolId('mesh')", { RS2P_LIBRARY: missing });
  assert.notEqual(result.status, 0);
  assert.ok(result.stderr.includes('LibraryNotFound') && result.stderr.includes(missing), result.stderr);
});
