#!/bin/sh
# quicc-server as a static file server, as caddy's file_server users expect, over HTTP/3
# (quicc-client, gtlsclient for methods), HTTP/1.0 and HTTP/0.9 (raw requests): Content-Type
# from the name, Last-Modified, Accept-Ranges, HEAD without a body, Range (206 with
# Content-Range, 416), percent-decoding, index.html, 400 for dot segments, 403 for a link
# out of the root, 405 with Allow, 404; every body checked byte for byte; the access log's
# lines, common and JSON.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$BUILD/bin/quicc-client"
RAW="$BUILD/tests/quicc-raw-request"
mkdir -p "$WORK/www/sub" "$WORK/outside"
head -c 20000 /dev/urandom >"$WORK/www/data.bin"
printf '<p>hi</p>\n' >"$WORK/www/page.html"
printf 'index of sub\n' >"$WORK/www/sub/index.html"
printf 'spaced\n' >"$WORK/www/with space.txt"
printf 'secret\n' >"$WORK/outside/secret"
ln -s "$WORK/outside/secret" "$WORK/www/escape"
touch -d '2026-01-02 03:04:05 UTC' "$WORK/www/page.html"
start_quicc_server "$BUILD" "$WORK/www"
U="https://localhost:$PORT"

# HTTP/3, GET through quicc-client: percent-decoding, index.html, statuses with --fail.
timeout 30 "$CLIENT" -q --cacert "$CERT" -o "$WORK/sp" "$U/with%20space.txt" -o "$WORK/idx" "$U/sub/" ||
    fail "h3: percent-decoded name or index.html"
[ "$(sha "$WORK/sp")" = "$(sha "$WORK/www/with space.txt")" ] || fail "h3: %20 file differs"
[ "$(sha "$WORK/idx")" = "$(sha "$WORK/www/sub/index.html")" ] || fail "h3: index.html differs"
for t in "/escape 403" "/sub/../page.html 400" "/nope 404"; do
    set -- $t
    timeout 30 "$CLIENT" -q -f --cacert "$CERT" -o "$WORK/x" "$U$1" 2>"$WORK/err.txt"
    rc=$?
    [ $rc -eq 22 ] && grep -q "HTTP status $2" "$WORK/err.txt" || fail "h3 $1: exit $rc, $(cat "$WORK/err.txt")"
done
echo "ok: h3 GET: %20, index.html, 403 link out of the root, 400 dot segment, 404"

# HTTP/3 methods and headers through gtlsclient.
command -v gtlsclient >/dev/null || fail "gtlsclient missing (scripts/deps.sh installs ngtcp2-client)"
gtls() { # METHOD PATH: the response headers gtlsclient printed
    timeout 30 gtlsclient --exit-on-all-streams-close -m "$1" 127.0.0.1 "$PORT" "$U$2" 2>&1 |
        sed -n 's/^http: stream 0x0 \[\(.*\)\]$/\1/p'
}
gtls HEAD /page.html >"$WORK/h"
grep -qx ':status: 200' "$WORK/h" || fail "h3 HEAD: $(cat "$WORK/h")"
grep -qx 'content-type: text/html; charset=utf-8' "$WORK/h" || fail "h3 HEAD type: $(cat "$WORK/h")"
grep -qx 'content-length: 10' "$WORK/h" || fail "h3 HEAD length: $(cat "$WORK/h")"
grep -qx 'last-modified: Fri, 02 Jan 2026 03:04:05 GMT' "$WORK/h" || fail "h3 last-modified: $(cat "$WORK/h")"
grep -qx 'accept-ranges: bytes' "$WORK/h" || fail "h3 accept-ranges: $(cat "$WORK/h")"
gtls POST /page.html >"$WORK/h"
grep -qx ':status: 405' "$WORK/h" && grep -qx 'allow: GET, HEAD' "$WORK/h" || fail "h3 POST: $(cat "$WORK/h")"
echo "ok: h3 HEAD (type, length, last-modified, accept-ranges), POST 405 with allow"

