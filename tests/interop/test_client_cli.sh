#!/bin/sh
# quicc-client as curl users expect, against quicc-server: -o FILE per URL (paired in order),
# bodies streamed to standard output in URL order, hundreds of URLs within a low descriptor
# limit,
# -O and --output-dir, --create-dirs, two URLs that would share a file refused before any
# traffic, write errors (exit 23, also on standard output), a refused port (exit 7, at once),
# a host that does not resolve (6), --connect-timeout and --max-time (28), upper-case HTTPS://,
# an unwritable key log (23), and every body checked by SHA-256.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CLIENT="$(cd "$BUILD" && pwd)/bin/quicc-client"
BUILD=$(cd "$BUILD" && pwd)
mkdir -p "$WORK/www/sub"
head -c 5000 /dev/urandom >"$WORK/www/index.html"
head -c 7000 /dev/urandom >"$WORK/www/sub/index.html"
head -c 300000 /dev/urandom >"$WORK/www/big"
start_quicc_server "$BUILD" "$WORK/www"
U="https://localhost:$PORT"
C="$CLIENT -q --cacert $CERT"
expect() { # STATUS WHAT COMMAND...: runs it, checks the exit status
    _want=$1 _what=$2
    shift 2
    "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
    _rc=$?
    [ $_rc -eq "$_want" ] || fail "$_what: exit $_rc, not $_want: $(head -c 300 "$WORK/err.txt")"
}

# -o FILE pairs with the URL after it; -O names the file after the URL; both at once.
cd "$WORK" || fail "cd"
# shellcheck disable=SC2086
expect 0 "-o and -O" $C -o "$WORK/a.bin" "$U/index.html" -o "$WORK/b.bin" "$U/sub/index.html" -O "$U/big"
[ "$(sha "$WORK/a.bin")" = "$(sha "$WORK/www/index.html")" ] || fail "-o: first file differs"
[ "$(sha "$WORK/b.bin")" = "$(sha "$WORK/www/sub/index.html")" ] || fail "-o: second file differs"
[ "$(sha "$WORK/big")" = "$(sha "$WORK/www/big")" ] || fail "-O: big differs"
[ ! -s "$WORK/out.txt" ] || fail "-o/-O: something went to standard output"
echo "ok: -o FILE, -O"

# A URL without -o goes to standard output, in URL order.
# shellcheck disable=SC2086
expect 0 "stdout" $C "$U/sub/index.html" -o "$WORK/c.bin" "$U/big" "$U/index.html"
cat "$WORK/www/sub/index.html" "$WORK/www/index.html" >"$WORK/both"
[ "$(sha "$WORK/out.txt")" = "$(sha "$WORK/both")" ] || fail "standard output: not both bodies in URL order"
[ "$(sha "$WORK/c.bin")" = "$(sha "$WORK/www/big")" ] || fail "-o between stdout URLs"
echo "ok: bodies without -o to standard output, in URL order"

# Standard output gets a body as soon as its URL is next in order: the first body is there
# while the second is still coming through a 1 Mbit/s link.
relay_port=$(free_udp_port)
"$BUILD/tests/quicc-netsim" --listen "127.0.0.1:$relay_port" --server "127.0.0.1:$PORT" --rate 1 \
    --duration 30 2>/dev/null &
RELAY=$!
: >"$WORK/stream.out"
sleep 0.2
$C "https://localhost:$relay_port/index.html" "https://localhost:$relay_port/big" >"$WORK/stream.out" 2>"$WORK/err.txt" &
CPID=$!
n=0
while [ "$(wc -c <"$WORK/stream.out")" -lt 5000 ] && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
kill -0 $CPID 2>/dev/null || fail "streaming: the client finished before the check (too fast a link?)"
[ "$(head -c 5000 "$WORK/stream.out" | sha256sum | cut -d' ' -f1)" = "$(sha "$WORK/www/index.html")" ] ||
    fail "streaming: the first body is not on standard output while the second is on its way"
