#!/bin/sh
# The network emulator does what its options say: a drop list drops exactly those packets,
# corruption and loss counts add up, losses never come more than --burst in a row, the delay shows in the handshake time, the pcap holds
# every forwarded datagram, ECN marks pass (or are cleared, or set CE, as asked), and
# NAT rebinding changes the client's port or address, the relay delivers what is in flight
# when it stops, and non-loopback addresses are refused.
BUILD=${1:?usage: $0 BUILD_DIR}
. "$(dirname "$0")/lib.sh"
NETSIM="$BUILD/tests/quicc-netsim"
mkdir -p "$WORK/www"
head -c 20000 /dev/urandom >"$WORK/www/f"
start_quicc_server "$BUILD" "$WORK/www"
RELAY_PID=""
stop_relay() {
    kill "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID" 2>/dev/null
    RELAY_PID=""
}
trap 'stop_relay; cleanup' EXIT INT TERM
relay() { # OPTIONS...: starts the relay in front of the server; sets RPORT
    for try in 1 2 3 4 5 6; do
        RPORT=$((30000 + ($$ * 11 + try * 1009 + $(od -An -N2 -tu2 /dev/urandom | tr -d " ")) % 30000))
        "$NETSIM" --listen "127.0.0.1:$RPORT" --server "127.0.0.1:$PORT" --summary "$WORK/sum" \
            "$@" 2>"$WORK/relay.err" &
        RELAY_PID=$!
        sleep 0.1
        kill -0 "$RELAY_PID" 2>/dev/null && return 0
    done
    fail "relay did not start: $(cat "$WORK/relay.err")"
}
fetch() {
    rm -rf "$WORK/out"
    "$BUILD/bin/quicc-client" -q --alpn hq-interop --cacert "$CERT" --output-dir "$WORK/out" \
        "https://localhost:$RPORT/f" || fail "fetch through the relay failed"
    [ "$(sha "$WORK/out/f")" = "$(sha "$WORK/www/f")" ] || fail "the file differs"
}
field() { grep "^$1 " "$WORK/sum" | tr " " "\n" | sed -n "s/^$2=//p"; }

# A drop list: packets 2 and 3 from the client are dropped, nothing else.
relay --drop-list c2s:2-3 --pcap "$WORK/p.pcap"
fetch
stop_relay
[ "$(field c2s dropped_list)" = 2 ] || fail "drop list: $(cat "$WORK/sum")"
[ "$(field s2c dropped_list)" = 0 ] || fail "drop list s2c: $(cat "$WORK/sum")"
seen=$(field c2s seen)
fwd=$(field c2s forwarded)
[ $((seen - fwd)) = 2 ] || fail "c2s seen $seen forwarded $fwd"
# The pcap: a 24-byte header, then per datagram 16 + 28 + payload bytes.
total=$(($(field c2s forwarded) + $(field s2c forwarded)))
bytes=$(($(field c2s bytes) + $(field s2c bytes)))
[ "$(wc -c <"$WORK/p.pcap")" -eq $((24 + total * 44 + bytes)) ] || fail "pcap size"
echo "ok: drop list and pcap"

# Delay: 100 ms each way makes a fetch take at least two round trips (400 ms).
relay --delay 100
t0=$(date +%s%N)
fetch
t1=$(date +%s%N)
stop_relay
[ $(((t1 - t0) / 1000000)) -ge 400 ] || fail "delay: fetch took $(((t1 - t0) / 1000000)) ms"
echo "ok: delay ($(((t1 - t0) / 1000000)) ms)"
# Stopping the relay forwards what is on its way: the client's CONNECTION_CLOSE, still in
# the 300 ms delay when the relay is told to stop, reaches the server, which logs the
# connection as closed by the client within 5 s (not after its 30 s idle timeout).
relay --delay 300
before=$(grep -c 'closed by client' "$WORK/server.log")
fetch
stop_relay
n=0
while [ "$(grep -c 'closed by client' "$WORK/server.log")" -le "$before" ] && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
[ "$(grep -c 'closed by client' "$WORK/server.log")" -gt "$before" ] ||
    fail "the client's last packet was lost at the relay's end: $(tail -2 "$WORK/server.log")"