# quicc-client's -I, -i, -X and -H over HTTP/3 and HTTP/1.0.
for alpn in h3 http/1.0; do
    timeout 30 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" -I "$U/page.html" >"$WORK/hd" || fail "$alpn -I: exit $?"
    grep -qE '^HTTP/(3|1.0) 200' "$WORK/hd" && grep -qi '^content-length: 10' "$WORK/hd" &&
        grep -qi '^last-modified: Fri, 02 Jan 2026 03:04:05 GMT' "$WORK/hd" || fail "$alpn -I: $(cat "$WORK/hd")"
    [ "$(tail -c 2 "$WORK/hd" | od -An -c | tr -d ' ')" = '\r\n' ] || fail "$alpn -I: no blank line at the end"
    grep -q '<p>hi' "$WORK/hd" && fail "$alpn -I: a body"
    timeout 30 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" -i "$U/page.html" >"$WORK/hd" || fail "$alpn -i"
    grep -qi '^content-type: text/html' "$WORK/hd" || fail "$alpn -i: $(cat "$WORK/hd")"
    [ "$(sed '1,/^\r$/d' "$WORK/hd" | sha256sum | cut -d' ' -f1)" = "$(sha "$WORK/www/page.html")" ] ||
        fail "$alpn -i: the body after the headers differs"
    timeout 30 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" -X DELETE -H 'X-Test: 1' -f "$U/page.html" 2>"$WORK/err.txt"
    rc=$?
    [ $rc -eq 22 ] && grep -q 'HTTP status 405' "$WORK/err.txt" || fail "$alpn -X DELETE: exit $rc $(cat "$WORK/err.txt")"
    timeout 30 "$CLIENT" -q --alpn "$alpn" --cacert "$CERT" -H 'Range: bytes=0-1' -i "$U/data.bin" >"$WORK/hd" ||
        fail "$alpn -H Range"
    grep -qE '^HTTP/(3|1.0) 206' "$WORK/hd" && grep -qi '^content-range: bytes 0-1/20000' "$WORK/hd" ||
        fail "$alpn -H Range: $(head -8 "$WORK/hd")"
done
"$CLIENT" --alpn hq-interop -X POST "$U/x" 2>/dev/null
[ $? -eq 2 ] || fail "-X with hq-interop not exit 2"
"$CLIENT" -H 'no colon' "$U/x" 2>/dev/null
[ $? -eq 2 ] || fail "-H without a colon not exit 2"
"$CLIENT" -I -X GET "$U/x" 2>/dev/null
[ $? -eq 2 ] || fail "-I -X GET not exit 2"
echo "ok: quicc-client -I, -i, -X, -H (h3 and http/1.0)"

# HTTP/1.0, raw.
raw() { # REQUEST -> $WORK/raw
    timeout 30 "$RAW" "$PORT" "$CERT" http/1.0 "$1" >"$WORK/raw" 2>"$WORK/err.txt" || fail "raw $1: $(cat "$WORK/err.txt")"
}
body_of() { sed '1,/^\r$/d' "$WORK/raw"; }
raw 'GET /data.bin HTTP/1.0\r\nRange: bytes=100-199\r\n\r\n'
head -1 "$WORK/raw" | grep -q '^HTTP/1.0 206 Partial Content' || fail "1.0 range: $(head -5 "$WORK/raw")"
grep -q '^Content-Range: bytes 100-199/20000' "$WORK/raw" || fail "1.0 content-range: $(head -8 "$WORK/raw")"
grep -q '^Content-Length: 100' "$WORK/raw" || fail "1.0 range length"
[ "$(body_of | sha256sum | cut -d' ' -f1)" = "$(tail -c +101 "$WORK/www/data.bin" | head -c 100 | sha256sum | cut -d' ' -f1)" ] ||
    fail "1.0 range: the bytes differ"
raw 'GET /data.bin HTTP/1.0\r\nrange: bytes=-50\r\n\r\n'
[ "$(body_of | sha256sum | cut -d' ' -f1)" = "$(tail -c 50 "$WORK/www/data.bin" | sha256sum | cut -d' ' -f1)" ] ||
    fail "1.0 suffix range: the bytes differ"
raw 'GET /data.bin HTTP/1.0\r\nRange: bytes=20000-\r\n\r\n'
head -1 "$WORK/raw" | grep -q '^HTTP/1.0 416 ' && grep -q '^Content-Range: bytes \*/20000' "$WORK/raw" ||
    fail "1.0 416: $(head -5 "$WORK/raw")"
