#!/bin/sh
# Downloads one large file from ngtcp2's gtlsserver over loopback with
# quicc-client and with ngtcp2's gtlsclient, in one run, and prints goodput and
# client CPU time side by side. Usage: bench/bench_download.sh BUILD [SIZE_MB]
BUILD=${1:-build}
SIZE_MB=${2:-1024}
. "$(dirname "$0")/../tests/interop/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
command -v gtlsclient >/dev/null || fail "gtlsclient missing (apt-get install ngtcp2-client)"

make_ca ca
make_cert server ca localhost
mkdir -p "$WORK/htdocs" "$WORK/q" "$WORK/n"
dd if=/dev/urandom of="$WORK/htdocs/blob" bs=1M count="$SIZE_MB" status=none
start_gtlsserver "$WORK/htdocs" "$WORK/server.key" "$WORK/server.pem"
want=$(sha "$WORK/htdocs/blob")
bytes=$(wc -c <"$WORK/htdocs/blob")

# run NAME CMD...: times CMD, prints "NAME wall user sys"
run() {
    name=$1
    shift
    /usr/bin/env time -f "%e %U %S" -o "$WORK/$name.time" "$@" >/dev/null 2>"$WORK/$name.err" ||
        fail "$name failed: $(tail -3 "$WORK/$name.err")"
}

run quicc timeout 600 "$CLIENT" -q --cacert "$WORK/ca.pem" --output-dir "$WORK/q" "https://localhost:$PORT/blob"
[ "$(sha "$WORK/q/blob")" = "$want" ] || fail "quicc-client: hash mismatch"
rm -f "$WORK/q/blob"
run ngtcp2 timeout 600 gtlsclient -q --exit-on-all-streams-close --download "$WORK/n" \
    --max-data=33554432 --max-stream-data-bidi-local=16777216 \
    127.0.0.1 "$PORT" "https://localhost:$PORT/blob"
[ "$(sha "$WORK/n/blob")" = "$want" ] || fail "gtlsclient: hash mismatch"

printf "%-12s %10s %12s %10s %10s\n" client "wall s" "goodput" "user s" "sys s"
for name in quicc ngtcp2; do
    read -r wall user sys <"$WORK/$name.time"
    awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v b="$bytes" 'BEGIN {
        printf "%-12s %10.2f %7.0f Mbit/s %10.2f %10.2f\n", n == "quicc" ? "quicc-client" : "gtlsclient", w, b * 8 / w / 1e6, u, s }'
done
echo "($SIZE_MB MiB from gtlsserver over loopback, SHA-256 verified; CPU = client process)"
