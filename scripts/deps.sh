#!/bin/sh
# Installs the Debian packages quicc needs to build and test, and nothing
# when they are all present already. Usage: scripts/deps.sh [build|test|all]
set -e
what=${1:-all}
build_pkgs="cmake make gcc pkg-config libgnutls28-dev libnghttp3-dev"
test_pkgs="ngtcp2-server ngtcp2-client gnutls-bin clang-format time groff-base clang libclang-rt-14-dev"
case "$what" in
build) pkgs="$build_pkgs" ;;
test | all) pkgs="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