raw 'HEAD /page.html HTTP/1.0\r\n\r\n'
head -1 "$WORK/raw" | grep -q '^HTTP/1.0 200 OK' && grep -q '^Content-Length: 10' "$WORK/raw" &&
    grep -q '^Content-Type: text/html; charset=utf-8' "$WORK/raw" || fail "1.0 HEAD: $(cat "$WORK/raw")"
[ -z "$(body_of)" ] || fail "1.0 HEAD has a body"
raw 'GET /page.html HTTP/1.0\r\n\r\n'
[ "$(body_of | sha256sum | cut -d' ' -f1)" = "$(sha "$WORK/www/page.html")" ] || fail "1.0 GET body differs"
grep -q '^Last-Modified: Fri, 02 Jan 2026 03:04:05 GMT' "$WORK/raw" || fail "1.0 last-modified"
raw 'DELETE /page.html HTTP/1.0\r\n\r\n'
head -1 "$WORK/raw" | grep -q '^HTTP/1.0 405 ' && grep -q '^Allow: GET, HEAD' "$WORK/raw" || fail "1.0 DELETE: $(head -5 "$WORK/raw")"
raw 'GET /escape HTTP/1.0\r\n\r\n'
head -1 "$WORK/raw" | grep -q '^HTTP/1.0 403 ' || fail "1.0 escape: $(head -3 "$WORK/raw")"
grep -q secret "$WORK/raw" && fail "1.0 escape: the file outside the root was served"
echo "ok: http/1.0: Range 206/416, HEAD, Last-Modified, 405 Allow, 403"

# HTTP/0.9: GET only; errors are resets with the status as the code.
timeout 30 "$RAW" "$PORT" "$CERT" hq-interop 'GET /with%20space.txt\r\n' >"$WORK/raw" || fail "hq %20"
[ "$(sha "$WORK/raw")" = "$(sha "$WORK/www/with space.txt")" ] || fail "hq %20 body differs"
timeout 30 "$RAW" "$PORT" "$CERT" hq-interop 'GET /escape\r\n' >"$WORK/raw" || fail "hq escape"
grep -qx 'RESET 403' "$WORK/raw" || fail "hq escape: $(cat "$WORK/raw")"
timeout 30 "$RAW" "$PORT" "$CERT" hq-interop 'GET /nope\r\n' >"$WORK/raw" || fail "hq 404"
grep -qx 'RESET 404' "$WORK/raw" || fail "hq 404: $(cat "$WORK/raw")"
echo "ok: hq-interop: %20, 403 and 404 as resets"

# The access log: a line per request in the common log format (and the duration), for
# every protocol; JSON lines with --log-format json.
log="$WORK/server.log"
grep -qE '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} \+0000\] "GET /with%20space.txt HTTP/3" 200 7 [0-9.]+$' "$log" ||
    fail "access log h3: $(grep ' - - ' "$log" | head -3)"
grep -qE '"GET /data.bin HTTP/1.0" 206 100 ' "$log" || fail "access log 1.0 range: $(grep 'HTTP/1.0' "$log" | head -3)"
grep -qE '"HEAD /page.html HTTP/3" 200 0 ' "$log" || fail "access log h3 HEAD"
grep -qE '"POST /page.html HTTP/3" 405 ' "$log" || fail "access log h3 POST"
grep -qE '"GET /escape HTTP/0.9" 403 0 ' "$log" || fail "access log hq 403"
grep -qE '"GET /sub/../page.html HTTP/3" 400 ' "$log" || fail "access log 400"
stop_server() { kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
stop_server
start_quicc_server "$BUILD" "$WORK/www" --log-format json
timeout 30 "$CLIENT" -q --cacert "$CERT" -o "$WORK/x" "https://localhost:$PORT/page.html" || fail "json run"
n=0
while ! grep -q '^{"time"' "$WORK/server.log" && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
grep -qE '^\{"time":"[0-9-]{10}T[0-9:]{8}Z","peer":"127\.0\.0\.1:[0-9]+","alpn":"h3","method":"GET","path":"/page.html","status":200,"bytes":10,"duration":[0-9.]+,"error":0\}$' "$WORK/server.log" ||
    fail "json access log: $(grep time "$WORK/server.log")"
"$BUILD/bin/quicc-server" --log-format xml 0 2>/dev/null
[ $? -eq 2 ] || fail "--log-format xml not exit 2"
echo "ok: access log, common and JSON"
echo "1 passed, 0 failed"
