#!/bin/sh
# quicc_connect time for the first and later connections of one context that trusts the
# system store (bench_connect.c). Usage: bench/bench_connect.sh BUILD [N]
BUILD=${1:-build}
. "$(dirname "$0")/../tests/interop/lib.sh"
make_ca ca
make_cert server ca localhost
echo "system store: $(ls /etc/ssl/certs | wc -l) files in /etc/ssl/certs"
SSL_CERT_DIR=/etc/ssl/certs SSL_CERT_FILE="$WORK/ca.pem" \
    "$BUILD/bench/bench_connect" "$WORK/server.pem" "$WORK/server.key" "${2:-10}" ||
    fail "bench_connect"