wait $CPID || fail "streaming: exit $?"
kill $RELAY
wait $RELAY 2>/dev/null
cat "$WORK/www/index.html" "$WORK/www/big" >"$WORK/both2"
[ "$(sha "$WORK/stream.out")" = "$(sha "$WORK/both2")" ] || fail "streaming: the output differs"
echo "ok: bodies stream to standard output in URL order"

# 600 URLs with 128 descriptors: into files (-O for all), and to standard output.
i=0
many=""
while [ $i -lt 600 ]; do
    head -c $((i % 50 + 1)) /dev/urandom >"$WORK/www/m$i"
    many="$many $U/m$i"
    i=$((i + 1))
done
rm -rf "$WORK/many"
# shellcheck disable=SC2086
(ulimit -n 128 && exec $C --output-dir "$WORK/many" $many) 2>"$WORK/err.txt" || fail "600 URLs into files: exit $?: $(head -c 300 "$WORK/err.txt")"
i=0
: >"$WORK/all"
while [ $i -lt 600 ]; do
    [ "$(sha "$WORK/many/m$i")" = "$(sha "$WORK/www/m$i")" ] || fail "600 URLs: m$i differs"
    cat "$WORK/www/m$i" >>"$WORK/all"
    i=$((i + 1))
done
# shellcheck disable=SC2086
(ulimit -n 128 && exec $C $many) >"$WORK/many.out" 2>"$WORK/err.txt" || fail "600 URLs to stdout: exit $?: $(head -c 300 "$WORK/err.txt")"
[ "$(sha "$WORK/many.out")" = "$(sha "$WORK/all")" ] || fail "600 URLs to stdout: output differs"
echo "ok: 600 URLs with 128 descriptors, to files and to standard output"

# Two URLs that would write one file: refused before any traffic (exit 2), nothing written.
rm -rf "$WORK/dl"
# shellcheck disable=SC2086
expect 2 "same file" $C --output-dir "$WORK/dl" "$U/index.html" "$U/sub/index.html"
grep -q "would both be written to $WORK/dl/index.html" "$WORK/err.txt" || fail "same file: $(cat "$WORK/err.txt")"
[ ! -e "$WORK/dl/index.html" ] || fail "same file: a file was written"
# shellcheck disable=SC2086
expect 2 "same -o" $C -o "$WORK/x" "$U/index.html" -o "./x" "$U/big"
# shellcheck disable=SC2086
expect 0 "-o resolves it" $C --output-dir "$WORK/dl" "$U/index.html" -o "$WORK/dl/sub.html" "$U/sub/index.html"
[ "$(sha "$WORK/dl/index.html")" = "$(sha "$WORK/www/index.html")" ] || fail "dl/index.html differs"
[ "$(sha "$WORK/dl/sub.html")" = "$(sha "$WORK/www/sub/index.html")" ] || fail "dl/sub.html differs"
echo "ok: two URLs into one file refused (exit 2); -o tells them apart"

# --create-dirs makes the directories of -o; without it a missing directory is exit 23.
# shellcheck disable=SC2086
expect 23 "missing dir" $C -o "$WORK/new/deep/f" "$U/big"
# shellcheck disable=SC2086
expect 0 "--create-dirs" $C --create-dirs -o "$WORK/new/deep/f" "$U/big"
[ "$(sha "$WORK/new/deep/f")" = "$(sha "$WORK/www/big")" ] || fail "--create-dirs: file differs"
echo "ok: --create-dirs (and exit 23 without)"

# Write errors: a full device, as a file and as standard output.
if [ -w /dev/full ]; then
    # shellcheck disable=SC2086
    expect 23 "-o /dev/full" $C -o /dev/full "$U/big"
    grep -q "write error on /dev/full" "$WORK/err.txt" || fail "/dev/full: $(cat "$WORK/err.txt")"
    $C "$U/big" >/dev/full 2>"$WORK/err.txt"
    rc=$?
    [ $rc -eq 23 ] || fail "stdout to /dev/full: exit $rc"
    grep -q "write error on standard output" "$WORK/err.txt" || fail "stdout /dev/full: $(cat "$WORK/err.txt")"
    echo "ok: write errors -> exit 23"
