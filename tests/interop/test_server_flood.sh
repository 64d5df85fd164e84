#!/bin/sh
# A flood of garbage datagrams, forged Initials from many source ports and short
# headers for unknown connections: quicc-server keeps serving a well-behaved client
# during and after it, and its memory stays bounded.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
SERVER="$BUILD/bin/quicc-server"
mkdir -p "$WORK/htdocs"
head -c 1000000 /dev/urandom >"$WORK/htdocs/file.bin"
"$SERVER" -q --root "$WORK/htdocs" --write-cert "$WORK/cert.pem" 127.0.0.1 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
n=0
while ! grep -q listening "$WORK/server.log" 2>/dev/null && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$WORK/server.log" | head -1)
[ -n "$PORT" ] || fail "quicc-server did not start"
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
before=$(rss)
"$BUILD/tests/quicc-flood" "$PORT" 4 400000 >"$WORK/flood.txt" &
FLOOD=$!
i=1
while [ $i -le 6 ]; do
    timeout 30 "$CLIENT" -q --cacert "$WORK/cert.pem" -o "$WORK/out$i" \
        "https://localhost:$PORT/file.bin" || fail "client $i failed during the flood"
    [ "$(sha "$WORK/htdocs/file.bin")" = "$(sha "$WORK/out$i/file.bin")" ] || fail "client $i: differs"
    i=$((i + 1))
    sleep 0.3
done
wait $FLOOD
kill -0 "$SERVER_PID" || fail "server died"
peak=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
timeout 30 "$CLIENT" -q --cacert "$WORK/cert.pem" -o "$WORK/after" "https://localhost:$PORT/file.bin" ||
    fail "client after the flood failed"
[ "$(sha "$WORK/htdocs/file.bin")" = "$(sha "$WORK/after/file.bin")" ] || fail "after: differs"
cat "$WORK/flood.txt"
echo "server memory: $before kB before, peak $peak kB"
[ $((peak - before)) -lt 65536 ] || fail "server grew by more than 64 MB under the flood"
echo "1 passed, 0 failed"
