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
echo "1 passed, 0 failed"
