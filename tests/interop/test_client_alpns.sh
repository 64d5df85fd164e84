#!/bin/sh
# quicc-client's hq-interop and http/1.0 modes against quicc-test-server (the
# engine's server role): 30 files in parallel per protocol, verified by
# SHA-256, a missing file failing with the protocol's error and exit status, and no common
# ALPN named as such (exit 35).
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"

make_ca ca
make_cert server ca localhost
mkdir -p "$WORK/htdocs"
head -c 3000000 /dev/urandom >"$WORK/htdocs/big"
i=1
while [ $i -le 30 ]; do
    head -c $((i * 311)) /dev/urandom >"$WORK/htdocs/f$i"
    i=$((i + 1))
done
"$BUILD/tests/quicc-test-server" "$WORK/htdocs" "$WORK/server.pem" "$WORK/server.key" >"$WORK/port" &
SERVER_PID=$!
n=0
while [ ! -s "$WORK/port" ] && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
PORT=$(cut -d' ' -f2 "$WORK/port")
[ -n "$PORT" ] || fail "test server did not start"

for alpn in hq-interop http/1.0; do
    out="$WORK/out-$(echo "$alpn" | tr '/.' '__')"
    urls="https://localhost:$PORT/big"
    i=1
    while [ $i -le 30 ]; do
        urls="$urls https://localhost:$PORT/f$i"
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    timeout 60 "$CLIENT" -q --alpn "$alpn" --cacert "$WORK/ca.pem" --output-dir "$out" $urls ||
        fail "$alpn: download exited $?"
    for f in big $(i=1; while [ $i -le 30 ]; do echo f$i; i=$((i + 1)); done); do
        [ "$(sha "$WORK/htdocs/$f")" = "$(sha "$out/$f")" ] || fail "$alpn: $f differs"
    done
    echo "ok: $alpn, 31 files"
    timeout 30 "$CLIENT" -q -f --alpn "$alpn" --cacert "$WORK/ca.pem" --output-dir "$out" \
        "https://localhost:$PORT/missing" 2>"$WORK/err.txt"
    rc=$?
    if [ "$alpn" = http/1.0 ]; then
        [ $rc -eq 22 ] || fail "$alpn: missing file with --fail gave exit $rc"
        grep -q "HTTP status 404" "$WORK/err.txt" || fail "$alpn 404: $(cat "$WORK/err.txt")"
    else
        [ $rc -eq 56 ] || fail "$alpn: missing file gave exit $rc"
        grep -q "reset by server (error 0x10)" "$WORK/err.txt" || fail "$alpn: $(cat "$WORK/err.txt")"
    fi
    echo "ok: $alpn missing file -> exit $rc"
done
# ALPN the server does not offer: the handshake fails with the TLS alert (0x178), exit 35.
timeout 30 "$CLIENT" -q --alpn h3 --cacert "$WORK/ca.pem" --output-dir "$WORK/x" "https://localhost:$PORT/f1" \
    2>"$WORK/err.txt"
rc=$?
[ $rc -eq 35 ] || fail "unknown ALPN gave exit $rc"
grep -q "the server speaks none of the offered protocols (ALPN h3)" "$WORK/err.txt" ||
    fail "unknown ALPN: $(cat "$WORK/err.txt")"
echo "ok: no common ALPN -> exit 35, named"
echo "1 passed, 0 failed"
