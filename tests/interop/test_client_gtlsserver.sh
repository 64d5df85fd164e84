#!/bin/sh
# Interop: quicc-client against ngtcp2's gtlsserver over HTTP/3 on loopback.
# A 50 MB file and 100 small files in parallel over one connection, verified by
# SHA-256; certificate failures end with exit 60 and the named reason, 404 with --fail
# with 22; usage errors end with exit 2, other schemes with 1, malformed URLs with 3.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
command -v gtlsserver >/dev/null || fail "gtlsserver missing (scripts/deps.sh installs ngtcp2-server)"

make_ca ca
make_ca otherca
make_cert server ca localhost
make_cert wrongname ca example.test
mkdir -p "$WORK/htdocs" "$WORK/out"
head -c 52428800 /dev/urandom >"$WORK/htdocs/big.bin"
i=1
urls=""
while [ $i -le 100 ]; do
    head -c $((i * 97 + 1)) /dev/urandom >"$WORK/htdocs/small$i"
    i=$((i + 1))
done

start_gtlsserver "$WORK/htdocs" "$WORK/server.key" "$WORK/server.pem"
urls="https://localhost:$PORT/big.bin"
i=1
while [ $i -le 100 ]; do
    urls="$urls https://localhost:$PORT/small$i"
    i=$((i + 1))
done
# shellcheck disable=SC2086
timeout 120 "$CLIENT" -q --cacert "$WORK/ca.pem" --output-dir "$WORK/out" $urls || fail "download exited $?"
[ "$(sha "$WORK/htdocs/big.bin")" = "$(sha "$WORK/out/big.bin")" ] || fail "big.bin differs"
i=1
while [ $i -le 100 ]; do
    [ "$(sha "$WORK/htdocs/small$i")" = "$(sha "$WORK/out/small$i")" ] || fail "small$i differs"
    i=$((i + 1))
done
echo "ok: 50 MB + 100 files over one connection, hashes match"

# Body to stdout, with a key log (and SSLKEYLOGFILE for a second run).
timeout 30 "$CLIENT" -q --keylog "$WORK/keys.txt" --cacert "$WORK/ca.pem" \
    "https://localhost:$PORT/small7" >"$WORK/stdout.bin" || fail "stdout download"
[ "$(sha "$WORK/htdocs/small7")" = "$(sha "$WORK/stdout.bin")" ] || fail "stdout body differs"
grep -q "^CLIENT_HANDSHAKE_TRAFFIC_SECRET " "$WORK/keys.txt" || fail "no key log"
grep -q "^SERVER_TRAFFIC_SECRET_0 " "$WORK/keys.txt" || fail "key log incomplete"
SSLKEYLOGFILE="$WORK/keys2.txt" timeout 30 "$CLIENT" -q --cacert "$WORK/ca.pem" \
    "https://localhost:$PORT/small8" >/dev/null || fail "download with SSLKEYLOGFILE"
grep -q "^CLIENT_TRAFFIC_SECRET_0 " "$WORK/keys2.txt" || fail "SSLKEYLOGFILE ignored"
echo "ok: body to stdout, key log"

# A missing file: with --fail, HTTP 404 is a failure (exit 22); without, as with curl, the
# response is a response (exit 0).
timeout 30 "$CLIENT" -q -f --cacert "$WORK/ca.pem" --output-dir "$WORK/out" "https://localhost:$PORT/nope" \
    2>"$WORK/err.txt"
rc=$?
[ $rc -eq 22 ] || fail "404 with --fail gave exit $rc"
grep -q "HTTP status 404" "$WORK/err.txt" || fail "404 reason: $(cat "$WORK/err.txt")"
timeout 30 "$CLIENT" -q --cacert "$WORK/ca.pem" --output-dir "$WORK/out" "https://localhost:$PORT/nope" \
    2>"$WORK/err.txt" || fail "404 without --fail gave exit $?"
echo "ok: 404 -> exit 22 with --fail, 0 without"

# Untrusted CA.
timeout 30 "$CLIENT" --cacert "$WORK/otherca.pem" --output-dir "$WORK/out" "https://localhost:$PORT/small1" \
    2>"$WORK/err.txt"
rc=$?
[ $rc -eq 60 ] || fail "untrusted CA gave exit $rc"
grep -q "untrusted issuer" "$WORK/err.txt" || fail "untrusted CA reason: $(cat "$WORK/err.txt")"
echo "ok: untrusted CA -> exit 60, untrusted issuer"

# Insecure mode accepts it, with a warning.
timeout 30 "$CLIENT" -k --cacert "$WORK/otherca.pem" --output-dir "$WORK/out" "https://localhost:$PORT/small2" \
    2>"$WORK/err.txt" || fail "insecure download failed"
grep -q "warning" "$WORK/err.txt" || fail "no warning in insecure mode"
echo "ok: --insecure"

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""

# Wrong host name: the certificate names example.test, the URL localhost.
start_gtlsserver "$WORK/htdocs" "$WORK/wrongname.key" "$WORK/wrongname.pem"
timeout 30 "$CLIENT" --cacert "$WORK/ca.pem" --output-dir "$WORK/out" "https://localhost:$PORT/small1" \
    2>"$WORK/err.txt"
rc=$?
[ $rc -eq 60 ] || fail "wrong name gave exit $rc"
grep -q "name mismatch" "$WORK/err.txt" || fail "wrong name reason: $(cat "$WORK/err.txt")"
echo "ok: wrong host name -> exit 60, name mismatch"

kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""

# IPv6: the same over [::1] (the certificate names ::1 too).
if ip -6 addr show lo 2>/dev/null | grep -q "::1"; then
    start_gtlsserver "$WORK/htdocs" "$WORK/server.key" "$WORK/server.pem" ::1
    timeout 30 "$CLIENT" -q --cacert "$WORK/ca.pem" --output-dir "$WORK/out6" "https://[::1]:$PORT/small9" \
        "https://[::1]:$PORT/small10" || fail "IPv6 download"
    [ "$(sha "$WORK/htdocs/small9")" = "$(sha "$WORK/out6/small9")" ] || fail "IPv6 body differs"
    [ "$(sha "$WORK/htdocs/small10")" = "$(sha "$WORK/out6/small10")" ] || fail "IPv6 body differs"
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    echo "ok: IPv6"
else
    echo "skip: no IPv6 loopback"
fi

# Usage errors.
"$CLIENT" --bogus "https://localhost:$PORT/x" 2>/dev/null
[ $? -eq 2 ] || fail "bad option not exit 2"
"$CLIENT" "http://localhost/x" 2>/dev/null
[ $? -eq 1 ] || fail "http:// URL not exit 1 (unsupported protocol)"
"$CLIENT" "https://localhost:99999/x" 2>/dev/null
[ $? -eq 3 ] || fail "malformed URL not exit 3"
"$CLIENT" 2>/dev/null
[ $? -eq 2 ] || fail "no URL not exit 2"
"$CLIENT" --help | grep -q -- "--alpn" || fail "--help"
echo "ok: usage errors -> exit 2, an http:// URL 1, a malformed one 3"
echo "1 passed, 0 failed"
