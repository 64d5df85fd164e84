#!/bin/sh
# quicc-server against quicc-client (all three ALPNs, 1,000 parallel requests on one
# connection, a 100 MB file), against ngtcp2's gtlsclient over h3 (50 MB + 100 files),
# with forced Retry, and with 200 concurrent client connections; every file by SHA-256.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
SERVER="$BUILD/bin/quicc-server"

mkdir -p "$WORK/htdocs"
head -c 104857600 /dev/urandom >"$WORK/htdocs/huge.bin"
head -c 52428800 "$WORK/htdocs/huge.bin" >"$WORK/htdocs/big.bin"
i=1
while [ $i -le 100 ]; do
    head -c $((i * 131 + 7)) /dev/urandom >"$WORK/htdocs/f$i"
    i=$((i + 1))
done

start_server() { start_quicc_server "$BUILD" "$WORK/htdocs" "$@"; }
stop_server() {
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
check_files() { # DIR FILE...
    d=$1
    shift
    for f in "$@"; do
        [ "$(sha "$WORK/htdocs/$f")" = "$(sha "$d/$f")" ] || fail "$f differs in $d"
    done
}

start_server
small=""
i=1
while [ $i -le 100 ]; do
    small="$small f$i"
    i=$((i + 1))
done

# All three ALPNs, 100 small files and the 50 MB file over one connection each.
for alpn in h3 hq-interop http/1.0; do
    out="$WORK/out-$(echo "$alpn" | tr '/.' '__')"
    urls="https://localhost:$PORT/big.bin"
    for f in $small; do urls="$urls https://localhost:$PORT/$f"; done
    # shellcheck disable=SC2086
    timeout 120 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" --output-dir "$out" $urls || fail "$alpn download"
    # shellcheck disable=SC2086
    check_files "$out" big.bin $small
    # A missing file fails in each protocol: with --fail, 404 is exit 22 (h3, http/1.0);
    # hq-interop has no status, and the server resets the stream (exit 56).
    timeout 30 "$CLIENT" -q -f --alpn "$alpn" --cacert "$CERT" --output-dir "$out" "https://localhost:$PORT/none" \
        2>"$WORK/err.txt"
    rc=$?
    want=22
    [ "$alpn" = hq-interop ] && want=56
    [ $rc -eq $want ] || fail "$alpn: missing file gave exit $rc, not $want"
    grep -qE "HTTP status 404|error 0x194" "$WORK/err.txt" || fail "$alpn 404: $(cat "$WORK/err.txt")"
    echo "ok: $alpn: 50 MB + 100 files, 404"
done

# An HTTP/1.0 request on a client uni stream without FIN (the guide's multi-stream client):
# answered on a server-initiated uni stream.
timeout 30 "$BUILD/tests/quicc-uni-request" "$PORT" "$CERT" /f7 >"$WORK/uni.out" ||
    fail "uni request"
[ "$(sha "$WORK/htdocs/f7")" = "$(sha "$WORK/uni.out")" ] || fail "uni request: body differs"
echo "ok: uni request answered on a server uni stream"

# 1,000 parallel small requests on one connection (the server's stream limit queues some).
urls=""
n=0
while [ $n -lt 10 ]; do
    for f in $small; do urls="$urls https://localhost:$PORT/$f?$n"; done
    n=$((n + 1))
done
mkdir -p "$WORK/k"
# shellcheck disable=SC2086
timeout 120 "$CLIENT" -q --cacert "$CERT" $urls >"$WORK/k/all" || fail "1000 requests"
for n in 0 1 2 3 4 5 6 7 8 9; do for f in $small; do cat "$WORK/htdocs/$f"; done; done >"$WORK/k/want"
[ "$(sha "$WORK/k/want")" = "$(sha "$WORK/k/all")" ] || fail "1000 requests: bodies differ"
echo "ok: 1000 requests on one connection"

# 100 MB over h3.
timeout 120 "$CLIENT" -q --cacert "$CERT" --output-dir "$WORK/huge" "https://localhost:$PORT/huge.bin" ||
    fail "100 MB download"
check_files "$WORK/huge" huge.bin
echo "ok: 100 MB"

# ngtcp2's gtlsclient fetches from quicc-server over h3.
if command -v gtlsclient >/dev/null; then
    urls="https://localhost:$PORT/big.bin"
    for f in $small; do urls="$urls https://localhost:$PORT/$f"; done
    mkdir -p "$WORK/ng"
    # shellcheck disable=SC2086
    timeout 120 gtlsclient -q --exit-on-all-streams-close --download "$WORK/ng" 127.0.0.1 "$PORT" \
        $urls >/dev/null 2>&1 || fail "gtlsclient exited $?"
    # shellcheck disable=SC2086
    check_files "$WORK/ng" big.bin $small
    echo "ok: gtlsclient: 50 MB + 100 files"
fi

# 200 concurrent client connections, each fetching and verifying a file.
pids=""
i=1
while [ $i -le 200 ]; do
    f="f$(((i - 1) % 100 + 1))"
    timeout 120 "$CLIENT" -q --cacert "$CERT" "https://localhost:$PORT/$f" >"$WORK/c$i" 2>"$WORK/c$i.err" &
    pids="$pids $!"
    i=$((i + 1))
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
[ $bad -eq 0 ] || fail "$bad of 200 concurrent clients failed: $(cat "$WORK"/c*.err | sort | uniq -c | head -3)"
i=1
while [ $i -le 200 ]; do
    f="f$(((i - 1) % 100 + 1))"
    [ "$(sha "$WORK/htdocs/$f")" = "$(sha "$WORK/c$i")" ] || fail "client $i: body differs"
    i=$((i + 1))
done
echo "ok: 200 concurrent connections"
# (counted once the server has stopped: a connection whose client's CONNECTION_CLOSE was lost
# is logged when it idles out or when the server stops, whichever comes first)
stop_server
lines=$(grep -c "alpn=" "$WORK/server.log")
[ "$lines" -ge 200 ] || fail "expected a log line per connection, got $lines"
# Each line carries the connection's statistics (loopback: every one had packets and an RTT).
good=$(grep -cE "alpn=h3 requests=1 bytes=[0-9]+ duration=[0-9.]+s packets=[1-9][0-9]* lost=[0-9]+ rtt=[1-9][0-9]*us " "$WORK/server.log")
[ "$good" -ge 200 ] || fail "log lines without statistics: $(grep alpn= "$WORK/server.log" | head -2)"

# Forced Retry: address validation, then the same downloads.
start_server --retry
urls="https://localhost:$PORT/big.bin"
for f in f1 f2 f3; do urls="$urls https://localhost:$PORT/$f"; done
# shellcheck disable=SC2086
timeout 60 "$CLIENT" -q --cacert "$CERT" --output-dir "$WORK/retry" $urls || fail "download with Retry"
check_files "$WORK/retry" big.bin f1 f2 f3
# Ten connections from one client context: the first is validated by Retry, the others by
# the NEW_TOKEN token the server gave the first. Without tokens there would be at least 11
# Retry packets (one per connection); with them about 2 (a retransmitted first Initial may
# earn a second, ignored, Retry), so at most 6 are allowed.
timeout 60 "$BUILD/tests/quicc-handshakes" "$PORT" 10 "$CERT" graceful >/dev/null ||
    fail "handshakes with NEW_TOKEN"
stop_server
retries=$(sed -n 's/.*retry=\([0-9]*\) .*/\1/p' "$WORK/server.log")
[ -n "$retries" ] && [ "$retries" -ge 1 ] && [ "$retries" -le 6 ] ||
    fail "Retry count: $(grep stopping "$WORK/server.log")"
echo "ok: --retry, NEW_TOKEN skips Retry on later connections"

# Usage errors.
"$SERVER" --bogus 2>/dev/null
[ $? -eq 2 ] || fail "bad option not exit 2"
"$SERVER" 2>/dev/null
[ $? -eq 2 ] || fail "no port not exit 2"
"$SERVER" --root /nonexistent 4433 2>/dev/null
[ $? -eq 2 ] || fail "bad root not exit 2"
"$SERVER" --help | grep -q -- "--write-cert" || fail "--help"
for bad in 99999 65536 -5 4433x ""; do
    "$SERVER" --root "$WORK" 127.0.0.1 "$bad" 2>/dev/null
    [ $? -eq 2 ] || fail "port '$bad' not exit 2"
done
"$SERVER" --root "$WORK" --cert-dir "$WORK/cd" --write-cert "$WORK/x.pem" 0 2>/dev/null
[ $? -eq 2 ] || fail "--cert-dir with --write-cert not exit 2"
"$SERVER" --root "$WORK" no-such-host.invalid 0 2>"$WORK/err.txt"
[ $? -eq 1 ] || fail "unresolvable listen address not exit 1"
grep -q "cannot listen on no-such-host.invalid" "$WORK/err.txt" || fail "bad host: $(cat "$WORK/err.txt")"
echo "ok: usage, ports, listen addresses"

# A host name as the listen address, and a development certificate kept in --cert-dir
# between runs (the client trusts DIR/cert.pem both times).
for run in 1 2; do
    "$SERVER" --root "$WORK/htdocs" --cert-dir "$WORK/cd" localhost 0 >"$WORK/cd.log" 2>&1 &
    CDPID=$!
    n=0
    while ! grep -q listening "$WORK/cd.log" && [ $n -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    grep -q "listening on 127.0.0.1 port [0-9]*, serving .*, certificate in $WORK/cd/cert.pem" "$WORK/cd.log" ||
        fail "--cert-dir: $(cat "$WORK/cd.log")"
    CDPORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$WORK/cd.log")
    [ "$(stat -c %a "$WORK/cd/key.pem")" = 600 ] || fail "--cert-dir: key mode $(stat -c %a "$WORK/cd/key.pem")"
    sha "$WORK/cd/cert.pem" >"$WORK/cd.sha$run"
    timeout 30 "$CLIENT" -q --cacert "$WORK/cd/cert.pem" -o "$WORK/cd.out" "https://localhost:$CDPORT/f7" ||
        fail "--cert-dir run $run: fetch failed"
    [ "$(sha "$WORK/cd.out")" = "$(sha "$WORK/htdocs/f7")" ] || fail "--cert-dir run $run: file differs"
    kill $CDPID
    wait $CDPID 2>/dev/null
done
cmp -s "$WORK/cd.sha1" "$WORK/cd.sha2" || fail "--cert-dir: a new certificate on the second run"
echo "ok: localhost as the listen address, --cert-dir keeps its certificate"
echo "1 passed, 0 failed"
