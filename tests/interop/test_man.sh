#!/bin/sh
# The man pages: every page is lint-clean (groff -ww), every public function of
# include/quicc.h and include/quicc_h3.h has a page of its own (man/<function>.3, the page or a .so
# alias to its family's page), every alias points to an existing page, the
# guide pages quote the examples as they are, and `cmake --install` installs
# them where man(1) finds them.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
pages=0
for page in "$TOP"/man/*.[1-9]; do
    first=$(head -n 1 "$page")
    case "$first" in
    .so\ *)
        target="$TOP/man/$(basename "${first#.so }")"
        [ -f "$target" ] || fail "$(basename "$page"): alias to missing $(basename "$target")"
        [ "$(wc -l <"$page")" -eq 1 ] || fail "$(basename "$page"): an alias holds one line"
        continue
        ;;
    esac
    out=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
    [ -z "$out" ] || fail "$(basename "$page"): $out"
    pages=$((pages + 1))
done
missing=""
for fn in $(grep -ohE '\bquicc_[a-z0-9_A-Z]+ *\(' "$TOP/include/quicc.h" "$TOP/include/quicc_h3.h" | tr -d '( ' | sort -u); do
    [ -f "$TOP/man/$fn.3" ] || missing="$missing $fn"
    # The page (or its family page) names the function in NAME.
    page="$TOP/man/$fn.3"
    [ -f "$page" ] || continue
    first=$(head -n 1 "$page")
    case "$first" in .so\ *) page="$TOP/man/$(basename "${first#.so }")" ;; esac
    sed -n '/^\.SH NAME/,/^\.SH/p' "$page" | grep -qw "$fn" || fail "$fn: not in the NAME of $(basename "$page")"
done
[ -z "$missing" ] || fail "functions without a man page:$missing"
# The OpenSSL mapping table names every public function.
unmapped=""
for fn in $(grep -ohE '\bquicc_[a-z0-9_A-Z]+ *\(' "$TOP/include/quicc.h" "$TOP/include/quicc_h3.h" | tr -d '( ' | sort -u); do
    grep -q "\b$fn\b" "$TOP/docs/openssl-mapping.md" || unmapped="$unmapped $fn"
done
[ -z "$unmapped" ] || fail "functions missing from docs/openssl-mapping.md:$unmapped"
for guide in quicc-quic quicc-guide-quic-client-block quicc-guide-quic-client-non-block \
    quicc-guide-quic-multi-stream; do
    [ -f "$TOP/man/$guide.7" ] || fail "missing guide $guide.7"
done
# The guides quote code from examples/: each quoted line must still be in the source.
for guide in "$TOP"/man/quicc-guide-*.7; do
    src="$TOP/examples/$(basename "$guide" .7 | sed 's/^quicc-guide-//').c"
    [ -f "$src" ] || fail "$(basename "$guide"): no example $src"
    groff -man -Tutf8 -P-cbou "$guide" 2>/dev/null | sed -n 's/^           //p' >"$WORK/quoted"
    stripped=$(sed 's/^ *//' "$src")
    while IFS= read -r line; do
        l=$(printf '%s' "$line" | sed 's/^ *//')
        [ -z "$l" ] && continue
        printf '%s\n' "$stripped" | grep -qxF -- "$l" || fail "$(basename "$guide"): quoted line not in $(basename "$src"): $l"
    done <"$WORK/quoted"
done
# Installed where man finds them.
cmake --install "$BUILD" --prefix "$WORK/inst" >/dev/null || fail "cmake --install"
for p in man3/quicc_poll.3 man3/quicc_read_ex.3 man3/quicc_write_ex.3 man7/quicc-quic.7 \
    man1/quicc-client.1; do
    [ -f "$WORK/inst/share/man/$p" ] || fail "not installed: $p"
done
if command -v man >/dev/null 2>&1; then
    MANPATH="$WORK/inst/share/man" man -w quicc_write_ex >/dev/null 2>&1 || fail "man -w quicc_write_ex"
    MANPATH="$WORK/inst/share/man" man 3 quicc_write_ex 2>/dev/null | grep -q "quicc_write_ex2" ||
        fail "man quicc_write_ex does not show its family page"
fi
echo "$pages pages lint-clean"
echo "1 passed, 0 failed"
