#!/bin/sh
# The ported OpenSSL guide server demos (quic-server-block, quic-server-non-block)
# echo each client's stream back: two clients in a row each, checked byte for byte.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
make_ca ca
make_cert server ca localhost
for demo in quic-server-block quic-server-non-block; do
    started=""
    for try in 1 2 3 4 5; do
        PORT=$((20000 + ($$ * 13 + try * 977) % 30000))
        "$BUILD/bin/$demo" "$PORT" "$WORK/server.pem" "$WORK/server.key" >"$WORK/$demo.log" 2>&1 &
        SERVER_PID=$!
        sleep 0.3
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            started=1
            break
        fi
    done
    [ -n "$started" ] || fail "$demo did not start"
    for i in 1 2; do
        timeout 20 "$CLIENT" -q --alpn hq-interop --cacert "$WORK/ca.pem" \
            "https://localhost:$PORT/echo-$i" >"$WORK/got" || fail "$demo: client $i"
        printf 'GET /echo-%s\r\n' "$i" >"$WORK/want"
        cmp -s "$WORK/want" "$WORK/got" || fail "$demo: echo $i differs"
    done
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    [ "$(grep -c "echoed" "$WORK/$demo.log")" -eq 2 ] || fail "$demo: log"
    echo "ok: $demo"
done
# The client demos against quicc-server, trusting its certificate through SSL_CERT_FILE.
mkdir -p "$WORK/www"
printf '<html>hello from quicc</html>\n' >"$WORK/www/index.html"
printf 'first response\n' >"$WORK/www/request1.html"
printf 'second response\n' >"$WORK/www/request2.html"
start_quicc_server "$BUILD" "$WORK/www" -q
for demo in quic-client-block quic-client-non-block; do
    SSL_CERT_FILE="$CERT" timeout 20 "$BUILD/bin/$demo" localhost "$PORT" >"$WORK/$demo.out" ||
        fail "$demo exited $?"
    head -1 "$WORK/$demo.out" | grep -q "^HTTP/1.0 200 OK" || fail "$demo: status"
    grep -q "^<html>hello from quicc</html>$" "$WORK/$demo.out" || fail "$demo: body"
    echo "ok: $demo"
done
SSL_CERT_FILE="$CERT" timeout 20 "$BUILD/bin/quic-multi-stream" localhost "$PORT" \
    >"$WORK/multi.out" || fail "quic-multi-stream exited $?"
[ "$(grep -c "^HTTP/1.0 200 OK" "$WORK/multi.out")" -eq 2 ] || fail "quic-multi-stream: statuses"
grep -q "^first response$" "$WORK/multi.out" || fail "quic-multi-stream: first response"
grep -q "^second response$" "$WORK/multi.out" || fail "quic-multi-stream: second response"
echo "ok: quic-multi-stream (bidi request, uni request answered on a server stream)"
# quic-hq-interop: 150 files (two batches of at most 99 streams), saved in $DOWNLOADS and
# compared byte for byte; the second run resumes the session saved by the first.
mkdir -p "$WORK/www/hq" "$WORK/dl1" "$WORK/dl2"
: >"$WORK/reqs"
i=0
while [ $i -lt 150 ]; do
    head -c $((i * 997 % 70000 + 1)) /dev/urandom >"$WORK/www/hq/f$i"
    printf '/hq/f%s ' "$i" >>"$WORK/reqs"
    i=$((i + 1))
done
for run in 1 2; do
    DOWNLOADS="$WORK/dl$run" SSL_SESSION_FILE="$WORK/session" SSL_CERT_FILE="$CERT" timeout 60 \
        "$BUILD/bin/quic-hq-interop" localhost "$PORT" "$WORK/reqs" >"$WORK/hq$run.out" 2>&1 ||
        fail "quic-hq-interop run $run exited: $(cat "$WORK/hq$run.out")"
    grep -q "^Downloaded 150 files$" "$WORK/hq$run.out" || fail "quic-hq-interop run $run: count"
    (cd "$WORK/www/hq" && sha256sum f*) >"$WORK/want.sum"
    (cd "$WORK/dl$run" && sha256sum f*) >"$WORK/got.sum"
    cmp -s "$WORK/want.sum" "$WORK/got.sum" || fail "quic-hq-interop run $run: files differ"
done
[ -s "$WORK/session" ] || fail "quic-hq-interop: no session saved"
grep -q "^Session resumed$" "$WORK/hq1.out" && fail "quic-hq-interop: first run resumed"
grep -q "^Session resumed$" "$WORK/hq2.out" || fail "quic-hq-interop: second run did not resume"
echo "ok: quic-hq-interop (150 files in two poll-driven batches, session resumed)"
# Untrusted: without SSL_CERT_FILE the system store does not know the certificate.
SSL_CERT_FILE=/dev/null timeout 20 "$BUILD/bin/quic-client-block" localhost "$PORT" \
    >"$WORK/untrusted.out" 2>&1 && fail "untrusted certificate accepted"
grep -q "Verify error: untrusted issuer" "$WORK/untrusted.out" ||
    fail "untrusted: $(cat "$WORK/untrusted.out")"
echo "ok: verification failure names the reason"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
echo "1 passed, 0 failed"
