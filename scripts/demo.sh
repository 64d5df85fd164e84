#!/bin/sh
# make demo: start quicc-server on loopback with a generated certificate and a
# few sample files, fetch them with quicc-client over parallel streams in each
# ALPN (h3, hq-interop, http/1.0), verify the SHA-256 hashes, print a summary,
# and stop the server. Exits non-zero if anything failed.
BUILD=${1:-build}
. "$(dirname "$0")/../tests/interop/lib.sh"
CLIENT="$BUILD/bin/quicc-client"

mkdir -p "$WORK/htdocs"
head -c 20000000 /dev/urandom >"$WORK/htdocs/movie.bin"
head -c 1000000 /dev/urandom >"$WORK/htdocs/photo.jpg"
i=1
while [ $i -le 20 ]; do
    head -c $((i * 1000)) /dev/urandom >"$WORK/htdocs/page$i.html"
    i=$((i + 1))
done
start_quicc_server "$BUILD" "$WORK/htdocs" -q
echo "demo: quicc-server on 127.0.0.1:$PORT (PID $SERVER_PID), $(ls "$WORK/htdocs" | wc -l) files"

total_files=0
for alpn in h3 hq-interop http/1.0; do
    out="$WORK/dl-$(echo "$alpn" | tr '/.' '__')"
    urls=""
    for f in "$WORK"/htdocs/*; do
        urls="$urls https://localhost:$PORT/$(basename "$f")"
    done
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout 120 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" --output-dir "$out" $urls ||
        fail "quicc-client ($alpn) exited $?"
    end=$(date +%s.%N)
    files=0
    bytes=0
    for f in "$WORK"/htdocs/*; do
        name=$(basename "$f")
        [ "$(sha "$f")" = "$(sha "$out/$name")" ] || fail "$alpn: $name: hash mismatch"
        files=$((files + 1))
        bytes=$((bytes + $(wc -c <"$f")))
    done
    total_files=$((total_files + files))
    awk -v a="$alpn" -v f="$files" -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
        t = e - s; printf "demo: %-10s %d files, %d bytes in %.3f s (%.0f Mbit/s), hashes match\n", a, f, b, t, b * 8 / t / 1e6 }'
done
echo "demo: ok, $total_files downloads verified"
