#!/bin/sh
# The man pages are lint-clean (groff -ww) and name every public function.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
TOP="$(dirname "$0")/../.."
for page in "$TOP"/man/*.[1-9]; do
    out=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
    [ -z "$out" ] || fail "$(basename "$page"): $out"
done
missing=""
for fn in $(grep -oE '\bquicc_[a-z0-9_]+ *\(' "$TOP/include/quicc.h" | tr -d '( ' | sort -u); do
    grep -qw "$fn" "$TOP"/man/* || missing="$missing $fn"
done
[ -z "$missing" ] || fail "functions no man page mentions:$missing"
echo "1 passed, 0 failed"