echo "ok: the relay delivers what is on its way when it stops"

# Random loss and corruption are counted (and the transfer still completes).
relay --drop 10 --corrupt 10 --seed 3
fetch
stop_relay
lost=$(($(field c2s dropped_random) + $(field s2c dropped_random)))
bad=$(($(field c2s corrupted) + $(field s2c corrupted)))
[ "$lost" -gt 0 ] && [ "$bad" -gt 0 ] || fail "loss/corruption not applied: $(cat "$WORK/sum")"
echo "ok: loss $lost and corruption $bad"

# The runner's drop-rate: each packet lost with the given chance, never more than --burst
# in a row (at 60 %, runs of 2 come soon; a third is never lost).
relay --drop 60 --burst 2 --seed 4
fetch
stop_relay
for d in c2s s2c; do
    [ "$(field $d max_loss_run)" = 2 ] || fail "burst: $d $(cat "$WORK/sum")"
done
echo "ok: losses at most 2 in a row"

# ECN: quicc marks ECT(0) and the relay passes the marks on (summary and capture agree);
# --bleach clears them all; --ce marks a share CE.
relay --pcap "$WORK/e.pcap"
fetch
stop_relay
"$BUILD/tests/quicc-pcap" "$WORK/e.pcap" >"$WORK/e.txt" || fail "quicc-pcap failed"
[ "$(field c2s ect0)" -gt 0 ] && [ "$(field s2c ect0)" -gt 0 ] &&
    [ "$(field c2s ect0)" = "$(field c2s forwarded)" ] ||
    fail "ECN marks not forwarded: $(cat "$WORK/sum")"
grep -q "^ecn c2s_ect0=$(field c2s ect0) c2s_ect1=0 c2s_ce=0 s2c_ect0=$(field s2c ect0) " "$WORK/e.txt" ||
    fail "capture and summary disagree on ECN: $(grep ^ecn "$WORK/e.txt") / $(cat "$WORK/sum")"
relay --bleach
fetch
stop_relay
[ "$(field c2s ect0)" = 0 ] && [ "$(field s2c ect0)" = 0 ] && [ "$(field c2s ce)" = 0 ] ||
    fail "--bleach left marks: $(cat "$WORK/sum")"
relay --ce 20 --seed 5
fetch
stop_relay
[ "$(field s2c ce_marked)" -gt 0 ] && [ "$(field s2c ce)" = "$(field s2c ce_marked)" ] ||
    fail "--ce marked nothing: $(cat "$WORK/sum")"
echo "ok: ECN marks forwarded, bleached, CE-marked"

# NAT rebinding: the client's port (then its address) toward the server changes every
# 60 ms; the capture shows the addresses the server saw, and the fetch still completes.
for kind in port addr; do
    relay --rate 1 --rebind-$kind 60 --first-rebind 40 --pcap "$WORK/r.pcap"
    fetch
    stop_relay
    rb=$(sed -n 's/^rebinds=\([0-9]*\) .*/\1/p' "$WORK/sum")
    "$BUILD/tests/quicc-pcap" "$WORK/r.pcap" >"$WORK/r.txt" || fail "quicc-pcap failed"
    n=$(sed -n 's/^client addresses=//p' "$WORK/r.txt")
    [ "${rb:-0}" -ge 1 ] && [ "$n" -ge 2 ] || fail "rebind-$kind: rebinds=$rb addresses=$n"
done
"$NETSIM" --listen '[::1]:4433' --server '[::1]:1' --rebind-addr 10 --duration 1 2>"$WORK/err"
[ $? -eq 2 ] && grep -q "needs IPv4" "$WORK/err" || fail "--rebind-addr over IPv6 was accepted"
echo "ok: rebinding the port and the address"

# Loopback only.
"$NETSIM" --listen 10.0.0.1:4433 --server 127.0.0.1:1 --duration 1 2>"$WORK/err"
[ $? -eq 2 ] && grep -q "loopback only" "$WORK/err" || fail "a non-loopback address was accepted"
echo "ok: loopback only"
