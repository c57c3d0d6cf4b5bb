# Sourced by scripts/test-node.sh and scripts/demo-node.sh (bash). Sets up, idempotently:
#   - bindings/node/node_modules (npm install, again only when package.json changed);
#   - the shared library, built with `cargo build --release` unless RS2P_LIBRARY is set.
# Exports RS2P_LIBRARY. Expects REPO_ROOT to be set.

RS2P_NODE_DIR="$REPO_ROOT/bindings/node"
RS2P_NODE_STAMP="$RS2P_NODE_DIR/node_modules/.rs2p-installed"

rs2p_ensure_node_modules() {
    if [ ! -e "$RS2P_NODE_STAMP" ] || [ "$RS2P_NODE_DIR/package.json" -nt "$RS2P_NODE_STAMP" ] \
        || { [ -e "$RS2P_NODE_DIR/package-lock.json" ] && [ "$RS2P_NODE_DIR/package-lock.json" -nt "$RS2P_NODE_STAMP" ]; }; then
        echo "==> npm install in bindings/node" >&2
        # --ignore-scripts: koffi's install script only rebuilds from source as a fallback;
        # its prebuilt binary arrives as an optional dependency (@koromix/koffi-<platform>).
        (cd "$RS2P_NODE_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
        touch "$RS2P_NODE_STAMP"
    fi
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
