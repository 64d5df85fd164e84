#!/bin/sh
# Idle timeout in nonblocking mode (1 s on the client): a client that sleeps until the
# event timeout and calls quicc_handle_events stays connected past twice the timeout
# (keep-alive PINGs); one that never does sees an idle-timeout close with that close info;
# a thread-assisted client stays connected while the application does nothing.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/www"
head -c 200000 /dev/urandom >"$WORK/www/file"
start_quicc_server "$BUILD" "$WORK/www" -q
timeout 20 "$BUILD/tests/quicc-idle" "$PORT" "$CERT" /file tick >"$WORK/tick.out" ||
    fail "ticking client lost its connection: $(cat "$WORK/tick.out")"
grep -q "fetched 200000 bytes" "$WORK/tick.out" || fail "tick: $(cat "$WORK/tick.out")"
echo "ok: a ticking client outlives twice the idle timeout"
timeout 20 "$BUILD/tests/quicc-idle" "$PORT" "$CERT" /file sleep >"$WORK/sleep.out" ||
    fail "sleeping client: $(cat "$WORK/sleep.out")"
echo "ok: $(cat "$WORK/sleep.out")"
timeout 20 "$BUILD/tests/quicc-idle" "$PORT" "$CERT" /file thread >"$WORK/thread.out" ||
    fail "thread-assisted client lost its connection: $(cat "$WORK/thread.out")"
grep -q "fetched 200000 bytes" "$WORK/thread.out" || fail "thread: $(cat "$WORK/thread.out")"
echo "ok: a thread-assisted client that does nothing stays connected"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
echo "1 passed, 0 failed"
