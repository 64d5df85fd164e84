# lib.sh: shared helpers for the interop and tool tests (POSIX sh).
# Sourced with BUILD (the CMake build directory) set. Everything lives in a
# temporary directory removed on exit; servers started here are stopped by PID.

set -u
WORK=$(mktemp -d /tmp/quicc-test-XXXXXX)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# make_ca NAME: a CA key and certificate in $WORK/NAME.key / NAME.pem
make_ca() {
    certtool --generate-privkey --key-type=ecdsa --outfile "$WORK/$1.key" >/dev/null 2>&1
    printf 'cn = "quicc test CA %s"\nca\ncert_signing_key\nexpiration_days = 30\n' "$1" >"$WORK/$1.tmpl"
    certtool --generate-self-signed --load-privkey "$WORK/$1.key" --template "$WORK/$1.tmpl" \
        --outfile "$WORK/$1.pem" >/dev/null 2>&1 || fail "certtool: CA $1"
}

# make_cert NAME CA DNSNAME [DAYS]: a server certificate for DNSNAME and 127.0.0.1 signed by CA
make_cert() {
    certtool --generate-privkey --key-type=ecdsa --outfile "$WORK/$1.key" >/dev/null 2>&1
    printf 'cn = "%s"\ndns_name = "%s"\nip_address = "127.0.0.1"\nip_address = "::1"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = %s\n' \
        "$3" "$3" "${4:-30}" >"$WORK/$1.tmpl"
    certtool --generate-certificate --load-privkey "$WORK/$1.key" --load-ca-certificate "$WORK/$2.pem" \
        --load-ca-privkey "$WORK/$2.key" --template "$WORK/$1.tmpl" --outfile "$WORK/$1.pem" \
        >/dev/null 2>&1 || fail "certtool: certificate $1"
}

# start_gtlsserver DOCROOT KEY CERT [ADDR]: starts ngtcp2's server on a free loopback port
# (ADDR defaults to 127.0.0.1), with the options in GTLS_OPTS; sets PORT and SERVER_PID.
# A port in use makes gtlsserver exit, but under load perhaps only after the check below:
# so each call picks a random port, never one an earlier call of this script took.
GTLS_PORTS=""
start_gtlsserver() {
    for try in 1 2 3 4 5 6 7 8; do
        PORT=$((20000 + ($$ * 7 + try * 131 + $(od -An -N2 -tu2 /dev/urandom | tr -d " ")) % 30000))
        case " $GTLS_PORTS " in *" $PORT "*) continue ;; esac
        # shellcheck disable=SC2086
        gtlsserver -q ${GTLS_OPTS:-} -d "$1" "${4:-127.0.0.1}" "$PORT" "$2" "$3" >"$WORK/server.log" 2>&1 &
        SERVER_PID=$!
        sleep 0.3
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            GTLS_PORTS="$GTLS_PORTS $PORT"
            return 0
        fi
        SERVER_PID=""
    done
    fail "gtlsserver did not start"
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

# start_quicc_server BUILD DOCROOT [OPTIONS]: quicc-server on a free loopback port with a
# generated certificate written to $WORK/cert.pem; sets PORT, SERVER_PID, CERT
start_quicc_server() {
    _build=$1
    _root=$2
    shift 2
    CERT="$WORK/cert.pem"
    "$_build/bin/quicc-server" --root "$_root" --write-cert "$CERT" "$@" 127.0.0.1 0 \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    _n=0
    while ! grep -q listening "$WORK/server.log" 2>/dev/null && [ $_n -lt 50 ]; do
        sleep 0.1
        _n=$((_n + 1))
    done
    PORT=$(sed -n 's/.* port \([0-9]*\),.*/\1/p' "$WORK/server.log" | head -1)
    [ -n "$PORT" ] || fail "quicc-server did not start: $(cat "$WORK/server.log")"
}

# free_udp_port: a UDP port nothing on this host is bound to (checked in /proc/net/udp*).
free_udp_port() {
    while :; do
        _p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d " ") % 40000))
        _hex=$(printf '%04X' "$_p")
        grep -q ":$_hex " /proc/net/udp /proc/net/udp6 2>/dev/null || {
            echo "$_p"
            return
        }
    done
}
