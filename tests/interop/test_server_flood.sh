#!/bin/sh
# A flood of garbage datagrams, forged Initials from many source ports and short
# headers for unknown connections: quicc-server keeps serving a well-behaved client
# during and after it, and its memory stays bounded.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
mkdir -p "$WORK/htdocs"
head -c 1000000 /dev/urandom >"$WORK/htdocs/file.bin"
start_quicc_server "$BUILD" "$WORK/htdocs" -q
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
before=$(rss)
"$BUILD/tests/quicc-flood" "$PORT" 4 400000 >"$WORK/flood.txt" &
FLOOD=$!
i=1
while [ $i -le 6 ]; do
    timeout 30 "$CLIENT" -q --cacert "$WORK/cert.pem" --output-dir "$WORK/out$i" \
        "https://localhost:$PORT/file.bin" || fail "client $i failed during the flood"
    [ "$(sha "$WORK/htdocs/file.bin")" = "$(sha "$WORK/out$i/file.bin")" ] || fail "client $i: differs"
    i=$((i + 1))
    sleep 0.3
done
wait $FLOOD
kill -0 "$SERVER_PID" || fail "server died"
peak=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
timeout 30 "$CLIENT" -q --cacert "$WORK/cert.pem" --output-dir "$WORK/after" "https://localhost:$PORT/file.bin" ||
    fail "client after the flood failed"
[ "$(sha "$WORK/htdocs/file.bin")" = "$(sha "$WORK/after/file.bin")" ] || fail "after: differs"
cat "$WORK/flood.txt"
echo "server memory: $before kB before, peak $peak kB"
[ $((peak - before)) -lt 65536 ] || fail "server grew by more than 64 MB under the flood"
echo "1 passed, 0 failed"
