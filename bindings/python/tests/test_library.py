"""Finding and checking the shared library."""

import ctypes.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rs2p
from rs2p import _lib
from rs2p.errors import LibraryLoadError, LibraryNotFound, LibraryVersionMismatch

NAME = _lib.library_file_name()


@pytest.fixture
def checkout(tmp_path: Path):
    """A fake source checkout: Cargo.toml at the root, the package under bindings/python."""
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    package = tmp_path / "bindings" / "python" / "rs2p"
    package.mkdir(parents=True)
    return tmp_path, package


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_environment_variable_wins_over_every_other_place(checkout, tmp_path):
    root, package = checkout
    touch(package / NAME)
    touch(root / "target" / "release" / NAME)
    chosen = touch(tmp_path / "elsewhere" / NAME)
    assert _lib.find_library({"RS2P_LIBRARY": str(chosen)}, package) == chosen


def test_a_wrong_environment_variable_fails_instead_of_falling_back(checkout, tmp_path):
    root, package = checkout
    touch(root / "target" / "release" / NAME)
    missing = tmp_path / "nope" / NAME
    with pytest.raises(LibraryNotFound, match=str(missing)):
        _lib.find_library({"RS2P_LIBRARY": str(missing)}, package)


def test_a_copy_beside_the_package_beats_the_cargo_target_dir(checkout):
    root, package = checkout
    beside = touch(package / NAME)
    touch(root / "target" / "release" / NAME)
    assert _lib.find_library({}, package) == beside


def test_cargo_release_beats_debug(checkout):
    root, package = checkout
    release = touch(root / "target" / "release" / NAME)
    touch(root / "target" / "debug" / NAME)
    assert _lib.find_library({}, package) == release


def test_cargo_debug_is_the_last_resort(checkout):
    root, package = checkout
    debug = touch(root / "target" / "debug" / NAME)
    assert _lib.find_library({}, package) == debug


def test_cargo_target_dir_variable_is_searched(checkout, tmp_path):
    _root, package = checkout
    custom = touch(tmp_path / "custom-target" / "release" / NAME)
    assert _lib.find_library({"CARGO_TARGET_DIR": str(tmp_path / "custom-target")}, package) == custom


def test_not_found_lists_every_place_and_how_to_build(checkout):
    root, package = checkout
    with pytest.raises(LibraryNotFound) as caught:
        _lib.find_library({}, package)
    text = str(caught.value)
    for place in (package / NAME, root / "target" / "release" / NAME, root / "target" / "debug" / NAME):
        assert str(place) in text
    assert "cargo build --release" in text and "RS2P_LIBRARY" in text


def test_version_mismatch_is_refused_with_both_versions():
    loaded = Path(rs2p.load_library())
    with pytest.raises(LibraryVersionMismatch) as caught:
        _lib.Library(loaded, expected_version="9.4.0")
    text = str(caught.value)
    assert rs2p.library_version() in text and "9.4" in text and str(loaded) in text


def test_patch_versions_may_differ():
    loaded = Path(rs2p.load_library())
    patch_bumped = ".".join(rs2p.__version__.split(".")[:2] + ["99"])
    assert _lib.Library(loaded, expected_version=patch_bumped).version == rs2p.library_version()


def test_a_file_that_is_not_a_library_gives_a_load_error(tmp_path):
    bogus = tmp_path / NAME
    bogus.write_text("not an ELF file")
    with pytest.raises(LibraryLoadError, match="cannot load"):
        _lib.Library(bogus)


def test_a_library_without_the_functions_is_named_as_too_old():
    # Any loadable shared object without rs2p symbols stands in for an old librs2p.
    other = ctypes.util.find_library("z") or ctypes.util.find_library("c")
    if other is None:
        pytest.fail("no system shared library to stand in for an old librs2p")
    with pytest.raises(LibraryLoadError, match="has no function rs2p_"):
        _lib.Library(Path(other))


def run_python(code: str, **env: str) -> "subprocess.CompletedProcess[str]":
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=60
    )


def test_a_fresh_process_loads_the_library_named_by_rs2p_library(tmp_path):
    copy = tmp_path / NAME
    shutil.copyfile(rs2p.load_library(), copy)
    result = run_python("import rs2p; print(rs2p.load_library()); print(rs2p.protocol_id('mesh'))", RS2P_LIBRARY=str(copy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(copy), "EpAmyZWv9rZUKmjQgU3FTUD4GrJHvVEXizmghVBc8eGD"]


def test_a_fresh_process_with_a_wrong_rs2p_library_gets_a_clear_error(tmp_path):
    missing = tmp_path / "missing" / NAME
    result = run_python("import rs2p; rs2p.protocol_id('mesh')", RS2P_LIBRARY=str(missing))
    assert result.returncode != 0
    assert "LibraryNotFound" in result.stderr and str(missing) in result.stderr
