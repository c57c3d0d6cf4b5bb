#!/usr/bin/env bash
# Installs rs2p into a temporary prefix and builds a small C program against it the way a user
# would: with `pkg-config --cflags --libs rs2p`, run through LD_LIBRARY_PATH, then once more
# linked statically (librs2p.a plus the pc file's Libs.private). Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/rs2p-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

echo "== install test (prefix $prefix)"
make --no-print-directory install PREFIX="$prefix" >"$work/install.log" 2>&1 || {
    cat "$work/install.log"; echo "FAIL: make install"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
lib="$prefix/lib"
[ -f "$lib/librs2p.so.$version" ] || fail "missing lib/librs2p.so.$version"
[ "$(readlink "$lib/librs2p.so.0")" = "librs2p.so.$version" ] || fail "librs2p.so.0 link"
[ "$(readlink "$lib/librs2p.so")" = "librs2p.so.0" ] || fail "librs2p.so link"
[ -f "$lib/librs2p.a" ] || fail "missing lib/librs2p.a"
[ -f "$prefix/include/rs2p.h" ] || fail "missing include/rs2p.h"
soname=$(readelf -d "$lib/librs2p.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "librs2p.so.0" ] || fail "SONAME is '$soname', expected librs2p.so.0"

export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion rs2p)" = "$version" ] || fail "pkg-config --modversion"

cat >"$work/hello.c" <<'C'
#include <rs2p.h>
#include <stdio.h>
int main(void) {
    char id[128];
    size_t len;
    rs2p_status status = rs2p_protocol_id("mesh", "Plaintext", id, sizeof id, &len);
    if (status != RS2P_OK) {
        fprintf(stderr, "%s: %s\n", rs2p_status_str(status), rs2p_last_error());
        return 1;
    }
    printf("%s %s\n", rs2p_version(), id);
    return 0;
}
C
expected="$version EpAmyZWv9rZUKmjQgU3FTUD4GrJHvVEXizmghVBc8eGD"

# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc -std=c11 -Wall -Wextra -Werror -pedantic "$work/hello.c" -o "$work/hello-shared" \
    $(pkg-config --cflags --libs rs2p)
readelf -d "$work/hello-shared" | grep -q 'NEEDED.*\[librs2p.so.0\]' \
    || fail "shared program does not depend on librs2p.so.0"
got=$(LD_LIBRARY_PATH="$lib" "$work/hello-shared")
[ "$got" = "$expected" ] || fail "shared program printed '$got', expected '$expected'"
echo "ok: dynamic link via pkg-config ($got)"

# Static: librs2p.a by name (so the .so next to it is not picked) plus Libs.private.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -pedantic "$work/hello.c" -o "$work/hello-static" \
    $(pkg-config --cflags rs2p) \
    $(pkg-config --static --libs rs2p | sed 's/-lrs2p\b/-l:librs2p.a/')
if readelf -d "$work/hello-static" | grep -q 'NEEDED.*librs2p'; then
    fail "static program still depends on librs2p.so"
fi
got=$(env -u LD_LIBRARY_PATH "$work/hello-static")
[ "$got" = "$expected" ] || fail "static program printed '$got', expected '$expected'"
echo "ok: static link with --static ($got)"
echo "install test: 2 passed, 0 failed"
