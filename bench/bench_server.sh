#!/bin/sh
# Compares quicc-server with ngtcp2's gtlsserver on loopback, in one run: the same
# client (quicc-client) downloads one large file from each, and the server's CPU
# time is read from /proc; then sequential handshakes per second against each.
# Usage: bench/bench_server.sh BUILD [SIZE_MB] [HANDSHAKES]
BUILD=${1:-build}
SIZE_MB=${2:-1024}
HS=${3:-500}
. "$(dirname "$0")/../tests/interop/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
make_ca ca
make_cert server ca localhost
mkdir -p "$WORK/htdocs"
dd if=/dev/urandom of="$WORK/htdocs/blob" bs=1M count="$SIZE_MB" status=none
want=$(sha "$WORK/htdocs/blob")
bytes=$(wc -c <"$WORK/htdocs/blob")
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{printf "%.2f %.2f", $14 / t, $15 / t}' "/proc/$1/stat"; }

run_server() { # NAME: starts it, downloads, measures
    name=$1
    if [ "$name" = quicc-server ]; then
        "$BUILD/bin/quicc-server" -q --root "$WORK/htdocs" --cert "$WORK/server.pem" \
            --key "$WORK/server.key" 127.0.0.1 0 >"$WORK/qs.log" 2>&1 &
        SERVER_PID=$!
        sleep 0.3
        PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$WORK/qs.log" | head -1)
        [ -n "$PORT" ] || PORT=$(ss -lunp 2>/dev/null | awk -v p="pid=$SERVER_PID," '$0 ~ p {split($4, a, ":"); print a[2]}')
    else
        start_gtlsserver "$WORK/htdocs" "$WORK/server.key" "$WORK/server.pem"
    fi
    [ -n "$PORT" ] || fail "$name did not start"
    rm -rf "$WORK/dl"
    start=$(date +%s.%N)
    timeout 600 "$CLIENT" -q --cacert "$WORK/ca.pem" --output-dir "$WORK/dl" "https://localhost:$PORT/blob" ||
        fail "$name: download failed"
    end=$(date +%s.%N)
    [ "$(sha "$WORK/dl/blob")" = "$want" ] || fail "$name: hash mismatch"
    set -- $(cpu "$SERVER_PID")
    hs=$("$BUILD/tests/quicc-handshakes" "$PORT" "$HS" "$WORK/ca.pem" | sed 's/.*: //')
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    awk -v n="$name" -v s="$start" -v e="$end" -v b="$bytes" -v u="$1" -v y="$2" -v h="$hs" 'BEGIN {
        w = e - s; printf "%-13s %8.2f %8.0f Mbit/s %8.2f %8.2f   %s\n", n, w, b * 8 / w / 1e6, u, y, h }'
}

printf "%-13s %8s %15s %8s %8s   %s\n" server "wall s" goodput "user s" "sys s" "handshakes"
run_server quicc-server
run_server gtlsserver
echo "($SIZE_MB MiB over loopback to quicc-client, SHA-256 verified; CPU = server process," \
    "download and $HS sequential handshakes)"