fi

# Upper-case scheme and host.
# shellcheck disable=SC2086
expect 0 "HTTPS://" $C -o "$WORK/u.bin" "HTTPS://LOCALHOST:$PORT/big"
[ "$(sha "$WORK/u.bin")" = "$(sha "$WORK/www/big")" ] || fail "HTTPS://: file differs"
echo "ok: HTTPS://LOCALHOST"

# A port nobody listens on: refused at once (ICMP port unreachable), exit 7.
dead=$(free_udp_port)
t0=$(date +%s%N)
# shellcheck disable=SC2086
expect 7 "refused" $C -o "$WORK/r" "https://127.0.0.1:$dead/big"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 3000 ] || fail "refused: took $ms ms"
grep -q "Connection refused" "$WORK/err.txt" || fail "refused: $(cat "$WORK/err.txt")"
echo "ok: refused port -> exit 7 in $ms ms"

# A host that does not resolve: exit 6.
# shellcheck disable=SC2086
expect 6 "resolve" $C "https://no-such-host.invalid:4433/x"
grep -q "cannot resolve no-such-host.invalid" "$WORK/err.txt" || fail "resolve: $(cat "$WORK/err.txt")"
echo "ok: unresolvable host -> exit 6"

# A server that never answers (a relay that drops everything): --connect-timeout 1 gives
# exit 28 after about a second; --max-time stops a transfer through a slow link.
relay_port=$(free_udp_port)
"$BUILD/tests/quicc-netsim" --listen "127.0.0.1:$relay_port" --server "127.0.0.1:$PORT" --drop 100 \
    --duration 30 2>/dev/null &
RELAY=$!
sleep 0.2
t0=$(date +%s%N)
# shellcheck disable=SC2086
expect 28 "--connect-timeout" $C --connect-timeout 1 "https://localhost:$relay_port/big"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 900 ] && [ $ms -lt 3000 ] || fail "--connect-timeout 1 took $ms ms"
grep -q -- "--connect-timeout" "$WORK/err.txt" || fail "--connect-timeout: $(cat "$WORK/err.txt")"
kill $RELAY
wait $RELAY 2>/dev/null
"$BUILD/tests/quicc-netsim" --listen "127.0.0.1:$relay_port" --server "127.0.0.1:$PORT" --rate 1 \
    --duration 30 2>/dev/null &
RELAY=$!
sleep 0.2
t0=$(date +%s%N)
# shellcheck disable=SC2086
expect 28 "--max-time" $C -m 1.5 -o "$WORK/slow" "https://localhost:$relay_port/big"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 1400 ] && [ $ms -lt 4000 ] || fail "--max-time 1.5 took $ms ms"
grep -q -- "--max-time" "$WORK/err.txt" || fail "--max-time: $(cat "$WORK/err.txt")"
kill $RELAY
wait $RELAY 2>/dev/null
echo "ok: --connect-timeout, --max-time -> exit 28"

# Bad arguments.
# shellcheck disable=SC2086
expect 23 "key log" $C --keylog /nonexistent/dir/keys "$U/big"
grep -q "cannot open the key log /nonexistent/dir/keys" "$WORK/err.txt" || fail "keylog: $(cat "$WORK/err.txt")"
# shellcheck disable=SC2086
expect 2 "-o at the end" $C "$U/big" -o "$WORK/z"
# shellcheck disable=SC2086
expect 2 "--max-time -1" $C -m -1 "$U/big"
# shellcheck disable=SC2086
expect 2 "--max-concurrent 0" $C --max-concurrent 0 "$U/big"
echo "ok: bad arguments"
echo "1 passed, 0 failed"
