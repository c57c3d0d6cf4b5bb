# Sourced by scripts/test-python.sh and scripts/demo-python.sh (bash). Sets up, idempotently:
#   - a venv at build/venv with pytest, msgpack, py2p==0.7.878 and this package (editable);
#   - the shared library, built with `cargo build --release` unless RS2P_LIBRARY is set.
# Exports RS2P_PYTHON (the venv's python) and RS2P_LIBRARY. Expects REPO_ROOT to be set.

RS2P_VENV="$REPO_ROOT/build/venv"
RS2P_PYTHON="$RS2P_VENV/bin/python"
RS2P_VENV_STAMP="$RS2P_VENV/.rs2p-installed"
RS2P_PY_REQUIREMENTS=(pytest msgpack "py2p==0.7.878")

rs2p_ensure_venv() {
    if [ ! -x "$RS2P_PYTHON" ]; then
        echo "==> creating venv $RS2P_VENV" >&2
        mkdir -p "$REPO_ROOT/build"
        python3 -m venv "$RS2P_VENV"
        rm -f "$RS2P_VENV_STAMP"
    fi
    # Reinstall only when the package metadata or this list of requirements changed.
    local pyproject="$REPO_ROOT/bindings/python/pyproject.toml"
    local this_file="$REPO_ROOT/bindings/python/tools/dev-env.sh"
    if [ ! -e "$RS2P_VENV_STAMP" ] || [ "$pyproject" -nt "$RS2P_VENV_STAMP" ] \
        || [ "$this_file" -nt "$RS2P_VENV_STAMP" ]; then
        echo "==> installing ${RS2P_PY_REQUIREMENTS[*]} and bindings/python (editable)" >&2
        "$RS2P_PYTHON" -m pip install --quiet --disable-pip-version-check \
            "${RS2P_PY_REQUIREMENTS[@]}" -e "$REPO_ROOT/bindings/python"
        touch "$RS2P_VENV_STAMP"
    fi
    export RS2P_PYTHON
}

rs2p_ensure_library() {
    if [ -n "${RS2P_LIBRARY:-}" ]; then
        if [ ! -f "$RS2P_LIBRARY" ]; then
            echo "RS2P_LIBRARY=$RS2P_LIBRARY does not exist; unset it to build target/release/librs2p.so" >&2
            return 1
        fi
        return 0
    fi
    # cargo decides whether the library is missing or stale; an up-to-date build is a no-op.
    (cd "$REPO_ROOT" && cargo build --release --quiet --lib)
    RS2P_LIBRARY="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/librs2p.so"
    export RS2P_LIBRARY
}
