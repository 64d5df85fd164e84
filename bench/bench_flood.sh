#!/bin/sh
# The cost of a garbage flood to a listener holding 0, 1,000 and 4,096 idle connections
# (bench_flood.c), three alternating rounds; prints each run and the median per count.
# Usage: bench/bench_flood.sh BUILD [DATAGRAMS]
BUILD=${1:-build}
D=${2:-20000}
. "$(dirname "$0")/../tests/interop/lib.sh"
make_ca ca
make_cert server ca localhost
for round in 1 2 3; do
    for n in 0 1000 4096; do
        "$BUILD/bench/bench_flood" "$WORK/server.pem" "$WORK/server.key" "$n" "$D" |
            tee -a "$WORK/flood.txt" || fail "bench_flood $n"
    done
done
for n in 0 1000 4096; do
    grep "^conns=$n " "$WORK/flood.txt" | sed 's/.*us_per_datagram=//' | sort -n | sed -n 2p |
        sed "s/^/median us per datagram with $n connections: /"
done
