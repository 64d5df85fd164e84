#!/bin/sh
# A file truncated while quicc-server sends it (issue: the server died with SIGBUS when it
# mapped files): in each protocol the transfer either ends as a clear client failure or,
# when the truncation came before or after the transfer, with the file as it was then;
# never a short file reported as success. The server lives on and serves the next request.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"

mkdir -p "$WORK/htdocs" "$WORK/src"
head -c 104857600 /dev/urandom >"$WORK/src/orig.bin"
head -c 1048576 "$WORK/src/orig.bin" >"$WORK/src/short.bin"
head -c 4096 /dev/urandom >"$WORK/htdocs/after.bin"
start_quicc_server "$BUILD" "$WORK/htdocs"

for alpn in h3 hq-interop http/1.0; do
    failed=0
    for delay in 0.05 0.1 0.2 0.3; do
        cp "$WORK/src/orig.bin" "$WORK/htdocs/victim.bin"
        rm -rf "$WORK/out"
        timeout 60 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" --output-dir "$WORK/out" \
            "https://localhost:$PORT/victim.bin" 2>"$WORK/err.txt" &
        cpid=$!
        sleep "$delay"
        truncate -s 1048576 "$WORK/htdocs/victim.bin"
        wait "$cpid"
        rc=$?
        kill -0 "$SERVER_PID" 2>/dev/null || fail "$alpn: quicc-server died: $(tail -3 "$WORK/server.log")"
        if [ $rc -eq 0 ]; then
            got=$(sha "$WORK/out/victim.bin")
            [ "$got" = "$(sha "$WORK/src/orig.bin")" ] || [ "$got" = "$(sha "$WORK/src/short.bin")" ] ||
                fail "$alpn: a short or mixed file reported as a success (delay $delay)"
        else
            [ $rc -ne 124 ] || fail "$alpn: the client hung (delay $delay)"
            failed=$((failed + 1))
        fi
    done
    [ $failed -ge 1 ] || fail "$alpn: no truncation landed mid-transfer in 4 tries"
    # The server goes on serving.
    timeout 30 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" --output-dir "$WORK/out2" \
        "https://localhost:$PORT/after.bin" || fail "$alpn: next request failed"
    [ "$(sha "$WORK/out2/after.bin")" = "$(sha "$WORK/htdocs/after.bin")" ] || fail "$alpn: after.bin differs"
    echo "ok: $alpn: $failed of 4 transfers cut by the truncation failed cleanly; the server lives"
done
grep -q "the file changed while it was sent" "$WORK/server.log" || fail "no log line for the changed file"
echo "1 passed, 0 failed"
