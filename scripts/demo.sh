#!/bin/sh
# make demo: start a local HTTP/3 server (ngtcp2's gtlsserver for now) with a
# generated test certificate and sample files, download them with quicc-client
# over parallel streams of one connection, verify the hashes, print a summary.
# Exits non-zero if anything failed.
BUILD=${1:-build}
. "$(dirname "$0")/../tests/interop/lib.sh"
CLIENT="$BUILD/bin/quicc-client"

make_ca demo-ca
make_cert demo-server demo-ca localhost
mkdir -p "$WORK/htdocs" "$WORK/downloads"
head -c 20000000 /dev/urandom >"$WORK/htdocs/movie.bin"
head -c 1000000 /dev/urandom >"$WORK/htdocs/photo.jpg"
i=1
while [ $i -le 20 ]; do
    head -c $((i * 1000)) /dev/urandom >"$WORK/htdocs/page$i.html"
    i=$((i + 1))
done
start_gtlsserver "$WORK/htdocs" "$WORK/demo-server.key" "$WORK/demo-server.pem"
echo "demo: server (gtlsserver) on 127.0.0.1:$PORT, PID $SERVER_PID"

urls=""
for f in "$WORK"/htdocs/*; do
    urls="$urls https://localhost:$PORT/$(basename "$f")"
done
start=$(date +%s.%N)
# shellcheck disable=SC2086
timeout 120 "$CLIENT" -q --cacert "$WORK/demo-ca.pem" -o "$WORK/downloads" $urls || fail "quicc-client exited $?"
end=$(date +%s.%N)

files=0
bytes=0
for f in "$WORK"/htdocs/*; do
    name=$(basename "$f")
    [ "$(sha "$f")" = "$(sha "$WORK/downloads/$name")" ] || fail "$name: hash mismatch"
    files=$((files + 1))
    bytes=$((bytes + $(wc -c <"$f")))
done
awk -v f="$files" -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
    t = e - s; printf "demo: %d files, %d bytes in %.3f s (%.1f Mbit/s), all SHA-256 hashes match\n", f, b, t, b * 8 / t / 1e6 }'
