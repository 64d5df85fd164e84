#!/bin/sh
# The library installs like one: `cmake --install` puts the shared and static libraries, both
# headers, quicc.pc and the CMake package (quicc::quicc, quicc::quicc_static) and the two tools
# (not the example programs) under the prefix; only quicc_* names are exported from the
# shared library and global in the static one, and every function the headers declare is
# exported; a program (tests/install/consumer.c) that defines functions named like internal
# ones builds against the installed tree with pkg-config and with CMake, shared and static,
# and runs.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
INST="$WORK/inst"
cmake --install "$BUILD" --prefix "$INST" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(tail -3 "$WORK/install.log")"
for f in lib/libquicc.so.0 lib/libquicc.a include/quicc.h include/quicc_h3.h lib/pkgconfig/quicc.pc \
    lib/cmake/quicc/quiccConfig.cmake lib/cmake/quicc/quiccConfigVersion.cmake bin/quicc-client \
    bin/quicc-server; do
    [ -e "$INST/$f" ] || fail "not installed: $f"
done
for f in "$INST"/bin/*; do
    case $(basename "$f") in quicc-*) ;; *) fail "installed under a generic name: bin/$(basename "$f")" ;; esac
done
echo "ok: installed files"

# Symbols.
bad=$(nm -D --defined-only "$INST/lib/libquicc.so" | awk '{print $3}' | grep -v '^quicc_')
[ -z "$bad" ] || fail "the shared library exports internal names: $(echo $bad | head -c 300)"
bad=$(nm -g --defined-only "$INST/lib/libquicc.a" | awk 'NF == 3 {print $3}' | grep -v '^quicc_')
[ -z "$bad" ] || fail "the static library leaves internal names global: $(echo $bad | head -c 300)"
grep -ohE '^[a-z].*\bquicc_[a-z0-9_A-Z]+\(' "$TOP/include/quicc.h" "$TOP/include/quicc_h3.h" |
    grep -oE 'quicc_[a-z0-9_A-Z]+\($' | tr -d '(' | sort -u >"$WORK/declared"
[ "$(wc -l <"$WORK/declared")" -gt 100 ] || fail "declared functions not found in the headers"
nm -D --defined-only "$INST/lib/libquicc.so" | awk '{print $3}' | sort -u >"$WORK/exported"
missing=$(comm -23 "$WORK/declared" "$WORK/exported")
[ -z "$missing" ] || fail "declared but not exported: $missing"
echo "ok: only quicc_* exported ($(wc -l <"$WORK/exported") functions), every declared one"

# The consumer. A sanitized build's library needs the sanitizers in the program too.
SAN=""
grep -q '^QUICC_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && SAN="-fsanitize=address,undefined"
CC=${CC:-cc}
export PKG_CONFIG_PATH="$INST/lib/pkgconfig"
[ "$(pkg-config --modversion quicc)" = "$(sed -n 's/^#define QUICC_VERSION_STRING "\(.*\)"/\1/p' "$TOP/include/quicc.h")" ] ||
    fail "pkg-config --modversion quicc: $(pkg-config --modversion quicc 2>&1)"
run_consumer() { # NAME PROGRAM
    mkdir -p "$WORK/c-$1"
    LD_LIBRARY_PATH="$INST/lib" "$2" "$WORK/c-$1" >"$WORK/c-$1.out" 2>&1 ||
        fail "consumer ($1): $(cat "$WORK/c-$1.out")"
    grep -q "^quicc 0" "$WORK/c-$1.out" || fail "consumer ($1) printed: $(cat "$WORK/c-$1.out")"
    [ -s "$WORK/c-$1/cert.pem" ] && [ -s "$WORK/c-$1/key.pem" ] || fail "consumer ($1): no certificate"
    certtool -i --infile "$WORK/c-$1/cert.pem" 2>/dev/null | grep -q 'DNSname: localhost' ||
        fail "consumer ($1): the certificate has no DNS name localhost"
}
# shellcheck disable=SC2046,SC2086
$CC -std=c11 -Wall -Wextra -Werror $SAN -o "$WORK/pc-shared" "$TOP/tests/install/consumer.c" \
    $(pkg-config --cflags --libs quicc) 2>"$WORK/cc.err" || fail "pkg-config shared build: $(cat "$WORK/cc.err")"
LD_LIBRARY_PATH="$INST/lib" ldd "$WORK/pc-shared" | grep -q "$INST/lib/libquicc.so.0" || fail "pkg-config shared: not linked to the installed libquicc.so"
run_consumer pc-shared "$WORK/pc-shared"
# Static: libquicc.a, with GnuTLS and nghttp3 shared (`pkg-config --static` would also ask for
# the static libraries under GnuTLS, which Debian does not install with libgnutls28-dev).
# shellcheck disable=SC2046,SC2086
$CC -std=c11 -Wall -Wextra -Werror $SAN -o "$WORK/pc-static" "$TOP/tests/install/consumer.c" \
    $(pkg-config --cflags quicc) $(pkg-config --libs-only-L quicc) -Wl,-Bstatic -lquicc -Wl,-Bdynamic \
    $(pkg-config --libs gnutls libnghttp3) -pthread 2>"$WORK/cc.err" || fail "pkg-config static build: $(cat "$WORK/cc.err")"
ldd "$WORK/pc-static" | grep -q libquicc && fail "pkg-config static: linked to libquicc.so"
run_consumer pc-static "$WORK/pc-static"
echo "ok: pkg-config consumer, shared and static"

CFLAGS="$SAN" LDFLAGS="$SAN" cmake -S "$TOP/tests/install" -B "$WORK/cm" -DCMAKE_PREFIX_PATH="$INST" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$WORK/cm.log" 2>&1 || fail "cmake consumer: $(tail -5 "$WORK/cm.log")"
cmake --build "$WORK/cm" >>"$WORK/cm.log" 2>&1 || fail "cmake consumer build: $(tail -5 "$WORK/cm.log")"
LD_LIBRARY_PATH="$INST/lib" ldd "$WORK/cm/consumer_shared" | grep -q "$INST/lib/libquicc.so.0" || fail "cmake shared: not linked to the installed libquicc.so"
ldd "$WORK/cm/consumer_static" | grep -q libquicc && fail "cmake static: linked to libquicc.so"
run_consumer cm-shared "$WORK/cm/consumer_shared"
run_consumer cm-static "$WORK/cm/consumer_static"
echo "ok: CMake consumer (find_package(quicc)), shared and static"

# --version of the installed tools names the libraries.
for t in quicc-client quicc-server; do
    "$INST/bin/$t" --version >"$WORK/v" 2>&1 || fail "$t --version failed"
    grep -q "^$t [0-9.]* libquicc/[0-9.]* GnuTLS/[0-9.]* nghttp3/[0-9.]*" "$WORK/v" || fail "$t --version: $(cat "$WORK/v")"
done
echo "ok: --version"
